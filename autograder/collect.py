"""Bring submissions into nbgrader's submitted/<student>/<assignment>/ layout.

Sources, in any number and mix:

- a folder tree ``<student>/<assignment>/<notebook>.ipynb`` (files beside the notebook
  come along), or one student's folder ``<student>/<assignment>/...``, or one
  submission's folder ``<student>/<assignment>``;
- zip files as learning-management systems export them: the same tree (under any top
  folders), or a flat list of ``<student>_<anything>_<notebook>.ipynb`` (Canvas's names;
  ``<notebook>-1.ipynb`` and the like, the names of resubmitted files, count as the
  notebook), where the notebook is named as its assignment, as in this course.

Ids (ID_RULE): a student or assignment id is 1 to 128 characters among letters, digits
and ``_ - . @``, not beginning with a dot; others (``.``, ``..``, path separators,
spaces, control characters) are refused.

Times: a submission's time is where the instructor's system put it and nowhere else:
the date of the zip member in the export (zip dates carry no time zone; they are read
as UTC), or the newest modification time of the files of a collected folder. A
``timestamp.txt`` inside an upload is discarded; the import writes nbgrader's
timestamp.txt itself. When one import finds several attempts of one submission (two
files in an export, or several exports), the newest by that time is imported and the
report names the others; an attempt older than the one already imported is refused.

Limits (Limits, each an option of ``import``): the size of one notebook, of one upload
(all files of a submission), of one export (what a zip or folder unpacks to), the number
of members of a zip and the compression ratio of a member. What breaks one is refused
with the limit named; nothing is held in memory whole, zips are unpacked file by file.

Every refusal is one line of the report, for that submission or that file alone.
"""
import dataclasses
import os
import re
import shutil
import stat
import tempfile
import zipfile
import zlib
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

MiB = 2**20
ID_RULE = ("1 to 128 characters among letters, digits and _ - . @, not beginning with a dot "
           "(so not '.' or '..'; no path separators, spaces or control characters)")
SAFE_ID = re.compile(r"\A[A-Za-z0-9_@-][A-Za-z0-9_.@-]{0,127}\Z")
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f UTC"  # what nbgrader writes and reads
RATIO_FLOOR = MiB        # members smaller than this are not judged by their compression ratio
IGNORED = ("__MACOSX", ".ipynb_checkpoints", ".DS_Store", "Thumbs.db")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def valid_id(name):
    return bool(SAFE_ID.match(name))


@dataclasses.dataclass(frozen=True)
class Limits:
    """What one import accepts, in bytes (the option of ``import`` that sets each)."""
    notebook: int = 32 * MiB     # --max-notebook-mb: one .ipynb file
    upload: int = 64 * MiB       # --max-upload-mb: all files of one submission
    export: int = 2048 * MiB     # --max-export-mb: what one zip or folder unpacks to
    members: int = 10000         # --max-members: entries of one zip
    ratio: int = 100             # --max-ratio: unpacked / packed size of a zip member over 1 MiB


@dataclasses.dataclass
class Imported:
    submissions: list = dataclasses.field(default_factory=list)   # (student, assignment)
    refused: list = dataclasses.field(default_factory=list)       # (where, why)
    notes: dict = dataclasses.field(default_factory=dict)         # (student, assignment) -> [what to know]


@dataclasses.dataclass
class Attempt:
    """One upload of one submission, found in a source, not yet placed."""
    student: str
    assignment: str
    where: str                   # for the report
    when: datetime = None        # the instructor's system's time of it
    files: dict = dataclasses.field(default_factory=dict)   # relative path -> Path or zip member
    sizes: dict = dataclasses.field(default_factory=dict)   # relative path -> bytes (at most)
    archive: zipfile.ZipFile = None
    left_out: list = dataclasses.field(default_factory=list)
    refused: str = None
    order: int = 0

    def add(self, rel, item, size, when):
        self.files[rel] = item
        self.sizes[rel] = size
        if when is not None and (self.when is None or when > self.when):
            self.when = when


def _mib(n):
    return f"{n / MiB:.1f} MiB"


def _stamp(dt):
    return dt.astimezone(timezone.utc).strftime(TIMESTAMP_FORMAT)


