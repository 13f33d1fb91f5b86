"""The student's workspace (tools/workspace.py): a copy of course/ that updates keep.

Each test works on a copy of course/ in a temporary folder, which it changes as a new
release would, and on a workspace made from it; nothing in the work tree changes. The
student's Jupyter settings and the Binder files are checked by reading them.
"""
import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml
from nbformat.sign import NotebookNotary

ROOT = Path(__file__).resolve().parents[1]
TODAY = "2026-01-31"

_spec = importlib.util.spec_from_file_location("workspace", ROOT / "tools" / "workspace.py")
workspace = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(workspace)

FIRST = "01-rnn-basics/01-rnn-basics.ipynb"
SECOND = "02-bptt/02-bptt.ipynb"


@pytest.fixture(autouse=True)
def jupyter_data_dir(tmp_path, monkeypatch):
    """Jupyter's notary (which the workspace records notebooks in) in a temporary folder."""
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "jupyter-data"))
    monkeypatch.setattr(workspace, "_notary", [])


@pytest.fixture
def course(tmp_path):
    dest = tmp_path / "course"
    shutil.copytree(ROOT / "course", dest, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    return dest


def read(path):
    return json.loads(Path(path).read_text(encoding="utf-8"))


def write(path, nb):
    Path(path).write_text(workspace.dumps_notebook(nb), encoding="utf-8")


def edit_cell(path, grade_id, source):
    nb = read(path)
    cell = next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == grade_id)
    cell["source"] = source
    write(path, nb)


def retitle(path, title):
    """What a new release does to a notebook: its first cell says something else."""
    nb = read(path)
    nb["cells"][0]["source"] = title
    write(path, nb)


ANSWER = "def sigmoid(z):\n    return 0.5 * (1 + np.tanh(0.5 * z))\n"


def test_first_copy_is_the_release_with_this_kernels_language_info(course, tmp_path):
    ws = tmp_path / "my-work"
    actions, unchanged = workspace.update(ws, course, today=TODAY, out=lambda line: None)
    files = workspace.release_files(course)
    notary = NotebookNotary()
    assert {str(p) for p in files} >= {FIRST, "START.md", "nbgrader_config.py"}
    assert [(what, rel) for what, rel, _ in actions] == [("new", rel) for rel in files] and unchanged == 0
    for rel in files:
        if rel.suffix != ".ipynb":
            assert (ws / rel).read_bytes() == (course / rel).read_bytes(), f"{rel} differs from the release"
            continue
        mine, released = read(ws / rel), read(course / rel)
        assert mine["cells"] == released["cells"], f"{rel}: the cells differ from the release"
        assert mine["metadata"]["language_info"] == workspace.kernel_language_info()
        assert notary.check_signature(nbformat.read(str(ws / rel), as_version=4)), f"{rel} is not trusted"
    assert workspace.pending(ws, course) == [], "a fresh copy should have nothing left to update"


def test_language_info_is_what_the_kernel_reports():
    """JupyterLab writes the kernel's language_info into the notebook when it opens; a copy
    that carries the same one stays unmodified."""
    from ipykernel.ipkernel import IPythonKernel

    assert workspace.kernel_language_info() == IPythonKernel.language_info


def test_release_notebooks_carry_the_kernels_language_info_but_its_version():
    """The committed release carries everything the kernel reports; the version is the
    reference environment's, which the workspace replaces by the student's."""
    expected = {k: v for k, v in workspace.kernel_language_info().items() if k != "version"}
    for path in sorted((ROOT / "course").glob("*/*.ipynb")):
        info = read(path)["metadata"]["language_info"]
        assert {k: v for k, v in info.items() if k != "version"} == expected, path.name
        assert info.get("version"), f"{path.name} has no language_info.version"


