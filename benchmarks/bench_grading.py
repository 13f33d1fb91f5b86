"""Grading a class: serial ``nbgrader autograde`` against ``python -m autograder grade``.

    python benchmarks/bench_grading.py [--students 30] [--workers 2] [--rounds 1]
                                       [--scaling] [--out benchmarks/results/grading.md]
    python benchmarks/bench_grading.py --broker [--only-broker] [--students 30] [--workers 2] [--rounds 2]

A synthetic class is built from solutions/ and course/: student k submits every
notebook of the course, with full answers (k % 3 == 0), half of the exercises answered
(k % 3 == 1) or the release's stubs and wrong answers (k % 3 == 2). Identical course
roots are graded three times: by nbgrader itself (``nbgrader autograde <assignment>`` for
each assignment, one after the other, as an instructor runs it), once in the environment
an instructor has by default (NumPy's BLAS free to start a thread per core) and once with
one BLAS thread, as the tool gives each kernel, which isolates what the parallel workers
gain; and by this tool (sandboxed, ``--workers`` kernels at once). With ``--rounds`` above
1 the contestants take turns in rotated order on fresh copies, and each speed-up is the
median of the paired ratios.

``--scaling`` adds, on a small sub-class: the sandbox's own cost per notebook
(--no-sandbox against sandboxed, one worker, interleaved) and the wall time against the
number of workers and the class size. The results go to a Markdown file.

``--broker`` adds grading through Celery and Redis (``grade --broker``): a redis-server
on loopback and ``--workers`` worker processes of one kernel each, every one with its
own scratch folder, started once, against the local pool of as many workers, taking
turns on identical roots; the broker's first round includes the workers' own canary of
every assignment (done once in a worker's life), the later ones do not. ``--only-broker``
measures that alone and replaces only its section of the Markdown file.
"""
import argparse
import os
import platform
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))
from common import THREAD_VARIABLES  # noqa: E402

PYTHON = sys.executable
VENV_BIN = Path(PYTHON).parent

CONFIG = '''c = get_config()
c.CourseDirectory.course_id = "rnn-course-bench"
c.CourseDirectory.root = {root!r}
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "course"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.CourseDirectory.db_url = "sqlite:///" + {db!r}
c.ClearSolutions.code_stub = {{"python": "raise NotImplementedError()"}}
c.Execute.timeout = 300
c.OverwriteCells.add_missing_cells = True
'''


def assignments():
    return sorted(p.name for p in (REPO / "solutions").iterdir()
                  if (p / f"{p.name}.ipynb").exists() and (REPO / "course" / p.name / f"{p.name}.ipynb").exists())


