"""Every solutions notebook runs top to bottom in a fresh kernel, in time, and quietly.

Each notebook runs with nbclient in a copy of its assignment folder, at full size as a
student runs it (NBGRADER_EXECUTION unset), with one thread for the linear algebra (the
suite's other worker has the second core). It fails if a cell raises or hangs, or if a
graded cell (an nbgrader solution or grade cell) writes to stderr, which nbgrader would
score zero.

The run times are printed at the end of the session beside each notebook's budget (60 s;
120 s for 07-applications) and written to test-artifacts/notebook-times.txt, but they
are not asserted: here the notebooks share the machine with the rest of the suite.
benchmarks/bench_notebooks.py measures them one at a time against their budgets.

One notebook: ``pytest tests/test_notebooks.py -k 01-rnn-basics``.
"""
import time

import pytest

from notebook_tools import CELL_TIMEOUT, copy_assignment, is_graded, kernel_env, nbgrader_meta, notebook_ids, \
    read, solution_path, time_limit


def _stderr(cell):
    return "".join(out.get("text", "") for out in cell.get("outputs", [])
                   if out.get("output_type") == "stream" and out.get("name") == "stderr")


@pytest.mark.parametrize("name", notebook_ids())
def test_solutions_notebook_runs(name, tmp_path, record_property):
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    assert solution_path(name).exists(), f"{solution_path(name)} is missing: run `make release`"
    workdir = copy_assignment(name, tmp_path / name)
    nb = read(workdir / f"{name}.ipynb")
    client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                            resources={"metadata": {"path": str(workdir)}})
    start = time.perf_counter()
    try:
        client.execute(env=kernel_env())  # handed on to the kernel it starts
    except CellExecutionError as exc:
        pytest.fail(f"{name}: a cell raised\n{exc}")
    seconds = time.perf_counter() - start
    record_property("notebook", name)
    record_property("notebook_seconds", seconds)
    record_property("notebook_limit", time_limit(name))

    noisy = [(nbgrader_meta(cell).get("grade_id", f"cell {i}"), _stderr(cell))
             for i, cell in enumerate(nb.cells) if cell.cell_type == "code" and is_graded(cell) and _stderr(cell)]
    assert not noisy, f"{name}: graded cells write to stderr (nbgrader scores them zero): " + "; ".join(
        f"{grade_id}: {text.strip()[:300]}" for grade_id, text in noisy)
