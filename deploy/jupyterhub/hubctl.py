"""The course on a JupyterHub: set it up, add accounts, start it, steer grading on submit.

    hubctl.py build-env [--venv DIR]                            the users' Python environment
    hubctl.py setup [--ip IP] [--port N] [--auth shared|pam]   the deployment folder, groups, exchange
    hubctl.py add-student NAME ...                              Unix accounts in the students' group
    hubctl.py add-instructor NAME ...                           Unix accounts in the instructors' group
    hubctl.py remove-user NAME ...                              delete accounts and their home folders
    hubctl.py start                                             run JupyterHub (root; make hub does all)
    hubctl.py autograde on|off ASSIGNMENT                       grading on submit, per assignment
    hubctl.py regrade ASSIGNMENT [--student S ...]              grade again, feedback released again
    hubctl.py status                                            what the grading service has done

Everything lives in one deployment folder, --dir or $HUB_DIR (default /srv/rnn-course-hub):

    hub.json         the deployment's settings (course id, groups, address, authenticator)
    course/          the course root (root:<instructors>, 2770): solutions/, course/ (the release),
                     autograder/ (nbgrader_config.py, the gradebook, submitted/, autograded/, feedback/)
    exchange/        nbgrader's exchange; exchange/<course_id>/inbound cannot be listed by students
    data/            the course's data files (rnnkit reads them through RNNKIT_DATA)
    etc/student/     Jupyter configuration of the students' servers (Assignment List, no formgrader)
    etc/instructor/  Jupyter configuration of the instructors' servers (the course's nbgrader_config.py)
    hub/ secrets/ service/   JupyterHub's database, its secrets, the grading service's state (root only)

The users' servers and kernels run from their own Python environment (--venv, default
/opt/rnn-course-hub/venv), built by build-env from a Python every account can execute,
with the course's packages and a copy of rnnkit: the project's .venv may sit where only
root can read (a clone in /root). The hub, nbgrader's collect and the grader run as root
from the project's environment.

setup, add-*, remove-user and start need root; autograde and regrade can be run by an instructor.
"""
import argparse
import grp
import hashlib
import json
import os
import pwd
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
DEFAULT_DIR = "/srv/rnn-course-hub"
DEFAULT_VENV = "/opt/rnn-course-hub/venv"
PROXY = HERE / "node" / "node_modules" / ".bin" / "configurable-http-proxy"
THREADS = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

HUB_BLOCK = """
# --- The course on JupyterHub (written by deploy/jupyterhub/hubctl.py setup) ---
# nbgrader's exchange of this deployment; files in the course root are shared by the
# instructors' group, so nbgrader makes what it writes group-writable.
c.Exchange.root = {exchange!r}
c.CourseDirectory.groupshared = True
"""

STUDENT_NBGRADER = """\
# nbgrader in a student's JupyterLab on the course's hub: the Assignment List fetches
# from and submits to this exchange. Written by deploy/jupyterhub/hubctl.py setup.
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = {course_id!r}
c.Exchange.root = {exchange!r}
"""

INSTRUCTOR_NBGRADER = """\
# nbgrader in an instructor's JupyterLab on the course's hub: the course's own
# configuration, which names the course root, the gradebook and the exchange.
# Written by deploy/jupyterhub/hubctl.py setup.
c = get_config()  # noqa: F821
load_subconfig({config!r})  # noqa: F821
"""

# No news or update checks over the network in anyone's JupyterLab.
QUIET_LAB = {"LabApp": {"news_url": None,
                        "check_for_updates_class": "jupyterlab.handlers.announcements.NeverCheckForUpdate"}}
# Students get the Assignment List and Validate; the formgrader, the course list and the
# assignment creator are the instructors'.
STUDENT_SERVER = {**QUIET_LAB, "ServerApp": {"jpserver_extensions": {
    "nbgrader.server_extensions.formgrader": False,
    "nbgrader.server_extensions.course_list": False}}}
STUDENT_LAB = {"disabledExtensions": {
    "@jupyter/nbgrader:formgrader": True,
    "@jupyter/nbgrader:course-list": True,
    "@jupyter/nbgrader:create-assignment": True}}


