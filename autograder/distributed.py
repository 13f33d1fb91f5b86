"""Grading across machines: the run's notebooks graded by Celery workers over Redis.

    python -m autograder worker --broker redis://:PASSWORD@HOST:6379/0     on each grading machine
    python -m autograder grade  --broker redis://:PASSWORD@HOST:6379/0     where the gradebook is

The coordinator (``grade --broker``) does what a local run does (sanitize, the canary,
scoring, the gradebook and the journal, one transaction per submission); only the
execution of each sanitized notebook, which grading.Grader hands to a pool with
``pool.submit(_run, job, limits, confined, config)``, goes to the workers instead of
local processes. ``Broker.executor`` is that pool: each job travels as data in a Celery
task (JSON, files in base64: the sanitized notebook, the kernel's work files, the source
notebook whose grade cells the worker runs, the assignment for the sealed rnnkit, the
limits), and the executed notebook and the result dict come back the same way. No
filesystem is shared: a worker needs the course environment (this repository, its
virtual environment and bubblewrap), nothing of the course's files.

Nothing is lost when a worker dies, nothing is counted twice:

- tasks are acknowledged late (after they ran), rejected when the worker process is
  lost, fetched one at a time, and a task left unacknowledged by a worker killed
  outright goes back to the queue after the visibility timeout;
- a job's key is the digest of everything its result depends on (the sanitized
  notebook, which comes from the submission, its files, the source, the limits and
  the rnnkit the verdicts use); a worker keeps each result under that key in Redis,
  and a job whose key has a result is not run again, whether it is a task delivered
  twice or the same job sent by a coordinator started again after a crash;
- the coordinator takes one result per job and alone writes the gradebook and the
  journal, so a submission is recorded once.

A worker grades nothing of an assignment before its own canary: the solution and the
blank release of the notebook, sent with every job, graded in the worker's own sandbox
and judged as the coordinator judges its canary (canary.py); a worker whose canary
fails, or whose rnnkit differs from the coordinator's, answers each job with a failure
of the machinery that names its host, which the coordinator retries and reports.
"""
import base64
import concurrent.futures
import contextlib
import ctypes
import dataclasses
import fcntl
import hashlib
import itertools
import json
import os
import secrets
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
import urllib.parse
import warnings
from pathlib import Path

QUEUE = "autograder"
TASK = "autograder.grade_notebook"
RESULT_PREFIX = "autograder:result:"   # + job key: a worker's finished result, kept RESULT_TTL seconds
RUN_PREFIX = "autograder:run:"         # + run id: present while the coordinator of that run lives
RESULT_TTL = 24 * 3600
RUN_TTL = 60                           # a run whose coordinator stopped renewing this long is abandoned
HEARTBEAT = 10
VISIBILITY_TIMEOUT = 3600              # a task unacknowledged this long goes back to the queue
PASSWORD_VARIABLE = "AUTOGRADER_BROKER_PASSWORD"
CONFIG_SECTIONS = ("Execute", "ExecutePreprocessor", "NotebookClient", "KernelManager", "AsyncKernelManager")
CANARY_WHO = {"(solution)": "solution", "(release)": "release"}


class BrokerUnavailable(RuntimeError):
    """The broker cannot be reached, or its URL is not one this tool uses."""


