"""The student's workspace: a copy of the release (course/) that git does not track.

    python tools/workspace.py lab [--workspace DIR] [JupyterLab options]   (make course)
    python tools/workspace.py update [--workspace DIR]                     (make update)
    python tools/workspace.py validate NOTEBOOK [--workspace DIR]          (make validate NB=...)
    python tools/workspace.py init [--workspace DIR]

The workspace (``my-work/`` by default, git-ignored) is where a student works. The first
``lab`` or ``init`` copies course/ into it; later runs never overwrite it. ``update`` brings
in a newer release (after ``git pull``) without touching the student's answers:

- a file that is new in the release is copied;
- a file the student has not started (a notebook whose cells are as released, outputs
  aside; any other file byte for byte) is replaced by the new version;
- a changed file the student has started is kept, and the new version is placed beside it
  as ``NAME.update-YYYY-MM-DD.EXT``;
- a file that left the release stays.

It prints what it did. To know what the student started from, the workspace keeps a copy of
the release it last installed in ``.release/`` (hidden in JupyterLab). The release is
course/ as git has it: a student who worked in the repository's course/ itself (as before
the workspace existed) finds those changes carried into the new workspace as work of their
own.

Notebooks are copied with the ``language_info`` that the student's kernel reports (the
Python running this script is the kernel's), so that opening one does not mark it modified,
and recorded as trusted in Jupyter's notary, so that the server opens them without a warning.

``lab`` starts JupyterLab in the workspace with tools/jupyter-student/ on
JUPYTER_CONFIG_PATH (the student's nbgrader tools, no news prompt, the start page opened
first); ``validate`` runs ``nbgrader validate`` in the workspace, where nbgrader finds the
workspace's nbgrader_config.py. Both put this Python's bin/ first on PATH, as an activated
environment would.
"""
import argparse
import datetime
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
COURSE = REPO / "course"
DEFAULT_WORKSPACE = REPO / "my-work"
STUDENT_CONFIG = REPO / "tools" / "jupyter-student"
PRISTINE = ".release"
START_PAGE = "START.md"
# Files that belong to a session or a tool, never to a release.
IGNORED = {".ipynb_checkpoints", "__pycache__", ".DS_Store"}


def kernel_language_info():
    """What ipykernel, run by this Python, reports as the notebook's ``language_info``."""
    return {
        "codemirror_mode": {"name": "ipython", "version": sys.version_info[0]},
        "file_extension": ".py",
        "mimetype": "text/x-python",
        "name": "python",
        "nbconvert_exporter": "python",
        "pygments_lexer": "ipython3",
        "version": sys.version.split()[0],
    }


def dumps_notebook(nb):
    """JSON text laid out as nbformat and JupyterLab write it."""
    return json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def for_this_kernel(rel, data):
    """The bytes to write in the workspace for the release file ``rel`` holding ``data``."""
    if rel.suffix != ".ipynb":
        return data
    nb = json.loads(data)
    nb.setdefault("metadata", {})["language_info"] = kernel_language_info()
    return dumps_notebook(nb).encode("utf-8")


_notary = []


def trust(path):
    """Record the notebook at ``path`` as trusted in Jupyter's notary, as ``jupyter trust`` does
    and as JupyterLab does on every save: the server then opens it without a warning."""
    try:
        import nbformat
        from nbformat.sign import NotebookNotary
    except ImportError:  # not a Jupyter environment: nothing to record
        return
    if not _notary:
        _notary.append(NotebookNotary())
    _notary[0].sign(nbformat.read(str(path), as_version=4))


def release_files(course=COURSE):
    """Relative paths of the release's files, sorted."""
    return sorted(p.relative_to(course) for p in course.rglob("*")
                  if p.is_file() and not set(p.relative_to(course).parts) & IGNORED)