# ---------------------------------------------------------------------------------------
# the deployment's settings


class Hub:
    """The deployment folder and its settings (hub.json)."""

    def __init__(self, folder):
        self.dir = Path(folder).resolve()
        self.settings_file = self.dir / "hub.json"

    @property
    def settings(self):
        if not self.settings_file.exists():
            raise SystemExit(f"{self.dir} is not set up: run `hubctl.py setup` first (as root)")
        return json.loads(self.settings_file.read_text())

    # where things are
    course = property(lambda self: self.dir / "course")
    exchange = property(lambda self: self.dir / "exchange")
    config = property(lambda self: self.dir / "course" / "autograder" / "nbgrader_config.py")
    autograde_file = property(lambda self: self.dir / "course" / "autograder" / "autograde.json")
    requests = property(lambda self: self.dir / "course" / "autograder" / "regrade-requests")
    service = property(lambda self: self.dir / "service")
    secrets = property(lambda self: self.dir / "secrets")

    @property
    def inbound(self):
        return self.exchange / self.settings["course_id"] / "inbound"

    def python(self):
        return self.settings["python"]

    def members(self, role):
        """Unix accounts in the students' or the instructors' group (supplementary or primary)."""
        name = self.settings[f"{role}_group"]
        try:
            group = grp.getgrnam(name)
        except KeyError:
            return []
        users = set(group.gr_mem)
        users.update(p.pw_name for p in pwd.getpwall() if p.pw_gid == group.gr_gid)
        return sorted(users)

    def autograde_off(self):
        try:
            return set(json.loads(self.autograde_file.read_text()).get("off", []))
        except (OSError, ValueError):
            return set()

    def assignments(self):
        source = self.course / "solutions"
        return sorted(p.name for p in source.iterdir() if p.is_dir()) if source.is_dir() else []

    def env(self):
        """The environment of nbgrader and the grader: the project's venv first on PATH."""
        env = dict(os.environ)
        bindir = str(Path(self.python()).parent)
        env["PATH"] = bindir + os.pathsep + env.get("PATH", "/usr/bin:/bin")
        env.update(THREADS)
        return env


def hub_from(args):
    return Hub(args.dir or os.environ.get("HUB_DIR") or DEFAULT_DIR)


def need_root(what):
    if os.geteuid() != 0:
        raise SystemExit(f"{what} needs root: the hub spawns each user's server as that user, "
                         "and grading sandboxes every kernel under its own uid")


def run(cmd, **kwargs):
    return subprocess.run(cmd, check=True, **kwargs)


def chown(path, group, mode):
    os.chown(path, 0, grp.getgrnam(group).gr_gid)
    os.chmod(path, mode)


def write(path, text, mode=0o644):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.chmod(path, mode)


# ---------------------------------------------------------------------------------------
# setup


def world_executable(path):
    """True if every account can run ``path``: o+x on it and on every folder above it."""
    path = Path(os.path.realpath(path))
    return all(os.stat(p).st_mode & 0o001 for p in [path, *path.parents])