def broker_url(url):
    """``url`` with the password of $AUTOGRADER_BROKER_PASSWORD when it names none (so that the
    password need not appear on a command line); raises BrokerUnavailable for a non-Redis URL."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("redis", "rediss"):
        raise BrokerUnavailable(f"{url!r}: the broker is Redis, a URL redis://[:PASSWORD@]HOST:PORT/DB "
                                "(rediss:// for TLS) is expected")
    password = os.environ.get(PASSWORD_VARIABLE)
    if password and not parts.password:
        netloc = ":" + urllib.parse.quote(password, safe="") + "@" + parts.netloc.rsplit("@", 1)[-1]
        parts = parts._replace(netloc=netloc)
    return urllib.parse.urlunsplit(parts)


def shown(url):
    """The URL without its password, for messages."""
    parts = urllib.parse.urlsplit(url)
    if parts.password:
        parts = parts._replace(netloc="***@" + parts.netloc.rsplit("@", 1)[-1])
    return urllib.parse.urlunsplit(parts)


def redis_client(url):
    import redis

    return redis.Redis.from_url(url, socket_connect_timeout=10, health_check_interval=30)


def check_broker(url):
    """Raise BrokerUnavailable unless the broker answers a PING."""
    import redis

    try:
        redis_client(url).ping()
    except redis.RedisError as exc:
        raise BrokerUnavailable(f"the broker {shown(url)} does not answer: {exc}") from None


def celery_app(url, visibility_timeout=VISIBILITY_TIMEOUT):
    """The Celery application of coordinator and workers: JSON only, late acknowledgement."""
    from celery import Celery

    app = Celery("autograder", broker=url, backend=url, set_as_current=False)
    app.conf.update(
        task_serializer="json", result_serializer="json", accept_content=["json"],
        result_accept_content=["json"], task_default_queue=QUEUE,
        task_acks_late=True, task_reject_on_worker_lost=True, worker_prefetch_multiplier=1,
        broker_transport_options={
            "visibility_timeout": visibility_timeout,
            # look for tasks of dead workers often enough for the timeout to mean what it says
            "unacked_restore_interval": max(1, min(10, visibility_timeout // 4)),
            "unacked_restore_throttle": 1,
            "unacked_mutex_expire": max(5, min(300, visibility_timeout)),
        },
        result_expires=RESULT_TTL, broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False, worker_send_task_events=False, worker_disable_rate_limits=True,
        worker_cancel_long_running_tasks_on_connection_loss=False)
    app.task(name=TASK, bind=True)(_task)
    return app


def package_digest(package=None):
    """sha256 of the rnnkit package's source files: coordinator and workers must agree on it."""
    from . import seal

    package = Path(package or seal.PACKAGE)
    h = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        h.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def _b64(data):
    return base64.b64encode(data).decode("ascii")


def _unb64(text):
    return base64.b64decode(text.encode("ascii"), validate=True)


def _digest(obj):
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def execution_config(config):
    """The parts of the nbgrader config that execution reads, as JSON."""
    out = {}
    for section in CONFIG_SECTIONS:
        values = {}
        for name, value in dict(config.get(section, {}) or {}).items():
            try:
                json.dumps(value)
            except (TypeError, ValueError):
                continue
            values[name] = value
        if values:
            out[section] = values
    return out


def _work_files(work):
    files = {}
    if work.is_dir():
        for path in sorted(work.rglob("*")):
            if path.is_file() and not path.is_symlink():
                files[str(path.relative_to(work))] = _b64(path.read_bytes())
    return files


# ---------------------------------------------------------------------------------------
# the coordinator


class Broker:
    """Where a coordinator sends its jobs: grading.Grader(pool=Broker(url)) grades through it.

    ``executor(workers)`` gives the pool of one run; ``workers`` is how many jobs the
    coordinator keeps in flight (grading keeps twice as many sent), so it is best set to
    the number of kernels all the workers run at once. ``failures`` counts the failures
    of the machinery per worker, for the report.
    """

    def __init__(self, url, reuse=True):
        self.url = broker_url(url)
        self.reuse = reuse     # False (grade --force): results of earlier runs are not taken
        check_broker(self.url)
        self.app = celery_app(self.url)
        self.rnnkit = package_digest()
        self.failures = {}     # worker name -> [count, the last reason]
        self.graded_by = {}    # worker name -> notebooks graded

    def executor(self, workers):
        return BrokerExecutor(self, workers)

    def report(self):
        """Lines for the end of the run: the workers that did the grading, those that failed."""
        lines = []
        if self.graded_by:
            lines.append("graded by: " + ", ".join(f"{w} ({n})" for w, n in sorted(self.graded_by.items())))
        for worker, (count, last) in sorted(self.failures.items()):
            lines.append(f"worker {worker}: the grading machinery failed {count} time{'s' * (count != 1)} "
                         f"(last: {last})")
        return lines


