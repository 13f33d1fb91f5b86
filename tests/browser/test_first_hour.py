"""A student's first hour, from a fresh clone, in JupyterLab driven through Chromium.

The repository's committed state (HEAD) is cloned twice into a temporary folder: an
``upstream`` that plays the course's repository and the student's clone of it. In the
student's clone, ``make course`` runs as the README says, with the project's existing
environment (``VENV=`` the work tree's .venv, which it does not install into: the test
checks that first) and a token and a port of its own. The student then

1. finds the start page open, no news prompt, and no instructor tool of nbgrader;
2. opens 01 (which stays unmodified while the kernel starts), answers the sigmoid exercise,
   runs all cells (which stop at the next, unanswered exercise), saves and validates;
3. finds ``git status`` clean, and the release's tests that a student's save used to break
   passing in the clone;
4. checks a notebook with the README's ``make validate NB=01-rnn-basics``;
5. pulls a course update and runs ``make update``, which keeps the answer and puts the new
   version beside it.

Jupyter's user directories (config, data, runtime, settings, workspaces) are temporary, so
nothing in the work tree or the user's home changes.
"""
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from lab_page import console_errors, open_notebook, run_all

pytestmark = pytest.mark.xdist_group("browser")

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".venv"
TOKEN = "first-hour"
FIRST = "01-rnn-basics/01-rnn-basics.ipynb"
ANSWER = ("def sigmoid(z):\n"
          "    e = np.exp(-np.abs(z))\n"
          "    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))\n")
STARTUP_SECONDS = 90
VALIDATE_SECONDS = 240
TORNADO_PING_WARNING = "The websocket_ping_timeout (90000) cannot be longer than the websocket_ping_interval (30000)."
GIT = ["git", "-c", "user.name=Course", "-c", "user.email=course@example.org", "-c", "init.defaultBranch=main"]


def git(cwd, *args):
    return subprocess.run(GIT + list(args), cwd=cwd, capture_output=True, text=True, check=True).stdout


def make(clone, *args, env, timeout=300):
    result = subprocess.run(["make", *args, f"VENV={VENV}"], cwd=clone, env=env, capture_output=True,
                            text=True, timeout=timeout)
    assert result.returncode == 0, f"make {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def student(tmp_path_factory):
    if not (VENV / "bin" / "jupyter").exists():
        pytest.skip("no JupyterLab in .venv: run `make course` or `make test` once")
    base = tmp_path_factory.mktemp("first-hour")
    upstream, clone, home = base / "upstream", base / "student", base / "home"
    git(base, "clone", "-q", str(ROOT), str(upstream))
    git(base, "clone", "-q", str(upstream), str(clone))
    # The clone's files are new; the shared environment's install stamp is older. Make the
    # stamp current for the clone, so that `make course` uses .venv as it is.
    stamp = (VENV / ".course-installed").stat().st_mtime_ns if (VENV / ".course-installed").exists() else 0
    os.utime(clone / "pyproject.toml", ns=(stamp - 10**9, stamp - 10**9))
    env = dict(os.environ, JUPYTER_TOKEN=TOKEN)
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR",
                 "JUPYTERLAB_SETTINGS_DIR", "JUPYTERLAB_WORKSPACES_DIR"):
        env[name] = str(home / name.lower())
        (home / name.lower()).mkdir(parents=True)
    env.pop("JUPYTER_CONFIG_PATH", None)
    port = _free_port()
    args = ["course", f"PORT={port}",
            "LAB_OPTIONS=--no-browser --ServerApp.ip=127.0.0.1 --LabApp.expose_app_in_browser=True"]
    dry_run = subprocess.run(["make", "-n", *args, f"VENV={VENV}"], cwd=clone, env=env, capture_output=True, text=True)
    if "pip install" in dry_run.stdout:
        pytest.skip(f"`make course` would install into {VENV} (its install stamp is missing or stale)")
    log = base / "make-course.log"
    with log.open("w") as out:
        process = subprocess.Popen(["make", *args, f"VENV={VENV}"], cwd=clone, env=env, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(f"make course exited with code {process.returncode}:\n{log.read_text()}")
            try:
                urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=10).read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not answer within {STARTUP_SECONDS} s:\n{log.read_text()}")
                time.sleep(0.5)
        yield {"upstream": upstream, "clone": clone, "env": env, "url": url, "log": log}
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="module")
def tab(browser, student):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(60_000)
    page = context.new_page()
    page.errors = []
    page.on("console", lambda message: message.type == "error" and page.errors.append(
        f"console: {message.text} ({message.location.get('url', '')})"))
    page.on("pageerror", lambda error: page.errors.append(f"uncaught: {error}"))
    # The address a student opens: the server's own, which leads to its default page.
    page.goto(f"{student['url']}/?token={TOKEN}", timeout=120_000)
    page.wait_for_function("() => !!window.jupyterapp", timeout=120_000)
    page.evaluate("async () => { await window.jupyterapp.restored; }")
    yield page
    context.close()


