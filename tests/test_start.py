"""Starting `fwgraph serve` as an operator does (issue 20): a restart right after traffic, `--host` given as a name,
a damaged on-disk store. Real servers on loopback, started and stopped by each test."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import requests

from tests.server import ROOT, dist, free_port, server, spawn, stop_group, wait_for_sparql

TIME_WAIT = "06"  # the state column of /proc/net/tcp


def _start(port: int, *options: str, dist_dir: Path | None = None) -> tuple[subprocess.Popen, Path]:
    log = Path(tempfile.mkstemp(prefix="fwgraph-start-", suffix=".log")[1])
    with log.open("wb") as out:
        process = spawn([sys.executable, "-m", "fwgraph", "serve", "--port", str(port), "--workers", "1",
                         "--dist", str(dist_dir or dist()), *options], stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    return process, log


def _stop(process: subprocess.Popen) -> None:
    stop_group(process, grace=20)


def _time_wait_on(port: int) -> bool:
    """Whether a TCP connection whose local port is ``port`` (the server's side) is in TIME-WAIT."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == TIME_WAIT:
                return True
    return False


def test_a_restart_right_after_traffic_listens_at_once():
    """The server closed connections (``Connection: close``), so its side of them waits in TIME-WAIT for a minute;
    the start check bound its probe without SO_REUSEADDR and refused the restart ("address already in use")."""
    port = free_port()
    first, log = _start(port)
    try:
        wait_for_sparql(f"http://127.0.0.1:{port}/sparql", first, log, 90)
        for _ in range(3):
            assert requests.get(f"http://127.0.0.1:{port}/healthz", headers={"Connection": "close"},
                                timeout=10).status_code == 200
    finally:
        _stop(first)
    assert _time_wait_on(port), "the test needs the server's side of a closed connection in TIME-WAIT"
    second, log = _start(port)
    try:
        wait_for_sparql(f"http://127.0.0.1:{port}/sparql", second, log, 90)
    finally:
        _stop(second)


def test_host_localhost_listens_on_loopback():
    """``--host localhost`` reached Granian as a name, which takes only addresses: a traceback, exit 1."""
    srv = server("--host", "localhost", "--workers", "1")  # waits until http://127.0.0.1:PORT/sparql answers
    assert requests.get(srv.url + "healthz", timeout=10).status_code == 200
    assert "beyond loopback" not in srv.log.read_text()


def test_a_host_that_does_not_resolve_is_a_clear_error():
    result = subprocess.run([sys.executable, "-m", "fwgraph", "serve", "--port", str(free_port()), "--dist",
                             str(dist()), "--host", "no-such-host.invalid"],
                            capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: cannot listen on no-such-host.invalid:")
    assert "Traceback" not in result.stderr


def _wait_for_health(url: str, process: subprocess.Popen, log: Path, seconds: float = 90) -> None:
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            if requests.get(url + "healthz", timeout=5).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"no answer within {seconds} s:\n{log.read_text()}")


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize("damage", ["table", "manifest"])
def test_a_damaged_on_disk_store_is_rebuilt_at_start(tmp_path, damage):
    """A truncated table made every query 503 while /healthz said 200; a truncated manifest opened as an empty
    store, so every query answered, with no data. The start now checks the store against the dump."""
    import shutil

    copy = tmp_path / "dist"
    shutil.copytree(dist(), copy)
    store = copy / "fwgraph.oxigraph"
    if damage == "table":
        _truncate(max(store.glob("*.sst"), key=lambda p: p.stat().st_size))
    else:
        _truncate(next(store.glob("MANIFEST-*")))
    triples = (copy / "fwgraph.nt").read_bytes().count(b"\n")
    port = free_port()
    process, log = _start(port, "--engine-store", "disk", dist_dir=copy)
    try:
        url = f"http://127.0.0.1:{port}/"
        _wait_for_health(url, process, log)
        answer = requests.get(url + "sparql", params={"query": "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"},
                              headers={"Accept": "application/sparql-results+json"}, timeout=30)
        assert answer.status_code == 200, answer.text
        assert int(answer.json()["results"]["bindings"][0]["n"]["value"]) == triples
    finally:
        _stop(process)
    assert "fwgraph.oxigraph is damaged" in log.read_text() and "rebuilt" in log.read_text()


def test_a_default_start_prints_no_warning():
    """Issue 26: on a default install Granian warned at every start that 8 threads are many for 2 cores; the default
    number of threads (config.threads) stays within its bound. The server starts with no option but its port."""
    port = free_port()
    out = Path(tempfile.mkstemp(prefix="fwgraph-start-", suffix=".out")[1])
    err = Path(tempfile.mkstemp(prefix="fwgraph-start-", suffix=".err")[1])
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = spawn([sys.executable, "-m", "fwgraph", "serve", "--port", str(port), "--dist", str(dist())],
                        stdout=stdout, stderr=stderr, cwd=ROOT, env=_environ())
    try:
        wait_for_sparql(f"http://127.0.0.1:{port}/sparql", process, out, 90)
        printed = out.read_text() + err.read_text()  # the start; a stop on a loaded machine may warn of a slow worker
    finally:
        stop_group(process)
    assert "Listening at" in printed, printed  # Granian's log is there to be read
    assert "WARNING" not in printed.upper(), printed


def test_stopping_a_server_stops_its_web_and_query_workers():
    """Issue 26: the suite stopped a server by its main process alone; a main process killed after the grace left
    its web and query workers running. A test server leads a process group, and the whole group is stopped."""
    srv = server("--engine-store", "disk", "--workers", "2")
    group = _group(srv.process.pid)
    assert len(group) >= 4, group  # the main process, two web processes and their query workers
    srv.stop()
    assert not _group(srv.process.pid), _group(srv.process.pid)


def _group(pgid: int) -> list[int]:
    """The live processes of process group ``pgid``."""
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                members.append(int(entry.name))
    return members


def _environ() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("FWGRAPH_")}