def in_place_edits(course=COURSE):
    """Changes made in the repository's own course/ (where students worked before my-work/).

    Returns ``(committed, own)``: the committed text of each release file changed in place,
    {path: bytes}, and the paths of files that git does not track there. Both are empty for
    any other folder, or without git.
    """
    if course != COURSE:
        return {}, set()
    try:
        status = subprocess.run(["git", "status", "--porcelain", "-z", "--untracked-files=all", "--", "course"],
                                cwd=REPO, capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return {}, set()
    committed, own = {}, set()
    for entry in status.decode("utf-8", "surrogateescape").split("\0"):
        code, path = entry[:2], entry[3:]
        if not path.startswith("course/"):
            continue
        rel = Path(path).relative_to("course")
        if set(rel.parts) & IGNORED:
            continue
        show = subprocess.run(["git", "show", f"HEAD:{path}"], cwd=REPO, capture_output=True)
        if code == "??" or show.returncode != 0:
            own.add(rel)
        else:
            committed[rel] = show.stdout
    return committed, own


def read_release(course=COURSE):
    """The release, {path: bytes}: course/ as committed where it was changed in place."""
    committed, own = in_place_edits(course)
    release = {rel: (course / rel).read_bytes() for rel in release_files(course) if rel not in own}
    release.update(committed)
    return dict(sorted(release.items()))


def _cells(data):
    """A notebook's cells as (type, source) pairs: what a student writes, outputs aside."""
    try:
        nb = json.loads(data)
        return [(c.get("cell_type"), "".join(c.get("source", ""))) for c in nb["cells"]]
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def started(rel, mine, base):
    """Whether the workspace file ``mine`` differs in substance from the released ``base``."""
    if rel.suffix == ".ipynb":
        cells = _cells(mine)
        return cells is None or cells != _cells(base)
    return mine != base


def beside_name(target, release_data, today):
    """A free name beside ``target`` for the new version (or one that already holds it)."""
    stem, suffix = target.name[: -len(target.suffix)] if target.suffix else target.name, target.suffix
    for k in range(1, 1000):
        tag = f"update-{today}" + (f"-{k}" if k > 1 else "")
        candidate = target.with_name(f"{stem}.{tag}{suffix}")
        if not candidate.exists() or candidate.read_bytes() == release_data:
            return candidate
    raise RuntimeError(f"no free name beside {target}")


def pending(workspace, course=COURSE):
    """Release files that differ from the ones the workspace last installed."""
    base = workspace / PRISTINE
    return [rel for rel, data in read_release(course).items()
            if not (base / rel).is_file() or (base / rel).read_bytes() != data]


def update(workspace, course=COURSE, today=None, out=print):
    """Bring the release into ``workspace``, keeping the student's work; return the actions.

    Each action is (what, path, detail) with ``what`` one of new, updated, beside, kept.
    """
    today = today or datetime.date.today().isoformat()
    base = workspace / PRISTINE
    actions, unchanged = [], 0
    release = read_release(course)
    for rel, new in release.items():
        target, pristine = workspace / rel, base / rel
        before = pristine.read_bytes() if pristine.is_file() else None
        data = for_this_kernel(rel, new)
        if not target.exists():
            actions.append(("new", rel, ""))
            _write(target, data, copy=True)
        elif before == new:
            unchanged += 1
        elif not started(rel, target.read_bytes(), before if before is not None else new):
            if target.read_bytes() != data:
                _write(target, data, copy=True)
                actions.append(("updated", rel, "you had not started it"))
            else:
                unchanged += 1
        else:
            aside = beside_name(target, data, today)
            _write(aside, data, copy=True)
            actions.append(("beside", rel, str(aside.relative_to(workspace))))
        _write(pristine, new)
    if base.is_dir():
        for rel in release_files(base):
            if rel not in release:
                (base / rel).unlink()
                if (workspace / rel).exists():
                    actions.append(("kept", rel, "no longer in the course"))
    for what, rel, detail in actions:
        if what == "beside":
            out(f"  {what:8} {rel}: yours is kept, the new version is {detail}")
        else:
            out(f"  {what:8} {rel}" + (f" ({detail})" if detail else ""))
    return actions, unchanged


def _write(path, data, copy=False):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if copy and path.suffix == ".ipynb":
        trust(path)


def _shown(workspace):
    try:
        return f"{workspace.relative_to(Path.cwd())}/"
    except ValueError:
        return f"{workspace}/"


def create(workspace, course=COURSE):
    """Copy the release into ``workspace`` if it does not exist yet; True if it was made."""
    if workspace.exists():
        return False
    print(f"Copying the course into {_shown(workspace)}: your own copy, which git does not track.")
    update(workspace, course, out=lambda line: None)
    committed, own = in_place_edits(course)
    carried = sorted(rel for rel in set(committed) | own if (course / rel).is_file())
    for rel in carried:
        _write(workspace / rel, for_this_kernel(rel, (course / rel).read_bytes()), copy=True)
    if carried:
        print("Your changes to course/ are in your copy too (course/ is the release, and a `git pull` "
              "stumbles on changes there):")
        for rel in carried:
            print(f"  {rel}")
        commands = [c for c, needed in (("`git checkout -- course`", committed), ("`git clean -f course`", own))
                    if needed]
        verb = "gives" if len(commands) == 1 else "give"
        print(f"Once you have checked them in your copy, {' and '.join(commands)} {verb} course/ back to git.")
    return True


def environment():
    """This environment as if activated, with the student's Jupyter configuration."""
    env = dict(os.environ)
    bindir = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([bindir] + [p for p in env.get("PATH", "").split(os.pathsep) if p])
    paths = [str(STUDENT_CONFIG)] + [p for p in env.get("JUPYTER_CONFIG_PATH", "").split(os.pathsep) if p]
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(paths)
    return env


def cmd_init(args):
    if not create(args.workspace):
        print(f"{_shown(args.workspace)} already exists; `make update` brings a newer release into it.")
    return 0


def cmd_update(args):
    workspace = args.workspace
    if not workspace.exists():
        create(workspace)
        return 0
    print(f"Bringing the course into {_shown(workspace)}:")
    actions, unchanged = update(workspace)
    if not actions:
        print("  nothing to do: your copy has the current release.")
    elif unchanged:
        print(f"  {unchanged} other files were already current.")
    return 0


def cmd_lab(args, extra):
    workspace = args.workspace
    if not create(workspace):
        waiting = pending(workspace)
        if waiting:
            print(f"The course has changed since your copy was made or updated ({len(waiting)} files): "
                  "run `make update` to bring the changes in; your answers stay.")
    jupyter = Path(sys.executable).parent / "jupyter"
    command = [str(jupyter), "lab", f"--LabApp.default_url=/lab/tree/{START_PAGE}"] + extra
    os.chdir(workspace)
    os.execve(command[0], command, environment())


def notebook_path(workspace, name):
    """The workspace notebook that ``name`` means: an assignment id, its number, or a path."""
    for candidate in (Path(name), workspace / name):
        if candidate.suffix == ".ipynb" and candidate.is_file():
            return candidate.resolve()
    folders = sorted(p.name for p in workspace.iterdir() if p.is_dir() and (p / f"{p.name}.ipynb").is_file())
    matches = [f for f in folders if f == name] or [f for f in folders if f.startswith(name)]
    if len(matches) != 1:
        raise SystemExit(f"no single notebook in {_shown(workspace)} matches {name!r}; "
                         f"give one of: {', '.join(folders)}")
    return (workspace / matches[0] / f"{matches[0]}.ipynb").resolve()


def cmd_validate(args):
    workspace = args.workspace
    if not workspace.is_dir():
        raise SystemExit(f"{_shown(workspace)} does not exist yet: `make course` creates it")
    path = notebook_path(workspace, args.notebook)
    nbgrader = Path(sys.executable).parent / "nbgrader"
    rel = os.path.relpath(path, workspace.resolve())
    return subprocess.run([str(nbgrader), "validate", rel], cwd=workspace, env=environment()).returncode


def main(argv=None):
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--workspace", type=Path, default=DEFAULT_WORKSPACE,
                        help=f"the student's folder (default: {DEFAULT_WORKSPACE.relative_to(REPO)}/ in the repository)")
    parser = argparse.ArgumentParser(prog="python tools/workspace.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("init", parents=[common], help="copy the release into the workspace if it does not exist yet")
    sub.add_parser("update", parents=[common],
                   help="bring a newer release into the workspace, keeping the student's work")
    sub.add_parser("lab", parents=[common], help="create the workspace if needed and start JupyterLab in it; "
                                                 "further options go to JupyterLab")
    validate = sub.add_parser("validate", parents=[common], help="nbgrader validate a notebook of the workspace")
    validate.add_argument("notebook", help="an assignment id (01-rnn-basics), its number (01) or a path")
    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "lab":
        parser.error(f"unrecognised arguments: {' '.join(extra)}")
    args.workspace = args.workspace.absolute()
    if args.command == "lab":
        return cmd_lab(args, extra)
    return {"init": cmd_init, "update": cmd_update, "validate": cmd_validate}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
