"""Session-wide reporting of the notebook tests.

Tests record what they measured with ``record_property`` (which pytest-xdist carries
back from its workers); at the end of the session this prints the notebooks' run times
and the number of catalogue mistakes caught per notebook, and writes the times to
test-artifacts/notebook-times.txt.
"""
import sys
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"

# The tests import the autograder package of the repository, whichever directory pytest runs from.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium driven by Playwright, one for every test of a worker that needs it.

    Playwright's synchronous API runs one instance per process: the browser tests and the hub
    tests, which pytest-xdist may give the same worker, share this one.
    """
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent: install Debian's chromium (make system-deps) to run the browser tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


_times = {}  # notebook -> (seconds, budget, outcome)
_caught = defaultdict(lambda: [0, 0])  # notebook -> [caught, total]


def pytest_runtest_logreport(report):
    if report.when != "call":
        return
    props = dict(report.user_properties)
    if "notebook_seconds" in props:
        _times[props["notebook"]] = (props["notebook_seconds"], props["notebook_limit"], report.outcome)
    if "catalogue_notebook" in props:
        counts = _caught[props["catalogue_notebook"]]
        counts[0] += report.passed
        counts[1] += 1


def pytest_terminal_summary(terminalreporter):
    if _times:
        lines = [f"{'notebook':<24} {'seconds':>8} {'budget':>6}  outcome   (times beside the rest of the suite)"]
        for name in sorted(_times):
            seconds, budget, outcome = _times[name]
            lines.append(f"{name:<24} {seconds:>8.1f} {budget:>6.0f}  {outcome}")
        terminalreporter.write_sep("-", "solutions notebooks, executed top to bottom")
        for line in lines:
            terminalreporter.write_line(line)
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "notebook-times.txt").write_text("\n".join(lines) + "\n")
    if _caught:
        terminalreporter.write_sep("-", "catalogue of wrong answers")
        for name in sorted(_caught):
            caught, total = _caught[name]
            terminalreporter.write_line(f"{name:<24} {caught} of {total} mistakes caught")
        caught = sum(c for c, _ in _caught.values())
        total = sum(t for _, t in _caught.values())
        terminalreporter.write_line(f"{'all notebooks':<24} {caught} of {total} mistakes caught")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Make ``--dist loadgroup`` keep each ``xdist_group`` on one worker under pytest 9.

    pytest-xdist marks a grouped test by appending "@<group>" to ``item._nodeid``; pytest 9
    reads the node id from ``item._id`` instead, so the suffix is lost and the scheduler
    spreads a group over every worker (an expensive fixture then runs once per worker).
    This carries the suffix over to the id the scheduler sees.
    """
    if not getattr(config.option, "loadgroup", False):
        return
    from _pytest.nodeid import NodeId

    for item in items:
        marked = getattr(item, "_nodeid", None)
        if isinstance(marked, str) and "@" in marked and marked != item.nodeid and hasattr(item, "_id"):
            item._id = NodeId.parse(marked)
