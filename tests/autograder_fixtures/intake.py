"""A class of the ag-demo assignment as an instructor receives it: an LMS export, a folder
of downloads, and the accidents of a class of a hundred, each with the grades it must get.

    export = lms_export(root, tmp)        # a Canvas-like zip: flat names and a tree
    downloads = collected_folder(root, tmp)

STUDENTS maps each student who must be graded to the per-cell scores the code earns;
REFUSED maps each upload that the import must refuse to the words its reason must hold.
"""
import copy
import json
import os
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import nbformat

from . import course

A = course.ASSIGNMENT
FULL_MARKS = {"double_tests": 1.0, "add_tests": 2.0}

# honest students, through the export
HONEST = {"alice": (course.FULL, FULL_MARKS),
          "bob": (course.PARTIAL, {"double_tests": 1.0, "add_tests": 0.0}),
          "carol": (course.WRONG, {"double_tests": 0.0, "add_tests": 0.0})}

# the export's dates (zip member times, UTC), by student
DATES = {"alice": (2026, 11, 20, 9, 0, 0), "bob": (2026, 11, 20, 9, 5, 0), "carol": (2026, 11, 20, 9, 10, 0)}
NEWER = (2026, 11, 20, 11, 0, 0)
OLDER = (2026, 11, 19, 8, 0, 0)
STAMPED = (2026, 11, 21, 8, 30, 0)
DANA_MTIME = datetime(2026, 11, 22, 7, 45, 0, tzinfo=timezone.utc)


def _cells(nb, grade_id):
    return [i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id]


def _copy_cell(nb, grade_id, source, before):
    """JupyterLab's copy and paste: the cell with its nbgrader metadata, a new cell id."""
    index = _cells(nb, grade_id)[0]
    dup = copy.deepcopy(nb.cells[index])
    dup["id"] = f"{grade_id}-copy"
    dup.source = source
    nb.cells.insert(index if before else index + 1, dup)
    return nb


def copied_answer(root):
    # a draft pasted above, the answer below it: the kernel ends with the right double
    nb = course.answers(course.FULL, root)
    return _copy_cell(nb, "double", "def double(x):\n    return x  # a first try", before=True)


def copied_answer_last_wrong(root):
    # the right double first, then a pasted copy that overrides it, as the kernel runs them
    nb = course.answers(course.FULL, root)
    return _copy_cell(nb, "double", "def double(x):\n    return x  # a later try", before=False)


def copied_test_cell(root):
    # a test cell pasted below itself and the copy emptied: the tests are restored
    nb = course.answers(course.FULL, root)
    return _copy_cell(nb, "double_tests", "pass  # my own test later", before=False)


def copied_with_its_id(root):
    # a copy that kept the cell's id as well (an editor other than JupyterLab)
    nb = course.answers(course.FULL, root)
    index = _cells(nb, "add")[0]
    nb.cells.insert(index + 1, copy.deepcopy(nb.cells[index]))
    return nb


def stray_marks(root):
    # nbgrader metadata that is not a dict, and a grade cell of 100 points the source does not have
    nb = course.answers(course.FULL, root)
    nb.cells.insert(1, nbformat.v4.new_code_cell("x = 1", metadata={"nbgrader": "garbage"}))
    nb.cells.append(nbformat.v4.new_code_cell("assert True", metadata={"nbgrader": {
        "grade": True, "grade_id": "bonus", "points": 100, "locked": False, "solution": False,
        "schema_version": 3, "task": False}}))
    return nb


# student id in the export -> (notebook maker, per-cell scores)
COPIED = {
    "copy-answer": (copied_answer, FULL_MARKS),
    "copy-answer-last": (copied_answer_last_wrong, {"double_tests": 0.0, "add_tests": 2.0}),
    "copy-test": (copied_test_cell, FULL_MARKS),
    "copy-same-id": (copied_with_its_id, FULL_MARKS),
    "stray-marks": (stray_marks, FULL_MARKS),
}

STUDENTS = {student: marks for student, (_, marks) in HONEST.items()}
STUDENTS.update({student: marks for student, (_, marks) in COPIED.items()})
STUDENTS.update({
    "twice": FULL_MARKS,          # the newer attempt (full marks) comes first in the archive
    "stamped": FULL_MARKS,        # its upload holds timestamp.txt = 2000-01-01
    "notadate": FULL_MARKS,       # its upload holds timestamp.txt = "not a date"
    "dana": FULL_MARKS,           # from the collected folder, with a timestamp.txt of her own
    "handplaced": FULL_MARKS,     # put into submitted/ by hand with a timestamp.txt that is no date
})

