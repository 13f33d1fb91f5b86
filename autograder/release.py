"""Rebuild solutions/ from notebooks/ and the student release course/ from solutions/.

    python -m autograder.release [assignment ...] [--check]

For every ``notebooks/NN-name.py`` (all of them by default, or the assignments named):

1. jupytext turns the percent-format source into ``solutions/NN-name/NN-name.ipynb``,
   with no outputs, no execution counts and fixed metadata (the course's kernelspec and
   language_info, as the kernel reports them, and on each cell only nbgrader's metadata),
   so that the file depends on the source alone;
2. nbgrader's ``generate_assignment`` turns ``solutions/NN-name/`` (the notebook and any
   data files beside it) into ``course/NN-name/``. It runs in a temporary course
   directory with a temporary gradebook, so it writes nothing outside those two folders.

Running it twice changes nothing. ``--check`` builds everything in a temporary
directory, writes nothing, names the files that are out of date and exits with status 1.
"""
import argparse
import filecmp
import logging
import re
import runpy
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "autograder" / "nbgrader_config.py"
NOTEBOOKS = ROOT / "notebooks"
SOLUTIONS = ROOT / "solutions"
COURSE = ROOT / "course"

SOURCE_NAME = re.compile(r"^\d\d-[a-z0-9-]+$")

# Files that belong to a student's or a tool's session, never to a release.
IGNORED = {".ipynb_checkpoints", "__pycache__", ".DS_Store"}

# The notebook metadata that JupyterLab writes from the kernel's reply when a notebook opens
# (ipykernel's ``IPythonKernel.language_info``). A notebook that carries exactly this is not
# marked modified by merely being opened. ``version`` is the Python of the course's reference
# environment; a student's workspace copy carries the student's own (tools/workspace.py).
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
REFERENCE_PYTHON = "3.11.7"
LANGUAGE_INFO = {
    "codemirror_mode": {"name": "ipython", "version": 3},
    "file_extension": ".py",
    "mimetype": "text/x-python",
    "name": "python",
    "nbconvert_exporter": "python",
    "pygments_lexer": "ipython3",
    "version": REFERENCE_PYTHON,
}


def assignment_ids():
    """The assignments of the course, from nbgrader_config.py, in teaching order."""
    return list(runpy.run_path(str(CONFIG), init_globals={"get_config": _empty_config})["ASSIGNMENTS"])


def _empty_config():
    from traitlets.config import Config

    return Config()


def available():
    """Assignment ids that have a source in notebooks/, sorted."""
    return sorted(p.stem for p in NOTEBOOKS.glob("*.py") if SOURCE_NAME.match(p.stem))


# ---------------------------------------------------------------------------------------
# notebooks/NN-name.py -> solutions/NN-name/NN-name.ipynb


def _cell_id(cell, index, used):
    """A stable id: the nbgrader grade_id if the cell has one, else its position."""
    grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
    candidate = grade_id if grade_id and re.fullmatch(r"[A-Za-z0-9_-]{1,64}", grade_id) else f"cell-{index}"
    while candidate in used:
        candidate = f"{candidate}-{index}"
    used.add(candidate)
    return candidate


def build_source_notebook(py_path):
    """The nbgrader source notebook of ``py_path`` as JSON text, deterministic."""
    import jupytext
    import nbformat

    nb = jupytext.read(str(py_path), fmt="py:percent")
    cells = []
    used = set()
    for index, cell in enumerate(nb.cells):
        metadata = {}
        if "nbgrader" in cell.metadata:
            metadata["nbgrader"] = dict(cell.metadata["nbgrader"])
        source = cell.source
        if cell.cell_type == "code":
            new = nbformat.v4.new_code_cell(source=source, metadata=metadata)
        elif cell.cell_type == "markdown":
            new = nbformat.v4.new_markdown_cell(source=source, metadata=metadata)
        else:
            new = nbformat.v4.new_raw_cell(source=source, metadata=metadata)
        new["id"] = _cell_id(new, index, used)
        cells.append(new)
    out = nbformat.v4.new_notebook(
        cells=cells, metadata={"kernelspec": dict(KERNELSPEC), "language_info": dict(LANGUAGE_INFO)})
    out.nbformat, out.nbformat_minor = 4, 5
    nbformat.validate(out)
    return _dumps(out)


def _dumps(nb):
    """nbformat's own layout (sources split into lines, sorted keys), as nbgrader writes."""
    import nbformat

    text = nbformat.writes(nb, version=4)
    return text if text.endswith("\n") else text + "\n"


# ---------------------------------------------------------------------------------------
# solutions/NN-name/ -> course/NN-name/


def _copy_assignment_files(src_dir, dest_dir, notebook_name):
    """Copy the data files of an assignment folder (everything but its notebook)."""
    if not src_dir.is_dir():
        return
    for path in sorted(src_dir.rglob("*")):
        rel = path.relative_to(src_dir)
        if path.is_dir() or set(rel.parts) & IGNORED or rel == Path(notebook_name):
            continue
        target = dest_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)