def _shown(dt):
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC") if dt else "no time"


def _check_limits(attempt, limits):
    """The reason the attempt breaks a limit, or None."""
    for rel, size in sorted(attempt.sizes.items()):
        if rel.endswith(".ipynb") and size > limits.notebook:
            return (f"{rel} is {_mib(size)}, over the limit of one notebook, {_mib(limits.notebook)} "
                    "(--max-notebook-mb)")
    total = sum(attempt.sizes.values())
    if total > limits.upload:
        return f"the upload is {_mib(total)}, over the limit of one upload, {_mib(limits.upload)} (--max-upload-mb)"
    return None


def _file_name_problem(rel):
    parts = PurePosixPath(rel).parts
    if any(CONTROL.search(p) for p in parts):
        return "a file name with control characters"
    return None


# ---------------------------------------------------------------------------------------
# folders


def _folder_attempt(student, assignment, folder, order):
    attempt = Attempt(student, assignment, str(folder), order=order)
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if any(part in IGNORED for part in path.relative_to(folder).parts):
            continue
        if path.is_symlink():
            attempt.left_out.append(f"{rel} (a link)")
            continue
        if path.is_dir():
            continue
        if not path.is_file():
            attempt.left_out.append(f"{rel} (not a regular file)")
            continue
        if rel == "timestamp.txt":
            attempt.left_out.append("timestamp.txt (times come from the export, not from the upload)")
            continue
        why = _file_name_problem(rel)
        if why:
            attempt.left_out.append(f"{rel!r} ({why})")
            continue
        st = path.stat()
        attempt.add(rel, path, st.st_size, datetime.fromtimestamp(st.st_mtime, timezone.utc))
    return attempt


def _tree_attempts(source, assignments, result, limits, order):
    """The attempts of a folder: a class, one student's folder, or one submission's folder."""
    source = Path(source)
    subdirs = sorted(p for p in source.iterdir() if p.is_dir() and not p.is_symlink() and p.name not in IGNORED)
    if source.name in assignments and any(source.glob("*.ipynb")):
        pairs = [(source.resolve().parent.name, source)]            # <student>/<assignment>
    elif any(p.name in assignments for p in subdirs):
        pairs = [(source.name, p) for p in subdirs]                 # <student>/
    else:
        pairs = []
        for student_dir in subdirs:                                 # the class
            for folder in sorted(p for p in student_dir.iterdir() if p.is_dir() and not p.is_symlink()):
                if folder.name in IGNORED:
                    continue
                pairs.append((student_dir.name, folder))
    attempts, total = [], 0
    for student, folder in pairs:
        if folder.name not in assignments:
            result.refused.append((str(folder), f"unknown assignment {folder.name!r} (known: "
                                                f"{', '.join(sorted(assignments)) or 'none'})"))
            continue
        attempt = _folder_attempt(student, folder.name, folder, order)
        order += 1
        total += sum(attempt.sizes.values())
        attempts.append(attempt)
    if not pairs:
        result.refused.append((str(source), "no submissions in it: a folder of <student>/<assignment>/"
                                            "<notebook>.ipynb, one student's <student>/<assignment>/ or one "
                                            "submission's <student>/<assignment> is expected"))
    if total > limits.export:
        result.refused.append((str(source), f"it holds {_mib(total)}, over the limit of one export, "
                                            f"{_mib(limits.export)} (--max-export-mb); nothing of it imported"))
        return [], order
    return attempts, order


# ---------------------------------------------------------------------------------------
# zip files


def _member_parts(name):
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if not parts or parts[0] == "/" or ".." in parts:
        return None
    return parts


def _locate(parts, assignments):
    """((student, assignment), key of the attempt, path inside the submission) of a member, or Nones."""
    for i in range(len(parts) - 2):
        if parts[i + 1] in assignments:
            return (parts[i], parts[i + 1]), "/".join(parts[:i + 2]), "/".join(parts[i + 2:])
    name = parts[-1]
    if name.endswith(".ipynb") and "_" in name:
        stem = name[:-len(".ipynb")]
        plain = re.sub(r"-\d+\Z", "", stem)      # an LMS's name of a resubmitted file
        for assignment in sorted(assignments, key=len, reverse=True):
            if stem.endswith(assignment) or plain.endswith(assignment):
                student = stem.split("_", 1)[0]
                return (student, assignment), "/".join(parts), f"{assignment}.ipynb"
    return None, None, None