def solution_code(source):
    """A source solution cell's code with nbgrader's markers taken out."""
    keep = [line for line in source.splitlines()
            if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION")]
    return "\n".join(keep)


def student_notebook(assignment, kind):
    """The release notebook with full, half or no answers filled in from the source."""
    release = nbformat.read(str(REPO / "course" / assignment / f"{assignment}.ipynb"), as_version=4)
    source = nbformat.read(str(REPO / "solutions" / assignment / f"{assignment}.ipynb"), as_version=4)
    answers = {c.metadata["nbgrader"]["grade_id"]: solution_code(c.source) for c in source.cells
               if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"}
    ids = [c.metadata["nbgrader"]["grade_id"] for c in release.cells
           if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"]
    chosen = {"full": ids, "partial": ids[::2], "wrong": []}[kind]
    for cell in release.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in chosen and grade_id in answers:
            cell.source = answers[grade_id]
    return release


def make_root(path, students, notebooks, gradebook=None):
    """A course root with the repository's sources and release, a gradebook and submissions."""
    path.mkdir(parents=True)
    shutil.copytree(REPO / "solutions", path / "solutions")
    shutil.copytree(REPO / "course", path / "course")
    (path / "nbgrader_config.py").write_text(CONFIG.format(root=str(path), db=str(path / "gradebook.db")))
    for k in range(students):
        student = f"student{k:02d}"
        for assignment in notebooks:
            folder = path / "submitted" / student / assignment
            folder.mkdir(parents=True)
            nbformat.write(notebooks[assignment][k % 3], str(folder / f"{assignment}.ipynb"))
            (folder / "timestamp.txt").write_text("2026-11-20 12:00:00.000000 UTC")
    if gradebook is not None:
        # the gradebook of an identical root: the same sources, no submissions yet
        shutil.copyfile(gradebook, path / "gradebook.db")
        return path
    env = _env()
    for assignment in notebooks:   # nbgrader learns the source notebooks, as an instructor's setup does
        run([str(VENV_BIN / "nbgrader"), "generate_assignment", assignment, "--force",
             "--CourseDirectory.release_directory=release-scratch"], cwd=path, env=env)
    shutil.rmtree(path / "release-scratch", ignore_errors=True)
    return path


def _env(threads=None):
    """This environment with the venv on PATH; BLAS threads left to the libraries, or pinned."""
    env = {k: v for k, v in os.environ.items() if k not in THREAD_VARIABLES}
    if threads is not None:
        env.update({k: str(threads) for k in THREAD_VARIABLES})
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    return env


def run(cmd, cwd, env=None):
    result = subprocess.run(cmd, cwd=cwd, env=env or _env(), capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed:\n{result.stderr[-3000:]}")
    return result


def serial_nbgrader(root, notebooks, threads=None):
    env = _env(threads)
    start = time.monotonic()
    for assignment in notebooks:
        run([str(VENV_BIN / "nbgrader"), "autograde", assignment, "--force"], cwd=root, env=env)
    return time.monotonic() - start


def ours(root, workers, sandbox=True):
    cmd = [PYTHON, "-m", "autograder", "--config", str(root / "nbgrader_config.py"), "grade",
           "--workers", str(workers), "--quiet", "--force"]
    if not sandbox:
        cmd.append("--no-sandbox")
    start = time.monotonic()
    run(cmd, cwd=REPO)
    return time.monotonic() - start


def ours_broker(root, url, password, workers):
    cmd = [PYTHON, "-m", "autograder", "--config", str(root / "nbgrader_config.py"), "grade",
           "--broker", url, "--workers", str(workers), "--quiet", "--force"]
    start = time.monotonic()
    run(cmd, cwd=REPO, env=dict(_env(), AUTOGRADER_BROKER_PASSWORD=password))
    return time.monotonic() - start


def start_broker(folder, workers):
    """A redis-server on loopback and ``workers`` grading workers of one kernel each;
    (url without the password, the password, the processes)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    password = secrets.token_hex(12)
    folder.mkdir(parents=True)
    processes = [subprocess.Popen(["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--requirepass",
                                   password, "--save", "", "--appendonly", "no", "--dir", str(folder)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    url = f"redis://127.0.0.1:{port}/0"
    sys.path.insert(0, str(REPO))
    from autograder.distributed import celery_app, redis_client

    deadline = time.monotonic() + 30
    while True:
        try:
            redis_client(f"redis://:{password}@127.0.0.1:{port}/0").ping()
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    env = dict(_env(), PYTHONPATH=str(REPO), AUTOGRADER_BROKER_PASSWORD=password)
    for k in range(workers):
        scratch = folder / f"worker{k}"
        scratch.mkdir()
        processes.append(subprocess.Popen(
            [PYTHON, "-m", "autograder", "worker", "--broker", url, "--name", f"bench{k}", "--scratch",
             str(scratch / "scratch")], cwd=scratch, env=env, stdout=open(scratch / "worker.log", "w"),
            stderr=subprocess.STDOUT))
    app = celery_app(f"redis://:{password}@127.0.0.1:{port}/0")
    deadline = time.monotonic() + 120
    while len(app.control.ping(timeout=1.0) or []) < workers:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the workers did not start; see {folder}/worker*/worker.log")
    return url, password, processes


def broker_comparison(tmp, names, notebooks, students, workers, rounds):
    """Markdown lines: the class through the broker against the local pool."""
    url, password, processes = start_broker(tmp / "broker", workers)
    rows = []
    try:
        for r in range(rounds):
            local = make_root(tmp / f"local{r}", students, notebooks)
            remote = make_root(tmp / f"remote{r}", students, notebooks, gradebook=local / "gradebook.db")
            contestants = {"local": lambda: ours(local, workers),
                           "broker": lambda: ours_broker(remote, url, password, workers)}
            order = ["local", "broker"] if r % 2 == 0 else ["broker", "local"]
            load = os.getloadavg()[0]
            t = {name: contestants[name]() for name in order}
            same = scores(local) == scores(remote)
            rows.append((t, same, load))
            print(f"broker round {r}: local pool {t['local']:.1f} s, broker {t['broker']:.1f} s "
                  f"({t['broker'] / t['local'] - 1:+.1%}), identical grades: {same}", flush=True)
            shutil.rmtree(local)
            shutil.rmtree(remote)
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
    n = students * len(names)
    lines = ["## Through the broker", "",
             f"{students} students x {len(names)} notebooks = {n} notebooks. Local: `grade --workers {workers}` "
             f"(a pool of {workers} processes). Broker: `grade --broker` with a redis-server on loopback and "
             f"{workers} `worker` processes of one kernel each on the same {os.cpu_count()} cores, each with its "
             "own scratch folder, the course sent in the jobs. Both sandboxed, taking turns on identical roots; "
             "the workers are started once, before the first round, so their own canary of each assignment "
             "(the solution and the blank release a worker has not graded for the run's canary, up to "
             f"{2 * len(names)} notebooks per worker) falls in round 0 only; every round grades the run's "
             f"canary ({2 * len(names)} notebooks) before the class, in both modes.", "",
             "| round | load at start | local pool (s) | broker (s) | broker against local | identical grades |",
             "| ---: | ---: | ---: | ---: | ---: | --- |"]
    for r, (t, same, load) in enumerate(rows):
        lines.append(f"| {r}{' (workers cold)' if r == 0 else ''} | {load:.2f} | {t['local']:.1f} | "
                     f"{t['broker']:.1f} | {t['broker'] / t['local'] - 1:+.1%} | {'yes' if same else 'NO'} |")
    if len(rows) > 1:
        warm = [t["broker"] / t["local"] - 1 for t, _, _ in rows[1:]]
        lines += ["", f"Median over the rounds after the first: the broker takes {statistics.median(warm):+.1%} "
                      "against the local pool."]
    return lines


def scores(root):
    import sqlite3

    db = sqlite3.connect(root / "gradebook.db")
    rows = db.execute(
        "select s.id, c.name, g.auto_score from grade g join submitted_notebook n on g.notebook_id = n.id "
        "join submitted_assignment a on n.assignment_id = a.id join student s on a.student_id = s.id "
        "join base_cell c on g.cell_id = c.id order by s.id, c.name").fetchall()
    db.close()
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--scaling", action="store_true")
    parser.add_argument("--scaling-students", type=int, default=3)
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "grading.md"))
    parser.add_argument("--broker", action="store_true", help="also grade through Celery and Redis")
    parser.add_argument("--only-broker", action="store_true",
                        help="only the broker against the local pool; replaces that section of --out")
    args = parser.parse_args(argv)
    if args.only_broker:
        return main_broker(args, argv)

    names = assignments()
    notebooks = {a: [student_notebook(a, kind) for kind in ("full", "partial", "wrong")] for a in names}
    lines = ["# Grading a class: serial nbgrader against the parallel, sandboxed tool", "",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
             f"load average at the start {os.getloadavg()[0]:.2f}.", "",
             f"Class: {args.students} students x {len(names)} notebooks ({', '.join(names)}) = "
             f"{args.students * len(names)} notebooks; answers full / half / none in turn.", ""]
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        tmp = Path(tmp)
        for r in range(args.rounds):
            roots = {"stock": make_root(tmp / f"stock{r}", args.students, notebooks)}
            gradebook = roots["stock"] / "gradebook.db"
            roots["pinned"] = make_root(tmp / f"pinned{r}", args.students, notebooks, gradebook=gradebook)
            roots["ours"] = make_root(tmp / f"ours{r}", args.students, notebooks, gradebook=gradebook)
            contestants = {"stock": lambda: serial_nbgrader(roots["stock"], names),
                           "pinned": lambda: serial_nbgrader(roots["pinned"], names, threads=1),
                           "ours": lambda: ours(roots["ours"], args.workers)}
            order = list(contestants)
            order = order[r % 3:] + order[: r % 3]
            t = {name: contestants[name]() for name in order}
            same = scores(roots["stock"]) == scores(roots["pinned"]) == scores(roots["ours"])
            results.append((t, same))
            print(f"round {r}: serial nbgrader {t['stock']:.1f} s (one BLAS thread: {t['pinned']:.1f} s), "
                  f"autograder {t['ours']:.1f} s ({t['stock'] / t['ours']:.2f}x, {t['pinned'] / t['ours']:.2f}x), "
                  f"identical grades: {same}", flush=True)
            for root in roots.values():
                shutil.rmtree(root)
        lines += ["## Whole class", "",
                  "| round | serial nbgrader (s) | serial nbgrader, one BLAS thread (s) | autograder, sandboxed, "
                  f"{args.workers} workers (s) | speed-up | speed-up against one BLAS thread | identical grades |",
                  "| ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
        for r, (t, same) in enumerate(results):
            lines.append(f"| {r} | {t['stock']:.1f} | {t['pinned']:.1f} | {t['ours']:.1f} | "
                         f"{t['stock'] / t['ours']:.2f}x | {t['pinned'] / t['ours']:.2f}x | {'yes' if same else 'NO'} |")
        n = args.students * len(names)
        median = {k: statistics.median(t[k] for t, _ in results) for k in ("stock", "pinned", "ours")}
        lines += ["", f"Median speed-up: **{statistics.median(t['stock'] / t['ours'] for t, _ in results):.2f}x** "
                  f"against serial nbgrader as installed, **{statistics.median(t['pinned'] / t['ours'] for t, _ in results):.2f}x** "
                  f"against serial nbgrader with one BLAS thread. Per notebook: serial {median['stock'] / n:.2f} s "
                  f"({median['pinned'] / n:.2f} s with one thread), autograder {median['ours'] / n:.2f} s.", ""]

        if args.scaling:
            k = args.scaling_students
            lines += scaling(tmp, names, notebooks, k, args.workers)
        if args.broker:
            lines += [""] + broker_comparison(tmp, names, notebooks, args.students, args.workers, max(args.rounds, 2))
    lines += ["", "Produced by `python benchmarks/bench_grading.py " + " ".join(argv or sys.argv[1:]) + "`.", ""]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text("\n".join(lines))
    print("\n".join(lines))


def main_broker(args, argv):
    names = assignments()
    notebooks = {a: [student_notebook(a, kind) for kind in ("full", "partial", "wrong")] for a in names}
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        lines = broker_comparison(Path(tmp), names, notebooks, args.students, args.workers, max(args.rounds, 2))
    lines += ["", f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}. "
                  "Produced by `python benchmarks/bench_grading.py " + " ".join(argv or sys.argv[1:]) + "`.", ""]
    out = Path(args.out)
    text = out.read_text() if out.exists() else ""
    if "\n## Through the broker" in text:
        before, after = text.split("\n## Through the broker", 1)
        rest = after.split("\n## ", 1)
        text = before.rstrip("\n") + ("\n\n## " + rest[1] if len(rest) > 1 else "\n")
    out.write_text(text.rstrip("\n") + "\n\n" + "\n".join(lines))
    print("\n".join(lines))


def scaling(tmp, names, notebooks, k, workers):
    n = k * len(names)
    lines = ["## The sandbox's own cost", "",
             f"{k} students x {len(names)} notebooks, one worker, sandboxed and --no-sandbox taking turns.", "",
             "| run | sandboxed (s) | unconfined (s) | sandbox cost per notebook (s) |", "| ---: | ---: | ---: | ---: |"]
    costs = []
    for r in range(2):
        root = make_root(tmp / f"sandbox{r}", k, notebooks)
        order = [(True, "s"), (False, "u")] if r % 2 == 0 else [(False, "u"), (True, "s")]
        t = {}
        for sandbox, key in order:
            t[key] = ours(root, 1, sandbox=sandbox)
        costs.append((t["s"] - t["u"]) / n)
        lines.append(f"| {r} | {t['s']:.1f} | {t['u']:.1f} | {(t['s'] - t['u']) / n:+.2f} |")
        shutil.rmtree(root)
    lines += ["", f"Median cost of the sandbox: {statistics.median(costs):+.2f} s per notebook.", "",
              "## Workers and class size", "", "| students | notebooks | workers | wall time (s) | s per notebook |",
              "| ---: | ---: | ---: | ---: | ---: |"]
    for students in (k, 2 * k):
        root = make_root(tmp / f"size{students}", students, notebooks)
        for w in sorted({1, workers, workers + 1}):
            seconds = ours(root, w)
            lines.append(f"| {students} | {students * len(names)} | {w} | {seconds:.1f} | "
                         f"{seconds / (students * len(names)):.2f} |")
        shutil.rmtree(root)
    return lines


if __name__ == "__main__":
    main()
