"""Answers to every exercise, and what the notebook's tests must say about each.

A module per notebook defines ``NOTEBOOK`` and two lists:

- ``CATALOGUE``, a list of :class:`Mistake`: plausible wrong answers, each of which the
  notebook's tests must catch with a message that names the mistake
  (tests/test_catalogue.py);
- ``ANSWERS``, a list of :class:`Answer`: answers written the way students write them
  (their own cache formats, float64 intermediates, loops, lists stacked at the end...),
  correct ones and buggy ones (tests/test_fairness.py).

The code of an entry is a complete replacement for the student's solution cell; it runs
in the namespace a grade cell sees (the notebook's imports and the exercise functions).

Every entry is held to the fairness rule (CONTRIBUTING.md): on each grade cell, the
visible tests' verdict equals the verdict of the visible and hidden tests together.
``fails``, when given, is the set of grade cells (``grade_id``) that the entry must fail,
among its exercise's cells and those of every later exercise: a requirement it breaks
costs that requirement's cell, and nothing else.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class Mistake:
    exercise: str  # grade_id of the solution cell it replaces, e.g. "rnn_step_forward"
    name: str  # what is wrong, in a few words: "bias missing"
    code: str  # the wrong solution cell
    message: str  # a regular expression the failure message must match (re.search, case-insensitive)
    fails: tuple = None  # grade cells it must fail, from its exercise on; None: not stated


@dataclass(frozen=True)
class Answer:
    exercise: str  # grade_id of the solution cell it replaces
    name: str  # how it is written: "dict cache, np.stack of a list of states"
    code: str  # the answer, as a student would write it
    fails: tuple = ()  # grade cells it must fail, from its exercise on (empty: full marks)
    message: str = ""  # for a failing answer, a regular expression one failure message must match
    correct: bool = True  # mathematically right: it may lose at most a third of its exercise's points
