"""rnnkit's RNN, LSTM and GRU against PyTorch's on the CPU: the time ratio rnnkit / torch.

    python benchmarks/bench_recurrent.py            # prints the table, writes results/recurrent.md
    python benchmarks/bench_recurrent.py --quick    # tiny sizes, a few repetitions: checks the script runs

Both libraries run in this one process with the same number of threads (--threads, 1
by default: the per-step work of a recurrence is too small to share between cores, and
one thread keeps the comparison fair when the machine is shared). The two contestants
are timed interleaved, repetition by repetition, and the ratio reported is the median
of the per-repetition ratios, of the CPU time of the calling thread and of the wall
time (see common.py). Before timing, each case checks that both compute the same numbers.

The cases are those of the targets of the project:
- training: forward and backward of a whole sequence, N=32, T=100, D=64, H=128, float32,
  against torch.nn.RNN / LSTM / GRU (the GRU with reset_after=True, torch's form);
  target for the LSTM: at most 1.3 times torch's time;
- inference over a sequence: the forward alone, under torch.no_grad();
- sampling: one step at N=1, D=H=128, against torch.nn.RNNCell / LSTMCell / GRUCell
  under torch.no_grad(); target: faster than torch (ratio below 1).
"""
import argparse
import datetime
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

from common import format_time, interleaved, machine_note, markdown_table, pin_threads  # noqa: E402

