"""Plausible wrong answers to every exercise, each of which the notebook's tests must catch.

A module per notebook defines ``CATALOGUE``, a list of :class:`Mistake`. The code of a
mistake is a complete replacement for the student's solution cell; it runs in the
namespace of the executed notebook, so it can use whatever the notebook imported.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class Mistake:
    exercise: str  # grade_id of the solution cell it replaces, e.g. "rnn_step_forward"
    name: str  # what is wrong, in a few words: "bias missing"
    code: str  # the wrong solution cell
    message: str  # a regular expression the failure message must match (re.search, case-insensitive)
