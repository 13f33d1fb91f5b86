"""Every explorer in rnnkit/widgets/, without a browser: each control moves what it drives.

The explorers are found, not listed: every class named ``*Explorer`` defined in a module of
:mod:`rnnkit.widgets`. Each is built with its default arguments (the few arguments without
a default come from ``REQUIRED_ARGUMENTS``; a new explorer that needs one fails here until
it has an entry). Then every control that the student can see and move is moved in turn, as
the browser would move it, and after each move

- the explorer's ``state`` differs from the one before (deep comparison, arrays included),
  and holds no ``error``;
- what the explorer shows differs from before: its PNG, or the text of an HTML or Label
  output beside it (the sampler's text, say), and ``explorer.image`` shows ``explorer.png``;
- no matplotlib figure is left open (the explorers draw on ``matplotlib.figure.Figure``,
  outside pyplot's registry, so that a notebook does not accumulate figures).

A control the student cannot move (a choice with one option, a slider whose minimum is its
maximum) or cannot see (inside a box hidden by ``layout.display = "none"``) is left alone;
each explorer must have at least one control that moves. Controls linked in the browser
with ``jslink`` (a Play button driving a slider) have no Python observer: moving one moves
its linked control, as the browser does.
"""
import importlib
import pkgutil
import re

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

w = pytest.importorskip("ipywidgets")
from ipywidgets.widgets.widget import _instances  # noqa: E402
from ipywidgets.widgets.widget_link import DirectionalLink, Link  # noqa: E402

import rnnkit.widgets  # noqa: E402


def _sampler_arguments():
    from rnnkit.checks.applications import init_lm_params
    from rnnkit.data import CharVocab

    vocab = CharVocab.from_text("abcdefgh .,\n")
    return {"params": init_lm_params(len(vocab), 4, 8, rng=0, scale=1.0), "vocab": vocab, "prompt": "abc"}


# Arguments that an explorer cannot do without, by class name: small, fixed, built offline.
REQUIRED_ARGUMENTS = {"SamplerExplorer": _sampler_arguments}


def _explorer_classes():
    classes = []
    for info in pkgutil.iter_modules(rnnkit.widgets.__path__):
        module = importlib.import_module(f"rnnkit.widgets.{info.name}")
        classes += [obj for name, obj in vars(module).items()
                    if isinstance(obj, type) and name.endswith("Explorer") and obj.__module__ == module.__name__]
    return sorted(classes, key=lambda cls: cls.__name__)


EXPLORERS = _explorer_classes()


def _build(cls):
    factory = REQUIRED_ARGUMENTS.get(cls.__name__)
    return cls(**factory()) if factory else cls()


def test_every_widget_module_defines_an_explorer():
    modules = {info.name for info in pkgutil.iter_modules(rnnkit.widgets.__path__)}
    with_explorer = {cls.__module__.rsplit(".", 1)[1] for cls in EXPLORERS}
    assert modules == with_explorer, f"modules of rnnkit.widgets without an *Explorer class: {sorted(modules - with_explorer)}"


# --- what the student sees ------------------------------------------------------------------

def _children(widget):
    return [c for c in getattr(widget, "children", ()) if isinstance(c, w.Widget)]


def _displayed(root):
    """Every widget under ``root`` that is on screen: not inside a box with display 'none'."""
    shown = []
    stack = [root]
    while stack:
        widget = stack.pop()
        layout = getattr(widget, "layout", None)
        if layout is not None and layout.display == "none":
            continue
        shown.append(widget)
        stack.extend(_children(widget))
    return shown


def _view(explorer):
    """What the explorer shows besides its controls: the PNG, and every HTML or Label output."""
    controls = {id(c) for c in explorer.controls.values()}
    texts = tuple(x.value for x in _displayed(explorer.widget)
                  if isinstance(x, (w.HTML, w.HTMLMath, w.Label)) and id(x) not in controls)
    return explorer.png, texts


def _same(a, b):
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.shape(a) == np.shape(b) and np.array_equal(a, b)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


