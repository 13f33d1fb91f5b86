"""The sandbox a student's kernel runs in: bubblewrap, an unprivileged uid and rlimits.

A submission's code runs in an IPython kernel started as

    bwrap --unshare-net --unshare-pid ... --die-with-parent ...  (namespaces and mounts)
      setpriv --reuid U --regid U --no-new-privs --bounding-set -all   (its own uid, no capabilities)
        prlimit --as --cpu --nproc --fsize --nofile --core             (resource limits)
          python -m ipykernel_launcher -f <scratch>/kernel.json

Inside, the kernel sees a read-only system (/usr, the Python installation, the virtual
environment, the rnnkit package), a private /tmp, and one writable folder: its scratch,
which holds the notebook's working directory and the kernel's connection file and
sockets (the kernel talks over Unix sockets, since it has no network). It does not see
the course root: not solutions/, the gradebook, other submissions or the instructor's home.

The uid matters as much as the mounts: RLIMIT_NPROC is counted per real uid and is not
enforced for root, so each worker slot runs its kernels under its own uid, which is what
bounds a fork bomb. The uid is leased (slot_uid) from BASE_UID upwards with a lock file
under /run/autograder-uids that the worker holds for its life, so that two grading runs
on one machine never share a uid and one class's fork bomb cannot starve another's.
"""
import dataclasses
import fcntl
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager

BASE_UID = 61000
UID_COUNT = 1000                       # the uids leased are BASE_UID ... BASE_UID + UID_COUNT - 1
UID_LOCKS = Path("/run/autograder-uids")

MiB = 1024 * 1024


@dataclasses.dataclass(frozen=True)
class Limits:
    """Resource limits of one notebook's kernel.

    memory: address space of each process, bytes (RLIMIT_AS)
    cpu_seconds: CPU time of each process (RLIMIT_CPU)
    processes: processes and threads of the sandbox's uid (RLIMIT_NPROC)
    file_size: largest file the kernel may write, bytes (RLIMIT_FSIZE)
    output_bytes: text and data a notebook may send back, all cells together
    cell_timeout: seconds a cell may run (nbgrader's Execute.timeout)
    notebook_timeout: seconds of wall clock for the whole notebook, kernel start included
    """
    memory: int = 4096 * MiB
    cpu_seconds: int = 600
    processes: int = 128
    file_size: int = 64 * MiB
    output_bytes: int = 8 * MiB
    cell_timeout: int = 120
    notebook_timeout: int = 900

    def prlimit_args(self):
        return [f"--as={self.memory}", f"--cpu={self.cpu_seconds}", f"--nproc={self.processes}",
                f"--fsize={self.file_size}", "--nofile=256", "--core=0"]


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create namespaces on this machine."""


def check_available():
    """Raise SandboxUnavailable naming what is missing; return the bwrap path otherwise."""
    missing = [tool for tool in ("bwrap", "setpriv", "prlimit") if shutil.which(tool) is None]
    if missing:
        raise SandboxUnavailable(
            f"{', '.join(missing)} not found: install the Debian packages bubblewrap and util-linux "
            "(`make system-deps` does it as root)")
    if os.geteuid() != 0:
        raise SandboxUnavailable(
            "the sandbox switches each worker to its own unprivileged uid, which needs root "
            "(run the grading as root, e.g. in the course's grading container)")
    probe = subprocess.run(
        _wrap(["/bin/true"], scratch=None, limits=Limits(), uid=slot_uid("probe"), cwd="/"),
        capture_output=True, text=True, timeout=30)
    if probe.returncode != 0:
        raise SandboxUnavailable(f"bwrap cannot create its namespaces here: {probe.stderr.strip()}")
    return shutil.which("bwrap")


def _python_roots():
    """Directories the kernel needs to read: the interpreter, the venv, rnnkit's source."""
    roots = {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve()}
    spec = importlib.util.find_spec("rnnkit")
    if spec is not None and spec.origin:
        package = Path(spec.origin).resolve().parent
        if not any(package.is_relative_to(root) for root in roots):
            roots.add(package)
    # a root inside another needs no mount of its own
    return sorted(r for r in roots if not any(r != o and r.is_relative_to(o) for o in roots))


SYSTEM_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
ETC_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/localtime", "/etc/nsswitch.conf",
             "/etc/fonts", "/etc/matplotlibrc", "/etc/alternatives")


def _rnnkit_package():
    spec = importlib.util.find_spec("rnnkit")
    return Path(spec.origin).resolve().parent if spec is not None and spec.origin else None


def course_data():
    """The course's data folder (rnnkit.datasets), which the notebooks read; None if there is none."""
    try:
        from rnnkit.datasets import data_dir

        return data_dir().resolve()
    except (ImportError, FileNotFoundError):
        return None


def _mounts(scratch, sealed=None, rpc=None):
    args = ["--ro-bind", "/usr", "/usr"]
    for path in SYSTEM_LINKS:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    # bwrap would create /etc 0700, which the sandbox's uid cannot cross to reach these
    args += ["--perms", "0755", "--dir", "/etc"]
    for path in ETC_FILES:
        if os.path.exists(path):
            args += ["--ro-bind", path, path]
    args += ["--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--tmpfs", "/tmp"]
    roots = _python_roots()
    binds = [("--ro-bind", root) for root in roots]
    data = course_data()
    if data is not None and not any(data.is_relative_to(root) for root in roots):
        binds.append(("--ro-bind", data))
    if scratch is not None:
        # same path inside and out, so that the connection file's socket paths agree
        binds.append(("--bind", Path(scratch)))
    if rpc is not None:
        binds.append(("--ro-bind", Path(rpc)))   # where the grader listens for the calls (remote.py)
    parents = sorted({str(p) for _, path in binds for p in path.parents if str(p) not in ("/", "/tmp")},
                     key=len)
    for parent in parents:
        # bwrap would create them 0700, which the sandbox's uid cannot cross
        args += ["--perms", "0755", "--dir", parent]
    for kind, path in binds:
        args += [kind, str(path), str(path)]
    if sealed is not None:
        # the sealed copy of rnnkit (seal.py) hides the real package and its source
        args += ["--ro-bind", str(sealed), str(_rnnkit_package())]
    return args