class BrokerExecutor:
    """A concurrent.futures-like pool whose jobs the Celery workers run (see the module's docstring)."""

    def __init__(self, broker, workers):
        self.broker = broker
        self.app = broker.app
        self.redis = redis_client(broker.url)
        self.run = secrets.token_hex(8)
        self.count = itertools.count(1)
        self.pending = {}     # task id -> (future, job, key)
        self.canary = {}      # (assignment, notebook) -> {"solution": run, "release": run}
        self.runs = {}        # the sanitized notebook's path -> the job as data
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.last_news = time.monotonic()
        self.thread = None

    # -- the pool's interface -------------------------------------------------------------

    def __enter__(self):
        self.redis.set(RUN_PREFIX + self.run, "1", ex=RUN_TTL)
        self.thread = threading.Thread(target=self._watch, name="autograder-broker", daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=30)
        with contextlib.suppress(Exception):
            # jobs of this run still queued are dropped by the workers
            self.redis.delete(RUN_PREFIX + self.run)
        with self.lock:
            for future, _, _ in self.pending.values():
                future.cancel()
            self.pending.clear()
        return False

    def submit(self, fn, job, limits, confined, config):
        """Send ``job`` (grading.Job) to the workers; the Future's result is the result dict of
        execute.execute, with job.executed written first. ``fn`` is grading._run, which the
        workers run as worker_grade does; ``confined`` is always true there."""
        future = concurrent.futures.Future()
        future.set_running_or_notify_cancel()
        run = self.runs.get(str(job.sanitized)) or self._describe(job, limits, config)
        self.runs[str(job.sanitized)] = run   # a retry sends the same job again
        who = CANARY_WHO.get(job.student)
        payload = {"run_id": self.run, "run": run, "canary": None}
        if who:
            self.canary.setdefault((job.assignment, job.notebook), {})[who] = run
        else:
            pair = self.canary.get((job.assignment, job.notebook), {})
            if set(pair) == {"solution", "release"}:
                payload["canary"] = pair
        # the canary is graded afresh by every run, as in a local run (principle 4)
        payload["fresh"] = not self.broker.reuse or bool(who)
        cached = self._stored(run["key"]) if not payload["fresh"] else None
        if cached is not None:
            # a result of an earlier run (a coordinator killed after the worker finished)
            self._deliver(future, job, cached)
            return future
        task_id = f"{self.run}-{next(self.count)}-{run['key'][:16]}"
        with self.lock:
            self.pending[task_id] = (future, job, run["key"])
        self.app.send_task(TASK, args=[payload], task_id=task_id, queue=QUEUE)
        return future

    def _describe(self, job, limits, config):
        """The job as data, and its key (the digest of everything its result depends on)."""
        run = {"student": job.student, "assignment": job.assignment, "notebook": job.notebook,
               "sanitized": _b64(job.sanitized.read_bytes()),
               "source": _b64(Path(job.source).read_bytes()) if job.source else None,
               "work": _work_files(job.scratch / "work"),
               "limits": dataclasses.asdict(limits), "config": execution_config(config),
               "rnnkit": self.broker.rnnkit}
        run["key"] = _digest(run)
        shutil.rmtree(job.scratch, ignore_errors=True)   # the worker makes its own
        return run

    # -- results -----------------------------------------------------------------------

    def _stored(self, key):
        data = self.redis.get(RESULT_PREFIX + key)
        if data is None:
            return None
        try:
            return json.loads(data)
        except ValueError:
            return None

    def _deliver(self, future, job, answer):
        worker = answer.get("worker") or "an unknown worker"
        result = dict(answer.get("result") or {})
        if not result:
            result = {"seconds": 0.0, "problems": [], "findings": [], "records": [],
                      "machinery": "the worker's answer carried no result"}
        if result.get("machinery"):
            reason = f"on worker {worker}: {result['machinery']}"
            result["machinery"] = reason
            with self.lock:
                entry = self.broker.failures.setdefault(worker, [0, ""])
                entry[0] += 1
                entry[1] = answer.get("result", {}).get("machinery") or reason
        else:
            with self.lock:
                self.broker.graded_by[worker] = self.broker.graded_by.get(worker, 0) + 1
                self.runs.pop(str(job.sanitized), None)
            if answer.get("executed"):
                job.executed.parent.mkdir(parents=True, exist_ok=True)
                partial = job.executed.with_name(job.executed.name + ".partial")
                partial.write_bytes(_unb64(answer["executed"]))
                os.replace(partial, job.executed)
        future.set_result(result)

    def _watch(self):
        """Poll the results of the tasks in flight, renew the run's key, say when nothing comes."""
        backend = self.app.backend
        renewed = 0.0
        while not self.stop.is_set():
            now = time.monotonic()
            try:
                if now - renewed > HEARTBEAT:
                    self.redis.set(RUN_PREFIX + self.run, "1", ex=RUN_TTL)
                    renewed = now
                with self.lock:
                    ids = list(self.pending)
                metas = self.redis.mget([backend.get_key_for_task(t) for t in ids]) if ids else []
                for task_id, meta in zip(ids, metas):
                    if meta is not None:
                        self._finished(task_id, json.loads(meta))
                if ids and time.monotonic() - self.last_news > 120:
                    self.last_news = time.monotonic()
                    print(f"waiting for the workers: {len(ids)} jobs sent, none finished for two minutes "
                          f"(is a worker running? python -m autograder worker --broker {shown(self.broker.url)})",
                          file=sys.stderr, flush=True)
            except Exception as exc:   # the broker went away for a moment: keep waiting
                print(f"the broker {shown(self.broker.url)}: {type(exc).__name__}: {exc}; retrying",
                      file=sys.stderr, flush=True)
                self.stop.wait(2.0)
            self.stop.wait(0.1)

    def _finished(self, task_id, meta):
        status = meta.get("status")
        if status not in ("SUCCESS", "FAILURE"):
            return
        with self.lock:
            entry = self.pending.pop(task_id, None)
        with contextlib.suppress(Exception):
            self.redis.delete(self.app.backend.get_key_for_task(task_id))
        if entry is None:
            return
        future, job, key = entry
        self.last_news = time.monotonic()
        value = meta.get("result")
        if status == "FAILURE" or not isinstance(value, dict):
            why = value.get("exc_message") if isinstance(value, dict) else value
            answer = {"worker": "a worker", "result": {"seconds": 0.0, "problems": [], "findings": [],
                                                       "records": [], "machinery": f"the task failed: {why}"}}
        elif value.get("abandoned"):
            answer = {"worker": value.get("worker"), "result": {
                "seconds": 0.0, "problems": [], "findings": [], "records": [],
                "machinery": "the worker found no sign of this run in the broker (was the broker restarted?)"}}
        elif value.get("stored"):
            answer = self._stored(key) or {"worker": value.get("worker"), "result": {
                "seconds": 0.0, "problems": [], "findings": [], "records": [],
                "machinery": "the worker's result is no longer in the broker"}}
        else:
            answer = value
        self._deliver(future, job, answer)