def test_update_keeps_answers_and_says_what_it_did(course, tmp_path):
    ws = tmp_path / "my-work"
    workspace.update(ws, course, today=TODAY, out=lambda line: None)
    edit_cell(ws / FIRST, "sigmoid", ANSWER)
    # Running the cells of 02 without editing it is not starting it.
    nb = read(ws / SECOND)
    nb["cells"][1]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "ran\n"}]
    nb["cells"][1]["execution_count"] = 1
    write(ws / SECOND, nb)

    retitle(course / FIRST, "# 01, second edition\n")
    retitle(course / SECOND, "# 02, second edition\n")
    (course / "08-extra").mkdir()
    shutil.copy2(course / FIRST, course / "08-extra" / "08-extra.ipynb")
    shutil.rmtree(course / "07-applications")
    assert {str(p) for p in workspace.pending(ws, course)} == {FIRST, SECOND, "08-extra/08-extra.ipynb"}

    lines = []
    actions, unchanged = workspace.update(ws, course, today=TODAY, out=lines.append)
    beside = f"01-rnn-basics/01-rnn-basics.update-{TODAY}.ipynb"
    assert sorted((what, str(rel), detail) for what, rel, detail in actions) == sorted([
        ("beside", FIRST, beside),
        ("updated", SECOND, "you had not started it"),
        ("new", "08-extra/08-extra.ipynb", ""),
        ("kept", "07-applications/07-applications.ipynb", "no longer in the course"),
    ])
    report = "\n".join(lines)
    assert f"yours is kept, the new version is {beside}" in report and "08-extra/08-extra.ipynb" in report

    mine = read(ws / FIRST)
    assert any(c["source"] == ANSWER for c in mine["cells"]), "the student's answer is gone"
    assert "".join(mine["cells"][0]["source"]) != "# 01, second edition\n"
    assert "".join(read(ws / beside)["cells"][0]["source"]) == "# 01, second edition\n"
    assert "".join(read(ws / SECOND)["cells"][0]["source"]) == "# 02, second edition\n"
    assert (ws / "07-applications" / "07-applications.ipynb").exists(), "a notebook that left the course was removed"

    # A second update finds nothing to do and changes nothing.
    before = {p: p.read_bytes() for p in ws.rglob("*") if p.is_file()}
    actions, _ = workspace.update(ws, course, today=TODAY, out=lambda line: None)
    assert actions == []
    assert {p: p.read_bytes() for p in ws.rglob("*") if p.is_file()} == before


def test_a_second_change_to_a_started_notebook_gets_a_second_name(course, tmp_path):
    ws = tmp_path / "my-work"
    workspace.update(ws, course, today=TODAY, out=lambda line: None)
    edit_cell(ws / FIRST, "sigmoid", ANSWER)
    retitle(course / FIRST, "# second edition\n")
    workspace.update(ws, course, today=TODAY, out=lambda line: None)
    retitle(course / FIRST, "# third edition\n")
    actions, _ = workspace.update(ws, course, today=TODAY, out=lambda line: None)
    third = f"01-rnn-basics/01-rnn-basics.update-{TODAY}-2.ipynb"
    assert [(what, detail) for what, _, detail in actions] == [("beside", third)]
    assert "".join(read(ws / f"01-rnn-basics/01-rnn-basics.update-{TODAY}.ipynb")["cells"][0]["source"]) == "# second edition\n"
    assert "".join(read(ws / third)["cells"][0]["source"]) == "# third edition\n"
    assert any(c["source"] == ANSWER for c in read(ws / FIRST)["cells"])


def test_a_workspace_without_its_record_keeps_every_started_file(course, tmp_path):
    """A folder that was not made by the tool (no .release/): files as released are
    refreshed, anything else is the student's and is kept."""
    ws = tmp_path / "my-work"
    workspace.update(ws, course, today=TODAY, out=lambda line: None)
    shutil.rmtree(ws / workspace.PRISTINE)
    edit_cell(ws / FIRST, "sigmoid", ANSWER)
    actions, _ = workspace.update(ws, course, today=TODAY, out=lambda line: None)
    assert [(what, str(rel)) for what, rel, _ in actions] == [("beside", FIRST)]
    assert any(c["source"] == ANSWER for c in read(ws / FIRST)["cells"])