# where -> words the refusal must hold
REFUSED = {
    ".._1_3_ag-demo.ipynb": "'..' is not a valid student id: an id is 1 to 128 characters",
    "._1_4_ag-demo.ipynb": "'.' is not a valid student id",
    "corrupt/ag-demo": "cannot be read",
    "big/ag-demo": "over the limit of one notebook, 32.0 MiB (--max-notebook-mb)",
}

# the times the gradebook must record, by student (naive UTC, as nbgrader stores them)
TIMES = {
    "twice": datetime(*NEWER),
    "stamped": datetime(*STAMPED),
    "alice": datetime(*DATES["alice"]),
    "dana": DANA_MTIME.replace(tzinfo=None),
}


def _bytes(nb):
    return nbformat.writes(nb).encode()


def _raw(nb):
    """The notebook's JSON as it is, repeated cell ids included (nbformat.writes would renumber them)."""
    return json.dumps(nb, indent=1).encode()


def _member(zf, name, date, data, compress=zipfile.ZIP_DEFLATED):
    info = zipfile.ZipInfo(name, date_time=date)
    info.compress_type = compress
    zf.writestr(info, data)


def lms_export(root, folder):
    """A Canvas-like export: flat <student>_<id>_<submission>_<file> names, and a tree part."""
    path = Path(folder) / "canvas-export.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for i, (student, (answers, _)) in enumerate(HONEST.items()):
            _member(zf, f"{student}_{1000 + i}_{5000 + i}_{A}.ipynb", DATES[student],
                    _bytes(course.answers(answers, root)))
        for i, (student, (make, _)) in enumerate(COPIED.items()):
            _member(zf, f"{student}_{1100 + i}_{5100 + i}_{A}.ipynb", NEWER, _raw(make(root)))
        # two attempts: the newer first in the archive, the older (all wrong) after it
        _member(zf, f"twice_1200_5200_{A}.ipynb", NEWER, _bytes(course.answers(course.FULL, root)))
        _member(zf, f"twice_1200_5300_{A}-1.ipynb", OLDER, _bytes(course.answers(course.WRONG, root)))
        # ids that are paths
        _member(zf, f".._1_3_{A}.ipynb", NEWER, _bytes(course.answers(course.FULL, root)))
        _member(zf, f"._1_4_{A}.ipynb", NEWER, _bytes(course.answers(course.FULL, root)))
        # a tree part whose uploads carry their own timestamp.txt
        for student, stamp in (("stamped", "2000-01-01 00:00:00.000000 UTC"), ("notadate", "not a date")):
            _member(zf, f"export/{student}/{A}/{A}.ipynb", STAMPED, _bytes(course.answers(course.FULL, root)))
            _member(zf, f"export/{student}/{A}/timestamp.txt", STAMPED, stamp)
        # a member whose compressed bytes are damaged
        _member(zf, f"export/corrupt/{A}/{A}.ipynb", NEWER, _bytes(course.answers(course.FULL, root)))
    _damage(path, f"export/corrupt/{A}/{A}.ipynb")
    return path


def _damage(path, name):
    """Overwrite the middle of one member's compressed data."""
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(name)
    with open(path, "r+b") as f:
        f.seek(info.header_offset + 26)
        name_len, extra_len = int.from_bytes(f.read(2), "little"), int.from_bytes(f.read(2), "little")
        start = info.header_offset + 30 + name_len + extra_len
        f.seek(start + info.compress_size // 2)
        f.write(b"\xff" * 64)


def collected_folder(root, folder):
    """A folder the instructor collected: dana's work and a 100 MB notebook."""
    downloads = Path(folder) / "downloads"
    dana = downloads / "dana" / A
    dana.mkdir(parents=True)
    (dana / f"{A}.ipynb").write_bytes(_bytes(course.answers(course.FULL, root)))
    (dana / "timestamp.txt").write_text("2000-01-01 00:00:00.000000 UTC")
    for path in dana.iterdir():
        os.utime(path, (DANA_MTIME.timestamp(), DANA_MTIME.timestamp()))
    big = downloads / "big" / A
    big.mkdir(parents=True)
    nb = course.answers(course.FULL, root)
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text="x" * (100 * 10**6))]
    nbformat.write(nb, str(big / f"{A}.ipynb"))
    return downloads


def place_by_hand(root):
    """A submission copied into submitted/ without the import, its timestamp.txt no date."""
    course.submit(root, "handplaced", course.answers(course.FULL, root), timestamp="not a date")