# ---------------------------------------------------------------------------------------
# the worker


class WorkerContext:
    """What one worker (a `python -m autograder worker`) keeps between its jobs, on its own disk."""

    def __init__(self, url, scratch, name, jobs):
        self.url = url
        self.scratch = Path(scratch)
        self.jobs = Path(jobs)     # short, for the kernel's sockets: a Unix socket's path has 107 bytes at most
        self.name = name
        self._redis = None
        self._pid = None

    @property
    def redis(self):
        if self._pid != os.getpid():     # one connection per process of the worker's pool
            self._redis, self._pid = redis_client(self.url), os.getpid()
        return self._redis

    @contextlib.contextmanager
    def locked(self, name):
        path = self.scratch / "locks" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def sealed(self, assignment, rnnkit):
        """This worker's sealed rnnkit for ``assignment`` (seal.build), built once."""
        from . import seal

        if assignment not in seal.SEALED:
            return None
        folder = self.scratch / "sealed" / f"{assignment}-{rnnkit[:16]}"
        with self.locked(f"seal-{assignment}"):
            if not (folder / "complete").exists():
                path = seal.build(assignment, folder)
                (folder / "complete").write_text(str(path))
        return folder / "rnnkit"


_CONTEXT = None
_SLOT = 0


def _machinery(why):
    return {"seconds": 0.0, "problems": [], "findings": [], "records": [], "machinery": why}