def test_first_start_shows_the_start_page_and_only_the_students_tools(student, tab):
    start = tab.locator(".jp-MarkdownViewer .jp-RenderedMarkdown h1", has_text="Start here")
    start.wait_for(timeout=30_000)
    current = tab.evaluate("() => window.jupyterapp.shell.currentWidget.context.path")
    assert current == "START.md", f"JupyterLab opened {current!r} first, not the start page"
    for heading in ("The notebooks, in order", "How an exercise works", "What Validate does",
                    "What to expect from Run All", "Getting help"):
        assert tab.locator(".jp-MarkdownViewer h2", has_text=heading).count() == 1, f"START.md lacks {heading!r}"

    files = tab.evaluate("""async () => {
        const listing = await window.jupyterapp.serviceManager.contents.get('');
        return listing.content.map(item => item.name).sort(); }""")
    assert "01-rnn-basics" in files and "START.md" in files, f"JupyterLab does not show the workspace: {files}"
    assert not {"course", "solutions", "autograder", "rnnkit"} & set(files), f"JupyterLab shows the repository: {files}"

    time.sleep(2)  # the news question, when asked, comes once the settings have loaded
    assert tab.get_by_text("official Jupyter news").count() == 0, "JupyterLab asks about news"
    commands = tab.evaluate("""() => ['nbgrader:open-formgrader', 'nbgrader:open-create-assignment',
                                      'nbgrader:open-course-list', 'nbgrader:open-assignment-list']
                                     .filter(id => window.jupyterapp.commands.hasCommand(id))""")
    assert commands == [], f"the student's JupyterLab offers nbgrader's {commands}"
    right = tab.evaluate("() => Array.from(window.jupyterapp.shell.widgets('right')).map(w => w.title.label || w.id)")
    assert not [w for w in right if "assignment" in w.lower()], f"the right sidebar holds {right}"
    assert tab.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").count() == 0, "the menu bar offers nbgrader's menu"
    assert console_errors(tab) == []


