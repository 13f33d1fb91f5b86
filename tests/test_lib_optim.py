"""rnnkit.optim: several steps against torch.optim in float64, in-place updates, bad input."""
import numpy as np
import pytest

from rnnkit.optim import SGD, Adagrad, Adam, RMSProp

SHAPES = {"W": (4, 3), "b": (3,)}
STEPS = 6

# (rnnkit class, torch.optim name, keyword arguments shared by both)
CASES = [
    (SGD, "SGD", {}),  # every default, as torch's
    (Adagrad, "Adagrad", {}),
    (RMSProp, "RMSprop", {}),
    (Adam, "Adam", {}),
    (SGD, "SGD", dict(lr=0.1)),
    (SGD, "SGD", dict(lr=0.1, momentum=0.9)),
    (SGD, "SGD", dict(lr=0.1, momentum=0.9, dampening=0.3, weight_decay=0.01)),
    (SGD, "SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    (Adagrad, "Adagrad", dict(lr=0.1)),
    (Adagrad, "Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.01, initial_accumulator_value=0.2)),
    (RMSProp, "RMSprop", dict(lr=0.01)),
    (RMSProp, "RMSprop", dict(lr=0.01, alpha=0.9, momentum=0.8, centered=True, weight_decay=0.01)),
    (Adam, "Adam", dict(lr=0.01)),
    (Adam, "Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.01)),
]


def _run_both(cls, torch_name, kwargs, grads_per_step, start):
    torch = pytest.importorskip("torch")
    params = {k: v.copy() for k, v in start.items()}
    arrays = dict(params)
    opt = cls(params, **kwargs)
    tparams = {k: torch.tensor(v, requires_grad=True) for k, v in start.items()}
    topt = getattr(torch.optim, torch_name)(list(tparams.values()), **kwargs)
    for grads in grads_per_step:
        opt.step({k: g.copy() for k, g in grads.items()})
        for k, p in tparams.items():
            p.grad = torch.from_numpy(grads[k].copy())
        topt.step()
        for k in start:
            np.testing.assert_allclose(params[k], tparams[k].detach().numpy(), rtol=1e-12, atol=1e-14,
                                       err_msg=f"{cls.__name__}({kwargs}) step {opt.steps}, parameter {k}")
    for k in start:  # updated in place: the caller's arrays are the ones that moved
        assert params[k] is arrays[k]
        assert not np.allclose(params[k], start[k])


@pytest.mark.parametrize("cls, torch_name, kwargs", CASES, ids=lambda c: getattr(c, "__name__", str(c)))
def test_matches_torch_over_several_steps(cls, torch_name, kwargs):
    rng = np.random.default_rng(0)
    start = {k: rng.standard_normal(s) for k, s in SHAPES.items()}
    grads = [{k: rng.standard_normal(s) for k, s in SHAPES.items()} for _ in range(STEPS)]
    _run_both(cls, torch_name, kwargs, grads, start)


def test_sgd_without_momentum_is_the_textbook_step():
    p = {"w": np.array([1.0, -2.0])}
    SGD(p, lr=0.5).step({"w": np.array([2.0, 2.0])})
    np.testing.assert_array_equal(p["w"], [0.0, -3.0])


def test_adam_first_step_moves_each_entry_by_lr():
    # Bias correction makes the first step lr * g / |g| (up to eps), whatever the scale of g.
    p = {"w": np.zeros(3)}
    Adam(p, lr=0.01).step({"w": np.array([1e-3, -5.0, 40.0])})
    np.testing.assert_allclose(p["w"], [-0.01, 0.01, -0.01], rtol=1e-4)


@pytest.mark.parametrize("cls", [SGD, Adagrad, RMSProp, Adam])
def test_float32_parameters_stay_float32(cls):
    p = {"w": np.ones(3, dtype=np.float32)}
    opt = cls(p, lr=0.1, momentum=0.5) if cls is SGD else cls(p, lr=0.1)
    for _ in range(2):
        opt.step({"w": np.full(3, 0.5, dtype=np.float32)})
    assert p["w"].dtype == np.float32 and (p["w"] < 1).all()
    assert all(s.dtype == np.float32 for s in opt.state["w"].values())


def test_lr_can_change_between_steps():
    p = {"w": np.zeros(1)}
    opt = SGD(p, lr=1.0)
    opt.step({"w": np.ones(1)})
    opt.lr = 0.1
    opt.step({"w": np.ones(1)})
    np.testing.assert_allclose(p["w"], [-1.1])


def _opt():
    return Adam({"Wx": np.zeros((3, 4)), "b": np.zeros(4)})


@pytest.mark.parametrize("grads, match", [
    ({"Wx": np.zeros((3, 4))}, r"grads: keys must be those of params \['Wx', 'b'\]; missing \['b'\]"),
    ({"Wx": np.zeros((3, 4)), "b": np.zeros(4), "Wh": np.zeros(2)}, r"unexpected \['Wh'\]"),
    ({"Wx": np.zeros((4, 3)), "b": np.zeros(4)},
     r"grads\['Wx'\]: expected shape \(3, 4\) \(the shape of params\['Wx'\]\), got \(4, 3\)"),
    ({"Wx": np.zeros((3, 4), dtype=np.float32), "b": np.zeros(4)},
     r"grads\['Wx'\]: dtype float32 does not match params\['Wx'\] \(float64\)"),
    ({"Wx": [[0.0] * 4] * 3, "b": np.zeros(4)}, r"grads\['Wx'\]: expected an ndarray, got list"),
    ([np.zeros((3, 4)), np.zeros(4)], r"grads: expected a dict of name -> ndarray, got list"),
])
def test_step_rejects_bad_grads(grads, match):
    opt = _opt()
    with pytest.raises(ValueError, match=match):
        opt.step(grads)
    assert opt.steps == 0 and not opt.params["Wx"].any()


@pytest.mark.parametrize("call, match", [
    (lambda: Adam({"w": np.zeros(2)}, lr=0), r"lr: expected a value in \(0.0, inf\), got 0.0"),
    (lambda: Adam({"w": np.zeros(2)}, betas=(0.9, 1.0)), r"betas\[1\]: expected a value in \[0.0, 1.0\)"),
    (lambda: Adam({"w": np.zeros(2)}, betas=0.9), r"betas: expected a pair"),
    (lambda: SGD({"w": np.zeros(2)}, lr=0.1, nesterov=True), r"nesterov: needs momentum > 0 and dampening = 0"),
    (lambda: RMSProp({"w": np.zeros(2)}, alpha=-0.1), r"alpha: expected a value in \[0.0, 1.0\)"),
    (lambda: Adagrad({"w": np.arange(2)}), r"params\['w'\]: expected a float ndarray .* of dtype int64"),
    (lambda: Adagrad({}), r"params: expected a non-empty dict"),
    (lambda: SGD({"w": np.zeros(2)}, lr="fast"), r"lr: expected a number, got 'fast'"),
])
def test_bad_hyperparameters_are_named(call, match):
    with pytest.raises(ValueError, match=match):
        call()
