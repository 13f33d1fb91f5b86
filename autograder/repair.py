"""Repair the nbgrader metadata of a submitted notebook before nbgrader's sanitize pass.

JupyterLab copies a cell's metadata with the cell, so a student who copies and pastes an
answer cell hands in two cells with one ``grade_id``. nbgrader's DeduplicateIds empties
the metadata of all copies but the last and the next preprocessor then fails on the
empty metadata (``KeyError: 'grade_id'``), which would zero a notebook whose code is
fine. A cell that carries nbgrader metadata without a ``grade_id``, or a ``grade_id``
the source does not have, fails the same way.

The repair works on the metadata only, never on the code:

- of the cells that share a ``grade_id``, the last keeps the metadata (the kernel runs
  the cells in order, so the last copy of an answer is the definition the tests see;
  a locked cell kept this way is then restored from the source by sanitize); the other
  copies become plain cells that keep their code;
- nbgrader metadata without a ``grade_id``, or naming a cell the source does not have,
  is removed (the cell stays, as a plain cell);
- cell ids that repeat are made unique.

``repair(nb, known)`` changes ``nb`` in place and returns one line per repair, for the
grading report.
"""
import uuid


def _nbgrader(cell):
    meta = cell.get("metadata", {})
    return meta.get("nbgrader") if "nbgrader" in meta else None


def _marked(meta):
    """Whether the nbgrader metadata gives the cell a role (grade, answer, locked, task)."""
    return isinstance(meta, dict) and any(meta.get(k) for k in ("grade", "solution", "locked", "task"))


def repair(nb, known):
    """Repair ``nb`` in place; ``known``: the grade_ids of the source notebook's nbgrader cells."""
    notes = []
    positions = {}    # grade_id -> indices of the cells that carry it
    for index, cell in enumerate(nb.cells):
        meta = _nbgrader(cell)
        if meta is None:
            continue
        grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
        if not isinstance(grade_id, str) or not grade_id:
            del cell.metadata["nbgrader"]
            if _marked(meta):
                notes.append(f"cell {index + 1} had nbgrader metadata without a cell name; "
                             "it was removed, the cell runs as a plain cell")
            continue
        if grade_id not in known:
            del cell.metadata["nbgrader"]
            if _marked(meta):
                notes.append(f"cell {index + 1} was marked as nbgrader cell {grade_id!r}, which the "
                             "assignment does not have; the mark was removed, the cell runs as a plain cell")
            continue
        positions.setdefault(grade_id, []).append(index)
    for grade_id, indices in positions.items():
        if len(indices) < 2:
            continue
        *copies, kept = indices
        for index in copies:
            del nb.cells[index].metadata["nbgrader"]
        role = "answer" if nb.cells[kept].metadata["nbgrader"].get("solution") else "cell"
        notes.append(f"{role} {grade_id!r} appears {len(indices)} times (a copied cell): the last copy "
                     f"(cell {kept + 1}) is graded as {grade_id!r}, the others run as plain cells "
                     "with their code")
    seen = set()
    for cell in nb.cells:
        cell_id = cell.get("id")
        if cell_id is None:
            continue
        if cell_id in seen:
            cell["id"] = uuid.uuid4().hex[:8]
        seen.add(cell["id"])
    return notes
