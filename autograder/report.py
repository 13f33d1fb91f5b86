"""What the instructor sees while grading: a progress bar, then the summary table."""
import sys
import time


class Progress:
    """A one-line progress bar on a terminal, one line per submission otherwise."""

    def __init__(self, stream=sys.stderr, width=30):
        self.stream = stream
        self.width = width
        self.start = time.monotonic()
        self.tty = hasattr(stream, "isatty") and stream.isatty()

    def __call__(self, outcome, done, total):
        elapsed = time.monotonic() - self.start
        mark = " FLAGGED" if outcome.flags else ""
        score = "not graded" if outcome.ungraded else f"{outcome.score:g}/{outcome.max_score:g}"
        label = f"{outcome.student}/{outcome.assignment} {score}{mark}"
        if self.tty:
            filled = int(self.width * done / max(total, 1))
            bar = "#" * filled + "-" * (self.width - filled)
            self.stream.write(f"\r[{bar}] {done}/{total} {elapsed:5.0f}s  {label[:40]:<40}")
            if done == total:
                self.stream.write("\n")
        else:
            self.stream.write(f"[{done}/{total}] {elapsed:.0f}s {label}\n")
        self.stream.flush()


def summary(outcomes, seconds=None):
    """The summary table as Markdown-ish text, then the review list."""
    rows = sorted(outcomes, key=lambda o: (o.assignment, o.student))
    lines = ["| student | assignment | score | time (s) | problems | flagged |",
             "| --- | --- | ---: | ---: | --- | --- |"]
    for o in rows:
        if o.skipped:
            lines.append(f"| {o.student} | {o.assignment} | (already graded) | | | |")
            continue
        if o.ungraded:
            lines.append(f"| {o.student} | {o.assignment} | (not graded: the machinery failed) | | "
                         f"{_short(o.problems[0]) if o.problems else ''} | |")
            continue
        problems = f"{len(o.problems)}: {_short(o.problems[0])}" if o.problems else ""
        flagged = f"yes ({len(o.flags)})" if o.flags else ""
        lines.append(f"| {o.student} | {o.assignment} | {o.score:g} / {o.max_score:g} | {o.seconds:.1f} "
                     f"| {problems} | {flagged} |")
    graded = [o for o in rows if not o.skipped]
    tail = f"{len(graded)} submissions graded, {len(rows) - len(graded)} already in the journal"
    if seconds is not None:
        tail += f", in {seconds:.1f} s"
    lines += ["", tail + "."]
    review = [o for o in graded if o.flags or o.problems]
    if review:
        lines += ["", "For review:"]
        for o in review:
            lines.append(f"- {o.student}/{o.assignment}")
            lines += [f"    problem: {p}" for p in o.problems]
            lines += [f"    flag: {f}" for f in o.flags]
    return "\n".join(lines)


def _short(text, n=60):
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[:n - 1] + "…"
