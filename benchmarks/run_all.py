"""Run every benchmark in turn, each in its own process; each writes benchmarks/results/<name>.md.

    python benchmarks/run_all.py                 # all of them (about half an hour on 2 cores)
    python benchmarks/run_all.py recurrent charlm

Each runs as its own process so that its thread settings (read before NumPy and torch load)
apply, and so that one benchmark's memory and threads cannot disturb the next.
"""
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = ["recurrent", "variants", "notebooks", "charlm", "grading"]


def main(names):
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        sys.exit(f"unknown benchmark(s) {unknown}; choose from {BENCHMARKS}")
    failed = []
    for name in names or BENCHMARKS:
        start = time.monotonic()
        print(f"== {name}", flush=True)
        code = subprocess.call([sys.executable, str(HERE / f"bench_{name}.py")])
        print(f"== {name}: exit {code} after {time.monotonic() - start:.0f} s", flush=True)
        if code:
            failed.append(name)
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main(sys.argv[1:])
