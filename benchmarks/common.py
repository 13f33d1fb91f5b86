"""Timing helpers shared by the benchmarks.

Timing one implementation after the other lets a change in the machine's load
(another process, a frequency step) fall on one of them only. ``interleaved``
alternates the contestants inside every repetition instead, and rotates their
order from one repetition to the next, so that both see the same conditions;
``Timings.ratio`` then takes the median of the per-repetition ratios, which
stays honest even when the load drifts during the run.

Typical use, at the top of a benchmark script::

    from common import pin_threads, interleaved, markdown_table, machine_note
    THREADS = pin_threads(1)          # before numpy and torch are imported
    import numpy as np
    import torch
    torch.set_num_threads(THREADS)

    t = interleaved({"rnnkit": run_ours, "torch": run_torch}, repeat=21)
    t["rnnkit"], t["torch"]           # median seconds per call
    t.ratio("rnnkit", "torch")        # median of the paired ratios
    t.best_ratio("rnnkit", "torch")   # ratio of the shortest times
    t.cpu.ratio("rnnkit", "torch")    # the same from the CPU time of this thread
"""
import os
import platform
import statistics
import sys
import time

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")


def pin_threads(n):
    """Make OpenBLAS (NumPy), MKL and OpenMP (PyTorch) use ``n`` threads; return ``n``.

    The libraries read these variables when they load, so call this before
    importing numpy or torch; it raises RuntimeError otherwise. PyTorch also
    needs ``torch.set_num_threads(n)`` after its import.
    """
    loaded = [m for m in ("numpy", "torch") if m in sys.modules]
    if loaded:
        raise RuntimeError(
            f"pin_threads must run before {' and '.join(loaded)} is imported; "
            "the thread count is read when the library loads")
    for var in THREAD_VARIABLES:
        os.environ[var] = str(int(n))
    return int(n)


class Timings(dict):
    """Median seconds per call of each contestant, with every sample kept.

    ``samples[name][k]`` is the time per call in repetition ``k``; the samples
    of one repetition were measured side by side, which ``ratio`` relies on.
    ``cpu`` holds the same for the CPU time of the calling thread
    (``time.thread_time``): it leaves out the time the thread waited while the
    machine ran other work, so on a shared machine it is the steadier measure,
    provided all the work runs in the calling thread (one thread per library).
    """

    def __init__(self, samples, cpu_samples=None):
        super().__init__((name, statistics.median(s)) for name, s in samples.items())
        self.samples = samples
        self.cpu = None if cpu_samples is None else Timings(cpu_samples)

    def ratio(self, a, b):
        """Median over the repetitions of time(a) / time(b)."""
        return statistics.median(x / y for x, y in zip(self.samples[a], self.samples[b]))

    def best(self, name):
        """The shortest time per call of a contestant: the repetition least disturbed."""
        return min(self.samples[name])

    def best_ratio(self, a, b):
        """best(a) / best(b): on a loaded machine, where every repetition may be preempted,
        the ratio of the undisturbed times, a check on the median ratio."""
        return self.best(a) / self.best(b)

    @property
    def repeat(self):
        return len(next(iter(self.samples.values())))


def calibrate(fn, min_time=0.02, max_number=100_000):
    """How many calls of ``fn`` make one measurement last at least ``min_time`` seconds."""
    number = 1
    while number < max_number:
        start = time.perf_counter()
        for _ in range(number):
            fn()
        if time.perf_counter() - start >= min_time:
            break
        number *= 2
    return number


def interleaved(contestants, repeat=21, number=None, warmup=1, min_time=0.02):
    """Time zero-argument callables side by side; return their :class:`Timings`.

    - contestants: dict name -> callable; each is called ``number`` times per
      measurement, and every repetition measures each contestant once, in an
      order rotated by one place per repetition.
    - number: calls per measurement; None calibrates it per contestant so that
      a measurement lasts at least ``min_time`` seconds (needed for calls of a
      few microseconds, where the clock's resolution would dominate).
    - warmup: untimed calls of each contestant before the first repetition
      (first-call costs: memory allocation, thread start-up, lazy imports).
    """
    names = list(contestants)
    for name in names:
        for _ in range(warmup):
            contestants[name]()
    numbers = {name: number or calibrate(contestants[name], min_time) for name in names}
    samples = {name: [] for name in names}
    cpu_samples = {name: [] for name in names}
    wall, cpu = time.perf_counter, time.thread_time
    for k in range(repeat):
        shift = k % len(names)
        for name in names[shift:] + names[:shift]:
            fn, n = contestants[name], numbers[name]
            start, start_cpu = wall(), cpu()
            for _ in range(n):
                fn()
            samples[name].append((wall() - start) / n)
            cpu_samples[name].append((cpu() - start_cpu) / n)
    return Timings(samples, cpu_samples)


def format_time(seconds):
    """3 significant digits in the unit that suits: '412 us', '12.3 ms', '1.20 s'."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def markdown_table(headers, rows):
    """A GitHub-flavoured Markdown table; the cells are converted with str()."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def machine_note(threads):
    """One paragraph that says where and under which conditions the numbers were taken."""
    parts = [
        f"{platform.machine()} CPU, {os.cpu_count()} logical cores",
        f"{threads} thread(s) for every contestant",
        "load average {:.2f} / {:.2f} / {:.2f} (1 / 5 / 15 min) at the end of the run".format(*os.getloadavg()),
        f"Python {platform.python_version()}",
    ]
    for module in ("numpy", "torch"):
        if module in sys.modules:
            parts.append(f"{module} {sys.modules[module].__version__}")
    return "; ".join(parts) + "."
