# JupyterHub configuration of the course. `hubctl.py start` (and so `make hub`) runs
#
#     jupyterhub -f deploy/jupyterhub/jupyterhub_config.py
#
# as root, with HUB_DIR naming the deployment folder that `hubctl.py setup` made; its
# hub.json holds the settings read here (address, ports, groups, authenticator).
#
# - Each user's JupyterLab runs as that user's own Unix account (LocalProcessSpawner),
#   from the users' environment (settings "venv", made by `hubctl.py build-env`). Students start in their home folder (mode
#   700) with the Assignment List; instructors start in the course root with the
#   formgrader, and nbgrader reads the course's nbgrader_config.py.
# - Who may log in: the members of the students' and the instructors' Unix groups.
#   auth "pam": each account's own password (a real deployment; put TLS in front, or
#   set c.JupyterHub.ssl_cert and ssl_key). auth "shared": one password for every account,
#   on loopback only (the demonstration and the tests).
# - The grading service ("autograde") is started, and restarted if it exits, by the hub.
import grp
import json
import os
import pwd
from pathlib import Path

from jupyterhub.authenticators.shared import SharedPasswordAuthenticator
from jupyterhub.spawner import LocalProcessSpawner

HERE = Path(__file__).resolve().parent
HUB_DIR = Path(os.environ["HUB_DIR"])
settings = json.loads((HUB_DIR / "hub.json").read_text())
USERS_BIN = Path(settings["venv"]) / "bin"          # the users' environment (hubctl.py build-env)
ROOT_BIN = Path(settings["python"]).parent           # the project's, for the grading service
STUDENTS, INSTRUCTORS = settings["students_group"], settings["instructors_group"]
THREADS = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

c = get_config()  # noqa: F821


def members(group_name):
    try:
        group = grp.getgrnam(group_name)
    except KeyError:
        return set()
    users = set(group.gr_mem)
    users.update(p.pw_name for p in pwd.getpwall() if p.pw_gid == group.gr_gid)
    return users


def in_course(username):
    """Looked up at every login, so that accounts added while the hub runs can log in."""
    return username in members(STUDENTS) or username in members(INSTRUCTORS)


# --- the address, the proxy, the hub's own state -------------------------------------------------
c.JupyterHub.bind_url = f"http://{settings['ip']}:{settings['port']}"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = settings["hub_port"]
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{settings['api_port']}"
c.ConfigurableHTTPProxy.command = [str(HERE / "node" / "node_modules" / ".bin" / "configurable-http-proxy")]
c.ConfigurableHTTPProxy.auth_token = (HUB_DIR / "secrets" / "proxy-token").read_text().strip()
c.ConfigurableHTTPProxy.pid_file = str(HUB_DIR / "hub" / "proxy.pid")
c.JupyterHub.db_url = f"sqlite:///{HUB_DIR / 'hub' / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(HUB_DIR / "secrets" / "cookie-secret")
c.JupyterHub.pid_file = str(HUB_DIR / "hub" / "jupyterhub.pid")
c.JupyterHub.cleanup_servers = True  # stopping the hub stops the users' servers (their files stay)
c.JupyterHub.load_groups = {
    "students": {"users": sorted(members(STUDENTS))},
    "instructors": {"users": sorted(members(INSTRUCTORS))},
}

# --- who logs in ----------------------------------------------------------------------------
if settings["auth"] == "pam":
    c.JupyterHub.authenticator_class = "pam"
    c.PAMAuthenticator.allowed_groups = {STUDENTS, INSTRUCTORS}
    c.PAMAuthenticator.open_sessions = False
else:
    class CourseSharedPasswordAuthenticator(SharedPasswordAuthenticator):
        """One password for the course's accounts (loopback only): the demonstration and the tests."""

        def check_allowed(self, username, authentication=None):
            return in_course(username)

    if settings["ip"] not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("the shared password authenticator serves loopback only; set up with --auth pam")
    c.JupyterHub.authenticator_class = CourseSharedPasswordAuthenticator
    c.SharedPasswordAuthenticator.user_password = (HUB_DIR / "secrets" / "shared-password").read_text().strip()
    c.Authenticator.allow_all = False

# --- each user's JupyterLab, as that user ---------------------------------------------------


class CourseSpawner(LocalProcessSpawner):
    """LocalProcessSpawner with umask 002: what an instructor writes in the course root
    (setgid, group the instructors) stays writable by the other instructors."""

    def make_preexec_fn(self, name):
        setuid = super().make_preexec_fn(name)

        def preexec():
            setuid()
            os.umask(0o002)

        return preexec


def per_role(spawner):
    name = spawner.user.name
    instructor = name in members(INSTRUCTORS)
    role = "instructor" if instructor else "student"
    spawner.environment = {
        **THREADS,
        "PATH": f"{USERS_BIN}{os.pathsep}/usr/local/bin:/usr/bin:/bin",
        # nbgrader and JupyterLab read this role's configuration first
        "JUPYTER_CONFIG_PATH": str(HUB_DIR / "etc" / role),
        "RNNKIT_DATA": str(HUB_DIR / "data"),
    }
    spawner.notebook_dir = str(HUB_DIR / "course") if instructor else pwd.getpwnam(name).pw_dir


c.JupyterHub.spawner_class = CourseSpawner
c.Spawner.pre_spawn_hook = per_role
c.Spawner.cmd = [str(USERS_BIN / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120

# --- grading on submit ------------------------------------------------------------------------
c.JupyterHub.services = [{
    "name": "autograde",
    "command": [settings["python"], str(HERE / "grading_service.py"), "--dir", str(HUB_DIR)],
    "cwd": settings["repo"],
    "environment": {**THREADS, "HUB_DIR": str(HUB_DIR),
                    "PATH": f"{ROOT_BIN}{os.pathsep}/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
}]
