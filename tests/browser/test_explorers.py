"""Every notebook with an explorer, run in JupyterLab in Chromium, and every explorer moved.

The notebooks are found, not listed: every ``notebooks/NN-name.py`` whose source uses
``rnnkit.widgets``, opened as its solution notebook ``solutions/NN-name/NN-name.ipynb``.
For each: Run All Cells; no code cell may be left unrun or show an error, no widget may
fail to render, and the browser console may show no error. Then in every explorer (a
displayed widget with a picture) every control the student can see is moved in turn, and
the picture or the text it drives must change on screen. A screenshot of each explorer, as
the notebook leaves it, goes to test-artifacts/browser/.
"""
import re
from pathlib import Path

import pytest

from explorer_controls import controls, label, move, pause, wait_for_change, wait_until_steady
from lab_page import cell_problems, console_errors, explorer_outputs, open_notebook, run_all, widget_errors

pytestmark = pytest.mark.xdist_group("browser")

ROOT = Path(__file__).resolve().parents[2]

WIDGET_NOTEBOOKS = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]-*.py")
                          if re.search(r"\brnnkit\.widgets\b", p.read_text()))

def exercise(explorer):
    """Move every control that is visible, revisiting as choices show new ones; the labels moved."""
    pending = controls(explorer)
    moved = []
    progress = True
    while progress:
        progress = False
        for kind, control in list(pending):
            if not control.is_visible():
                continue
            pending.remove((kind, control))
            before = wait_until_steady(explorer)
            what = label(kind, control)
            action = move(kind, control)
            if not action:
                continue
            wait_for_change(explorer, before, f"moving {what}")
            if action == "play":
                pause(control)
            moved.append(what)
            progress = True
    return moved


def test_every_notebook_with_widgets_is_found():
    assert "01-rnn-basics" in WIDGET_NOTEBOOKS, "the unrolling explorer of 01-rnn-basics was not found"


@pytest.mark.parametrize("name", WIDGET_NOTEBOOKS)
def test_explorers_run_and_respond_in_jupyterlab(name, lab, page, artifacts, record_property):
    relpath = f"solutions/{name}/{name}.ipynb"
    if not (lab.root / relpath).exists():
        pytest.skip(f"{relpath} is not built yet (make release builds it from notebooks/{name}.py)")
    open_notebook(page, lab, relpath)
    run_all(page)
    assert cell_problems(page) == [], f"{relpath}: cells that did not run or failed"
    assert widget_errors(page) == [], f"{relpath}: widgets that did not render"
    explorers = explorer_outputs(page)
    assert explorers, f"{relpath} uses rnnkit.widgets but displays no explorer with a picture"
    for k, explorer in enumerate(explorers, start=1):
        explorer.scroll_into_view_if_needed()
        shown = wait_until_steady(explorer)
        assert shown and len(shown[0]) == 64, f"{relpath}, explorer {k}: no picture on screen"
        explorer.screenshot(path=artifacts / f"{name}-explorer-{k}.png")
        moved = exercise(explorer)
        assert moved, f"{relpath}, explorer {k}: no control could be moved"
        record_property(f"explorer_{k}_moved", ", ".join(moved))
    assert console_errors(page) == [], f"{relpath}: errors in the browser console"
