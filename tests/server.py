"""Real `fwgraph serve` subprocesses for the SPARQL protocol tests (no mocks, real HTTP on loopback).

A distribution is built once per session with `fwgraph build`; each distinct set of serve options
gets one server, started on first use and stopped at the end of the test session (conftest's
``no_process_left``), each in its own process group, which is stopped whole.
"""

from __future__ import annotations

import atexit
import ctypes
import hashlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_servers: dict[tuple[str, ...], Server] = {}


@dataclass
class Server:
    url: str  # root, ending in "/"
    process: subprocess.Popen
    log: Path

    @property
    def sparql(self) -> str:
        return self.url + "sparql"

    def stop(self) -> None:
        stop_group(self.process)


def spawn(cmd: list[str], *, parent_death: int = signal.SIGTERM, **options) -> subprocess.Popen:
    """Start ``cmd`` as the leader of a new process group (its web and query workers join the group, so
    :func:`stop_group` stops them all), sent ``parent_death`` by the kernel when the test process dies first."""

    def die_with_parent() -> None:  # in the child, before exec
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, parent_death)  # PR_SET_PDEATHSIG

    return subprocess.Popen(cmd, start_new_session=True, preexec_fn=die_with_parent,  # noqa: PLW1509
                            **options)


def stop_group(process: subprocess.Popen, grace: float = 10) -> None:
    """SIGTERM to the process group ``process`` leads (a server stops its workers), SIGKILL to what is left of
    the group after ``grace`` seconds. A process that spawned none and has exited is only reaped."""
    if process.poll() is None:
        _signal_group(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
    _signal_group(process.pid, signal.SIGKILL)  # workers left behind by a leader that has exited, if any
    process.wait(timeout=10)


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:  # the group is empty
        pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_sparql(endpoint: str, process: subprocess.Popen, log: Path, seconds: float) -> None:
    """Until ``endpoint`` answers an ASK query: RuntimeError with the log if the process exits or time runs out."""
    probe = endpoint + ("&" if "?" in endpoint else "?") + urllib.parse.urlencode({"query": "ASK { ?s ?p ?o }"})
    deadline = time.monotonic() + seconds
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[:3]} exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(probe, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{process.args[:3]} did not answer within {seconds} s:\n{log.read_text()}")
        time.sleep(0.1)


def _build(out: Path) -> None:
    subprocess.run([sys.executable, "-m", "fwgraph", "build", "--out", str(out)], check=True, capture_output=True,
                   cwd=ROOT)


_made: dict[str, Path] = {}


def once_per_run(name: str, make: Callable[[Path], None]) -> Path:
    """The directory ``make(path)`` creates, made once per test run and then read-only.

    The test processes of one parallel run share it: the first to ask makes it in a staging directory and
    renames it into place, the others wait for it to appear whole. Without pytest-xdist it is made in a fresh
    temporary directory.
    """
    if name in _made:
        return _made[name]
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    if not run:
        path = Path(tempfile.mkdtemp(prefix=f"fwgraph-test-{name}-")) / name
        make(path)
        _made[name] = path
        return path
    _made[name] = once_in(Path(tempfile.gettempdir()) / f"fwgraph-test-{name}-{run}", make)
    return _made[name]


def _alive(lock: Path) -> bool:
    """Whether the process named in ``lock`` still runs (True while the file is being written or cannot be read)."""
    try:
        os.kill(int(lock.read_text() or "0") or os.getpid(), 0)
    except ProcessLookupError:
        return False
    except (OSError, ValueError):
        return True
    return True


def once_in(shared: Path, make: Callable[[Path], None]) -> Path:
    """``shared``, made by ``make`` unless it is there: the first process to ask makes it in a staging directory
    beside it and renames it into place; the others wait for it to appear whole."""
    if shared.is_dir():
        return shared
    shared.parent.mkdir(parents=True, exist_ok=True)
    lock = Path(f"{shared}.lock")
    try:
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
    except FileExistsError:  # another test process makes it: wait for the whole directory
        deadline = time.monotonic() + 600
        while not shared.is_dir() and time.monotonic() < deadline:
            if not _alive(lock):  # its maker has gone (a kept build of an interrupted run, failed or not): make it
                lock.unlink(missing_ok=True)  # here; its failure marker was for the processes of its own run
                Path(f"{shared}.failed").unlink(missing_ok=True)
                return once_in(shared, make)
            if Path(f"{shared}.failed").exists():
                break
            time.sleep(0.2)
        if not shared.is_dir():
            raise RuntimeError(f"another test process failed to make {shared}: see its error") from None
        return shared
    try:
        staging = Path(tempfile.mkdtemp(prefix=f"{shared.name}-staging-", dir=shared.parent)) / shared.name
        make(staging)
        staging.rename(shared)
        staging.parent.rmdir()
    except BaseException:
        Path(f"{shared}.failed").touch()
        raise
    return shared


#: A directory where the session's build is kept between runs, keyed by its inputs (the fast loop, README):
#: unset, every run builds afresh.
CACHE = "FWGRAPH_TEST_CACHE"
#: What a build reads: the code that writes it and the sources it is written from.
_BUILD_INPUTS = ("src", "ontology", "data", "releases", "queries", "pyproject.toml")


def _inputs_digest() -> str:
    """A digest of every file a build reads (names and bytes): equal digests, byte-identical builds."""
    h = hashlib.sha256(sys.version.encode())
    for top in _BUILD_INPUTS:
        for path in sorted([ROOT / top] if (ROOT / top).is_file() else (ROOT / top).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                h.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:20]


def dist() -> Path:
    """The session's distribution (read-only), built once per test run with `fwgraph build`; with
    $FWGRAPH_TEST_CACHE, once per content of its inputs (kept in that directory, reused by later runs)."""
    cache = os.environ.get(CACHE)
    if not cache:
        return once_per_run("dist", _build)
    if "dist" not in _made:
        _made["dist"] = once_in(Path(cache).resolve() / f"dist-{_inputs_digest()}", _build)
    return _made["dist"]


def rebuilt() -> Path:
    """A second distribution of the same sources, built by a second `fwgraph build` (read-only)."""
    return once_per_run("rebuilt", _build)


def server(*options: str, env: dict[str, str] | None = None, port: int | None = None,
           dist_dir: Path | None = None) -> Server:
    """A running server with these `serve` options (e.g. "--timeout", "2"), started once.

    "{port}" in an option is replaced by the server's port (for a --base-iri on this server). ``dist_dir``
    serves another distribution than the session's build.
    """
    key = options + tuple(sorted((env or {}).items())) + ((str(dist_dir),) if dist_dir else ())
    if key in _servers and _servers[key].process.poll() is None:
        return _servers[key]
    for attempt in range(3):  # a port picked free may be taken before the server binds it (parallel tests)
        chosen = port or free_port()
        srv = _start(tuple(o.replace("{port}", str(chosen)) for o in options), env, chosen, dist_dir)
        try:
            wait_for_sparql(srv.sparql, srv.process, srv.log, 90)
            break
        except RuntimeError:
            srv.stop()
            if port or attempt == 2 or "cannot listen on" not in srv.log.read_text(errors="replace"):
                raise
        except BaseException:  # the run interrupted (Ctrl-C) while it starts: it is not in ``_servers`` yet
            srv.stop()
            raise
    _servers[key] = srv
    return srv


def _start(options: tuple[str, ...], env: dict[str, str] | None, port: int, dist_dir: Path | None) -> Server:
    cmd = [sys.executable, "-m", "fwgraph", "serve", "--port", str(port), "--dist", str(dist_dir or dist()), *options]
    environ = {k: v for k, v in os.environ.items() if not k.startswith("FWGRAPH_")}
    environ.update(env or {})
    log = Path(tempfile.mkstemp(prefix="fwgraph-sparql-server-", suffix=".log")[1])
    with log.open("wb") as out:
        process = spawn(cmd, stdout=out, stderr=subprocess.STDOUT, env=environ, cwd=ROOT)
    return Server(url=f"http://127.0.0.1:{port}/", process=process, log=log)


#: The ways a suite can run fwgraph: the embedded engine in memory or on disk, or --store in front of a store.
MODES = ["embedded", "disk", "oxigraph", "virtuoso"]


def mode_options(mode: str) -> tuple[str, ...]:
    """Extra `serve` options for a test mode: the embedded engine (in memory, or the on-disk store of the
    build), or --store in front of a real Oxigraph server or Virtuoso (tests/stores.py)."""
    from tests.stores import STORES

    if mode == "disk":
        return ("--engine-store", "disk")
    return ("--store", STORES[mode]().url) if mode in STORES else ()


@atexit.register
def stop_all() -> None:
    """Stop every server started here: at the end of the test session, before pytest-xdist's controller ends the
    worker (it kills a worker that has not exited 10 s after the run; servers still being stopped by an atexit
    handler then, one after another, were left running, reparented to init), and again at exit for a run that
    ended otherwise."""
    while _servers:
        _servers.popitem()[1].stop()