def _zip_attempts(path, assignments, result, limits, order):
    where = str(path)
    try:
        zf = zipfile.ZipFile(path)
        members = [m for m in zf.infolist() if not m.is_dir()]
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        result.refused.append((where, f"not a readable zip file ({type(exc).__name__}: {str(exc)[:100]})"))
        return [], order, None
    if len(members) > limits.members:
        result.refused.append((where, f"it has {len(members)} members, over the limit of {limits.members} "
                                      "(--max-members); nothing of it imported"))
        zf.close()
        return [], order, None
    total = sum(m.file_size for m in members)
    if total > limits.export:
        result.refused.append((where, f"it unpacks to {_mib(total)}, over the limit of one export, "
                                      f"{_mib(limits.export)} (--max-export-mb); nothing of it imported"))
        zf.close()
        return [], order, None
    attempts = {}
    for member in members:
        at = f"{where}:{member.filename}"
        parts = _member_parts(member.filename)
        if parts is not None and any(p in IGNORED for p in parts):
            continue
        if parts is None:
            result.refused.append((at, "a path outside the archive"))
            continue
        key, attempt_key, rel = _locate(parts, assignments)
        if key is None:
            result.refused.append((at, "no student and known assignment in its name (expected "
                                       "<student>/<assignment>/<file> or <student>_<anything>_<notebook>.ipynb)"))
            continue
        attempt = attempts.get(attempt_key)
        if attempt is None:
            attempt = attempts[attempt_key] = Attempt(*key, at if attempt_key.endswith(".ipynb") else
                                                      f"{where}:{attempt_key}/", archive=zf, order=order)
            order += 1
        if stat.S_ISLNK(member.external_attr >> 16):
            attempt.left_out.append(f"{rel} (a link)")
            continue
        if rel == "timestamp.txt":
            attempt.left_out.append("timestamp.txt (times come from the export, not from the upload)")
            continue
        why = _file_name_problem(rel)
        if why:
            attempt.left_out.append(f"{rel!r} ({why})")
            continue
        oversized = rel.endswith(".ipynb") and member.file_size > limits.notebook   # said as such
        if (not oversized and member.file_size > RATIO_FLOOR
                and member.file_size > limits.ratio * max(member.compress_size, 1)):
            attempt.refused = (f"{rel} would unpack {member.file_size // max(member.compress_size, 1)} times "
                               f"its packed size ({_mib(member.file_size)}), over the limit of {limits.ratio} "
                               "(--max-ratio): a zip bomb or a damaged archive")
            continue
        try:
            when = datetime(*member.date_time, tzinfo=timezone.utc)
        except ValueError:
            when = None
        attempt.add(rel, member, member.file_size, when)
    return list(attempts.values()), order, zf


# ---------------------------------------------------------------------------------------
# placing


def _existing_time(folder):
    try:
        from nbgrader.utils import parse_utc

        return parse_utc((folder / "timestamp.txt").read_text().strip()).replace(tzinfo=timezone.utc)
    except Exception:
        return None


def _copy(item, archive, target, size):
    """Copy one file of an attempt to ``target``, never more than ``size`` bytes."""
    with open(target, "wb") as out:
        if isinstance(item, zipfile.ZipInfo):
            with archive.open(item) as f:
                shutil.copyfileobj(f, out, MiB)
        else:
            with open(item, "rb") as f:
                left = size
                while left > 0:
                    block = f.read(min(MiB, left))
                    if not block:
                        break
                    out.write(block)
                    left -= len(block)