# --- moving a control as the student would ---------------------------------------------------

def _another_text(text):
    """The text with its first item appended: a list of numbers stays a valid list."""
    sep = ", " if "," in text else " "
    items = [t for t in re.split(r"[,\s]+", text) if t]
    return text.rstrip().rstrip(",") + sep + items[0]


def _another_value(control):
    """A different value the student could give ``control``, or None if it has only one."""
    if isinstance(control, (w.Dropdown, w.ToggleButtons, w.RadioButtons, w.Select, w.SelectionSlider)):
        others = [value for _, value in control._options_full if value != control.value] \
            if hasattr(control, "_options_full") else [v for v in control.options if v != control.value]
        return others[0] if others else None
    if isinstance(control, (w.Checkbox, w.ToggleButton)):
        return not control.value
    if isinstance(control, (w.IntText, w.FloatText, w.BoundedIntText, w.BoundedFloatText)):
        step = getattr(control, "step", 1) or 1
        return control.value + step
    if isinstance(control, (w.Text, w.Textarea)):
        return _another_text(control.value)
    if hasattr(control, "min") and hasattr(control, "max"):  # sliders and Play
        return _slider_target(control)
    raise AssertionError(f"no way to move a {type(control).__name__}; teach _another_value about it")


def _slider_target(control):
    """A quarter of the slider's range away, towards its farther end, on the slider's steps.

    One step is often too small a move to see (a tenth of the input size moves the gradient
    curve by less than a pixel); a student drags further, and so does the test.
    """
    if control.min == control.max:
        return None
    step = getattr(control, "step", 1) or 1
    span = control.max - control.min
    steps = max(1, round(span / 4 / step))
    direction = 1 if control.max - control.value >= control.value - control.min else -1
    target = control.value + direction * steps * step
    target = min(control.max, max(control.min, target))
    return round(target, 10) if isinstance(target, float) else target


def _browser_links(control):
    """The (widget, trait) pairs that ``jslink`` ties to the control's value in the browser."""
    linked = []
    for link in list(_instances.values()):
        if isinstance(link, Link) and not isinstance(link, DirectionalLink):
            ends = [link.source, link.target]
            for end, other in (ends, ends[::-1]):
                if end == (control, "value"):
                    linked.append(other)
        elif isinstance(link, DirectionalLink) and link.source == (control, "value"):
            linked.append(link.target)
    return linked


def _move(control, value):
    control.value = value
    for widget, trait in _browser_links(control):
        setattr(widget, trait, value)


@pytest.mark.parametrize("cls", EXPLORERS, ids=lambda cls: cls.__name__)
def test_every_control_changes_the_state_and_the_view(cls):
    plt.close("all")
    explorer = _build(cls)
    assert explorer.png.startswith(b"\x89PNG"), "the explorer draws a PNG when it is built"
    assert explorer.image.value == explorer.png
    assert set(explorer.controls) and all(isinstance(c, w.ValueWidget) for c in explorer.controls.values())
    state, view = explorer.state, _view(explorer)

    moved = []
    for name, control in explorer.controls.items():
        if control not in _displayed(explorer.widget) or (value := _another_value(control)) is None:
            continue
        before = control.value
        _move(control, value)
        assert "error" not in explorer.state, f"{name} = {value!r}: {explorer.state.get('error')}"
        assert not _same(explorer.state, state), f"moving {name} to {value!r} leaves the state as it was"
        assert not _same(_view(explorer), view), f"moving {name} to {value!r} leaves the picture and text as they were"
        assert explorer.image.value == explorer.png, f"after moving {name}, the Image shows a stale PNG"
        # Back to the default, so that each control is judged from the same start; the view
        # is a function of the control values, so it comes back exactly.
        _move(control, before)
        assert _same(explorer.state, state) and _same(_view(explorer), view), \
            f"moving {name} to {value!r} and back does not restore the view"
        moved.append(name)
    assert moved, f"{cls.__name__} has no control that a student can move"
    assert plt.get_fignums() == [], f"{cls.__name__} leaves matplotlib figures open"
