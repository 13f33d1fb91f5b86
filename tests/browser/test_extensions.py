"""The JupyterLab that students and instructors get: the versions pinned, nbgrader's extensions on.

The pins are read from pyproject.toml's ``course`` extra, never repeated here. Checked:
the installed jupyterlab, notebook, nbgrader and ipywidgets are exactly the pinned versions;
``jupyter labextension list`` (with the test server's configuration) shows nbgrader's lab
extension at nbgrader's version, the notebook's at the notebook's, and the widget manager,
each enabled and OK, with none of the nbgrader plugins that the course needs disabled; and
the running server's page configuration reports the pinned JupyterLab and loads them.
These need no browser.
"""
import json
import re
import subprocess
import tomllib
from pathlib import Path

import pytest

pytestmark = pytest.mark.xdist_group("browser")

ROOT = Path(__file__).resolve().parents[2]

PACKAGES = ("jupyterlab", "notebook", "nbgrader", "ipywidgets")
# nbgrader's plugins that the course uses: the student's Validate button, the instructor's
# formgrader, and the Nbgrader menu that opens it.
NEEDED_PLUGINS = ("@jupyter/nbgrader:validate-assignment", "@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:menu")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def pins():
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["course"]
    found = dict(re.fullmatch(r"\s*([A-Za-z0-9_.-]+)\s*==\s*(\S+)\s*", spec).groups() for spec in extra if "==" in spec)
    missing = [p for p in PACKAGES if p not in found]
    assert not missing, f"pyproject.toml's course extra pins no exact version of {missing}"
    return found


def labextensions(lab):
    """{name: (version, enabled, ok)} and the text of ``jupyter labextension list``."""
    done = subprocess.run([str(lab.jupyter), "labextension", "list"], env=lab.env, capture_output=True, text=True, timeout=120)
    text = ANSI.sub("", done.stdout + done.stderr)
    found = {m["name"]: (m["version"], m["state"] == "enabled", m["ok"] == "OK")
             for m in re.finditer(r"^\s+(?P<name>@?[\w./-]+) v(?P<version>\S+) (?P<state>enabled|disabled) (?P<ok>OK|X)",
                                  text, re.M)}
    return found, text


def page_config(lab):
    html = lab.get("/lab")
    data = re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', html, re.S)
    assert data, "the /lab page carries no jupyter-config-data"
    return json.loads(data.group(1))


def test_installed_versions_are_the_pinned_ones(lab):
    script = f"import importlib.metadata as m, json; print(json.dumps({{p: m.version(p) for p in {PACKAGES!r}}}))"
    installed = json.loads(subprocess.run([str(lab.python), "-c", script], capture_output=True, text=True, check=True).stdout)
    wanted = {p: pins()[p] for p in PACKAGES}
    assert installed == wanted, "the project environment differs from pyproject.toml's pins (make course reinstalls)"


def test_lab_extensions_are_installed_and_enabled(lab):
    found, text = labextensions(lab)
    wanted = pins()
    expected = {"@jupyter/nbgrader": wanted["nbgrader"], "@jupyter-notebook/lab-extension": wanted["notebook"],
                "@jupyter-widgets/jupyterlab-manager": None}
    for name, version in expected.items():
        assert name in found, f"{name} is not installed:\n{text}"
        got, enabled, ok = found[name]
        assert enabled and ok, f"{name} is not enabled and OK:\n{text}"
        assert version is None or got == version, f"{name} is v{got}, the pin says {version}"
    disabled = text.split("Disabled extensions:", 1)[1] if "Disabled extensions:" in text else ""
    for plugin in NEEDED_PLUGINS + ("@jupyter/nbgrader",):
        assert not re.search(rf"^\s*{re.escape(plugin)}\s*$", disabled, re.M), f"{plugin} is disabled:\n{text}"


def test_running_lab_is_the_pinned_version_and_loads_nbgrader(lab):
    config = page_config(lab)
    assert config["appVersion"] == pins()["jupyterlab"]
    loaded = {ext["name"]: ext for ext in config["federated_extensions"]}
    for name in ("@jupyter/nbgrader", "@jupyter-widgets/jupyterlab-manager"):
        assert name in loaded, f"the running JupyterLab does not load {name}"
    disabled = config.get("disabledExtensions", [])
    assert not [p for p in NEEDED_PLUGINS if p in disabled], f"disabled in the running JupyterLab: {disabled}"
