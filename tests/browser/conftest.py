"""One JupyterLab server and one Chromium for all the browser tests of the session.

The server runs from the project's environment (``.venv/bin/jupyter lab``) on a free local
port, without a token, on a temporary copy of ``solutions/``, ``course/`` and the nbgrader
configuration, with its own Jupyter config, data, runtime and settings directories, so that
nothing in the work tree or the user's home changes. It starts in the copy's
``autograder/`` folder, where an instructor starts nbgrader: the formgrader and the Validate
button read ``nbgrader_config.py`` from there, and its course root is the copy. Its kernels
run with ``NBGRADER_EXECUTION`` set, so the notebooks' heavy cells take their small size.

Chromium is Debian's (``/usr/bin/chromium``, installed by ``make system-deps``), driven by
Playwright; the tests that need it are skipped, saying why, when it is absent.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from notebook_tools import THREAD_ENV

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
STARTUP_SECONDS = 120

# JupyterLab settings of the test server: every cell of a notebook stays in the page (no
# windowing), so that every explorer renders; no news or update checks over the network.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                         "checkForUpdates": False},
}


def jupyter_executable():
    """The project environment's ``jupyter``: .venv's, else the one beside this Python."""
    for candidate in (ROOT / ".venv" / "bin" / "jupyter", Path(sys.executable).parent / "jupyter"):
        if candidate.exists():
            return candidate
    pytest.skip("no jupyter executable in .venv/bin or beside the running Python")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _copy_course(dest):
    for folder in ("solutions", "course"):
        shutil.copytree(ROOT / folder, dest / folder, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    (dest / "autograder").mkdir()
    shutil.copy2(ROOT / "autograder" / "nbgrader_config.py", dest / "autograder")


def _jupyter_env(home, jupyter):
    env = dict(os.environ)
    # As in an activated environment: nbgrader's gradebook runs the environment's
    # ``alembic`` through PATH, and the formgrader answers 500 without it.
    env["PATH"] = f"{jupyter.parent}{os.pathsep}{env.get('PATH', '')}"
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR",
                 "JUPYTERLAB_SETTINGS_DIR", "JUPYTERLAB_WORKSPACES_DIR"):
        env[name] = str(home / name.lower())
        (home / name.lower()).mkdir()
    for name, settings in LAB_SETTINGS.items():
        path = home / "jupyterlab_settings_dir" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(settings))
    # The kernels run the notebooks' heavy cells (training, sweeps) at the size nbgrader's
    # Validate runs them: these tests are about what the browser shows, and the full-size
    # runs are tests/test_notebooks.py's. One thread each, as there.
    env["NBGRADER_EXECUTION"] = "validate"
    env.update(THREAD_ENV)
    return env


class LabServer:
    """A running JupyterLab: its URL, its root folder (the course copy), its environment,
    and the ``jupyter`` (in the project environment's bin/, beside its ``python``) it runs."""

    def __init__(self, root, port, env, process, log, jupyter):
        self.root, self.port, self.env, self.process, self.log = root, port, env, process, log
        self.jupyter, self.python = jupyter, jupyter.parent / "python"
        self.url = f"http://127.0.0.1:{port}"

    def get(self, path):
        with urllib.request.urlopen(self.url + path, timeout=30) as response:
            return response.read().decode()

    def log_tail(self, lines=40):
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    jupyter = jupyter_executable()
    base = tmp_path_factory.mktemp("jupyterlab")
    root, home = base / "course-copy", base / "home"
    root.mkdir()
    home.mkdir()
    _copy_course(root)
    env = _jupyter_env(home, jupyter)
    port = _free_port()
    log = base / "jupyterlab.log"
    command = [str(jupyter), "lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
               f"--ServerApp.root_dir={root}", "--IdentityProvider.token=", "--ServerApp.password=",
               "--ServerApp.port_retries=0", "--LabApp.expose_app_in_browser=True",
               "--LabApp.news_url=None",
               "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate"]
    if os.geteuid() == 0:  # containers and CI runners often run as root
        command.append("--allow-root")
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=root / "autograder", env=env, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    server = LabServer(root, port, env, process, log, jupyter)
    try:
        _wait_until_answering(server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_answering(server):
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"JupyterLab exited with code {server.process.returncode}:\n{server.log_tail()}")
        try:
            json.loads(server.get("/api/status"))
            return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"JupyterLab did not answer on port {server.port} within {STARTUP_SECONDS} s:\n{server.log_tail()}")


@pytest.fixture(scope="session")
def browser(chromium):
    """The session's Chromium (tests/conftest.py), shared with the hub tests."""
    return chromium


@pytest.fixture(scope="session")
def lab_tab(browser, lab):
    """One browser tab with JupyterLab loaded, shared by the tests (loading it costs seconds).

    Every console error and uncaught exception of the page is recorded in ``tab.errors``.
    """
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(60_000)
    tab = context.new_page()
    tab.errors = []
    tab.on("console", lambda message: message.type == "error" and tab.errors.append(
        f"console: {message.text} ({message.location.get('url', '')})"))
    tab.on("pageerror", lambda error: tab.errors.append(f"uncaught: {error}"))
    tab.goto(f"{lab.url}/lab", timeout=120_000)
    tab.wait_for_function("() => !!window.jupyterapp", timeout=120_000)
    tab.evaluate("async () => { await window.jupyterapp.restored; }")
    yield tab
    context.close()


@pytest.fixture
def page(lab_tab):
    """The JupyterLab tab with its error record emptied; afterwards every document closed and
    every kernel shut down, unsaved (the notebooks are copies), so the next test starts clean."""
    lab_tab.errors.clear()
    yield lab_tab
    lab_tab.evaluate(
        """async () => {
            const app = window.jupyterapp;
            for (const widget of Array.from(app.shell.widgets('main'))) {
                if (widget.context) widget.context.model.dirty = false;
                widget.dispose();
            }
            await app.serviceManager.sessions.refreshRunning();
            await app.serviceManager.sessions.shutdownAll();
        }""")


@pytest.fixture(scope="session")
def artifacts():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
