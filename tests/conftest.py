"""Shared fixtures: the shipped graph loaded once per session, paths to the project's files, and the check that
the test session leaves no process of its own running."""

from __future__ import annotations

import os
import re
import signal
import sys
import time
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"
#: Set in every test process's environment to its own id: each process the suite starts inherits it (servers,
#: stores, their workers, whatever they start in turn, including those reparented to init when a parent dies).
OWNER = "PYTEST_FWGRAPH_OWNER"
#: The suite's `fwgraph build` runs validate in the building process: its parallel tests keep both cores busy,
#: where a second validating process only adds an interpreter's start-up (Settings.validate_beside).
os.environ["FWGRAPH_VALIDATE_BESIDE"] = "0"


#: What in a test module starts something outside the test process: a server, a store, a browser, Apache, git, a
#: second build, any subprocess. Its tests are marked ``system``; ``-m "not system"`` is the fast loop (README).
_SYSTEM = re.compile(r"\bserver\(|\blive_server\b|\btests\.stores\b|\boxigraph_with\b|\bsubprocess\b|\bplaywright\b"
                     r"|\bpytest\.mark\.browser\b|\bapache\b|\brebuilt\b|\bGitRepo\b|\btest_browser\b")


@cache
def _starts_processes(module: Path) -> bool:
    return bool(_SYSTEM.search(module.read_text(encoding="utf-8")))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark ``system`` every test of a module that starts servers, stores, browsers or other processes."""
    for item in items:
        if _starts_processes(Path(item.path)):
            item.add_marker(pytest.mark.system)


def processes_of(owner: str) -> dict[int, str]:
    """Running processes whose environment carries ``OWNER=owner``, other than this one: pid -> command line."""
    found = {}
    marker = f"{OWNER}={owner}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if marker not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            state, parent = (entry / "stat").read_text().rsplit(")", 1)[1].split()[:2]
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:  # exited meanwhile, or not ours to read
            continue
        if int(parent) == os.getpid() and "from multiprocessing." in command:
            continue  # this process's own forkserver and resource tracker: they end with it (their pipe closes)
        if state != "Z":  # a zombie has exited; its parent reaps it
            found[int(entry.name)] = command
    return found


@pytest.fixture(scope="session", autouse=True)
def no_process_left():
    """Fails the session when a process the suite started is still running at its end (issue 26: a `fwgraph
    serve` outlived the run, reparented to init). The servers and stores are stopped first, here, inside the
    session; a process left after that is reported, then killed."""
    owner = f"{os.getpid()}-{time.time_ns()}"
    os.environ[OWNER] = owner
    yield
    for name in ("tests.server", "tests.stores"):
        module = sys.modules.get(name)
        if module is not None:
            module.stop_all()
    deadline = time.monotonic() + 30  # a bound for processes still exiting, not a measurement
    left = processes_of(owner)
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = processes_of(owner)
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert not left, "processes started by the test session still run at its end (now killed):\n" + "\n".join(
        f"{pid}: {command[:200]}" for pid, command in sorted(left.items()))


@pytest.fixture(scope="session")
def graph():
    """The shipped ontology and data (read-only: do not modify)."""
    from fwgraph import load

    return load()


@pytest.fixture(scope="session")
def dist():
    """The distribution built once per test run with `fwgraph build` (read-only: the servers serve it too)."""
    from tests.server import dist

    return dist()


@pytest.fixture(scope="session")
def rebuilt():
    """A second distribution of the same sources, from a second `fwgraph build` (read-only)."""
    from tests.server import rebuilt

    return rebuilt()


class ReadingClient(FlaskClient):
    """A test client that reads every answer whole and closes it, as a server does for its clients.

    Werkzeug's client leaves a streamed answer open until the test reads it; a large answer holds one of its
    client's delivery slots (``BODIES_PER_CLIENT``) until closed, so a test that looked at the status only kept
    the slot, and later tests sharing the session's app met 503 ("sending 2 large answers already").
    """

    def open(self, *args: Any, buffered: bool = True, **kwargs: Any) -> Any:
        return super().open(*args, buffered=buffered, **kwargs)


@pytest.fixture(scope="session")
def app(dist):
    """The Flask app built in-process on the session's distribution (route logic; no server, no worker pool).

    Queries run in a worker pool of one process, so the time limit is real here too; the network guard is
    left off because the test process itself talks to loopback servers. The time limit is 30 s: on a loaded CI
    machine a page's whole-graph queries (the catalogue, the search index) took more than the default 10 s of
    wall time, and a route test met 503; tests of the limit itself start servers with ``--timeout``.
    """
    from fwgraph.app import create_app

    app = create_app({"dist_dir": str(dist), "query_workers": 1, "network_guard": False, "rate_limit": 0, "threads": 8,
                      "cache_entries": 0, "query_timeout": 30.0})
    app.config.update(TESTING=True)
    app.test_client_class = ReadingClient
    yield app
    app.extensions["fwgraph"].engine.close()


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture()
def runner():
    """The `fwgraph` command line, run in-process with click's runner."""
    from click.testing import CliRunner

    from fwgraph.cli import cli

    return lambda *args: CliRunner().invoke(cli, list(args))
