"""How long each solutions notebook takes top to bottom, one at a time, against its budget.

    python benchmarks/bench_notebooks.py              # every notebook, 2 runs each
    python benchmarks/bench_notebooks.py 07-applications --runs 3

The test suite runs the notebooks too (tests/test_notebooks.py), but beside the rest of
the suite, so its times say little about a student's machine. Here each notebook runs
alone in a fresh kernel, as a student runs it (full size, NBGRADER_EXECUTION unset, two
threads for the linear algebra), and again as the autograder runs it (NBGRADER_EXECUTION
set). The budgets are those of tests/notebook_tools.py: 60 s, 120 s for 07-applications.
Results go to benchmarks/results/notebooks.md.
"""
import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from common import machine_note, markdown_table  # noqa: E402
from notebook_tools import CELL_TIMEOUT, STUDENT_THREAD_ENV, copy_assignment, kernel_env, notebook_ids, read, \
    time_limit  # noqa: E402


def run_once(name, workdir, grading):
    from nbclient import NotebookClient

    folder = copy_assignment(name, workdir)
    nb = read(folder / f"{name}.ipynb")
    env = kernel_env(STUDENT_THREAD_ENV, **({"NBGRADER_EXECUTION": "autograde"} if grading else {}))
    client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                            resources={"metadata": {"path": str(folder)}})
    start = time.perf_counter()
    client.execute(env=env)
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="notebooks to time (default: all)")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--output", default=str(HERE / "results" / "notebooks.md"))
    args = parser.parse_args(argv)
    names = args.names or notebook_ids()
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-notebooks-") as tmp:
        for name in names:
            student, grading = [], []
            for r in range(args.runs):
                student.append(run_once(name, Path(tmp) / f"{name}-s{r}", grading=False))
                grading.append(run_once(name, Path(tmp) / f"{name}-g{r}", grading=True))
            budget = time_limit(name)
            worst = max(student)
            rows.append([name, f"{statistics.median(student):.1f}", f"{worst:.1f}", f"{budget:.0f}",
                         "yes" if worst <= budget else "**no**", f"{statistics.median(grading):.1f}"])
            print(" | ".join(rows[-1]), flush=True)
    headers = ["notebook", "student run, median (s)", "slowest (s)", "budget (s)", "within budget",
               "autograder run (s)"]
    table = markdown_table(headers, rows)
    command = " ".join(["python benchmarks/bench_notebooks.py"] + list(argv if argv is not None else sys.argv[1:]))
    text = f"""# The solutions notebooks, top to bottom

Measured by `{command}`: each notebook alone in a fresh kernel, {args.runs} runs, two threads
for the linear algebra. A *student run* is the full-size notebook (NBGRADER_EXECUTION unset);
an *autograder run* sets NBGRADER_EXECUTION, which shrinks the training cells as
`nbgrader autograde` and `python -m autograder grade` run them. Times include starting the kernel.

{table}

{machine_note(int(STUDENT_THREAD_ENV["OPENBLAS_NUM_THREADS"]))}
"""
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