TARGETS = {("training", "LSTM"): 1.3, ("sampling", "LSTM"): 1.0,
           ("sampling", "GRU"): 1.0, ("sampling", "RNN"): 1.0}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes and 3 repetitions; writes nothing unless --output is given")
    parser.add_argument("--threads", type=int, default=1, help="threads for NumPy's BLAS and for torch")
    parser.add_argument("--repeat", type=int, default=None, help="repetitions per case (default 31, quick 3)")
    parser.add_argument("--output", default=None,
                        help="Markdown file for the results (default results/recurrent.md, none with --quick)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    threads = pin_threads(args.threads)
    import numpy as np
    import torch

    import rnnkit

    torch.set_num_threads(threads)
    repeat = args.repeat or (3 if args.quick else 31)
    N, T, D, H = (4, 5, 8, 16) if args.quick else (32, 100, 64, 128)
    step_size = 16 if args.quick else 128
    rng = np.random.default_rng(0)
    f32 = np.float32

    def torch_net(name, D, H, cell=False):
        torch.manual_seed(0)
        cls = getattr(torch.nn, name + ("Cell" if cell else ""))
        return cls(D, H) if cell else cls(D, H, batch_first=True)

    def weights(net, kind, suffix):
        """rnnkit's (Wx, Wh, b) from torch's parameters (see tests/test_core_torch_parity.py)."""
        w = {n: getattr(net, n + suffix).detach().numpy() for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
        b = np.stack([w["bias_ih"], w["bias_hh"]]) if kind == "GRU" else w["bias_ih"] + w["bias_hh"]
        return np.ascontiguousarray(w["weight_ih"].T), np.ascontiguousarray(w["weight_hh"].T), b

    forward = {"RNN": rnnkit.rnn_forward, "LSTM": rnnkit.lstm_forward,
               "GRU": lambda *a: rnnkit.gru_forward(*a, reset_after=True)}
    backward = {"RNN": rnnkit.rnn_backward, "LSTM": rnnkit.lstm_backward, "GRU": rnnkit.gru_backward}

    rows = []

    def record(case, kind, shape, timings):
        cpu = timings.cpu.ratio("rnnkit", "torch")
        wall = timings.ratio("rnnkit", "torch")
        target = None if args.quick else TARGETS.get((case, kind))  # the targets are for the real sizes
        verdict = "" if target is None else ("met" if cpu <= target else "missed")
        rows.append([case, kind, shape, format_time(timings.cpu["rnnkit"]), format_time(timings.cpu["torch"]),
                     f"**{cpu:.2f}**", f"{wall:.2f}", "" if target is None else f"<= {target:g}", verdict])
        print(" | ".join(str(c) for c in rows[-1]), flush=True)

    for kind in ("RNN", "LSTM", "GRU"):
        net = torch_net(kind, D, H)
        Wx, Wh, b = weights(net, kind, "_l0")
        x = rng.standard_normal((N, T, D)).astype(f32)
        h0 = np.zeros((N, H), dtype=f32)
        dh = rng.standard_normal((N, T, H)).astype(f32)
        xt = torch.tensor(x, requires_grad=True)
        h0t = torch.zeros(1, N, H, requires_grad=True)
        state = (h0t, torch.zeros(1, N, H)) if kind == "LSTM" else h0t
        dht = torch.tensor(dh)

        h, _ = forward[kind](x, h0, Wx, Wh, b)
        with torch.no_grad():
            reference = net(xt, state)[0].numpy()
        np.testing.assert_allclose(h, reference, rtol=1e-4, atol=1e-5, err_msg=f"{kind}: not the same model")

        def ours_train():
            h, cache = forward[kind](x, h0, Wx, Wh, b)
            backward[kind](dh, cache)

        def torch_train():
            net.zero_grad(set_to_none=True)
            xt.grad = h0t.grad = None
            out, _ = net(xt, state)
            out.backward(dht)

        def ours_infer():
            forward[kind](x, h0, Wx, Wh, b)

        def torch_infer():
            with torch.no_grad():
                net(xt, state)

        shape = f"N={N} T={T} D={D} H={H}"
        record("training", kind, shape,
               interleaved({"rnnkit": ours_train, "torch": torch_train}, repeat=repeat, number=1))
        record("inference", kind, shape,
               interleaved({"rnnkit": ours_infer, "torch": torch_infer}, repeat=repeat, number=1))

    S = step_size
    for kind in ("RNN", "LSTM", "GRU"):
        cell = torch_net(kind, S, S, cell=True)
        Wx, Wh, b = weights(cell, kind, "")
        x = rng.standard_normal((1, S)).astype(f32)
        h = (rng.standard_normal((1, S)) * 0.5).astype(f32)
        c = (rng.standard_normal((1, S)) * 0.5).astype(f32)
        xt, ht, ct = torch.tensor(x), torch.tensor(h), torch.tensor(c)
        if kind == "LSTM":
            def ours_step():
                return rnnkit.lstm_step_forward(x, h, c, Wx, Wh, b)[0]

            def torch_step():
                with torch.no_grad():
                    return cell(xt, (ht, ct))[0]
        else:
            step = rnnkit.rnn_step_forward if kind == "RNN" else (
                lambda *a: rnnkit.gru_step_forward(*a, reset_after=True))

            def ours_step(step=step):
                return step(x, h, Wx, Wh, b)[0]

            def torch_step():
                with torch.no_grad():
                    return cell(xt, ht)
        np.testing.assert_allclose(ours_step(), torch_step().numpy(), rtol=1e-4, atol=1e-5,
                                   err_msg=f"{kind} cell: not the same model")
        # a call takes tens of microseconds: many short measurements, so that some escape preemption
        record("sampling", kind, f"N=1 D=H={S}",
               interleaved({"rnnkit": ours_step, "torch": torch_step}, repeat=10 * repeat, min_time=0.002))

    headers = ["case", "cell", "sizes", "rnnkit (CPU)", "torch (CPU)", "ratio, CPU time", "ratio, wall time",
               "target", ""]
    table = markdown_table(headers, rows)
    note = machine_note(threads)
    print()
    print(table)
    print()
    print(f"{repeat} interleaved repetitions per sequence case, {10 * repeat} per single step; "
          f"float32. {note}")

    output = args.output or (None if args.quick else os.path.join(HERE, "results", "recurrent.md"))
    if output:
        os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
        with open(output, "w") as fh:
            fh.write(report(table, repeat, note, argv))
        print(f"written to {output}")
    return rows


def report(table, repeat, note, argv):
    command = " ".join(["python benchmarks/bench_recurrent.py"] + list(argv or sys.argv[1:]))
    today = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return f"""# rnnkit against PyTorch: RNN, LSTM, GRU on the CPU

Measured by `{command}` on {today}.

{table}

- **ratio** is rnnkit's time divided by torch's, in the same repetition, the median over
  {repeat} repetitions ({10 * repeat} for the single steps, each a few milliseconds of calls);
  the two are timed interleaved in one process. Below 1, rnnkit is faster.
- **CPU time** is the CPU time of the calling thread (`time.thread_time`): with one thread
  both libraries do all their work there (checked: the process's CPU time equals the
  thread's), and it leaves out the time the thread waited while a shared machine ran other
  work. **Wall time** includes that wait; the two agree on an idle machine. The time columns
  are each contestant's median CPU time per call; the verdict uses the CPU-time ratio.
- **training**: `*_forward` then `*_backward` of a whole sequence (all of dx, dh0, dWx,
  dWh, db), against `torch.nn.RNN / LSTM / GRU` forward and `backward` with the input and
  h0 requiring gradients. The GRU is rnnkit's `reset_after=True`, the form torch computes.
- **inference**: the sequence forward alone, torch under `torch.no_grad()`.
- **sampling**: one step at N=1 (`*_step_forward` against `torch.nn.RNNCell / LSTMCell /
  GRUCell` under `torch.no_grad()`), the call a character-level sampler makes per character.
- float32 throughout. Conditions: {note}

Why the LSTM is the hard case: on the CPU, torch runs `nn.LSTM` in float32 through oneDNN's
fused RNN kernel (`aten::mkldnn_rnn_layer` and its backward, as torch's profiler shows),
while its RNN and GRU are compositions of ATen operations. A training step of this size
is 1.9 GFLOP of matrix products (the input projection, 100 recurrent products forward and
100 backward, dx, dWx, dWh); NumPy's OpenBLAS runs products of these shapes at 100-130
GFLOP/s on one core of this machine, oneDNN and MKL at 155-170, so rnnkit's products alone
take about 16 ms, nine tenths of torch's whole step. The rest of rnnkit's time is some 15
NumPy calls per time step on (32, 128) blocks, where the cost of a call, not the
arithmetic, dominates; oneDNN fuses them into one kernel.
"""


if __name__ == "__main__":
    main()
