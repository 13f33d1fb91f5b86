"""The canary: the instructor's solution and the blank release, graded before any student.

Before a run touches a student, each assignment it grades is graded twice, in the same
sandbox, with the same sealed rnnkit and the same trusted verdicts: the instructor's
solution must earn every point of every grade cell, the blank release none. If either
does not, the grading machinery is broken (rnnkit not importable in the sandbox, a
missing package, a test that cannot fail) and the run stops before any student is
graded, naming the cause. The solution's run also gives the baselines the students are
measured against: the guard's findings it triggers itself (which are then not flags),
and the checks each grade cell runs (a passing cell must show every one of them, as often,
in the trusted record).
"""
import dataclasses
import re

from nbgrader import utils


class CanaryFailed(RuntimeError):
    """The solution lost points or the release earned some: nothing was graded."""


@dataclasses.dataclass
class Baseline:
    flags: set = dataclasses.field(default_factory=set)
    checks: dict = dataclasses.field(default_factory=dict)   # grade_id -> {check: times run}


def normalise_flag(text):
    """A finding without the cell number and phase, for comparing one notebook's with another's."""
    return re.sub(r"^(cell \d+ \([a-z ]+\): |at cell \d+, )", "", str(text))


def cell_scores(nb):
    """{grade_id: (score, max_score, message, shows a value)} of an executed notebook's grade cells."""
    out = {}
    for cell in nb.cells:
        if cell.cell_type == "code" and utils.is_grade(cell) and not utils.is_solution(cell):
            score, max_score = utils.determine_grade(cell)
            errors = [f"{o.get('ename')}: {o.get('evalue')}" for o in cell.get("outputs", [])
                      if o.get("output_type") == "error"]
            values = [o for o in cell.get("outputs", []) if o.get("output_type") == "execute_result"]
            message = errors[0] if errors else ("it ends with an expression that shows a value, which nbgrader "
                                                "reads as a partial score" if values else "")
            out[cell.metadata.nbgrader["grade_id"]] = (score or 0.0, max_score, message, bool(values))
    return out


def judge(assignment, notebook, solution, release):
    """Raise CanaryFailed unless the solution earns every point and the release none.

    solution, release: (executed notebook or None, result dict of execute.execute).
    """
    problems = []
    for who, (nb, result), full in (("the instructor's solution", solution, True),
                                    ("the blank release", release, False)):
        cause = result.get("machinery") or (None if nb is not None else "; ".join(result.get("problems", [])))
        if cause:
            problems.append(f"{who} could not be graded: {cause}")
            continue
        for grade_id, (score, max_score, message, value) in cell_scores(nb).items():
            if value:
                problems.append(f"{who}: the grade cell {grade_id} {message}")
            elif full and score != max_score:
                problems.append(f"{who} scores {score:g}/{max_score:g} in {grade_id} ({message or 'no message'})")
            elif not full and score != 0:
                problems.append(f"{who} scores {score:g}/{max_score:g} in {grade_id}: a test that an "
                                "unanswered exercise passes")
    if problems:
        raise CanaryFailed(f"{assignment}/{notebook}: " + "; ".join(problems[:6]) + (
            f" (and {len(problems) - 6} more)" if len(problems) > 6 else ""))
    _, result = solution
    return Baseline(flags={normalise_flag(f) for f in result.get("findings", [])},
                    checks={r["grade_id"]: dict(r.get("checks", {})) for r in result.get("records", [])})


def short_calls(record, baseline):
    """Why a passing grade cell's record does not show every check the solution's run makes, or None."""
    expected = baseline.checks.get(record["grade_id"]) if baseline else None
    if not expected or record.get("status") != "passed":
        return None
    got = record.get("checks", {})
    missing = {f: (got.get(f, 0), n) for f, n in expected.items() if got.get(f, 0) < n}
    if not missing:
        return None
    return "; ".join(f"{f.rsplit('.', 1)[-1]} ran {n_got} times, {n} times for the solution"
                     for f, (n_got, n) in sorted(missing.items()))


__all__ = ["CanaryFailed", "Baseline", "judge", "cell_scores", "normalise_flag", "short_calls"]