def _task(self, payload):
    """The Celery task: grade one job of the payload (see worker_grade)."""
    return worker_grade(_CONTEXT, payload)


def worker_grade(ctx, payload):
    """Run one job on this worker; returns a small dict, the result itself is stored under its key."""
    run = payload["run"]
    key = run["key"]
    stored = ctx.redis.get(RESULT_PREFIX + key)
    if stored is not None and (not payload.get("fresh") or json.loads(stored).get("run_id") == payload.get("run_id")):
        return {"stored": True, "worker": ctx.name}     # graded before: not run twice
    if not ctx.redis.exists(RUN_PREFIX + str(payload.get("run_id"))):
        return {"abandoned": True, "worker": ctx.name}  # its coordinator is gone; a rerun sends it again
    try:
        mine = package_digest()
        if run.get("rnnkit") != mine:
            return {"worker": ctx.name, "result": _machinery(
                f"this worker's rnnkit ({mine[:12]}) differs from the coordinator's ({str(run.get('rnnkit'))[:12]}): "
                "bring the worker's checkout to the coordinator's commit")}
        if payload.get("canary"):
            why = worker_canary(ctx, run, payload["canary"])
            if why:
                return {"worker": ctx.name, "result": _machinery(f"this worker failed its canary: {why}")}
        answer = _cached_run(ctx, run, reuse=False)
    except Exception as exc:
        return {"worker": ctx.name, "result": _machinery(f"the worker failed: {type(exc).__name__}: {exc}")}
    if answer["result"].get("machinery"):
        return answer
    ctx.redis.set(RESULT_PREFIX + key, json.dumps(dict(answer, run_id=payload.get("run_id"))), ex=RESULT_TTL)
    return {"stored": True, "worker": ctx.name}


def _cached_run(ctx, run, reuse=True):
    """A run's answer; a run of the canary is kept on this worker's disk, and taken from there
    (``reuse``) when the worker's own canary needs it again."""
    path = ctx.scratch / "runs" / f"{run['key']}.json"
    if reuse and path.exists():
        with contextlib.suppress(ValueError, OSError):
            return json.loads(path.read_text())
    answer = execute_run(ctx, run)
    if run["student"] in CANARY_WHO and not answer["result"].get("machinery"):
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        partial.write_text(json.dumps(answer))
        os.replace(partial, path)
    return answer


def worker_canary(ctx, run, pair):
    """None when this worker grades the notebook's solution fully and its release at zero, else why."""
    import nbformat

    from . import canary

    verdict = ctx.scratch / "canary" / f"{_digest([pair['solution']['key'], pair['release']['key']])}.json"
    with ctx.locked(verdict.name):
        if verdict.exists():
            return json.loads(verdict.read_text())["why"]
        runs = {}
        for who in ("solution", "release"):
            answer = _cached_run(ctx, pair[who])
            nb = nbformat.reads(_unb64(answer["executed"]).decode("utf-8"), as_version=4) \
                if answer.get("executed") else None
            runs[who] = (nb, answer["result"])
        try:
            canary.judge(run["assignment"], run["notebook"], runs["solution"], runs["release"])
            why = None
        except canary.CanaryFailed as exc:
            why = str(exc)
        machinery = any(result.get("machinery") for _, result in runs.values())
        if not machinery:   # a failure of the moment is tried again with the next job
            verdict.parent.mkdir(parents=True, exist_ok=True)
            partial = verdict.with_name(verdict.name + ".partial")
            partial.write_text(json.dumps({"why": why}))
            os.replace(partial, verdict)
        return why