def test_a_server_stops_when_the_test_process_that_started_it_is_killed():
    """Issue 26: pytest-xdist's controller kills a worker that has not exited 10 s after the run (execnet's
    group.terminate); a server it had started (stopped only by an atexit handler, up to 10 s per server) was left
    running, reparented to init. The kernel now tells a
    test server (PR_SET_PDEATHSIG) when its test process dies, and the server stops with its workers."""
    port = free_port()
    script = ("import subprocess, sys, time\n"
              f"sys.path.insert(0, {str(ROOT)!r})\n"
              "from tests.server import spawn\n"
              f"process = spawn([sys.executable, '-m', 'fwgraph', 'serve', '--port', '{port}', '--workers', '1',"
              f" '--dist', {str(dist())!r}], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
              "print(process.pid, flush=True)\n"
              "time.sleep(600)\n")
    tester = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=ROOT,
                              env=_environ())
    try:
        assert tester.stdout is not None
        leader = int(tester.stdout.readline())
        wait_for_sparql(f"http://127.0.0.1:{port}/sparql", tester, Path(os.devnull), 90)
        assert len(_group(leader)) >= 2, _group(leader)  # the server and its workers
    finally:
        tester.kill()  # as the controller kills a worker
        tester.wait(timeout=10)
    deadline = time.monotonic() + 60  # a bound on the graceful stop, not a measurement
    while _group(leader) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = _group(leader)
    for pid in left:  # the test leaves nothing behind, whatever it finds
        os.kill(pid, signal.SIGKILL)
    assert not left, left


def test_a_web_process_is_warm_before_it_takes_requests():
    """What pages build once per process from whole-graph queries (the finder's grid and search index, the
    reconciliation index, the extension table) is built by the factory Granian calls before the process accepts
    connections: the soak's first requests paid for it, and /healthz waited behind them (p99 of 15 s)."""
    from fwgraph.core.settings import Settings
    from fwgraph.server import warm
    from fwgraph.service import Service

    service = Service.load(Settings(dist_dir=str(dist()), query_workers=0))
    assert not service._built
    warm(service)
    assert {"catalogue", "reconcile", "extension"} <= set(service._built)
