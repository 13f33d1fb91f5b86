"""Every recurrent variant of rnnkit on one task, and the fused sequence path against the cell-by-cell one.

    python benchmarks/bench_variants.py            # writes results/variants.md
    python benchmarks/bench_variants.py --quick    # tiny sizes: checks the script runs; writes nothing

Part 1, choosing an architecture: each variant of rnnkit.variants.compare.VARIANTS learns
the adding problem (T = 30 steps, two marked values to add; always answering the mean
scores a mean squared error of 1/6 = 0.167) with Adam and a linear read-out of the last step.
The variants are trained round robin, one step of each in turn on the same batch, so a
change in the machine's load falls on all of them; the time per training step is the
median over the run (forward, backward and the Adam update).

Part 2, irregular samples: sine waves of random period and phase, sampled at random times
(40 samples over 30 time units); the class is whether the period lies in [5, 6] (half the
sequences) or outside it (in [1, 4] or [7, 10]), the frequency-discrimination task of Neil
et al. (2016). A phased LSTM (fixed clocks, periods log-uniform in [1, 12], r_on = 0.1) reads
the values and the time stamps; an LSTM of the same size reads the values and the gap since
the previous sample as a second input. Both are trained round robin on the same batches.

Part 3, fused against cell-by-cell: forward and backward of rnnkit's sequence functions
(the input product and the weight gradients as one matrix product over all steps) against
a loop over the step functions (rnnkit.variants.fused), timed interleaved (common.py), for
the three cells, after checking that both give the same numbers.
"""
import argparse
import datetime
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

from common import format_time, interleaved, machine_note, markdown_table, pin_threads  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes; writes nothing unless --output is given")
    parser.add_argument("--threads", type=int, default=1, help="threads for NumPy's BLAS")
    parser.add_argument("--steps", type=int, default=None, help="training steps per variant (default 2000, quick 5)")
    parser.add_argument("--output", default=None, help="Markdown file (default results/variants.md, none with --quick)")
    return parser.parse_args(argv)


def fused_rows(np, V, quick):
    from rnnkit.variants._cells import init_params, sequence_backward, sequence_forward

    sizes = [(4, 5, 8, 8)] if quick else [(1, 50, 64, 128), (32, 50, 64, 128), (32, 100, 128, 256)]
    rows = []
    for cell in ("rnn", "lstm", "gru"):
        for N, T, D, H in sizes:
            rng = np.random.default_rng(0)
            params = init_params(cell, D, H, rng)
            x = rng.standard_normal((N, T, D))
            h0 = np.zeros((N, H))
            dh = rng.standard_normal((N, T, H))
            h_fused, cache_f = sequence_forward(cell, x, h0, params)
            h_cell, cache_c = V.cellwise_forward(x, h0, params, cell)
            assert np.allclose(h_fused, h_cell, rtol=1e-10, atol=1e-12), f"{cell}: the two paths differ"
            assert np.allclose(sequence_backward(cell, dh, cache_f)[2]["Wh"],
                               V.cellwise_backward(dh, cache_c)[2]["Wh"], rtol=1e-9, atol=1e-10)

            def fused():
                sequence_backward(cell, dh, sequence_forward(cell, x, h0, params)[1])

            def cellwise():
                V.cellwise_backward(dh, V.cellwise_forward(x, h0, params, cell)[1])

            t = interleaved({"fused": fused, "cellwise": cellwise}, repeat=3 if quick else 15)
            rows.append([cell, N, T, D, H, format_time(t["fused"]), format_time(t["cellwise"]),
                         f"{t.ratio('cellwise', 'fused'):.2f}"])
    return rows


def frequency_task(np, N, T, rng):
    """values (N, T), gaps (N, T), times (N, T) strictly increasing, label (N,) 1 if the period is in [5, 6]."""
    inside = rng.random(N) < 0.5
    below = rng.random(N) < 0.5
    period = np.where(inside, rng.uniform(5, 6, N), np.where(below, rng.uniform(1, 4, N), rng.uniform(7, 10, N)))
    times = np.sort(rng.uniform(0, 30, (N, T)), axis=1) + np.arange(T) * 1e-6
    values = np.sin(2 * np.pi * times / period[:, None] + rng.uniform(0, 2 * np.pi, (N, 1)))
    gaps = np.diff(times, axis=1, prepend=times[:, :1])
    return values, gaps, times, inside.astype(int)


