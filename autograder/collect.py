"""Bring submissions into nbgrader's submitted/<student>/<assignment>/ layout.

Two sources are understood:

- a folder tree ``<student>/<assignment>/<notebook>.ipynb`` (any other files beside the
  notebook come along);
- zip files as learning-management systems export them, each one either the same tree
  (possibly under one top folder), or a flat list of files named
  ``<student>_<anything>_<notebook>.ipynb`` (Canvas, Moodle), where the notebook's name
  is the assignment's, as in this course.

Each submission gets nbgrader's ``timestamp.txt``: the one the source carries if any,
else the file's modification time (for a zip, the member's date). Names are checked:
a student or assignment id is letters, digits, ``_ . - @``; paths that climb out of
the folder, links and members larger than ``MAX_FILE`` are refused and reported.
"""
import dataclasses
import re
import shutil
import zipfile
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

MAX_FILE = 32 * 1024 * 1024
SAFE_ID = re.compile(r"^[A-Za-z0-9_.@-]{1,128}$")
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f UTC"  # what nbgrader writes and reads


@dataclasses.dataclass
class Imported:
    submissions: list = dataclasses.field(default_factory=list)   # (student, assignment)
    refused: list = dataclasses.field(default_factory=list)       # (where, why)


def _stamp(dt):
    return dt.astimezone(timezone.utc).strftime(TIMESTAMP_FORMAT)


def _place(submitted, student, assignment, files, timestamp, result):
    """files: {relative path: bytes}. Replaces an earlier import of the same submission."""
    if not SAFE_ID.match(student) or not SAFE_ID.match(assignment):
        result.refused.append((f"{student}/{assignment}", "not a valid student or assignment id"))
        return
    folder = Path(submitted) / student / assignment
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for rel, data in files.items():
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    if "timestamp.txt" not in files:
        (folder / "timestamp.txt").write_text(_stamp(timestamp))
    result.submissions.append((student, assignment))


def _safe_parts(name):
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if not parts or parts[0] == "/" or ".." in parts or any(p.startswith("__MACOSX") for p in parts):
        return None
    return parts


def import_tree(source, submitted, assignments, result=None):
    """Copy ``source/<student>/<assignment>/...`` into submitted/."""
    result = result or Imported()
    for student_dir in sorted(p for p in Path(source).iterdir() if p.is_dir()):
        for folder in sorted(p for p in student_dir.iterdir() if p.is_dir()):
            if folder.name not in assignments:
                result.refused.append((str(folder), f"unknown assignment {folder.name!r}"))
                continue
            files, newest = {}, None
            for path in sorted(folder.rglob("*")):
                if path.is_symlink():
                    result.refused.append((str(path), "a link"))
                    continue
                if path.is_dir() or ".ipynb_checkpoints" in path.parts:
                    continue
                if path.stat().st_size > MAX_FILE:
                    result.refused.append((str(path), f"larger than {MAX_FILE // 2**20} MiB"))
                    continue
                files[str(path.relative_to(folder))] = path.read_bytes()
                mtime = datetime.fromtimestamp(path.stat().st_mtime, timezone.utc)
                newest = mtime if newest is None or mtime > newest else newest
            _place(submitted, student_dir.name, folder.name, files, newest or datetime.now(timezone.utc), result)
    return result


def import_zip(path, submitted, assignments, result=None):
    """Import one LMS export: a zipped tree, or a flat list of <student>_..._<notebook>.ipynb."""
    result = result or Imported()
    grouped = {}   # (student, assignment) -> ({rel: bytes}, newest datetime)
    with zipfile.ZipFile(path) as zf:
        members = [m for m in zf.infolist() if not m.is_dir()]
        paths = {m.filename: _safe_parts(m.filename) for m in members}
        for member in members:
            parts = paths[member.filename]
            if parts is None:
                if not member.filename.startswith("__MACOSX"):
                    result.refused.append((f"{path}:{member.filename}", "a path outside the archive"))
                continue
            if member.file_size > MAX_FILE:
                result.refused.append((f"{path}:{member.filename}", f"larger than {MAX_FILE // 2**20} MiB"))
                continue
            key, rel = _locate(parts, assignments)
            if key is None:
                result.refused.append((f"{path}:{member.filename}", "no student and known assignment in its name"))
                continue
            with zf.open(member) as f:
                data = f.read(MAX_FILE + 1)
            when = datetime(*member.date_time, tzinfo=timezone.utc)
            files, newest = grouped.setdefault(key, ({}, when))
            files[rel] = data
            grouped[key] = (files, max(newest, when))
    for (student, assignment), (files, newest) in sorted(grouped.items()):
        _place(submitted, student, assignment, files, newest, result)
    return result


def _locate(parts, assignments):
    """((student, assignment), path inside the submission) of a zip member, or (None, None)."""
    for i in range(len(parts) - 2):
        if parts[i + 1] in assignments:
            return (parts[i], parts[i + 1]), "/".join(parts[i + 2:])
    name = parts[-1]
    if name.endswith(".ipynb"):
        stem = name[:-len(".ipynb")]
        for assignment in sorted(assignments, key=len, reverse=True):
            if stem.endswith(assignment) and "_" in stem:
                student = stem.split("_", 1)[0]
                return (student, assignment), f"{assignment}.ipynb"
    return None, None


def import_any(sources, submitted, assignments):
    result = Imported()
    for source in sources:
        source = Path(source)
        if source.is_dir():
            import_tree(source, submitted, assignments, result)
        elif zipfile.is_zipfile(source):
            import_zip(source, submitted, assignments, result)
        else:
            result.refused.append((str(source), "neither a folder nor a zip file"))
    return result
