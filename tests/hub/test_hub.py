"""The course on JupyterHub, end to end: real accounts, nbgrader's exchange, grading on submit.

- In Chromium: the instructor releases 01 from the formgrader; three students log in,
  fetch it from the Assignment List, answer it (one completely, one wrongly, one not at
  all), submit, and each fetches feedback with the right score, with no action of the
  instructor; the formgrader shows the three grades and the CSV export agrees; a student
  cannot read another's submission, neither through the hub nor on disk.
- Under load: 30 students submit within one minute through nbgrader's exchange, each as
  their own Unix account; the hub and the grading service are restarted during the burst;
  every submission gets its feedback, none is lost or graded twice, and the times from
  submit to feedback are reported (test-artifacts/hub/load.json).
"""
import csv
import json
import os
import pwd
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

pytestmark = pytest.mark.xdist_group("hub")

ASSIGNMENT = "01-rnn-basics"
FEEDBACK_SECONDS = 240
SCORE = re.compile(r"\(Score: ([0-9.]+) / ([0-9.]+)\)")


# ---------------------------------------------------------------------------------------
# answers


def answers(hub):
    """The three notebooks of the browser test, made from the deployment's own release:
    {"complete": nb, "wrong": nb}, and the scores they must get: {kind: (score, max)}.

    complete: every solution cell filled in from the instructor's source.
    wrong:    the same, but softmax without the shift by the maximum, which overflows for
              large scores: the values are right, the stability test fails.
    blank:    the release as fetched (no notebook is written).
    """
    release = nbformat.read(hub.course / "course" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    source = nbformat.read(hub.course / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    solutions = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells
                 if c.metadata.get("nbgrader", {}).get("solution")}
    points = {c.metadata["nbgrader"]["grade_id"]: float(c.metadata["nbgrader"]["points"]) for c in source.cells
              if c.metadata.get("nbgrader", {}).get("grade")}
    total = sum(points.values())
    stability = [gid for gid, cell in ((c.metadata["nbgrader"]["grade_id"], c) for c in source.cells
                                       if c.metadata.get("nbgrader", {}).get("grade"))
                 if gid.startswith("softmax_tests") and "stability" in cell.source.lower()]
    assert stability, "no stability test of softmax in the source notebook: the wrong answer needs one"
    assert "softmax" in solutions, "no softmax exercise in the source notebook"

    complete = nbformat.from_dict(json.loads(json.dumps(release)))
    for cell in complete.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.metadata.get("nbgrader", {}).get("solution") and gid in solutions:
            cell.source = solutions[gid]
    wrong = nbformat.from_dict(json.loads(json.dumps(complete)))
    for cell in wrong.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "softmax":
            cell.source = ("import numpy as np\n\n\ndef softmax(z, axis=-1):\n"
                           "    e = np.exp(z)\n"
                           "    return e / e.sum(axis=axis, keepdims=True)\n")
    expected = {"complete": (total, total), "wrong": (total - sum(points[g] for g in stability), total),
                "blank": (0.0, total)}
    return {"complete": complete, "wrong": wrong}, expected


def hidden_lines(hub):
    """The first line of each hidden test block of the source notebook: no feedback shows them."""
    source = nbformat.read(hub.course / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    blocks = [m.group(1) for c in source.cells
              for m in re.finditer(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", c.source, re.S)]
    lines = [b.strip().splitlines()[0].strip() for b in blocks if b.strip()]
    assert lines, "the source notebook has no hidden tests"
    return lines


# ---------------------------------------------------------------------------------------
# the browser


def log_in(browser, hub, user):
    """A browser context logged in to the hub as ``user``, on that user's JupyterLab."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(90_000)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(f"uncaught: {error}"))
    page.goto(f"{hub.url}/hub/login")
    page.fill("#username_input", user)
    page.fill("#password_input", hub.password)
    page.click("#login_submit")
    page.wait_for_url(f"**/user/{user}/lab**", timeout=150_000)
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").wait_for(timeout=150_000)
    return context, page


def open_from_nbgrader_menu(page, item):
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").click()
    page.locator(".lm-Menu-item", has_text=item).first.click()


def save_notebook(page, user, path, nb):
    """Save ``nb`` at ``path`` of the user's server, as JupyterLab's Save does (contents API)."""
    status = page.evaluate(
        """async ([url, body]) => {
            const xsrf = document.cookie.split('; ').find(c => c.startsWith('_xsrf=')).slice(6);
            const r = await fetch(url, {method: 'PUT', body,
                headers: {'X-XSRFToken': xsrf, 'Content-Type': 'application/json'}});
            return r.status;
        }""", [f"/user/{user}/api/contents/{path}",
               json.dumps({"type": "notebook", "format": "json", "content": nb})])
    assert status in (200, 201), f"saving {path} as {user} answered {status}"


def read_feedback(page):
    """Fetch Feedback in the Assignment List once the feedback is there, open it, read its score."""
    submitted = page.locator("#submitted_assignments_list")
    deadline = time.monotonic() + FEEDBACK_SECONDS
    while time.monotonic() < deadline:
        page.locator("#refresh_assignments_list").click()
        page.wait_for_timeout(1500)
        if submitted.get_by_text("(feedback available to fetch)").count():
            break
        page.wait_for_timeout(2000)
    else:
        raise AssertionError(f"no feedback to fetch after {FEEDBACK_SECONDS} s")
    submitted.get_by_role("button", name="Fetch Feedback").click()
    link = submitted.get_by_text("(view feedback)")
    link.wait_for(timeout=60_000)
    link.click()
    item = page.locator(".jp-DirListing-item", has_text=f"{ASSIGNMENT}.html")
    item.wait_for()
    item.dblclick()
    frame = page.frame_locator(".jp-HTMLViewer iframe")
    heading = frame.locator("h4", has_text="Score:").first
    heading.wait_for()
    text = frame.locator("body").inner_text()
    match = SCORE.search(heading.inner_text())
    assert match, f"no score in the feedback's heading: {heading.inner_text()}"
    return float(match.group(1)), float(match.group(2)), text


def test_instructor_releases_students_submit_and_get_feedback(hub, browser, artifacts):
    notebooks, expected = answers(hub)
    kinds = dict(zip(hub.students, ["complete", "wrong", "blank"]))

    # the instructor releases 01 from the formgrader
    instructor_context, instructor = log_in(browser, hub, hub.instructor)
    instructor.goto(f"{hub.url}/user/{hub.instructor}/formgrader/manage_assignments")
    row = instructor.locator("#main-table tr", has=instructor.locator("td.name", has_text=ASSIGNMENT))
    row.locator("td.release a").click()
    instructor.get_by_text(f"Successfully released '{ASSIGNMENT}'").wait_for()
    instructor.screenshot(path=artifacts / "formgrader-released.png")
    assert (hub.exchange / "outbound" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").exists()

    # three students log in, fetch, answer (or not) and submit
    students = {}
    for student in hub.students:
        context, page = log_in(browser, hub, student)
        open_from_nbgrader_menu(page, "Assignment List")
        released = page.locator("#released_assignments_list")
        released.locator(".list_item", has_text=ASSIGNMENT).get_by_role("button", name="Fetch").click()
        page.locator("#fetched_assignments_list .list_item", has_text=ASSIGNMENT).first.wait_for()
        if kinds[student] in notebooks:
            save_notebook(page, student, f"{ASSIGNMENT}/{ASSIGNMENT}.ipynb", notebooks[kinds[student]])
        students[student] = (context, page)
    for student, (context, page) in students.items():
        page.locator("#fetched_assignments_list").get_by_role("button", name="Submit").first.click()
        page.locator("#submitted_assignments_list .nested_list_item").first.wait_for()

    # each fetches feedback with the right score, without any action of the instructor
    scores = {}
    for student, (context, page) in students.items():
        score, max_score, text = read_feedback(page)
        scores[student] = (score, max_score)
        page.screenshot(path=artifacts / f"feedback-{kinds[student]}.png")
        shown = [line for line in ["BEGIN HIDDEN TESTS", *hidden_lines(hub)] if line in text]
        assert not shown, f"the feedback shows the hidden tests' source: {shown}"
        assert page.errors == [], page.errors
    assert scores == {s: expected[kinds[s]] for s in hub.students}, (scores, kinds, expected)
    graded = [e for e in hub.events() if e["event"] == "graded" and e["student"] in hub.students]
    assert sorted(e["student"] for e in graded) == sorted(hub.students), "a submission graded twice or not at all"

    # the formgrader shows the three grades
    instructor.goto(f"{hub.url}/user/{hub.instructor}/formgrader/manage_submissions/{ASSIGNMENT}")
    shown = {}
    for student in hub.students:
        cell = instructor.locator("tr", has=instructor.locator("td", has_text=student)).locator("td.score")
        cell.wait_for()
        shown[student] = tuple(float(x) for x in cell.inner_text().split("/"))
    instructor.screenshot(path=artifacts / "formgrader-scores.png")
    assert shown == scores

    # the CSV export agrees
    csv_path = hub.dir / "grades.csv"
    subprocess.run([sys.executable, "-m", "autograder", "--config", str(hub.config), "export", "--to",
                    str(csv_path)], check=True, cwd=hub.settings["repo"], capture_output=True)
    rows = {r["student_id"]: r for r in csv.DictReader(csv_path.open()) if r["assignment"] == ASSIGNMENT}
    assert {s: (float(rows[s]["score"]), float(rows[s]["max_score"])) for s in hub.students} == scores

    # a student cannot read another's submission: not through the hub ...
    owner, intruder = hub.students[0], hub.students[1]
    _, page = students[intruder]
    other = page.request.get(f"{hub.url}/user/{owner}/api/contents/{ASSIGNMENT}/{ASSIGNMENT}.ipynb",
                             max_redirects=0)
    assert other.status in (302, 403, 404), f"{intruder} read {owner}'s notebook through the hub ({other.status})"
    escape = page.request.get(f"{hub.url}/user/{intruder}/api/contents/../{owner}/{ASSIGNMENT}", max_redirects=0)
    assert escape.status in (400, 403, 404), f"{intruder}'s server served a path outside its root ({escape.status})"
    # ... nor on disk: the exchange's inbound, the submission in it, the course, the home folder
    entry = next(p for p in (hub.exchange / "inbound").iterdir() if p.name.startswith(f"{owner}+{ASSIGNMENT}+"))
    for what, command in [
        ("list the exchange's inbound", ["ls", str(hub.exchange / "inbound")]),
        ("read the submission in inbound", ["cat", str(entry / f"{ASSIGNMENT}.ipynb")]),
        ("read the collected submission", ["cat", str(hub.course / "autograder" / "submitted" / owner / ASSIGNMENT
                                                      / f"{ASSIGNMENT}.ipynb")]),
        ("read the home folder", ["cat", f"{os.path.expanduser('~' + owner)}/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"]),
    ]:
        result = subprocess.run(["runuser", "-u", intruder, "--", *command], capture_output=True, text=True)
        assert result.returncode != 0 and "Permission denied" in result.stderr, \
            f"{intruder} could {what} of {owner}: {result.stdout[:200]}"
    for context, _ in students.values():
        context.close()
    instructor_context.close()


# ---------------------------------------------------------------------------------------
# the load test


BURST_SECONDS = 58           # the 30 submissions are spread over this (within one minute)
KILL_SERVICE_AT = 15         # seconds into the burst: SIGKILL to the grading service
RESTART_HUB_AT = 35          # seconds into the burst: the hub stopped and started again
DRAIN_SECONDS = 420          # the longest wait for the last feedback after the burst


def as_user(name, action):
    """Run ``action()`` in a child process as the Unix account ``name`` (its groups, its home).

    nbgrader's exchange classes are imported here, before the fork: the child cannot read the
    root-only Python installation the tests may run from."""
    user = pwd.getpwnam(name)
    pid = os.fork()
    if pid == 0:  # the child
        code = 1
        try:
            os.initgroups(name, user.pw_gid)
            os.setgid(user.pw_gid)
            os.setuid(user.pw_uid)
            os.environ.update(HOME=user.pw_dir, USER=name, LOGNAME=name)
            os.chdir(user.pw_dir)
            action()
            code = 0
        except BaseException as exc:  # reported through the exit code and stderr
            sys.stderr.write(f"{name}: {type(exc).__name__}: {exc}\n")
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def exchange_step(hub, cls):
    """nbgrader's exchange step ``cls`` (fetch or submit) of the assignment, as the calling user."""
    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    def action():
        config = Config()
        config.CourseDirectory.course_id = hub.settings["course_id"]
        config.Exchange.root = str(hub.exchange.parent)
        config.Exchange.assignment_dir = os.environ["HOME"]
        coursedir = CourseDirectory(config=config)
        coursedir.assignment_id = ASSIGNMENT
        app = cls(coursedir=coursedir, authenticator=Authenticator(config=config), config=config)
        app.log.setLevel("ERROR")
        app.start()
    return action


def feedback_path(hub, student):
    """Where the feedback of the student's latest submission appears in the exchange, or None."""
    from nbgrader.utils import notebook_hash

    cache = Path(os.path.expanduser(f"~{student}")) / ".local/share/jupyter/nbgrader_cache" / hub.settings["course_id"]
    entries = sorted(cache.glob(f"{student}+{ASSIGNMENT}+*"))
    if not entries:
        return None
    secret = (entries[-1] / "submission_secret.txt").read_text()
    return hub.exchange / "feedback" / f"{notebook_hash(secret=secret, notebook_id=ASSIGNMENT)}.html"


def test_thirty_students_submit_within_a_minute(hub, artifacts, record_property):
    import threading

    from nbgrader.exchange.default import ExchangeFetchAssignment, ExchangeSubmit

    import nbgrader.utils  # noqa: F401  (used in the children, imported before the fork)

    if not (hub.exchange / "outbound" / ASSIGNMENT).is_dir():  # run alone, without the browser test
        hub.release_as_instructor(ASSIGNMENT)
    notebooks, expected = answers(hub)
    kinds = {s: ["complete", "wrong", "blank"][i % 3] for i, s in enumerate(hub.load_students)}
    for student in hub.load_students:
        assert as_user(student, exchange_step(hub, ExchangeFetchAssignment)) == 0, f"{student} could not fetch"
        if kinds[student] in notebooks:
            path = Path(os.path.expanduser(f"~{student}")) / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
            nbformat.write(notebooks[kinds[student]], path)
            account = pwd.getpwnam(student)
            os.chown(path, account.pw_uid, account.pw_gid)

    problems = []

    def restarts(start):
        try:
            time.sleep(max(0.0, start + KILL_SERVICE_AT - time.monotonic()))
            pid = hub.service_pid()
            assert pid, "no grading service is running"
            os.kill(pid, 9)
            time.sleep(max(0.0, start + RESTART_HUB_AT - time.monotonic()))
            hub.stop()
            hub.start()
        except BaseException as exc:
            problems.append(f"restarting: {type(exc).__name__}: {exc}")

    submitted, feedback = {}, {}
    start = time.monotonic()
    thread = threading.Thread(target=restarts, args=(start,), daemon=True)
    thread.start()
    step = BURST_SECONDS / (len(hub.load_students) - 1)
    for i, student in enumerate(hub.load_students):
        while time.monotonic() < start + i * step:
            check_feedback(hub, submitted, feedback)
            time.sleep(0.2)
        before = time.time()
        assert as_user(student, exchange_step(hub, ExchangeSubmit)) == 0, f"{student} could not submit"
        submitted[student] = before
    burst = time.monotonic() - start
    deadline = time.monotonic() + DRAIN_SECONDS
    while len(feedback) < len(submitted) and time.monotonic() < deadline:
        check_feedback(hub, submitted, feedback)
        time.sleep(0.5)
    thread.join(timeout=120)

    latencies = sorted(feedback[s] - submitted[s] for s in feedback)
    report = {
        "students": len(submitted), "burst_seconds": round(burst, 1), "with_feedback": len(feedback),
        "median_seconds": round(statistics.median(latencies), 1) if latencies else None,
        "p95_seconds": round(latencies[max(0, int(round(0.95 * len(latencies))) - 1)], 1) if latencies else None,
        "max_seconds": round(latencies[-1], 1) if latencies else None,
        "restarts": {"service killed at": KILL_SERVICE_AT, "hub restarted at": RESTART_HUB_AT},
        "batches": [e["students"].__len__() for e in hub.events()
                    if e["event"] == "batch" and set(e["students"]) <= set(hub.load_students)],
        "cores": os.cpu_count(), "load_average_after": os.getloadavg(),
    }
    (artifacts / "load.json").write_text(json.dumps(report, indent=2) + "\n")
    for key in ("median_seconds", "p95_seconds", "max_seconds", "burst_seconds"):
        record_property(f"hub_load_{key}", report[key])
    print(json.dumps(report, indent=2))
    assert problems == [], problems
    assert burst <= 60, f"the 30 submissions took {burst:.0f} s, not one minute"

    # nothing lost: every student has feedback, with the score of what they submitted
    missing = sorted(set(submitted) - set(feedback))
    assert not missing, f"no feedback for {missing} after {DRAIN_SECONDS} s:\n{hub.log_tail()}"
    for student in submitted:
        match = SCORE.search(feedback_path(hub, student).read_text())
        assert match and (float(match.group(1)), float(match.group(2))) == expected[kinds[student]], \
            (student, kinds[student], match and match.group(0))
    # nothing graded twice: one "graded" event per submission, one "released" per inbound entry
    events = hub.events()
    graded = [(e["student"], e["timestamp"]) for e in events if e["event"] == "graded"
              and e["student"] in submitted]
    assert sorted(graded) == sorted(set(graded)) and len(graded) == len(submitted), graded
    released = [e["entry"] for e in events if e["event"] == "released" and e["student"] in submitted]
    assert len(released) == len(set(released)) == len(submitted), released
    assert [e for e in events if e["event"] == "failed"] == []
    assert len([e for e in events if e["event"] == "started"]) >= 3, "the service was not restarted twice"


def check_feedback(hub, submitted, feedback):
    for student in submitted:
        if student not in feedback:
            path = feedback_path(hub, student)
            if path is not None and path.exists():
                feedback[student] = time.time()


def test_grading_on_submit_turned_off_then_a_regrade(hub):
    """With grading on submit off, a submission waits; `hubctl.py regrade` grades it and
    releases its feedback; turned on again, the waiting submission is settled, not regraded."""
    from nbgrader.exchange.default import ExchangeFetchAssignment, ExchangeSubmit

    import nbgrader.utils  # noqa: F401  (used in the children, imported before the fork)

    student = hub.students[2]
    if not (hub.exchange / "outbound" / ASSIGNMENT).is_dir():
        hub.release_as_instructor(ASSIGNMENT)
    if not (Path(os.path.expanduser(f"~{student}")) / ASSIGNMENT).is_dir():
        assert as_user(student, exchange_step(hub, ExchangeFetchAssignment)) == 0
    hub.hubctl("autograde", "off", ASSIGNMENT)
    assert as_user(student, exchange_step(hub, ExchangeSubmit)) == 0
    path = feedback_path(hub, student)
    entries = [p.name for p in (hub.exchange / "inbound").iterdir() if p.name.startswith(f"{student}+")]
    entry = max(entries)
    time.sleep(6)  # the service looks every second
    assert not path.exists(), "graded on submit although turned off"
    assert not any(e["event"] == "batch" and student in e["students"] and e["at"] > time.time() - 6
                   for e in hub.events())

    result = hub.hubctl("regrade", ASSIGNMENT, "--student", student, "--timeout", "400")
    assert "1 of 1 submissions regraded" in result.stdout, result.stdout
    assert path.exists(), "the regrade released no feedback for the new submission"
    regraded = [e for e in hub.events() if e["event"] == "regraded"]
    assert regraded and regraded[-1]["released"] == [student]

    hub.hubctl("autograde", "on", ASSIGNMENT)
    deadline = time.monotonic() + 400
    while time.monotonic() < deadline:
        done = [e for e in hub.events() if e.get("entry") == entry and e["event"] in ("released", "failed")]
        if done:
            break
        time.sleep(1)
    assert [e["event"] for e in done] == ["released"], (done, hub.log_tail())
    graded = [e for e in hub.events() if e["event"] == "graded" and e["student"] == student
              and e["timestamp"] == entry.split("+")[2]]
    assert len(graded) == 1, f"the submission was graded {len(graded)} times: {graded}"