def digest(*paths):
    h = hashlib.sha256()
    for root in paths:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            if "__pycache__" not in path.parts:
                h.update(str(path.relative_to(REPO)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def requirements_digest():
    """What the users' packages come from: rnnkit's dependencies and its course and hub extras
    in pyproject.toml (the test extra and the rest of the file may change freely)."""
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    extras = project.get("optional-dependencies", {})
    wanted = {"python": sys.version_info[:2], "dependencies": project.get("dependencies", []),
              "course": extras.get("course", []), "hub": extras.get("hub", [])}
    return hashlib.sha256(json.dumps(wanted, sort_keys=True).encode()).hexdigest()


def build_env(venv, base_python=None):
    """The users' environment at ``venv``: the course's packages, rebuilt when their
    requirements change, and a copy of rnnkit, reinstalled (without its dependencies) when
    its files change. One build at a time (a lock beside the environment)."""
    import fcntl

    venv = Path(venv)
    venv.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(venv.parent, 0o755)
    with open(venv.parent / f".{venv.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _build_env(venv, base_python)


def _build_env(venv, base_python):
    packages, rnnkit = venv / ".rnn-course-packages", venv / ".rnn-course-rnnkit"
    wanted, code = requirements_digest(), digest(REPO / "rnnkit")
    fresh = packages.exists() and packages.read_text().strip() == wanted
    if fresh and rnnkit.exists() and rnnkit.read_text().strip() == code:
        return venv
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    old = os.umask(0o022)
    # pip builds from a copy, so that the work tree gets no build/ folder
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src"
        shutil.copytree(REPO, src, ignore=shutil.ignore_patterns(
            ".git", ".venv", "node", "build", "test-artifacts", "*.ipynb", "data", "benchmarks", "__pycache__"))
        try:
            if not fresh:
                candidates = ([base_python] if base_python else
                              [os.path.realpath(sys._base_executable), "/usr/bin/python3"])
                python = next((c for c in candidates if c and os.path.exists(c) and world_executable(c)), None)
                if python is None:
                    raise SystemExit(f"no Python that every account can run among {candidates}: install "
                                     "Debian's python3 and python3-venv (tools/system-deps.sh)")
                if venv.exists():
                    shutil.rmtree(venv)
                venv.parent.mkdir(parents=True, exist_ok=True)
                os.chmod(venv.parent, 0o755)
                print(f"building the users' environment in {venv} from {python}")
                run([python, "-m", "venv", str(venv)])
                run(pip + [f"{src}[course,hub]"])
                packages.write_text(wanted + "\n")
            else:
                run(pip + ["--no-deps", "--force-reinstall", str(src)])
            rnnkit.write_text(code + "\n")
        finally:
            os.umask(old)
    return venv


def cmd_build_env(args):
    need_root("build-env")
    build_env(args.venv or DEFAULT_VENV, args.python)
    print(f"the users' environment {args.venv or DEFAULT_VENV} is up to date")
    return 0


def cmd_setup(args):
    need_root("setup")
    hub = hub_from(args)
    hub.dir.mkdir(parents=True, exist_ok=True)
    os.chmod(hub.dir, 0o755)
    old = json.loads(hub.settings_file.read_text()) if hub.settings_file.exists() else {}
    prefix = args.group_prefix or old.get("group_prefix", "rnn")
    settings = {
        "course_id": args.course_id or old.get("course_id") or course_id_of(REPO / "autograder" / "nbgrader_config.py"),
        "group_prefix": prefix,
        "students_group": f"{prefix}-students",
        "instructors_group": f"{prefix}-instructors",
        "ip": args.ip or old.get("ip", "127.0.0.1"),
        "port": args.port or old.get("port", 8000),
        "api_port": args.api_port or old.get("api_port", 8001),
        "hub_port": args.hub_port or old.get("hub_port", 8081),
        "auth": args.auth or old.get("auth", "shared"),
        "workers": args.workers or old.get("workers", 2),
        "max_batch": args.max_batch or old.get("max_batch", 10),
        "repo": str(REPO),
        "python": sys.executable,
        "venv": str(Path(args.venv or old.get("venv", DEFAULT_VENV)).resolve()),
    }
    if not (Path(settings["venv"]) / "bin" / "jupyterhub-singleuser").exists():
        raise SystemExit(f"the users' environment {settings['venv']} is missing: run `hubctl.py build-env` first")
    if settings["auth"] == "shared" and settings["ip"] not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("the shared-password authenticator lets anyone with the password log in as any "
                         "student: it listens on loopback only. Use --auth pam to serve other machines.")
    write(hub.settings_file, json.dumps(settings, indent=2) + "\n")
    for role in ("students", "instructors"):
        if subprocess.run(["getent", "group", settings[f"{role}_group"]], stdout=subprocess.DEVNULL).returncode:
            run(["groupadd", settings[f"{role}_group"]])
    instructors = settings["instructors_group"]

    # the course root: solutions and release copied in once, then the instructors' own
    course = hub.course
    course.mkdir(exist_ok=True)
    chown(course, instructors, 0o2770)
    for folder in ("solutions", "course"):
        if not (course / folder).exists():
            shutil.copytree(REPO / folder, course / folder, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    autograder = course / "autograder"
    autograder.mkdir(exist_ok=True)
    if not hub.config.exists():
        text = (REPO / "autograder" / "nbgrader_config.py").read_text()
        write(hub.config, text + HUB_BLOCK.format(exchange=str(hub.exchange)), 0o664)
    if not hub.autograde_file.exists():
        write(hub.autograde_file, json.dumps({"off": []}) + "\n", 0o664)
    hub.requests.mkdir(exist_ok=True)
    for path, dirs, files in os.walk(course):
        os.chown(path, 0, grp.getgrnam(instructors).gr_gid)
        os.chmod(path, 0o2770 if Path(path) == course else 0o2775)
        for name in files:
            os.chown(os.path.join(path, name), 0, grp.getgrnam(instructors).gr_gid)
            os.chmod(os.path.join(path, name), 0o664)
    register_assignments(hub)

    # nbgrader's exchange: anyone may write at the top (nbgrader checks 777), the course's
    # inbound can be written by students but listed only by the instructors and root,
    # feedback is reached by its secret file name only.
    exchange = hub.exchange
    exchange.mkdir(exist_ok=True)
    chown(exchange, instructors, 0o3777)
    top = exchange / settings["course_id"]
    for path, mode in ((top, 0o2775), (top / "outbound", 0o2775), (top / "inbound", 0o2773),
                       (top / "feedback", 0o2771)):
        path.mkdir(exist_ok=True)
        chown(path, instructors, mode)

    # the course's data files, which rnnkit finds through RNNKIT_DATA
    shutil.copytree(REPO / "data", hub.dir / "data", dirs_exist_ok=True)
    for path, dirs, files in os.walk(hub.dir / "data"):
        os.chmod(path, 0o755)
        for name in files:
            os.chmod(os.path.join(path, name), 0o644)

    # the Jupyter configuration of each role's servers
    etc = hub.dir / "etc"
    write(etc / "student" / "nbgrader_config.py",
          STUDENT_NBGRADER.format(course_id=settings["course_id"], exchange=str(exchange)))
    write(etc / "student" / "jupyter_server_config.json", json.dumps(STUDENT_SERVER, indent=2))
    write(etc / "student" / "labconfig" / "page_config.json", json.dumps(STUDENT_LAB, indent=2))
    write(etc / "instructor" / "nbgrader_config.py", INSTRUCTOR_NBGRADER.format(config=str(hub.config)))
    write(etc / "instructor" / "jupyter_server_config.json", json.dumps(QUIET_LAB, indent=2))

    # root's own: the hub's database, its secrets, the grading service's state
    for folder in (hub.dir / "hub", hub.secrets, hub.service):
        folder.mkdir(exist_ok=True)
        os.chmod(folder, 0o700)
    token = hub.secrets / "proxy-token"
    if not token.exists():
        write(token, secrets.token_hex(32), 0o600)
    password = hub.secrets / "shared-password"
    if settings["auth"] == "shared" and not password.exists():
        write(password, secrets.token_urlsafe(12), 0o600)
    print(f"set up {hub.dir}: course {settings['course_id']!r}, groups {settings['students_group']} and "
          f"{instructors}, authenticator {settings['auth']!r}, http://{settings['ip']}:{settings['port']}/")
    return 0


def course_id_of(config_path):
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader(config_path.name, path=str(config_path.parent)).load_config()
    return config.CourseDirectory.course_id


def gradebook(hub):
    """nbgrader's Gradebook of the deployment's course."""
    from nbgrader.api import Gradebook
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader(hub.config.name, path=str(hub.config.parent)).load_config()
    coursedir = CourseDirectory(config=config)
    bindir = str(Path(hub.python()).parent)  # nbgrader runs alembic when it creates a gradebook
    os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
    return Gradebook(coursedir.db_url, coursedir.course_id)


def register_assignments(hub):
    """The assignments in the gradebook, so that the formgrader can release them."""
    old = os.umask(0o002)
    try:
        with gradebook(hub) as gb:
            for name in hub.assignments():
                gb.update_or_create_assignment(name)
    finally:
        os.umask(old)
    db = hub.course / "autograder" / "gradebook.db"
    os.chown(db, 0, grp.getgrnam(hub.settings["instructors_group"]).gr_gid)
    os.chmod(db, 0o660)


# ---------------------------------------------------------------------------------------
# accounts


def add_users(args, role):
    need_root(f"add-{role[:-1]}")
    hub = hub_from(args)
    group = hub.settings[f"{role}_group"]
    for name in args.names:
        try:
            pwd.getpwnam(name)
            run(["usermod", "--append", "--groups", group, name])
        except KeyError:
            run(["useradd", "--create-home", "--shell", "/bin/bash", "--groups", group, name])
        home = Path(pwd.getpwnam(name).pw_dir)
        os.chmod(home, 0o700)  # no one else reads a student's work
        print(f"{role[:-1]} {name}: Unix account in group {group}, home {home}")
    if role == "students":
        old = os.umask(0o002)
        try:
            with gradebook(hub) as gb:
                for name in args.names:
                    gb.update_or_create_student(name)
        finally:
            os.umask(old)
    if hub.settings["auth"] == "pam":
        print("set each password with `passwd NAME` (the hub logs users in through PAM)")
    return 0


def cmd_remove_user(args):
    need_root("remove-user")
    for name in args.names:
        try:
            pwd.getpwnam(name)
        except KeyError:
            print(f"{name}: no such account")
            continue
        run(["userdel", "--remove", name], stderr=subprocess.DEVNULL)
        print(f"{name}: account and home folder removed (grades stay in the gradebook)")
    return 0


# ---------------------------------------------------------------------------------------
# running


def cmd_start(args):
    need_root("start")
    hub = hub_from(args)
    settings = hub.settings
    if not PROXY.exists():
        raise SystemExit(f"configurable-http-proxy is missing: run `npm ci --prefix {PROXY.parents[2]}` "
                         "(make hub does it)")
    env = hub.env()
    env["HUB_DIR"] = str(hub.dir)
    env["PATH"] = str(PROXY.parent) + os.pathsep + env["PATH"]
    url = f"http://{settings['ip']}:{settings['port']}/"
    print(f"JupyterHub of course {settings['course_id']!r} at {url}")
    if settings["auth"] == "shared":
        print(f"log in as any account of {settings['students_group']} or {settings['instructors_group']} with "
              f"the password in {hub.secrets / 'shared-password'}")
    sys.stdout.flush()
    jupyterhub = Path(hub.python()).parent / "jupyterhub"
    os.chdir(hub.dir / "hub")
    os.execve(str(jupyterhub), [str(jupyterhub), "-f", str(HERE / "jupyterhub_config.py")], env)


def cmd_autograde(args):
    hub = hub_from(args)
    if args.assignment not in hub.assignments():
        raise SystemExit(f"no assignment {args.assignment!r} in {hub.course / 'solutions'}")
    off = hub.autograde_off()
    (off.discard if args.state == "on" else off.add)(args.assignment)
    tmp = hub.autograde_file.with_suffix(".tmp")
    tmp.write_text(json.dumps({"off": sorted(off)}) + "\n")
    os.chmod(tmp, 0o664)  # the other instructors change it too
    os.replace(tmp, hub.autograde_file)
    print(f"grading on submit is {args.state} for {args.assignment}")
    return 0


def cmd_regrade(args):
    """Ask the grading service (root, sandboxed) to grade again; wait for it unless --no-wait."""
    hub = hub_from(args)
    if args.assignment not in hub.assignments():
        raise SystemExit(f"no assignment {args.assignment!r} in {hub.course / 'solutions'}")
    name = f"{time.time():.6f}-{secrets.token_hex(4)}.json"
    request = {"assignment": args.assignment, "students": args.student or [], "by": pwd.getpwuid(os.getuid()).pw_name}
    tmp = hub.requests / f".{name}"
    tmp.write_text(json.dumps(request))
    os.chmod(tmp, 0o664)
    os.replace(tmp, hub.requests / name)
    who = ", ".join(args.student) if args.student else "every student who submitted"
    print(f"regrade of {args.assignment} for {who} queued")
    if args.no_wait:
        return 0
    done = hub.requests / "done" / name
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        if done.exists():
            result = json.loads(done.read_text())
            print(result["message"])
            return 0 if result["ok"] else 1
        time.sleep(0.5)
    print(f"the grading service has not answered within {args.timeout} s; is the hub running?", file=sys.stderr)
    return 1


def cmd_status(args):
    hub = hub_from(args)
    events = hub.service / "events.jsonl"
    if not os.access(events, os.R_OK):
        raise SystemExit(f"cannot read {events} (root only)")
    counts = {}
    for line in events.read_text().splitlines():
        event = json.loads(line)
        counts[event["event"]] = counts.get(event["event"], 0) + 1
    print(json.dumps(counts, indent=2))
    print(f"grading on submit is off for: {', '.join(sorted(hub.autograde_off())) or 'no assignment'}")
    return 0


def parser():
    p = argparse.ArgumentParser(prog="hubctl.py", description=__doc__.split("\n\n")[0],
                                epilog=__doc__.split("\n\n", 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dir", help=f"the deployment folder (default: $HUB_DIR or {DEFAULT_DIR})")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    b = sub.add_parser("build-env", help="build or update the users' Python environment")
    b.add_argument("--venv", help=f"where (default: {DEFAULT_VENV})")
    b.add_argument("--python", help="the Python to build it from (default: this one if every account can run "
                   "it, else /usr/bin/python3)")
    b.set_defaults(run=cmd_build_env)
    s = sub.add_parser("setup", help="create or update the deployment folder, the groups and the exchange")
    s.add_argument("--venv", help=f"the users' environment, made by build-env (default: {DEFAULT_VENV})")
    s.add_argument("--course-id", help="nbgrader's course id (default: the course's nbgrader_config.py)")
    s.add_argument("--group-prefix", help="Unix groups PREFIX-students and PREFIX-instructors (default: rnn)")
    s.add_argument("--ip", help="address the hub listens on (default: 127.0.0.1)")
    s.add_argument("--port", type=int, help="the hub's public port (default: 8000)")
    s.add_argument("--api-port", type=int, help="the proxy's API port on 127.0.0.1 (default: 8001)")
    s.add_argument("--hub-port", type=int, help="the hub's internal port on 127.0.0.1 (default: 8081)")
    s.add_argument("--auth", choices=["shared", "pam"],
                   help="shared: one password, loopback only (demonstration, tests); pam: the accounts' own passwords")
    s.add_argument("--workers", type=int, help="kernels at once when grading on submit (default: 2)")
    s.add_argument("--max-batch", type=int, help="students graded together on submit, at most (default: 10)")
    s.set_defaults(run=cmd_setup)
    for role in ("students", "instructors"):
        a = sub.add_parser(f"add-{role[:-1]}", help=f"create Unix accounts in the {role}' group")
        a.add_argument("names", nargs="+")
        a.set_defaults(run=lambda args, role=role: add_users(args, role))
    r = sub.add_parser("remove-user", help="delete Unix accounts and their home folders")
    r.add_argument("names", nargs="+")
    r.set_defaults(run=cmd_remove_user)
    sub.add_parser("start", help="run JupyterHub in the foreground").set_defaults(run=cmd_start)
    a = sub.add_parser("autograde", help="turn grading on submit on or off for an assignment")
    a.add_argument("state", choices=["on", "off"])
    a.add_argument("assignment")
    a.set_defaults(run=cmd_autograde)
    g = sub.add_parser("regrade", help="grade an assignment again and release its feedback again")
    g.add_argument("assignment")
    g.add_argument("--student", action="append", help="only this student (repeatable)")
    g.add_argument("--no-wait", action="store_true", help="queue the request and return")
    g.add_argument("--timeout", type=float, default=1800, help="seconds to wait (default: %(default)s)")
    g.set_defaults(run=cmd_regrade)
    sub.add_parser("status", help="counts of the grading service's events").set_defaults(run=cmd_status)
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
