"""The character-level language model of notebook 07: rnnkit against PyTorch, by wall-clock time.

    python benchmarks/bench_charlm.py                  # 180 s of training each, then notebook 07's figures
    python benchmarks/bench_charlm.py --seconds 60 --skip-applications

Both implementations train the same model (embedding 64 -> LSTM 256 -> affine, float32)
from the same initial weights, on the same batches of Shakespeare (truncated BPTT, 64 x 64
characters, the state carried), with Adam, clipping at global norm 5 and the same learning
rate schedule, a linear decay from 2e-2 to 5 % of it over the time budget, driven by each
one's own training clock (train_charlm.HYPER). They run in alternating slices of a few
seconds in this one process, so that a change in the machine's load falls on both.
Evaluation time is not counted: the curve is validation bits per character against
seconds of training.

The second part runs notebook 07 in full mode (RNNKIT_FULL=1) (its code cells, in this process) and
records the forecasting, classification and date-translation results it prints.
Everything goes to benchmarks/results/charlm.md.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import machine_note, markdown_table, pin_threads  # noqa: E402

def _threads(argv):
    """--threads N (default 2), read before numpy and torch load, as pin_threads requires."""
    for i, a in enumerate(argv):
        if a == "--threads" and i + 1 < len(argv):
            return int(argv[i + 1])
        if a.startswith("--threads="):
            return int(a.split("=", 1)[1])
    return 2


THREADS = pin_threads(_threads(sys.argv[1:]))

import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

import rnnkit  # noqa: E402
from rnnkit.data import bptt_batches  # noqa: E402
from rnnkit.optim import Adam  # noqa: E402
from train_charlm import BITS_PER_NAT, HYPER, CharLM, load_data, schedule  # noqa: E402

torch.set_num_threads(THREADS)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "benchmarks", "results", "charlm.md")
TARGET_BITS = 2.0


def batches_forever(ids, hyper):
    """(x, y, first) triples, passing over the text again and again; first marks a new pass."""
    while True:
        first = True
        for x, y in bptt_batches(ids, hyper["batch"], hyper["seq_len"]):
            yield x, y, first
            first = False


class RnnkitRun:
    name = "rnnkit"

    def __init__(self, model, train_ids, hyper, seconds):
        self.model, self.hyper, self.seconds = model, hyper, seconds
        self.opt = Adam(model.params, lr=hyper["lr"])
        self.stream = batches_forever(train_ids, hyper)
        self.state = model.zero_state(hyper["batch"])
        self.elapsed, self.steps = 0.0, 0

    def step(self):
        x, y, first = next(self.stream)
        if first:
            self.state = self.model.zero_state(self.hyper["batch"])
        self.opt.lr = schedule(self.elapsed, self.seconds, self.hyper["lr"])
        loss, grads, self.state = self.model.loss(x, y, self.state)
        rnnkit.clip_grad_norm(grads, self.hyper["max_norm"])
        self.opt.step(grads)
        return loss

    def evaluate(self, ids):
        return self.model.evaluate(ids) * BITS_PER_NAT


class TorchLM(torch.nn.Module):
    def __init__(self, V, E, H):
        super().__init__()
        self.embed = torch.nn.Embedding(V, E)
        self.lstm = torch.nn.LSTM(E, H, batch_first=True)
        self.out = torch.nn.Linear(H, V)

    def forward(self, x, state):
        h, state = self.lstm(self.embed(x), state)
        return self.out(h), state

    @classmethod
    def like(cls, model):
        """A PyTorch twin of an rnnkit CharLM, with the same weights (gate order i, f, g, o in both)."""
        p = model.params
        twin = cls(model.V, model.E, model.H)
        with torch.no_grad():
            twin.embed.weight.copy_(torch.from_numpy(p["W_embed"]))
            twin.lstm.weight_ih_l0.copy_(torch.from_numpy(p["Wx"].T.copy()))
            twin.lstm.weight_hh_l0.copy_(torch.from_numpy(p["Wh"].T.copy()))
            twin.lstm.bias_ih_l0.copy_(torch.from_numpy(p["b"]))
            twin.lstm.bias_hh_l0.zero_()
            twin.out.weight.copy_(torch.from_numpy(p["W_out"].T.copy()))
            twin.out.bias.copy_(torch.from_numpy(p["b_out"]))
        twin.lstm.bias_hh_l0.requires_grad_(False)  # one bias, as in rnnkit
        return twin


class TorchRun:
    name = "PyTorch"

    def __init__(self, model, train_ids, hyper, seconds):
        self.model, self.hyper, self.seconds = model, hyper, seconds
        self.params = [p for p in model.parameters() if p.requires_grad]
        self.opt = torch.optim.Adam(self.params, lr=hyper["lr"])
        self.stream = batches_forever(train_ids, hyper)
        self.state = None
        self.elapsed, self.steps = 0.0, 0

    def step(self):
        x, y, first = next(self.stream)
        if first:
            self.state = None
        for group in self.opt.param_groups:
            group["lr"] = schedule(self.elapsed, self.seconds, self.hyper["lr"])
        x, y = torch.from_numpy(x), torch.from_numpy(y)
        self.opt.zero_grad(set_to_none=True)
        scores, state = self.model(x, self.state)
        loss = torch.nn.functional.cross_entropy(scores.reshape(-1, scores.shape[-1]), y.reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.params, self.hyper["max_norm"])
        self.opt.step()
        self.state = tuple(s.detach() for s in state)  # truncated BPTT: keep the state, cut the graph
        return float(loss.detach())

    @torch.no_grad()
    def evaluate(self, ids, seq_len=256, rows=16):
        total = count = 0
        state = None
        for x, y in bptt_batches(ids, rows, seq_len):
            scores, state = self.model(torch.from_numpy(x), state)
            loss = torch.nn.functional.cross_entropy(scores.reshape(-1, scores.shape[-1]),
                                                     torch.from_numpy(y).reshape(-1), reduction="sum")
            total, count = total + float(loss), count + y.size
        return total / count * BITS_PER_NAT


def race(runs, val_ids, seconds, eval_every, slice_seconds, log):
    """Train the runs in alternating slices until each has trained ``seconds``; return the curves."""
    curves = {run.name: [(0.0, 0, run.evaluate(val_ids))] for run in runs}
    next_eval = {run.name: eval_every for run in runs}
    k = 0
    while any(run.elapsed < seconds for run in runs):
        order = runs if k % 2 == 0 else runs[::-1]  # alternate who goes first
        k += 1
        for run in order:
            stop = min(seconds, run.elapsed + slice_seconds)
            while run.elapsed < stop:
                start = time.perf_counter()
                loss = run.step()
                run.elapsed += time.perf_counter() - start
                run.steps += 1
                if run.elapsed >= next_eval[run.name] or run.elapsed >= seconds:
                    bits = run.evaluate(val_ids)
                    curves[run.name].append((run.elapsed, run.steps, bits))
                    next_eval[run.name] += eval_every
                    log(f"{run.name:8} {run.elapsed:6.1f} s  step {run.steps:5d}  "
                        f"train {loss * BITS_PER_NAT:.3f}  val {bits:.3f} bits/char")
    return curves


def at_time(curve, t):
    """(steps, bits) of the first evaluation once ``t`` seconds of training are done."""
    return next(((n, b) for (s, n, b) in curve if s >= t - 1e-9), curve[-1][1:])


def time_to(curve, bits):
    hits = [s for (s, _, b) in curve if b <= bits]
    return f"{hits[0]:.0f} s" if hits else "not reached"


def charlm_section(args, log):
    vocab, train_ids, val_ids = load_data()
    full_val = val_ids
    if args.val_chars:
        val_ids = val_ids[: args.val_chars + 1]
    ours = CharLM(len(vocab), HYPER["embed"], HYPER["hidden"], rng=HYPER["seed"])
    twin = TorchLM.like(ours)
    load_before = os.getloadavg()
    runs = [RnnkitRun(ours, train_ids, HYPER, args.seconds), TorchRun(twin, train_ids, HYPER, args.seconds)]
    curves = race(runs, val_ids, args.seconds, args.eval_every, args.slice, log)
    load_after = os.getloadavg()
    finals = {run.name: run.evaluate(full_val) for run in runs}
    marks = np.arange(0.0, args.seconds + 1e-9, args.eval_every)
    rows = []
    for t in marks:
        (n1, b1), (n2, b2) = at_time(curves["rnnkit"], t), at_time(curves["PyTorch"], t)
        rows.append((f"{t:.0f}", f"{b1:.3f}", f"{b2:.3f}", f"{b1 - b2:+.3f}", n1, n2))
    lines = [
        "## Character-level language model on Shakespeare",
        "",
        f"Embedding {HYPER['embed']} -> LSTM {HYPER['hidden']} -> affine over {len(vocab)} characters, float32; "
        f"batches of {HYPER['batch']} x {HYPER['seq_len']} characters with the state carried (truncated BPTT); "
        f"Adam, learning rate {HYPER['lr']:g} decayed linearly to 5 % of it over the budget, clipping at global "
        f"norm {HYPER['max_norm']:g}; the same initial weights and the same batches for both. Validation: "
        f"every tenth block of 10,000 characters of `data/shakespeare.txt` ({len(full_val):,} characters; the "
        f"curve reads the first {len(val_ids) - 1:,} of them, the final figure all); training: the rest "
        f"({len(train_ids):,}). Budget: {args.seconds:.0f} s of training each, in alternating slices of "
        f"{args.slice:g} s; evaluation time not counted.",
        "",
        "| | rnnkit | PyTorch |",
        "| --- | --- | --- |",
        f"| steps in {args.seconds:.0f} s | {runs[0].steps} | {runs[1].steps} |",
        f"| seconds per step | {runs[0].elapsed / runs[0].steps:.3f} | {runs[1].elapsed / runs[1].steps:.3f} |",
        f"| validation bits/char at the end (all {len(full_val):,} characters) | {finals['rnnkit']:.3f} | "
        f"{finals['PyTorch']:.3f} |",
        f"| time to reach {TARGET_BITS} bits/char | {time_to(curves['rnnkit'], TARGET_BITS)} | "
        f"{time_to(curves['PyTorch'], TARGET_BITS)} |",
        "",
        "Validation bits per character against seconds of training (each at its first evaluation once that "
        "many seconds of training are done):",
        "",
        markdown_table(["seconds", "rnnkit bits/char", "PyTorch bits/char", "difference", "rnnkit steps",
                        "PyTorch steps"], rows),
        "",
        "Load average (1 / 5 / 15 min) before the race: {:.2f} / {:.2f} / {:.2f}; after it: "
        "{:.2f} / {:.2f} / {:.2f}.".format(*load_before, *load_after),
        "",
    ]
    return lines


def applications_section(log):
    """Run notebook 07's code cells in full mode and collect the figures it reports."""
    import matplotlib

    matplotlib.use("Agg")
    import jupytext

    os.environ.pop("NBGRADER_EXECUTION", None)
    os.environ.pop("RNNKIT_QUICK", None)
    os.environ["RNNKIT_FULL"] = "1"
    nb = jupytext.read(os.path.join(ROOT, "notebooks", "07-applications.py"))
    ns = {"__name__": "__notebook__"}
    start = time.perf_counter()
    for cell in nb.cells:
        if cell.cell_type == "code":
            exec(compile(cell.source, "<notebook 07>", "exec"), ns)
    took = time.perf_counter() - start
    log(f"notebook 07 in full mode: {took:.0f} s")
    t = ns["table"]
    K = len(t["LSTM"])
    rows = [(name, *(f"{v:.1f}" for v in e), f"{e.mean():.1f}") for name, e in t.items()]
    return [
        "## Notebook 07 in full mode",
        "",
        f"The notebook's code cells run in this process with RNNKIT_FULL=1 (the long training runs) ({took:.0f} s in all).",
        "",
        "### Sunspot forecasting (yearly means, test years 1959-2008)",
        "",
        f"LSTM with H = {ns['H_f']} reading {ns['L']} years, forecasting {K} years at once; fitted on "
        f"1700-1918, stopped at the best epoch on 1919-1958 (epoch {ns['best'][1]}). Mean absolute error in "
        "sunspot numbers by lead time:",
        "",
        markdown_table(["forecast", *(f"{k + 1} y" for k in range(K)), "mean"], rows),
        "",
        "### Many-to-one: names -> sex of the majority of bearers (1990 US census)",
        "",
        f"Held-out accuracy {ns['acc']:.1%} on {len(ns['yc_te'])} names; always answering 'female': "
        f"{np.mean(ns['yc_te'] == 0):.1%}. Per class: female {ns['per_class'][0]:.1%}, male {ns['per_class'][1]:.1%}.",
        "",
        "### Dates to ISO 8601 with attention",
        "",
        f"{ns['steps']} steps of 64 pairs; held-out dates written exactly right: {ns['exact']:.1%} of {len(ns['Yd_te'])}; "
        f"characters right: {(ns['decoded'] == ns['Yd_te']).mean():.1%}.",
        "",
        "### Character LM from scratch in the notebook (SGD, H = 128) and the shipped model",
        "",
        f"After {ns['steps_done'][-1]} SGD steps: {ns['bits'][-1]:.3f} bits/char on 20,000 validation characters. "
        f"The shipped model (`data/charlm_shakespeare.npz`, {ns['meta']['seconds']:.0f} s, {ns['meta']['steps']} steps "
        f"of `benchmarks/train_charlm.py`): {ns['pretrained_bits']:.3f} bits/char on the whole validation text.",
        "",
    ]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=180.0, help="training budget of each implementation")
    ap.add_argument("--eval-every", type=float, default=15.0)
    ap.add_argument("--slice", type=float, default=3.0, help="seconds each runs before the other's turn")
    ap.add_argument("--skip-applications", action="store_true", help="only the language-model race")
    ap.add_argument("--skip-lm", action="store_true",
                    help="only notebook 07's figures; keep the language-model section of the existing --out file")
    ap.add_argument("--threads", type=int, default=2, help="threads for NumPy's BLAS and for PyTorch")
    ap.add_argument("--val-chars", type=int, default=None,
                    help="evaluate the curve on the first VAL_CHARS validation characters (default: all)")
    ap.add_argument("--out", default=RESULTS)
    args = ap.parse_args(argv)
    log = lambda s: print(s, flush=True)
    lines = ["# Notebook 07: measured quality", ""]
    if args.skip_lm:
        with open(args.out) as f:
            kept = f.read().split("## Notebook 07 in full mode")[0].split("## Machine")[0]
        lines = kept.rstrip("\n").split("\n") + [""]
    else:
        lines += charlm_section(args, log)
    if not args.skip_applications:
        lines += applications_section(log)
    lines += ["## Machine", "", machine_note(THREADS), ""]
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        f.write("\n".join(lines))
    log(f"wrote {args.out}")


if __name__ == "__main__":
    main()