def generate_release(assignment, source_json, workdir):
    """Run nbgrader's generate_assignment on the source notebook; return the release folder.

    ``workdir`` becomes a throwaway course root: workdir/source/<assignment>/ holds the
    notebook and the data files of solutions/<assignment>/, the release appears in
    workdir/release/<assignment>/, and the gradebook is workdir/gradebook.db.
    """
    from nbgrader.converters import GenerateAssignment
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    use_fast_gradebook()
    workdir = Path(workdir)
    source_dir = workdir / "source" / assignment
    source_dir.mkdir(parents=True, exist_ok=True)
    _copy_assignment_files(SOLUTIONS / assignment, source_dir, f"{assignment}.ipynb")
    (source_dir / f"{assignment}.ipynb").write_text(source_json, encoding="utf-8")

    config = PyFileConfigLoader(CONFIG.name, path=str(CONFIG.parent)).load_config()
    config.CourseDirectory.root = str(workdir)
    config.CourseDirectory.source_directory = "source"
    config.CourseDirectory.release_directory = "release"
    config.CourseDirectory.db_url = "sqlite:///" + str(workdir / "gradebook.db")
    config.CourseDirectory.assignment_id = assignment
    coursedir = CourseDirectory(config=config)
    converter = GenerateAssignment(coursedir=coursedir, config=config)
    converter.force = True
    converter.log.setLevel("WARNING")
    converter.start()
    release = workdir / "release" / assignment
    if not (release / f"{assignment}.ipynb").exists():
        raise RuntimeError(f"nbgrader did not produce the release of {assignment}")
    return release


def gradebook_head():
    """The newest revision of nbgrader's gradebook schema, read from its migration scripts.

    This is what ``alembic heads`` prints, which nbgrader runs in a subprocess for every
    new gradebook; the subprocess imports every migration and takes seconds, and needs the
    environment's bin/ on PATH. Each script names its revision and the one before it; the
    head is the revision that no other script follows.
    """
    from nbgrader import dbutil

    revisions, followed = set(), set()
    for script in Path(dbutil.ALEMBIC_DIR, "versions").glob("*.py"):
        text = script.read_text(encoding="utf-8")
        revision = re.search(r"^revision\s*=\s*['\"](\w+)['\"]", text, re.M)
        down = re.search(r"^down_revision\s*=\s*['\"](\w+)['\"]", text, re.M)
        if revision:
            revisions.add(revision.group(1))
        if down:
            followed.add(down.group(1))
    heads = revisions - followed
    if len(heads) != 1:
        raise RuntimeError(f"cannot tell the head of nbgrader's gradebook migrations: {sorted(heads)}")
    return heads.pop()


def use_fast_gradebook():
    """Let new gradebooks take their schema revision from :func:`gradebook_head`."""
    import nbgrader.api

    nbgrader.api.get_alembic_version = gradebook_head


# ---------------------------------------------------------------------------------------
# comparing and writing


def _tree(directory):
    """Relative paths of the files under ``directory``, session files left out."""
    if not directory.is_dir():
        return set()
    return {p.relative_to(directory) for p in directory.rglob("*")
            if p.is_file() and not set(p.relative_to(directory).parts) & IGNORED}


def build(assignment, workdir):
    """Build one assignment under ``workdir``; return (source JSON, release folder)."""
    py_path = NOTEBOOKS / f"{assignment}.py"
    if not py_path.exists():
        raise SystemExit(f"no source notebook {py_path.relative_to(ROOT)}")
    source_json = build_source_notebook(py_path)
    return source_json, generate_release(assignment, source_json, workdir)


def stale(assignment, source_json, release):
    """Paths (relative to the repository) that differ from a fresh build."""
    out = []
    target = SOLUTIONS / assignment / f"{assignment}.ipynb"
    if not target.exists() or target.read_text(encoding="utf-8") != source_json:
        out.append(target.relative_to(ROOT))
    dest = COURSE / assignment
    built, present = _tree(release), _tree(dest)
    for rel in sorted(built | present):
        if rel not in built or rel not in present or not filecmp.cmp(release / rel, dest / rel, shallow=False):
            out.append((dest / rel).relative_to(ROOT))
    return out


def write(assignment, source_json, release):
    """Bring solutions/<assignment>/ and course/<assignment>/ in line with the build."""
    target = SOLUTIONS / assignment / f"{assignment}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists() or target.read_text(encoding="utf-8") != source_json:
        target.write_text(source_json, encoding="utf-8")
    dest = COURSE / assignment
    built, present = _tree(release), _tree(dest)
    for rel in sorted(present - built):
        (dest / rel).unlink()
    for rel in sorted(built):
        if rel not in present or not filecmp.cmp(release / rel, dest / rel, shallow=False):
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(release / rel, dest / rel)
    for directory in sorted((p for p in dest.rglob("*") if p.is_dir()), reverse=True):
        if not any(directory.iterdir()):
            directory.rmdir()


def check(assignments):
    """Stale paths of the given assignments, building in a temporary directory."""
    out = []
    for assignment in assignments:
        with tempfile.TemporaryDirectory(prefix=f"release-{assignment}-") as tmp:
            out += stale(assignment, *build(assignment, tmp))
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder.release", description=__doc__.split("\n\n")[0])
    parser.add_argument("assignments", nargs="*", help="assignment ids (default: every notebooks/NN-name.py)")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 and name the files that are out of date")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    known = assignment_ids()
    assignments = args.assignments or available()
    unknown = [a for a in assignments if a not in known]
    if unknown:
        parser.error(f"unknown assignment {', '.join(unknown)}; the course has {', '.join(known)}")
    if args.check:
        out = check(assignments)
        for path in out:
            print(f"out of date: {path}")
        if out:
            print("run `make release` (python -m autograder.release) and commit solutions/ and course/",
                  file=sys.stderr)
            return 1
        print(f"up to date: {', '.join(assignments)}")
        return 0
    for assignment in assignments:
        with tempfile.TemporaryDirectory(prefix=f"release-{assignment}-") as tmp:
            changed = stale(assignment, *(built := build(assignment, tmp)))
            write(assignment, *built)
        for path in changed:
            print(f"{'wrote' if (ROOT / path).exists() else 'removed'} {path}")
        print(f"{assignment}: {'updated' if changed else 'up to date'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
