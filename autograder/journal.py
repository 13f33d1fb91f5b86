"""The journal of graded submissions, a table inside the gradebook itself.

One row per (student, assignment): the digest of the submitted files that were graded,
when, the score, and what the run found. It is written in the same database
transaction as the submission's grades, so after a crash either both are there or
neither is; a rerun skips the submissions whose journal digest matches their files
and regrades the rest (nbgrader's grades are rows keyed by submission and cell, so a
regrade overwrites, never adds).
"""
import hashlib
import json
import os
from datetime import datetime, timezone

from sqlalchemy import Column, DateTime, Float, MetaData, String, Table, Text, delete, insert, select

metadata = MetaData()

journal = Table(
    "autograder_journal", metadata,
    Column("student_id", String(128), primary_key=True),
    Column("assignment_id", String(128), primary_key=True),
    Column("digest", String(64), nullable=False),
    Column("graded_at", DateTime, nullable=False),
    Column("seconds", Float, nullable=False),
    Column("score", Float, nullable=False),
    Column("max_score", Float, nullable=False),
    Column("problems", Text, nullable=False),
    Column("flags", Text, nullable=False),
)


def create(gradebook):
    metadata.create_all(gradebook.engine)


def digest(folder):
    """sha256 over the relative paths and contents of every file under ``folder``."""
    h = hashlib.sha256()
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(root, name)
            h.update(os.path.relpath(path, folder).encode() + b"\0")
            with open(path, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    h.update(block)
            h.update(b"\0")
    return h.hexdigest()


def done(gradebook):
    """{(student, assignment): digest} of the journal."""
    rows = gradebook.db.execute(select(journal.c.student_id, journal.c.assignment_id, journal.c.digest))
    return {(s, a): d for s, a, d in rows}


def entries(gradebook):
    rows = gradebook.db.execute(select(journal)).mappings()
    out = []
    for row in rows:
        row = dict(row)
        row["problems"] = json.loads(row["problems"])
        row["flags"] = json.loads(row["flags"])
        out.append(row)
    return out


def record(gradebook, student, assignment, folder_digest, seconds, score, max_score, problems, flags):
    """Stage the journal row in the gradebook's open transaction (the caller commits)."""
    key = (journal.c.student_id == student) & (journal.c.assignment_id == assignment)
    gradebook.db.execute(delete(journal).where(key))
    gradebook.db.execute(insert(journal).values(
        student_id=student, assignment_id=assignment, digest=folder_digest,
        graded_at=datetime.now(timezone.utc).replace(tzinfo=None), seconds=seconds,
        score=score, max_score=max_score, problems=json.dumps(problems), flags=json.dumps(flags)))
