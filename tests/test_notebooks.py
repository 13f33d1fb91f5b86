"""Every solutions notebook runs top to bottom in a fresh kernel, in time, and quietly.

Each notebook runs with nbclient in a copy of its assignment folder, with two threads for
the linear algebra, as a student would run it (NBGRADER_EXECUTION unset, full size). It
fails if a cell raises, if the notebook takes longer than its limit (60 s; 120 s for
07-applications), or if a graded cell (an nbgrader solution or grade cell) writes to
stderr, which nbgrader would score zero. The run times are printed at the end of the
session and written to test-artifacts/notebook-times.txt.

One notebook: ``pytest tests/test_notebooks.py -k 01-rnn-basics``.
"""
import time

import pytest

from notebook_tools import copy_assignment, is_graded, kernel_env, nbgrader_meta, notebook_ids, read, \
    solution_path, time_limit


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
    limit = time_limit(name)
    client = NotebookClient(nb, timeout=int(limit) + 30, kernel_name="python3",
                            resources={"metadata": {"path": str(workdir)}})
    start = time.perf_counter()
    try:
        client.execute(env=kernel_env())  # handed on to the kernel it starts
    except CellExecutionError as exc:
        pytest.fail(f"{name}: a cell raised\n{exc}")
    seconds = time.perf_counter() - start
    record_property("notebook", name)
    record_property("notebook_seconds", seconds)
    record_property("notebook_limit", limit)

    noisy = [(nbgrader_meta(cell).get("grade_id", f"cell {i}"), _stderr(cell))
             for i, cell in enumerate(nb.cells) if cell.cell_type == "code" and is_graded(cell) and _stderr(cell)]
    assert not noisy, f"{name}: graded cells write to stderr (nbgrader scores them zero): " + "; ".join(
        f"{grade_id}: {text.strip()[:300]}" for grade_id, text in noisy)
    assert seconds <= limit, f"{name} took {seconds:.1f} s top to bottom; the limit is {limit:.0f} s"
