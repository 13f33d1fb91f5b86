"""What rnnkit raises, while an assignment is graded, for the reference of its exercises.

The grader runs a submission's kernel with a copy of rnnkit in which the implementations
of the assignment's exercises, and everything built on them, are replaced by stubs that
raise :class:`ReferenceUnavailable` (see autograder/seal.py). Outside grading nothing
here is used.
"""


# The assignment whose exercises this copy of rnnkit seals: None in rnnkit itself; the
# grader's sealed copy sets it (autograder/seal.py), so that a notebook can leave out, while
# it is graded, a demonstration that needs the reference.
SEALED_FOR = None


def sealed_for():
    """The id of the assignment being graded, if this rnnkit is the grader's sealed copy; else None."""
    return SEALED_FOR


class ReferenceUnavailable(RuntimeError):
    """rnnkit's implementation of an exercise being graded cannot be used while it is graded."""


def unavailable(name, assignment):
    return ReferenceUnavailable(
        f"rnnkit's {name} is not available while {assignment} is graded: it is (or is built on) "
        "the reference implementation of an exercise of this assignment; use your own functions")


class SealedMeta(type):
    """The metaclass of a sealed class: any attribute of the class itself raises."""

    def __getattr__(cls, attr):
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        raise unavailable(f"{cls.__module__}.{cls.__name__}", cls._sealed_for)


class SealedValue:
    """A module-level value computed from sealed functions: any use of it raises."""

    def __init__(self, name, assignment):
        object.__setattr__(self, "_sealed", (name, assignment))

    def _refuse(self, *args, **kwargs):
        raise unavailable(*object.__getattribute__(self, "_sealed"))

    def __getattr__(self, attr):
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        self._refuse()

    __call__ = __getitem__ = __iter__ = __len__ = __contains__ = _refuse

    def __repr__(self):
        name, assignment = object.__getattribute__(self, "_sealed")
        return f"<{name}: not available while {assignment} is graded>"