def environment(scratch, sealed=None):
    """The kernel's whole environment: nothing of the instructor's is passed through.

    sealed: the sealed copy of rnnkit, put first on PYTHONPATH (for --no-sandbox, where
    it cannot be mounted over the real package).
    """
    home = Path(scratch) / "home" if scratch else Path("/tmp")
    extra = {"PYTHONPATH": str(Path(sealed).parent)} if sealed is not None else {}
    data = course_data()
    if data is not None:
        extra["RNNKIT_DATA"] = str(data)
    return {
        **extra,
        "HOME": str(home),
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "NBGRADER_EXECUTION": "autograde",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": str(home / ".matplotlib"),
        "IPYTHONDIR": str(home / ".ipython"),
        "JUPYTER_PLATFORM_DIRS": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }


def _wrap(argv, scratch, limits, uid, cwd, sealed=None, rpc=None):
    env = []
    for key, value in environment(scratch).items():
        env += ["--setenv", key, value]
    # bwrap starts as root, so that it can mount what only root may read (a Python under
    # /root, say); the command then drops to the slot's uid and every capability before
    # the limits apply and the student's code starts.
    return (["bwrap", "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
             "--unshare-cgroup-try", "--die-with-parent", "--new-session", "--hostname", "grader",
             "--clearenv", *env, *_mounts(scratch, sealed, rpc), "--chdir", str(cwd), "--",
             "setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--no-new-privs",
             "--inh-caps=-all", "--bounding-set=-all",
             "prlimit", *limits.prlimit_args(), "--", *argv])


_LEASES = {}    # slot -> (uid, the open lock file) of this process


def slot_uid(slot):
    """The uid of worker ``slot`` of this process, leased for the life of the process.

    The first uid from BASE_UID up whose lock file no process holds: the lease is an
    exclusive flock on /run/autograder-uids/<uid>.lock (the temporary folder when /run
    is not writable), which the kernel releases when the process ends, however it ends.
    """
    if slot not in _LEASES:
        locks = UID_LOCKS if os.access(UID_LOCKS.parent, os.W_OK) else Path(tempfile.gettempdir()) / UID_LOCKS.name
        locks.mkdir(mode=0o700, exist_ok=True)
        for uid in range(BASE_UID, BASE_UID + UID_COUNT):
            fd = os.open(locks / f"{uid}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            _LEASES[slot] = (uid, fd)
            break
        else:
            raise SandboxUnavailable(f"all {UID_COUNT} sandbox uids from {BASE_UID} are leased by other "
                                     "grading runs on this machine")
    return _LEASES[slot][0]


def sandboxed(argv, scratch, limits, slot, cwd, sealed=None, rpc=None):
    """``argv`` wrapped so that it runs inside the sandbox of worker ``slot``, with rnnkit ``sealed``."""
    return _wrap(argv, scratch, limits, slot_uid(slot), cwd, sealed, rpc)


def prepare_scratch(scratch, slot):
    """Give the sandbox's uid its scratch folder (and nothing else)."""
    scratch = Path(scratch)
    (scratch / "home").mkdir(parents=True, exist_ok=True)
    uid = slot_uid(slot)
    for path in [scratch, *scratch.rglob("*")]:
        os.chown(path, uid, uid, follow_symlinks=False)
    return scratch


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel starts inside the sandbox, reached over Unix sockets.

    ``sandbox`` is a dict with scratch, limits, slot and cwd; None runs the kernel
    unconfined (the --no-sandbox mode) with the same environment otherwise.
    """

    def __init__(self, sandbox=None, sealed=None, **kwargs):
        super().__init__(**kwargs)
        self.sandbox = sandbox
        self.sealed = sealed

    def format_kernel_cmd(self, extra_arguments=None):
        argv = super().format_kernel_cmd(extra_arguments)
        if self.sandbox is None:
            return argv
        # the kernel spec names "python"; run the very interpreter of this environment
        if argv and os.path.basename(argv[0]).startswith("python"):
            argv[0] = sys.executable
        # signals do not cross into the sandbox's session: interrupt over the control channel
        self.kernel_spec.interrupt_mode = "message"
        s = self.sandbox
        return sandboxed(argv, s["scratch"], s["limits"], s["slot"], s["cwd"], s.get("sealed"), s.get("rpc"))

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        # the kernel's own chatter (its banner, a crash's traceback) is not the student's output
        kw["stdout"] = kw["stderr"] = subprocess.DEVNULL
        kw["env"] = environment(self.sandbox["scratch"] if self.sandbox else None,
                                None if self.sandbox else self.sealed)
        if self.sandbox is not None:
            uid = slot_uid(self.sandbox["slot"])
            os.chown(self.connection_file, uid, uid)
        if self.sandbox is None:
            kw["env"]["PATH"] = os.environ.get("PATH", kw["env"]["PATH"])
        return await super()._async_launch_kernel(kernel_cmd, **kw)