def _place(submitted, attempt):
    """Write the attempt into submitted/<student>/<assignment>/, replacing an earlier import whole."""
    student_dir = Path(submitted) / attempt.student
    if student_dir.is_symlink():
        return "submitted/ has a link by that student's name"
    student_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{attempt.assignment}.importing-", dir=student_dir))
    rel = None
    try:
        for rel, item in sorted(attempt.files.items(), key=lambda kv: kv[0]):
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            _copy(item, attempt.archive, target, attempt.sizes[rel])
        rel = None
        (staging / "timestamp.txt").write_text(_stamp(attempt.when or datetime.now(timezone.utc)))
        os.chmod(staging, 0o755)
        folder = student_dir / attempt.assignment
        old = None
        if folder.exists() or folder.is_symlink():
            old = student_dir / f".{attempt.assignment}.replaced-{os.getpid()}"
            os.replace(folder, old)
        os.replace(staging, folder)
        if old is not None:
            if old.is_dir() and not old.is_symlink():
                shutil.rmtree(old)
            else:
                old.unlink()
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, RuntimeError,
            NotImplementedError) as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if not any(student_dir.iterdir()):
            student_dir.rmdir()
        what = f"{rel} cannot be read" if rel else "it cannot be written"
        return f"{what} ({type(exc).__name__}: {str(exc)[:100]}); nothing of it imported"
    return None


def import_attempts(attempts, submitted, result, limits=Limits()):
    """Group the attempts by submission, place the newest of each, report the rest."""
    grouped = {}
    for attempt in attempts:
        grouped.setdefault((attempt.student, attempt.assignment), []).append(attempt)
    for (student, assignment), group in sorted(grouped.items()):
        if not valid_id(student) or not valid_id(assignment):
            what, bad = ("student", student) if not valid_id(student) else ("assignment", assignment)
            for attempt in group:
                result.refused.append((attempt.where, f"{bad!r} is not a valid {what} id: an id is {ID_RULE}"))
            continue
        # the newest by the export's time; of equal times, the later found
        group.sort(key=lambda a: (a.when or datetime.min.replace(tzinfo=timezone.utc), a.order))
        newest, older = group[-1], group[:-1]
        notes = []
        if older:
            notes.append("older attempts not imported: " +
                         ", ".join(f"{a.where} ({_shown(a.when)})" for a in reversed(older)))
        why = newest.refused or _check_limits(newest, limits)
        folder = Path(submitted) / student / assignment
        existing = _existing_time(folder) if folder.is_dir() else None
        if why is None and existing is not None and newest.when is not None and newest.when < existing:
            why = (f"older ({_shown(newest.when)}) than the submission already imported "
                   f"({_shown(existing)}); remove {folder} to import it anyway")
        if why is None:
            why = _place(submitted, newest)
        if why is not None:
            result.refused.append((f"{student}/{assignment} from {newest.where}", why +
                                   ("; " + notes[0] if notes else "")))
            continue
        notes.insert(0, f"time {_shown(newest.when)} from {newest.where}")
        if existing is not None:
            notes.append("replaces the earlier import")
        if newest.left_out:
            notes.append("left out: " + ", ".join(newest.left_out))
        result.submissions.append((student, assignment))
        result.notes[(student, assignment)] = notes


def import_any(sources, submitted, assignments, limits=Limits()):
    """Import every source (folders and zip files); one report for all of them."""
    result = Imported()
    attempts, archives, order = [], [], 0
    try:
        for source in sources:
            source = Path(source)
            if source.is_dir():
                found, order = _tree_attempts(source, assignments, result, limits, order)
                attempts += found
            elif source.is_file() and zipfile.is_zipfile(source):
                found, order, zf = _zip_attempts(source, assignments, result, limits, order)
                attempts += found
                if zf is not None:
                    archives.append(zf)
            elif not source.exists():
                result.refused.append((str(source), "no such file or folder"))
            else:
                result.refused.append((str(source), "neither a folder nor a zip file"))
        import_attempts(attempts, submitted, result, limits)
    finally:
        for zf in archives:
            zf.close()
    return result


def import_tree(source, submitted, assignments, result=None, limits=Limits()):
    """Import one folder (see import_any)."""
    result = result or Imported()
    found, _ = _tree_attempts(source, assignments, result, limits, 0)
    import_attempts(found, submitted, result, limits)
    return result


def import_zip(path, submitted, assignments, result=None, limits=Limits()):
    """Import one LMS export (see import_any)."""
    result = result or Imported()
    found, _, zf = _zip_attempts(path, assignments, result, limits, 0)
    try:
        import_attempts(found, submitted, result, limits)
    finally:
        if zf is not None:
            zf.close()
    return result