def test_init_never_overwrites_an_existing_workspace(tmp_path):
    ws = tmp_path / "my-work"
    run = [sys.executable, str(ROOT / "tools" / "workspace.py"), "init", "--workspace", str(ws)]
    first = subprocess.run(run, capture_output=True, text=True, check=True)
    assert "Copying the course" in first.stdout and (ws / FIRST).exists()
    edit_cell(ws / FIRST, "sigmoid", ANSWER)
    (ws / "notes.txt").write_text("mine")
    second = subprocess.run(run, capture_output=True, text=True, check=True)
    assert "already exists" in second.stdout
    assert any(c["source"] == ANSWER for c in read(ws / FIRST)["cells"])
    assert (ws / "notes.txt").read_text() == "mine"


def test_validate_finds_the_notebook_by_id_number_or_path(course, tmp_path):
    ws = tmp_path / "my-work"
    workspace.update(ws, course, today=TODAY, out=lambda line: None)
    target = (ws / FIRST).resolve()
    for name in ("01-rnn-basics", "01", FIRST, str(ws / FIRST)):
        assert workspace.notebook_path(ws, name) == target, name
    with pytest.raises(SystemExit, match="01-rnn-basics, 02-bptt"):
        workspace.notebook_path(ws, "0")


def test_make_targets_run_the_workspace_commands():
    out = subprocess.run(["make", "-n", "course", "update", "validate", "NB=01-rnn-basics", "VENV=/venv",
                          "PORT=9999", "WORKSPACE=w"], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    for line in ("tools/workspace.py lab --workspace w --port=9999",
                 "tools/workspace.py update --workspace w",
                 "tools/workspace.py validate --workspace w 01-rnn-basics"):
        assert line in out, f"`make` should run `{line}`:\n{out}"
    ignored = subprocess.run(["git", "check-ignore", "-q", f"my-work/{FIRST}"], cwd=ROOT).returncode
    assert ignored == 0, ".gitignore must leave out the workspace, my-work/"


def _server_config(env):
    """The student's jupyter_server_config.py as the server loads it, under ``env``."""
    from traitlets.config import Config

    c = Config()
    namespace = {"get_config": lambda: c, "__file__": str(ROOT / "tools" / "jupyter-student" / "jupyter_server_config.py")}
    with pytest.MonkeyPatch.context() as mp:
        for name in ("JUPYTERHUB_API_TOKEN", "BINDER_LAUNCH_HOST"):
            mp.delenv(name, raising=False)
        for name, value in env.items():
            mp.setenv(name, value)
        exec(compile(Path(namespace["__file__"]).read_text(), namespace["__file__"], "exec"), namespace)
    return c


@pytest.mark.parametrize("where, env, assignment_list", [
    ("self-study", {}, False),
    ("JupyterHub", {"JUPYTERHUB_API_TOKEN": "x"}, True),
    ("Binder", {"JUPYTERHUB_API_TOKEN": "x", "BINDER_LAUNCH_HOST": "https://mybinder.org/"}, False),
])
def test_student_server_has_the_student_tools_only(where, env, assignment_list):
    c = _server_config(env)
    extensions = c.ServerApp.jpserver_extensions
    assert extensions["nbgrader.server_extensions.validate_assignment"] is True
    assert extensions["nbgrader.server_extensions.formgrader"] is False
    assert extensions["nbgrader.server_extensions.course_list"] is False
    assert extensions["nbgrader.server_extensions.assignment_list"] is assignment_list, where
    hook = c.ServerApp.tornado_settings["page_config_hook"]
    disabled = set(hook(None, {"disabledExtensions": ["some-other"]})["disabledExtensions"])
    assert {"some-other", "@jupyter/nbgrader:create-assignment", "@jupyter/nbgrader:formgrader",
            "@jupyter/nbgrader:course-list"} <= disabled
    assert ("@jupyter/nbgrader:assignment-list" not in disabled) is assignment_list, where
    assert "@jupyter/nbgrader:validate-assignment" not in disabled
    overrides = json.loads((Path(c.LabApp.app_settings_dir) / "overrides.json").read_text())
    assert overrides["@jupyterlab/apputils-extension:notification"]["fetchNews"] == "false"
    assert overrides["@jupyterlab/docmanager-extension:plugin"]["defaultViewers"]["markdown"] == "Markdown Preview"


def test_binder_environment_is_the_conda_environment_without_the_local_install():
    root = yaml.safe_load((ROOT / "environment.yml").read_text())
    binder = yaml.safe_load((ROOT / "binder" / "environment.yml").read_text())

    def without_local(env):
        deps = [d for d in env["dependencies"] if not isinstance(d, dict)]
        pip = [p for d in env["dependencies"] if isinstance(d, dict) for p in d["pip"] if not p.startswith("-e")]
        return deps, pip

    assert without_local(binder) == without_local(root)
    assert "-e ." in next(d["pip"] for d in root["dependencies"] if isinstance(d, dict))


def test_binder_builds_and_starts_in_the_workspace():
    post_build = (ROOT / "binder" / "postBuild").read_text().splitlines()
    start = (ROOT / "binder" / "start").read_text()
    assert "python -m pip install --quiet --no-deps -e ." in post_build
    assert "python tools/workspace.py init" in post_build
    assert 'tools/jupyter-student${JUPYTER_CONFIG_PATH:+:$JUPYTER_CONFIG_PATH}"' in start
    assert 'cd "$REPO/my-work"' in start and start.rstrip().endswith('exec "$@"')
    assert workspace.DEFAULT_WORKSPACE.name == "my-work" and workspace.STUDENT_CONFIG.name == "jupyter-student"
    for name in ("postBuild", "start"):
        assert (ROOT / "binder" / name).stat().st_mode & 0o111, f"binder/{name} must be executable"


def test_changes_made_in_course_itself_are_carried_into_a_new_workspace(course, tmp_path, monkeypatch, capsys):
    """Before the workspace, students worked in the repository's course/: a new workspace
    takes those changes as the student's own, and the release stays what git has."""
    repo = course.parent
    git = ["git", "-c", "user.name=Course", "-c", "user.email=course@example.org"]
    subprocess.run(git + ["init", "-q"], cwd=repo, check=True)
    subprocess.run(git + ["add", "course"], cwd=repo, check=True)
    subprocess.run(git + ["commit", "-q", "-m", "release"], cwd=repo, check=True)
    monkeypatch.setattr(workspace, "REPO", repo)
    monkeypatch.setattr(workspace, "COURSE", course)
    released = (course / FIRST).read_bytes()
    edit_cell(course / FIRST, "sigmoid", ANSWER)
    (course / "01-rnn-basics" / "scratch.py").write_text("x = 1\n")

    ws = tmp_path / "my-work"
    assert workspace.create(ws, course)
    report = capsys.readouterr().out
    assert "01-rnn-basics/01-rnn-basics.ipynb" in report and "01-rnn-basics/scratch.py" in report, report
    assert any(c["source"] == ANSWER for c in read(ws / FIRST)["cells"]), "the answer made in course/ is not carried over"
    assert (ws / "01-rnn-basics" / "scratch.py").read_text() == "x = 1\n"
    assert (ws / workspace.PRISTINE / FIRST).read_bytes() == released, "the record should hold the committed release"
    assert not (ws / workspace.PRISTINE / "01-rnn-basics" / "scratch.py").exists()
    assert workspace.pending(ws, course) == []

    # A new release of 01 then goes beside the carried-over answer.
    subprocess.run(git + ["checkout", "-q", "--", "course"], cwd=repo, check=True)
    retitle(course / FIRST, "# second edition\n")
    subprocess.run(git + ["commit", "-q", "-am", "second edition"], cwd=repo, check=True)
    actions, _ = workspace.update(ws, course, today=TODAY, out=lambda line: None)
    assert [(what, str(rel)) for what, rel, _ in actions] == [("beside", FIRST)]
    assert any(c["source"] == ANSWER for c in read(ws / FIRST)["cells"])