def test_answer_survives_git_and_a_course_update(student, tab):
    clone, env = student["clone"], student["env"]
    open_notebook(tab, None, FIRST)
    # The kernel's reply fills in language_info; the release carries it already.
    tab.evaluate("async () => { await window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.info; }")
    time.sleep(1.5)
    assert not tab.evaluate("() => window.jupyterapp.shell.currentWidget.context.model.dirty"), \
        "opening the untouched notebook marked it modified"

    tab.evaluate("""answer => {
        const cell = window.jupyterapp.shell.currentWidget.content.widgets.find(
            c => (c.model.getMetadata('nbgrader') || {}).grade_id === 'sigmoid');
        cell.model.sharedModel.setSource(answer); }""", ANSWER)
    run_all(tab)
    # Each test cell of the notebook, in order: its grade id, its first line, how it ran.
    tests = tab.evaluate("""() => window.jupyterapp.shell.currentWidget.content.widgets
        .filter(c => c.model.type === 'code' && (c.model.getMetadata('nbgrader') || {}).grade)
        .map(c => {
            const errors = c.model.outputs.toJSON().filter(o => o.output_type === 'error').map(o => o.ename);
            return [c.model.getMetadata('nbgrader').grade_id, c.model.sharedModel.getSource().split('\\n')[0].slice(0, 60),
                    c.model.executionCount === null ? 'not run' : (errors.join(',') || 'ok')];
        })""")
    outcome = {grade_id: how for grade_id, _, how in tests}
    sigmoid = [line for grade_id, line, _ in tests if grade_id.startswith("sigmoid_tests")]
    softmax = [line for grade_id, line, _ in tests if grade_id.startswith("softmax_tests")]
    assert sigmoid and softmax, f"01 has no test cells for sigmoid or softmax: {tests}"
    assert all(outcome[g] == "ok" for g in outcome if g.startswith("sigmoid_tests")), \
        f"the answered exercise fails its tests: {outcome}"
    assert outcome["softmax_tests"] == "NotImplementedError", f"Run All should stop at the next exercise: {outcome}"
    assert all(outcome[g] == "not run" for g in outcome if g.startswith("rnn_forward_tests")), outcome

    def fails_from_softmax_on(report):
        """Whether a validation report fails every test cell but the sigmoid's, softmax's first."""
        failed = report.count("The following cell failed")
        return failed == len(tests) - len(sigmoid) and softmax[0] in report.split("The following cell failed")[1]

    tab.evaluate("async () => { await window.jupyterapp.shell.currentWidget.context.save(); }")
    button = tab.locator(".jp-NotebookPanel-toolbar .validate-button").filter(visible=True)
    assert button.count() == 1, "the notebook toolbar shows no Validate button"
    button.click()
    result = tab.locator(".jp-Dialog #validation-message")
    result.wait_for(timeout=VALIDATE_SECONDS * 1000)
    text = result.inner_text()
    tab.locator(".jp-Dialog .jp-Dialog-button").first.click()
    assert fails_from_softmax_on(text), f"Validate should fail on the softmax tests, not the sigmoid's:\n{text[:3000]}"
    assert console_errors(tab) == []

    saved = json.loads((clone / "my-work" / FIRST).read_text())
    assert any("".join(c["source"]) == ANSWER for c in saved["cells"]), "the answer is not in my-work/"
    assert git(clone, "status", "--porcelain") == "", "the student's work shows in git status"

    # The tests that a student's save in course/01-rnn-basics/ used to break pass in the clone.
    pipeline = subprocess.run([str(VENV / "bin" / "python"), "-m", "pytest", "-p", "no:xdist", "-p", "no:cacheprovider",
                            "-q", "tests/test_pipeline.py", "-k", "(up_to_date or no_outputs) and 01-rnn-basics"],
                           cwd=clone, env=env, capture_output=True, text=True, timeout=300)
    assert pipeline.returncode == 0, f"the release's tests fail in the student's clone:\n{pipeline.stdout[-3000:]}"

    # The README's check command.
    check = make(clone, "validate", "NB=01-rnn-basics", env=env)
    assert "The following cell failed" in check and fails_from_softmax_on(check), check[-3000:]
    assert "No nbgrader_config.py" not in check and "WARNING" not in check, check[-3000:]

    # The course changes upstream; the student pulls and updates.
    upstream = student["upstream"]
    release = upstream / "course" / FIRST
    nb = json.loads(release.read_text())
    nb["cells"][0]["source"] = ["# 01 · Recurrent neural networks: the basics (second edition)\n"]
    release.write_text(json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n")
    git(upstream, "commit", "-q", "-am", "A new edition of 01")
    git(clone, "pull", "-q")
    report = make(clone, "update", env=env)
    beside = [line for line in report.splitlines() if "yours is kept" in line]
    assert len(beside) == 1 and FIRST in beside[0], f"make update should say where the new 01 went:\n{report}"
    new_name = beside[0].split("the new version is ")[1].strip()
    mine = json.loads((clone / "my-work" / FIRST).read_text())
    assert any("".join(c["source"]) == ANSWER for c in mine["cells"]), "make update lost the answer"
    new = json.loads((clone / "my-work" / new_name).read_text())
    assert "second edition" in "".join(new["cells"][0]["source"])
    assert git(clone, "status", "--porcelain") == "", "the update shows in git status"

    # One warning is jupyter_server's and tornado's, printed once by any JupyterLab of these
    # versions when the first websocket opens: the two read the ping settings in different
    # units, and no setting satisfies both.
    log = student["log"].read_text().splitlines()
    warnings = [line for line in log if (line.startswith("[W ") or "WARNING" in line)
                and TORNADO_PING_WARNING not in line]
    assert warnings == [], "the server wrote warnings for the student to read past:\n" + "\n".join(warnings)