def irregular_rows(np, V, quick, steps):
    """Phased LSTM against LSTM-with-gaps on frequency discrimination; rows of the table."""
    import rnnkit
    from rnnkit.optim import Adam

    H, T, N = (4, 8, 8) if quick else (16, 40, 32)
    rng = np.random.default_rng(0)
    models = {}
    for kind, D in (("phased LSTM (values, time stamps)", 1), ("LSTM (values, gaps)", 2)):
        r = np.random.default_rng(1)
        p = V.init_params("lstm", D, H, r)
        p["Wy"], p["by"] = r.standard_normal((H, 2)) / np.sqrt(H), np.zeros(2)
        tau = np.exp(r.uniform(np.log(1.0), np.log(12.0), H))
        models[kind] = {"p": p, "tau": tau, "shift": r.uniform(0, 1, H) * tau, "opt": Adam(p, lr=1e-2),
                        "seconds": [], "losses": []}

    def run(kind, m, values, gaps, times, label, train):
        p = m["p"]
        h0 = np.zeros((len(label), H))
        if kind.startswith("phased"):
            h, cache = V.phased_lstm_forward(values[..., None], times, h0, p["Wx"], p["Wh"], p["b"], m["tau"],
                                             m["shift"], r_on=0.1, alpha=1e-3)
        else:
            h, cache = rnnkit.lstm_forward(np.stack([values, gaps], axis=-1), h0, p["Wx"], p["Wh"], p["b"])
        scores = h[:, -1] @ p["Wy"] + p["by"]
        loss, ds = rnnkit.temporal_softmax_loss(scores[:, None], label[:, None])
        if train:
            dh = np.zeros_like(h)
            dh[:, -1] = ds[:, 0] @ p["Wy"].T
            back = V.phased_lstm_backward if kind.startswith("phased") else rnnkit.lstm_backward
            _, _, dWx, dWh, db = back(dh, cache)
            grads = {"Wx": dWx, "Wh": dWh, "b": db, "Wy": h[:, -1].T @ ds[:, 0], "by": ds[:, 0].sum(axis=0)}
            rnnkit.clip_grad_norm(grads, 1.0)
            m["opt"].step(grads)
        return loss, (scores.argmax(axis=1) == label).mean()

    import time
    for _ in range(steps):
        batch = frequency_task(np, N, T, rng)
        for kind, m in models.items():
            start = time.perf_counter()
            loss, _ = run(kind, m, *batch, train=True)
            m["seconds"].append(time.perf_counter() - start)
            m["losses"].append(loss)
    test = frequency_task(np, 64 if quick else 2048, T, np.random.default_rng(99))
    rows = []
    tail = max(1, steps // 10)
    for kind, m in models.items():
        _, accuracy = run(kind, m, *test, train=False)
        rows.append([kind, sum(m["p"][k].size for k in m["p"]), format_time(float(np.median(m["seconds"]))),
                     f"{np.mean(m['losses'][-tail:]):.3f}", f"{accuracy:.1%}"])
    return rows, (H, T, N)


def main(argv=None):
    args = parse_args(argv)
    threads = pin_threads(args.threads)
    import numpy as np

    import rnnkit.variants as V
    from rnnkit.variants.compare import compare_variants

    steps = args.steps or (5 if args.quick else 1500)
    T, H, N = (8, 8, 8) if args.quick else (30, 32, 32)
    started = datetime.datetime.now(datetime.timezone.utc)
    results = compare_variants(T=T, H=H, N=N, steps=steps, lr=3e-3, seed=0, n_test=64 if args.quick else 2048)
    table1 = markdown_table(
        ["variant", "trained parameters", "time per step", "train MSE (last 10 %)", "test MSE", "note"],
        [[r["name"], r["parameters"], format_time(r["ms_per_step"] / 1e3), f"{r['train_loss']:.4f}",
          f"{r['test_loss']:.4f}", r["note"]] for r in results])
    irregular_steps = 5 if args.quick else 1000
    rows3, (H3, T3, N3) = irregular_rows(np, V, args.quick, irregular_steps)
    table3 = markdown_table(["model", "trained parameters", "time per step", "train loss (last 10 %, nats)",
                             "test accuracy"], rows3)
    table2 = markdown_table(["cell", "N", "T", "D", "H", "fused", "cell by cell", "speed-up"],
                            fused_rows(np, V, args.quick))
    text = "\n".join([
        "# rnnkit variants: choosing an architecture, and the fused path",
        "",
        f"Written by `benchmarks/bench_variants.py` on {started:%Y-%m-%d %H:%M} UTC. {machine_note(threads)}",
        "",
        f"## The adding problem, T = {T}: {steps} Adam steps (lr 3e-3, batch {N}, hidden size {H})",
        "",
        "Answering the mean scores a mean squared error of 1/6 = 0.167. Every variant trained round robin "
        "on the same batches; time per step = forward + backward + update, median over the run.",
        "",
        table1,
        "",
        f"## Irregular samples: frequency discrimination, {T3} samples at random times, {irregular_steps} Adam "
        f"steps (lr 1e-2, batch {N3}, hidden size {H3})",
        "",
        "Chance is 50 % accuracy and a loss of log 2 = 0.693 nats.",
        "",
        table3,
        "",
        "## Fused sequence functions against a loop over the step functions (forward + backward, float64)",
        "",
        "Medians of interleaved repetitions; speed-up = median over the repetitions of time(cell by cell) / "
        "time(fused).",
        "",
        table2,
        "",
    ])
    print(text)
    output = args.output or (None if args.quick else os.path.join(HERE, "results", "variants.md"))
    if output:
        os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
        with open(output, "w") as f:
            f.write(text)
        print(f"wrote {output}")


if __name__ == "__main__":
    main()