def _safe_relative(name):
    path = Path(name)
    return not path.is_absolute() and path.parts and all(p not in ("", ".", "..") for p in path.parts)


def execute_run(ctx, run):
    """Execute one sanitized notebook in this worker's sandbox: the job rebuilt from its data on
    this worker's disk, then run by grading._run, as a local worker process runs it."""
    from traitlets.config import Config

    from . import grading
    from .sandbox import Limits

    folder = Path(tempfile.mkdtemp(prefix="job-", dir=ctx.jobs))
    try:
        job = grading.Job(run["student"], run["assignment"], run["notebook"], folder / "sanitized.ipynb",
                          folder / "executed.ipynb", folder / "scratch")
        work = job.scratch / "work"
        work.mkdir(parents=True)
        for name, data in sorted(run["work"].items()):
            if not _safe_relative(name):
                return {"worker": ctx.name, "result": _machinery(f"a work file with the path {name!r}")}
            (work / name).parent.mkdir(parents=True, exist_ok=True)
            (work / name).write_bytes(_unb64(data))
        job.sanitized.write_bytes(_unb64(run["sanitized"]))
        if run.get("source"):
            job.source = folder / "source.ipynb"
            job.source.write_bytes(_unb64(run["source"]))
        job.sealed = ctx.sealed(run["assignment"], run["rnnkit"])
        grading._SLOT = _SLOT    # this process's sandbox uid (sandbox.slot_uid leases one per process)
        result = grading._run(job, Limits(**run["limits"]), True, Config(run["config"]))
        return {"worker": ctx.name, "result": result,
                "executed": _b64(job.executed.read_bytes()) if job.executed.exists() else None}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _die_with_parent(**_):
    """A process of the worker's pool ends when the worker does, even one killed with SIGKILL."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL)    # PR_SET_PDEATHSIG
    if os.getppid() == 1:
        os._exit(1)


def run_worker(url, concurrency=1, scratch=None, name=None, visibility_timeout=VISIBILITY_TIMEOUT, log=print):
    """Serve the broker's grading jobs until stopped; ``url`` already checked, the sandbox too."""
    from celery.signals import worker_process_init

    from .grading import RunFolder

    global _CONTEXT
    host = socket.gethostname()
    name = name if name and "@" in name else f"{name}@{host}" if name else f"autograder-{os.getpid()}@{host}"
    own = scratch is None
    scratch = Path(scratch or tempfile.mkdtemp(prefix="autograder-worker-"))
    scratch.mkdir(parents=True, exist_ok=True)
    os.chmod(scratch, 0o700)
    worker_process_init.connect(_die_with_parent, weak=False)
    app = celery_app(url, visibility_timeout)
    # the sandbox needs root (each kernel gets its own uid); the tasks are JSON, never pickles
    warnings.filterwarnings("ignore", message="You're running the worker with superuser privileges")
    log(f"worker {name}: {concurrency} kernel{'s' * (concurrency != 1)} at once, sandboxed, files in {scratch}; "
        f"broker {shown(url)}; each assignment's canary is graded here before its first submission")
    try:
        # the jobs' folders: locked while this worker lives, removed by the next run on this
        # machine if it is killed (grading.RunFolder)
        with RunFolder() as jobs:
            _CONTEXT = WorkerContext(url, scratch, name, jobs)
            app.worker_main(["worker", f"--hostname={name}", f"--concurrency={concurrency}", "--pool=prefork",
                             "--loglevel=WARNING", f"--queues={QUEUE}", "--without-gossip", "--without-mingle",
                             "--without-heartbeat", "-O", "fair"])
    finally:
        if own:
            shutil.rmtree(scratch, ignore_errors=True)
    return 0


__all__ = ["Broker", "BrokerUnavailable", "broker_url", "check_broker", "run_worker", "worker_grade"]
