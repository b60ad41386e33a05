"""Regression tests for issue 8: requests that crashed, froze or exhausted the public server.

Each test sends what an attacker sent (and variants of it) to a real `fwgraph serve` subprocess on
loopback, or drives the library function the attack reached, and checks that the answer is a clear
4xx and that the server keeps serving.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest
import requests

from tests.server import server

# Queries whose parse or evaluation recursed past a server thread's stack (SIGSEGV of the whole server).
NESTED = {
    "parens-2000": "ASK{FILTER(" + "(" * 2000 + "1" + ")" * 2000 + ")}",
    "braces-1500": "ASK" + "{" * 1500 + "}" * 1500,
    "subqueries-300": "ASK{" + "{SELECT * WHERE " * 300 + "{}" + "}" * 300 + "}",
    "unions-2000": "ASK{" + " UNION ".join(["{?s ?p ?o}"] * 2000) + "}",
    "plus-20000": "ASK{FILTER(" + "+".join(["1"] * 20000) + ")}",
    "minus-20000": "ASK{FILTER(" + "-".join(["1"] * 20000) + ")}",
    "or-9000": "ASK{FILTER(" + "||".join(["true"] * 9000) + ")}",
    "brackets-1500": "ASK{?s <p> " + "[<p> " * 1500 + "1" + "]" * 1500 + "}",
    "escaped-braces-1500": "ASK{" + "\\u007b" * 1500 + "}",
}


@pytest.fixture(scope="module")
def srv():
    return server()


def alive(srv) -> None:
    assert srv.process.poll() is None, "the server process exited"
    assert requests.get(srv.url + "healthz", timeout=5).status_code == 200


@pytest.mark.parametrize("fmt", ["bogus", "json"])
@pytest.mark.parametrize("name", sorted(NESTED))
def test_deep_nesting_is_refused_not_a_crash(srv, name, fmt):
    query = NESTED[name]
    method = requests.get if len(query) < 6000 else requests.post
    kwargs = {"params": {"query": query, "format": fmt}} if method is requests.get else {
        "data": {"query": query, "format": fmt}}
    response = method(srv.sparql, timeout=30, **kwargs)
    assert response.status_code == 400, response.text[:300]
    assert "deeper than" in response.text or "chains more than" in response.text
    alive(srv)


def test_bounded_nesting_still_answers(srv):
    query = "ASK{" + "{" * 60 + "?s ?p ?o" + "}" * 60 + "}"
    response = requests.get(srv.sparql, params={"query": query}, timeout=30)
    assert response.status_code == 200 and response.json()["boolean"] is True


def _runs_within(code: str, seconds: float) -> None:
    """Run ``code`` in a fresh interpreter; fail if it does not finish in time (a regex holding the GIL)."""
    try:
        subprocess.run([sys.executable, "-c", textwrap.dedent(code)], check=True, timeout=seconds,
                       capture_output=True)
    except subprocess.TimeoutExpired:
        pytest.fail(f"did not finish within {seconds} s: exponential or quadratic matching")


@pytest.mark.parametrize("blank", [" ", "\t", "\n", "\r\n"])
def test_prologue_regex_is_linear(blank):
    # 26 blanks and an X took 8.5 s, doubling per blank; 64 KiB of them must take milliseconds.
    _runs_within(f"""
        from fwgraph.data.querycheck import prepare
        for n in (26, 40, 30000):
            try:
                prepare({blank!r} * n + "X")
            except Exception:
                pass
            try:
                prepare("PREFIX a: <x>" + {blank!r} * n + "X")
            except Exception:
                pass
    """, 20)


def test_blank_runs_do_not_freeze_the_server(srv):
    import concurrent.futures

    query = " " * 40 + "X"
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: requests.get(srv.sparql, params={"query": query}, timeout=20),
                                range(4)))
    assert {a.status_code for a in answers} == {400}
    alive(srv)


# ------------------------------------------------------------------------------- lifecycle (items 2, 9, 13)

def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "--ppid", str(pid), "-o", "pid="], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def _web_processes(pid: int) -> list[int]:
    """Granian's web processes: the children of the server process (the query workers are their children)."""
    return [c for c in _children(pid) if "serve" in open(f"/proc/{c}/cmdline").read()]


def test_a_killed_web_process_is_replaced_and_the_others_keep_serving():
    import os
    import signal
    import time

    srv = server("--workers", "2")
    before = _web_processes(srv.process.pid)
    assert len(before) == 2
    os.kill(before[0], signal.SIGKILL)
    _wait_dead(before[0])  # requests start once it is gone: one it accepted while dying could not be answered
    failures = []
    dead = time.monotonic()
    deadline = dead + 30
    while time.monotonic() < deadline:
        try:  # a request the replacement takes may wait while it starts its query workers: not a failure
            status = requests.get(srv.sparql, params={"query": "ASK {}"}, timeout=60).status_code
        except requests.ConnectionError as exc:
            status = repr(exc)
        if status != 200:
            failures.append((time.monotonic() - dead, status))
        if len(set(_web_processes(srv.process.pid)) - set(before)) == 1:
            break
        time.sleep(0.2)
    assert srv.process.poll() is None, "the server exited when one web process died"
    after = _web_processes(srv.process.pid)
    assert len(after) == 2 and before[0] not in after and before[1] in after
    # Granian gives each web process its own SO_REUSEPORT listener: a connection the kernel had routed to the
    # dead process's listener is reset or refused (seen once in about three runs; twice on a loaded CI run, both
    # refused). Nothing else may fail: no HTTP error, at most two such connections, none later than three seconds
    # after the death, and the server answers throughout the replacement.
    lost = [(at, f) for at, f in failures if isinstance(f, str) and ("reset" in f.lower() or "refused" in f)]
    assert len(lost) <= 2 and len(failures) == len(lost) and all(at < 3.0 for at, _ in lost), failures
    alive(srv)


def _wait_dead(pid: int, seconds: float = 10) -> None:
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return
        if state in ("Z", "X"):
            return
        time.sleep(0.01)
    raise AssertionError(f"process {pid} did not die")


def _serve(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    from tests.server import ROOT, free_port

    return subprocess.run([sys.executable, "-m", "fwgraph", "serve", "--port", str(free_port()), *args],
                          capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def test_a_port_in_use_is_an_error(srv):
    from tests.server import ROOT, dist

    port = srv.url.rsplit(":", 1)[1].strip("/")
    result = subprocess.run([sys.executable, "-m", "fwgraph", "serve", "--port", port, "--dist", str(dist())],
                            capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 2
    assert "cannot listen" in result.stderr and "in use" in result.stderr


def test_two_servers_started_at_once_on_one_port_are_one_server():
    """Granian listens with SO_REUSEPORT: two servers started together (each still checking its data when the
    other binds) both listened on the port and shared its requests. Now the second one refuses to start."""
    from tests.server import ROOT, dist, free_port, wait_for_sparql

    port = str(free_port())
    cmd = [sys.executable, "-m", "fwgraph", "serve", "--port", port, "--dist", str(dist())]
    procs = [subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=ROOT)
             for _ in range(2)]
    try:
        deadline = time.monotonic() + 60
        while all(p.poll() is None for p in procs) and time.monotonic() < deadline:
            time.sleep(0.1)
        refused = [p for p in procs if p.poll() is not None]
        assert len(refused) == 1, "both servers kept running on one port"
        assert refused[0].returncode == 2 and "cannot listen" in refused[0].communicate()[1]
        running = next(p for p in procs if p is not refused[0])
        log = Path(tempfile.mkstemp(suffix=".log")[1])
        wait_for_sparql(f"http://127.0.0.1:{port}/sparql", running, log, 60)
        time.sleep(1)
        assert running.poll() is None
    finally:
        for p in procs:
            p.terminate()
            p.wait(timeout=20)


def test_a_port_lock_that_cannot_be_made_is_a_clear_error(tmp_path):
    """The per-user lock folder is in the way (here a file of that name): exit 2 with a message, no traceback."""
    import os

    from tests.server import ROOT, dist, free_port

    (tmp_path / f"fwgraph-{os.getuid()}").write_text("not a folder")
    result = subprocess.run([sys.executable, "-m", "fwgraph", "serve", "--port", str(free_port()), "--dist",
                             str(dist())], capture_output=True, text=True, timeout=60, cwd=ROOT,
                            env={**os.environ, "XDG_RUNTIME_DIR": str(tmp_path)})
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: cannot hold 127.0.0.1:") and "Traceback" not in result.stderr


@pytest.mark.parametrize("damage", ["truncate", "remove", "void"])
def test_a_broken_dist_is_refused_at_start(tmp_path, damage):
    import shutil

    from tests.server import dist

    copy = tmp_path / "dist"
    shutil.copytree(dist(), copy)
    if damage == "truncate":
        data = (copy / "fwgraph.nt").read_bytes()
        (copy / "fwgraph.nt").write_bytes(data[: len(data) // 2])
    elif damage == "remove":
        (copy / "fwgraph.ttl.gz").unlink()
    else:
        (copy / "void.ttl").unlink()
    result = _serve("--dist", str(copy))
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr


def test_rebuild_replaces_the_whole_directory(tmp_path):
    import shutil

    from fwgraph.publish.build import build
    from fwgraph.publish.dist import verify_dist
    from tests.server import dist

    out = tmp_path / "dist"
    shutil.copytree(dist(), out)  # what a first build wrote
    (out / "fwgraph.old.ttl.gz").write_bytes(b"stale")
    build(out)
    assert not (out / "fwgraph.old.ttl.gz").exists()
    verify_dist(out)
    assert [p.name for p in tmp_path.iterdir()] == ["dist"], "a build left a temporary tree behind"


def test_a_killed_build_leaves_the_old_distribution_whole(tmp_path):
    import os
    import shutil
    import signal
    import time

    from fwgraph.publish.dist import verify_dist
    from tests.server import ROOT, dist

    out = tmp_path / "dist"
    shutil.copytree(dist(), out)  # what a first build wrote
    before = (out / "void.ttl").read_bytes()
    for delay in (0.5, 1.5, 3.0):
        proc = subprocess.Popen([sys.executable, "-m", "fwgraph", "build", "--out", str(out)], cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        verify_dist(out)  # old or new, never a mix: every checksum in void.ttl holds
        assert (out / "void.ttl").read_bytes() == before  # same sources, so the same bytes either way


def test_two_processes_starting_on_fresh_sources_build_them_once(tmp_path):
    """`fwgraph serve` without --dist builds the sources into a cache. Two processes starting together used to
    build it both, the second replacing the directory the first had already verified and was serving; now the
    second waits for the first one's build and uses it."""
    import os

    from tests.server import ROOT

    script = ("import os\nfrom fwgraph.service import ensure_dist\n"
              "path = ensure_dist()\nprint(path, os.stat(path).st_ino)\n")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    procs = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, cwd=ROOT, env=env) for _ in range(2)]
    answers = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        answers.append(out.split())
    (path, first), (same_path, second) = answers
    assert path == same_path
    assert first == second == str(os.stat(path).st_ino)  # one build: nobody replaced the directory afterwards


def test_build_refuses_to_replace_a_directory_that_is_not_a_dist(tmp_path):
    from fwgraph.cli import main

    (tmp_path / "notes.txt").write_text("mine")
    assert main(["build", "--out", str(tmp_path)]) == 2
    assert (tmp_path / "notes.txt").read_text() == "mine"


# ------------------------------------------------------------------------------------------ memory (item 5)

def test_result_cache_is_bounded_by_bytes():
    from fwgraph.service import ResultCache
    from fwgraph.store.pool import Answer

    cache = ResultCache(entries=2048, max_bytes=8 * 1024 * 1024, max_entry_bytes=2 * 1024 * 1024)
    for i in range(100):  # 100 distinct queries with 1 MiB answers
        cache.put(("v", f"SELECT {i}", "json"), (Answer(200, "application/json", b"x" * (1 << 20)), f'"{i}"'))
    assert cache.size <= 8 * 1024 * 1024
    assert cache.get(("v", "SELECT 99", "json")) is not None  # the newest stay
    assert cache.get(("v", "SELECT 0", "json")) is None  # the oldest went
    cache.put(("v", "big", "json"), (Answer(200, "application/json", b"x" * (3 << 20)), '"big"'))
    assert cache.get(("v", "big", "json")) is None  # larger than one entry may be: never kept


def test_front_cache_is_bounded_by_bytes():
    from fwgraph.app.frontcache import FrontCache

    def app(environ, start_response):
        size = int(environ["QUERY_STRING"])
        start_response("200 OK", [("Cache-Control", "public"), ("Content-Length", str(size))])
        return [b"x" * size]

    cache = FrontCache(app, entries=2048, max_bytes=4 << 20, max_entry_bytes=1 << 20)
    for i in range(50):
        body = b"".join(cache({"REQUEST_METHOD": "GET", "PATH_INFO": f"/{i}", "QUERY_STRING": str(512 * 1024)},
                              lambda *a: None))
        assert len(body) == 512 * 1024
    assert cache._size <= 4 << 20


def test_the_cache_bound_is_configurable_and_published():
    from fwgraph.core.settings import Settings

    assert Settings().cache_bytes > 0
    assert Settings.from_env({"FWGRAPH_CACHE_BYTES": "1000"}).cache_bytes == 1000


# ------------------------------------------------------------------------------- contributions (items 6, 7, 10)

INJECTION = sorted((Path(__file__).parent / "fixtures" / "injection").glob("*.ttl"))


@pytest.mark.parametrize("path", INJECTION, ids=[p.stem for p in INJECTION])
def test_a_contribution_cannot_switch_validation_off_cli(path):
    from fwgraph.cli import main
    from fwgraph.publish.validation import validate

    report = validate([path])
    assert not report.conforms
    assert any("may not state anything about the vocabulary" in r.message for r in report.violations)
    assert any(str(r.focus_node).endswith("/injected") and "vocabulary" not in r.message
               for r in report.violations), "the framework itself must still be checked by the shapes"
    assert main(["validate", str(path)]) == 1


@pytest.mark.parametrize("path", INJECTION, ids=[p.stem for p in INJECTION])
def test_a_contribution_cannot_switch_validation_off_service(srv, path):
    response = requests.post(srv.url + "validate", data=path.read_bytes(),
                             headers={"Content-Type": "text/turtle"}, timeout=60)
    assert response.status_code == 200, response.text[:300]
    report = response.json()
    assert report["conforms"] is False
    assert any(r["focusNode"].endswith("injected") for r in report["results"])
    turtle = requests.post(srv.url + "validate", data=path.read_bytes(), timeout=60,
                           headers={"Content-Type": "text/turtle", "Accept": "text/turtle"})
    from rdflib import Graph, Literal
    from rdflib.namespace import SH

    graph = Graph().parse(data=turtle.text, format="turtle")
    assert set(graph.objects(None, SH.conforms)) == {Literal(False)}  # the Turtle report says the same
    assert any("vocabulary" in str(m) for m in graph.objects(None, SH.resultMessage))


MALFORMED = {
    "turtle-deep-brackets": ("text/turtle", b"<http://a> <http://p> " + b"[ <http://p> " * 3000 + b"1"
                             + b" ]" * 3000 + b" ."),
    "turtle-deep-lists": ("text/turtle", b"<http://a> <http://p> " + b"( " * 3000 + b")" * 3000 + b" ."),
    "json-deep-arrays": ("application/ld+json", b"[" * 50000 + b"]" * 50000),
    "jsonld-deep-objects": ("application/ld+json", b'{"@id":"http://a","http://p":' + b'{"http://p":' * 3000
                            + b"1" + b"}" * 3000 + b"}"),
    "json-huge-number": ("application/ld+json", b'{"@id": "http://a", "http://p": ' + b"1" * 100000 + b"}"),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_contributions_get_400(srv, name):
    media, body = MALFORMED[name]
    response = requests.post(srv.url + "validate", data=body, headers={"Content-Type": media}, timeout=60)
    assert response.status_code == 400, response.text[:300]
    assert response.json()["message"]
    alive(srv)


def test_nesting_errors_have_a_position():
    from fwgraph.core.errors import InputError
    from fwgraph.data.graph import parse_bytes

    with pytest.raises(InputError) as info:
        parse_bytes(b"<http://a> <http://p>\n" + b"[ <http://p> " * 100 + b"1" + b" ]" * 100 + b" .", "turtle")
    assert info.value.line == 2 and info.value.column is not None


def _big_contribution(n: int) -> bytes:
    lines = ["@prefix fw: <https://w3id.org/fwgraph/ns#> .", "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> ."]
    lines += [f"<https://w3id.org/fwgraph/framework/x{i}> a fw:WebFramework ; rdfs:label \"X{i}\" ." for i in range(n)]
    return "\n".join(lines).encode()


def test_a_contribution_past_the_triple_limit_is_refused(srv):
    response = requests.post(srv.url + "validate", data=_big_contribution(3000),
                             headers={"Content-Type": "text/turtle"}, timeout=60)
    assert response.status_code == 400
    assert "at most 5000" in response.json()["message"]


def test_validation_has_a_time_limit_and_a_concurrency_limit():
    import concurrent.futures

    # no waiting for a slot: a request that finds it taken is refused at once (busy)
    limited = server(env={"FWGRAPH_VALIDATE_TIMEOUT": "0.5", "FWGRAPH_VALIDATE_CONCURRENCY": "1",
                          "FWGRAPH_VALIDATE_WAIT": "0"})
    body = _big_contribution(2400)  # 4,800 triples: seconds of pySHACL work

    def post(_):
        return requests.post(limited.url + "validate", data=body, headers={"Content-Type": "text/turtle"},
                             timeout=60)

    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(post, range(6)))
    assert {a.status_code for a in answers} == {503}
    assert all(int(a.headers["Retry-After"]) >= 1 for a in answers)
    assert any("time limit" in a.json()["message"] for a in answers)
    assert any("busy" in a.json()["message"] for a in answers)
    assert requests.get(limited.sparql, params={"query": "ASK {}"}, timeout=10).status_code == 200


def test_a_client_holds_one_validation_slot_at_a_time():
    from fwgraph.core.errors import ClientBusy, ServiceBusy
    from fwgraph.publish.sandbox import FairQueue

    queue = FairQueue(2)  # no wait: refused at once
    with queue.slot("a"):
        with pytest.raises(ClientBusy):  # a slot is free, but not for a
            with queue.slot("a"):
                pass
        with queue.slot("b"):
            with pytest.raises(ServiceBusy) as busy:  # every slot is taken: the service is busy, not c
                with queue.slot("c"):
                    pass
            assert not isinstance(busy.value, ClientBusy)
    with queue.slot(None), queue.slot(None):  # no share for the anonymous: only the slots count
        pass


def _queued(queue, client: str, order: list[str]):
    """A thread that waits for a slot of ``queue`` for ``client`` and notes when it got one; started, and
    returned once it is waiting."""
    import threading

    waiting = queue.waiting

    def take():
        with queue.slot(client):
            order.append(client)

    thread = threading.Thread(target=take)
    thread.start()
    while queue.waiting == waiting:
        time.sleep(0.01)
    return thread


def test_validation_slots_go_first_come_first_served():
    """The slot used to go to whoever asked the moment it was freed: looping clients always won it."""
    from fwgraph.core.errors import ClientBusy
    from fwgraph.publish.sandbox import FairQueue

    queue, order = FairQueue(1, wait=60), []
    with queue.slot("looper"):
        polite = _queued(queue, "polite", order)
        later = _queued(queue, "other", order)
        with pytest.raises(ClientBusy):  # the polite client has one waiting already
            with queue.slot("polite"):
                pass
    polite.join()
    later.join()
    assert order == ["polite", "other"]


def test_a_looping_client_waits_behind_the_others():
    from fwgraph.publish.sandbox import FairQueue

    queue, order = FairQueue(2, wait=60), []
    with queue.slot("looper"):
        again = _queued(queue, "looper", order)  # a slot is free, but the looper has its share
        with queue.slot("polite"):
            assert order == []
    again.join()
    assert order == ["looper"]


def test_looping_clients_cannot_monopolise_validation():
    """Issue 20: one validation slot per process, taken by whoever asked the moment it was freed: four clients
    looping on /validate left a polite client (one request at a time, waiting as Retry-After says) 0 of 30.
    Now slots go first come, first served, at most one per client: the polite client waits its turn."""
    import threading

    # six bodies at once: room for the polite client's beside the four loopers' (four would be the loopers' alone)
    fair = server(env={"FWGRAPH_WORKERS": "1", "FWGRAPH_VALIDATE_CONCURRENCY": "1", "FWGRAPH_RATE_LIMIT": "0",
                       "FWGRAPH_VALIDATE_WAIT": "60", "FWGRAPH_CLIENT_ADDRESS_HEADER": "X-Forwarded-For",
                       "FWGRAPH_THREADS": "8", "FWGRAPH_BODIES_TOTAL": "6"})
    body = _big_contribution(5)
    stop = threading.Event()
    looped: list[int] = []

    def validate(address: str) -> requests.Response:
        return requests.post(fair.url + "validate", data=body, timeout=120,
                             headers={"Content-Type": "text/turtle", "X-Forwarded-For": address})

    def loop(address: str) -> None:
        while not stop.is_set():
            looped.append(validate(address).status_code)

    loopers = [threading.Thread(target=loop, args=(f"203.0.113.{i}",)) for i in range(1, 5)]
    for thread in loopers:
        thread.start()
    try:
        while len(looped) < 4:  # the loopers have the slot and the queue
            time.sleep(0.1)
        polite = []
        for _ in range(5):
            answer = validate("198.51.100.7")
            polite.append(answer.status_code)
            if answer.status_code != 200:
                time.sleep(int(answer.headers.get("Retry-After", "2")))
    finally:
        stop.set()
        for thread in loopers:
            thread.join()
    assert polite == [200] * 5, (polite, looped)
    assert looped.count(200) >= 4


def test_a_large_report_is_cut_and_flagged(srv):
    broken = "\n".join(["@prefix fw: <https://w3id.org/fwgraph/ns#> ."] + [
        f"<https://w3id.org/fwgraph/framework/b{i}> a fw:WebFramework ." for i in range(60)])
    response = requests.post(srv.url + "validate", data=broken.encode(), headers={"Content-Type": "text/turtle"},
                             timeout=120)
    assert response.status_code == 200
    report = response.json()
    assert report["truncated"] is True and len(report["results"]) == 500
    assert response.headers["X-Fwgraph-Truncated"] == "true"


@pytest.mark.parametrize("path", ["/framework/%", "/framework/fla%zz", "/%", "/framework/flask.%"])
def test_a_stray_percent_in_a_path_is_404(srv, path):
    response = requests.get(srv.url.rstrip("/") + path, timeout=10)
    assert response.status_code == 404


# ----------------------------------------------------------------------------------------- hygiene (item 12)

@pytest.mark.parametrize("path", ["", "framework/flask", "compare", "validate", "ns"])
def test_pages_carry_security_headers(srv, path):
    response = requests.get(srv.url + path, headers={"Accept": "text/html"}, timeout=30)
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"]
    assert "<script>" not in response.text and "<style>" not in response.text  # the policy would block them


def test_html_results_are_sandboxed(srv):
    query = 'SELECT ?x WHERE { BIND("<h1>Official notice</h1>" AS ?x) }'
    response = requests.get(srv.sparql, params={"query": query, "format": "html"}, timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"].startswith("sandbox")
    assert "<h1>Official notice</h1>" not in response.text


def test_head_on_an_uncached_query_matches_get(srv):
    query = f"ASK {{ }} # {__name__} head"
    head = requests.head(srv.sparql, params={"query": query}, timeout=30)
    get = requests.get(srv.sparql, params={"query": query}, timeout=30)
    assert head.status_code == get.status_code == 200
    assert head.headers["Content-Type"] == get.headers["Content-Type"]


# ----------------------------------------------------------------------------------------- rate limits (item 12)

def test_rate_limit_answers_429_with_retry_after():
    limited = server(env={"FWGRAPH_RATE_LIMIT": "30", "FWGRAPH_RATE_BURST": "5", "FWGRAPH_RATE_LIMIT_LOOPBACK": "1",
                          "FWGRAPH_WORKERS": "1"})
    started = time.monotonic()
    answers = [requests.get(limited.sparql, params={"query": f"ASK {{}} # {i}"}, timeout=10) for i in range(12)]
    refill = (time.monotonic() - started) * 30 / 60
    codes = [a.status_code for a in answers]
    # The start-up probe took at least one of the 5 (more when the server answered it "busy" while starting):
    # at most the burst plus what refilled while the 12 were asked is answered, and the rest is refused.
    assert set(codes) <= {200, 429} and 429 in codes and codes.count(200) <= 5 + int(refill) + 1, codes
    refused = answers[codes.index(429)]
    wait = int(refused.headers["Retry-After"])
    assert wait >= 1
    assert refused.headers["Access-Control-Allow-Origin"] == "*"
    assert "rate limit" in refused.json()["message"]
    time.sleep(wait)
    assert requests.get(limited.sparql, params={"query": "ASK {} # after"}, timeout=10).status_code == 200
    assert requests.get(limited.url + "healthz", timeout=10).status_code == 200  # only the expensive routes


def test_loopback_is_exempt_by_default(srv):
    codes = {requests.get(srv.sparql, params={"query": f"ASK {{}} # loop {i}"}, timeout=10).status_code
             for i in range(80)}
    assert codes == {200}


def test_a_proxy_header_names_the_client():
    from fwgraph.app.ratelimit import RateLimit

    calls = []
    limit = RateLimit(lambda e, s: calls.append(e) or [b""], per_minute=60, burst=1, client_header="X-Forwarded-For")
    environ = {"PATH_INFO": "/sparql", "REQUEST_METHOD": "GET", "REMOTE_ADDR": "127.0.0.1"}
    statuses = []
    for client in ("203.0.113.1", "203.0.113.1", "203.0.113.2"):
        limit(dict(environ, HTTP_X_FORWARDED_FOR=f"10.0.0.1, {client}"), lambda s, h: statuses.append(s))
    assert len(calls) == 2 and statuses == ["429 Too Many Requests"]


def _statuses(limit, requests_environ) -> list[str]:
    """The status of each request (200 when the app was called) through the RateLimit middleware ``limit``."""
    statuses: list[str] = []
    for environ in requests_environ:
        statuses.append("200")  # replaced by the refusal's status if the middleware answers itself
        limit(dict({"PATH_INFO": "/sparql", "REQUEST_METHOD": "GET"}, **environ),
              lambda status, headers: statuses.__setitem__(-1, status))
    return statuses


@pytest.mark.parametrize("claimed", ["127.0.0.1", "::1", "127.9.9.9", "::ffff:127.0.0.1", "[::1]"])
@pytest.mark.parametrize("peer", ["203.0.113.50", "127.0.0.1"])
def test_a_proxy_header_cannot_make_a_client_loopback(claimed, peer):
    """Issue 20: with FWGRAPH_CLIENT_ADDRESS_HEADER set, a client that named 127.0.0.1 there (directly, or
    through the proxy on loopback) skipped every per-client limit. An address from the header is never exempt."""
    from fwgraph.app.ratelimit import ClientSlots, RateLimit, client_address

    limit = RateLimit(lambda e, s: [b""], per_minute=60, burst=1, client_header="X-Forwarded-For")
    environ = {"REMOTE_ADDR": peer, "HTTP_X_FORWARDED_FOR": claimed}
    assert _statuses(limit, [environ, environ]) == ["200", "429 Too Many Requests"]
    slots = ClientSlots(1)
    key = client_address(environ, "X-Forwarded-For")
    with slots.slot(key) as first, slots.slot(key) as second:
        assert (first, second) == (True, False)


def test_a_loopback_peer_without_the_header_is_still_exempt():
    from fwgraph.app.ratelimit import RateLimit

    limit = RateLimit(lambda e, s: [b""], per_minute=60, burst=1, client_header="X-Forwarded-For")
    assert _statuses(limit, [{"REMOTE_ADDR": "127.0.0.1"}] * 3) == ["200"] * 3
    assert _statuses(limit, [{"REMOTE_ADDR": "::1"}] * 3) == ["200"] * 3


@pytest.mark.parametrize("header", [None, "X-Forwarded-For"])
def test_ipv6_clients_are_grouped_by_64(header):
    """Issue 20: one IPv6 subscriber holds a /64 (2^64 addresses): each address used to be a client of its own."""
    from fwgraph.app.ratelimit import RateLimit

    limit = RateLimit(lambda e, s: [b""], per_minute=60, burst=1, client_header=header)

    def sent_from(address):
        return {"HTTP_X_FORWARDED_FOR": address, "REMOTE_ADDR": "127.0.0.1"} if header else {"REMOTE_ADDR": address}

    statuses = _statuses(limit, [sent_from(a) for a in (
        "2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:3::1", "203.0.113.7", "203.0.113.8")])
    assert statuses == ["200", "429 Too Many Requests", "200", "200", "200"]


@pytest.mark.parametrize(("environ", "key"), [
    ({"REMOTE_ADDR": "203.0.113.5"}, "203.0.113.5/32"),
    ({"REMOTE_ADDR": "2001:db8:1:2:3:4:5:6"}, "2001:db8:1:2::/64"),
    ({"REMOTE_ADDR": "::ffff:203.0.113.5"}, "203.0.113.5/32"),
    ({"REMOTE_ADDR": "127.0.0.1"}, "127.0.0.1"),
    ({"REMOTE_ADDR": "::1"}, "::1"),
    ({"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "10.0.0.1, 203.0.113.5"}, "203.0.113.5/32"),
    ({"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "127.0.0.1"}, "127.0.0.1/32"),
    ({"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "[2001:db8::1]:443"}, "2001:db8::/64"),
    ({"REMOTE_ADDR": "203.0.113.5", "HTTP_X_FORWARDED_FOR": "not an address"}, "203.0.113.5/32"),
    ({"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "unknown"}, "127.0.0.1/32"),
], ids=["ipv4", "ipv6", "mapped", "loopback", "loopback6", "header", "header-loopback", "header-bracketed",
        "header-garbage", "header-garbage-via-loopback"])
def test_client_keys(environ, key):
    from fwgraph.app.ratelimit import client_address, is_loopback

    assert client_address(environ, "X-Forwarded-For") == key
    assert is_loopback(key) == (key in ("127.0.0.1", "::1"))


# ------------------------------------------------------------------------------------- one answer (item 11)

_ROWS_BY_STORE: dict[str, bytes] = {}


@pytest.mark.parametrize("store", ["memory", "disk"])
def test_every_web_process_gives_the_same_rows(store):
    """Rows ordered by blank nodes, and paging with OFFSET: identical whichever process answers, in memory or
    on disk (blank nodes keep the dump's labels: a per-process random relabelling made answers differ)."""
    multi = server("--workers", "2", "--engine-store", store)
    bodies = set()
    for i in range(24):  # a new connection each time; a distinct comment keeps the caches out of it
        query = (f"SELECT ?v ?f WHERE {{ ?f <https://w3id.org/fwgraph/ns#latestRelease> ?v }} ORDER BY ?v "
                 f"LIMIT 20 OFFSET 10 # {i}")  # ?v are blank nodes: ordered by the store's own labels
        response = requests.get(multi.sparql, params={"query": query}, headers={"Accept": "text/csv"}, timeout=30)
        assert response.status_code == 200
        bodies.add(response.content)
    assert len(bodies) == 1
    _ROWS_BY_STORE[store] = bodies.pop()
    assert len(set(_ROWS_BY_STORE.values())) == 1, "memory and disk stores answer differently"
    assert b"_:c14n" in _ROWS_BY_STORE[store]  # the labels of the downloadable dump


def test_redirects_do_not_repeat_the_host_header(srv):
    response = requests.get(srv.url + "download", headers={"Host": "attacker.example"}, allow_redirects=False,
                            timeout=10)
    assert response.is_redirect
    assert response.headers["Location"] == "/download/"


# --------------------------------------------------------------------------------------------- fairness (item 8)

RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"


def test_one_clients_runaways_do_not_starve_another_client():
    import concurrent.futures
    import time

    fair = server("--timeout", "4", env={"FWGRAPH_CLIENT_ADDRESS_HEADER": "X-Forwarded-For", "FWGRAPH_WORKERS": "1"})

    def runaway(i):
        return requests.get(fair.sparql, params={"query": f"{RUNAWAY} # runaway {i}"}, timeout=30,
                            headers={"X-Forwarded-For": "203.0.113.1"})

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        runaways = [pool.submit(runaway, i) for i in range(4)]
        time.sleep(0.5)
        waits = []
        for i in range(5):  # another client's cheap queries, while the runaways run
            start = time.monotonic()
            cheap = requests.get(fair.sparql, params={"query": f"ASK {{ ?s ?p ?o }} # cheap {i}"}, timeout=30,
                                 headers={"X-Forwarded-For": "198.51.100.7"})
            waits.append(time.monotonic() - start)
            assert cheap.status_code == 200
        answers = [f.result() for f in runaways]
    assert max(waits) < 2.0, waits  # a cheap query takes milliseconds; the runaways run for 4 s
    assert sorted(a.status_code for a in answers) == [503] * 4
    assert sum("already have" in a.json()["message"] for a in answers) == 3  # refused at once, no thread held
    assert all(a.headers["Retry-After"] for a in answers)


# ------------------------------------------------------------------------------------- slow bodies (item 4)

def _slow_sender(url: str, address: str = "203.0.113.9", path: str = "/sparql") -> socket.socket:
    """A client (``address``, by the proxy header) that announces a 1,000-byte body and sends 3 bytes of it."""
    host, port = url.split("//", 1)[1].rstrip("/").split(":")
    sock = socket.create_connection((host, int(port)), timeout=30)
    kind = "text/turtle" if path == "/validate" else "application/sparql-query"
    sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {kind}\r\n"
                 f"X-Forwarded-For: {address}\r\nContent-Length: 1000\r\n\r\nASK".encode())
    return sock


def _refused(socks: list[socket.socket], seconds: float = 2.0, expect: int | None = None) -> int:
    """How many of ``socks`` are answered 503 (refused before their body was read) within ``seconds``
    (sooner once ``expect`` of them are)."""
    import select
    import time

    waiting, refused = list(socks), 0
    deadline = time.monotonic() + seconds
    while waiting and (expect is None or refused < expect) and (left := deadline - time.monotonic()) > 0:
        readable, _, _ = select.select(waiting, [], [], left)
        for sock in readable:
            waiting.remove(sock)
            refused += sock.recv(200).startswith(b"HTTP/1.1 503")
    return refused


def _slow_server(case: str):
    """A server of one web process with six threads (three for bodies) for one slow-sender test alone: the bodies
    another test's senders left being received must not count against this one's (``case`` only tells the
    servers apart)."""
    return server(env={"FWGRAPH_WORKERS": "1", "FWGRAPH_THREADS": "6", "FWGRAPH_BODIES_TOTAL": "3",
                       "FWGRAPH_RATE_LIMIT": "0",
                       "FWGRAPH_CLIENT_ADDRESS_HEADER": "X-Forwarded-For", "FWGRAPH_TEST_CASE": case})


def test_slow_senders_cannot_take_every_thread():
    """Twelve connections of one client (named by a proxy header) trickling their bodies used to hold every
    thread, and nothing else was answered."""
    import time

    slow = _slow_server("one-address")
    socks = [_slow_sender(slow.url) for _ in range(12)]
    try:
        time.sleep(1.0)
        start = time.monotonic()
        answer = requests.post(slow.sparql, data={"query": "ASK { ?s ?p ?o } # while they trickle"}, timeout=20,
                               headers={"X-Forwarded-For": "198.51.100.7"})
        took = time.monotonic() - start
        assert answer.status_code == 200 and took < 5, (answer.status_code, took)
        refused = _refused(socks)  # beyond its two body slots, a slow sender is refused before its body is read
        assert refused >= 12 - 2, refused
    finally:
        for sock in socks:
            sock.close()
    alive(slow)


@pytest.mark.parametrize("path", ["/sparql", "/validate"])
def test_slow_senders_from_many_addresses_leave_threads_for_others(path):
    """Twelve clients at twelve addresses, one trickled body each, used to hold every thread: the per-client
    bound never applied and even /healthz went unanswered. Now only BODIES_TOTAL threads receive bodies."""
    import time

    slow = _slow_server(f"many-addresses-{path}")
    socks = [_slow_sender(slow.url, f"203.0.113.{i}", path) for i in range(1, 13)]
    try:
        # three of the six threads receive bodies; the other senders are refused as they arrive
        assert _refused(socks, seconds=15, expect=12 - 3) == 12 - 3
        for probe in ("/healthz", "/sparql?query=ASK%7B%3Fs%20%3Fp%20%3Fo%7D%23many", "/framework/flask"):
            start = time.monotonic()
            answer = requests.get(slow.url.rstrip("/") + probe, timeout=20, headers={"X-Forwarded-For": "198.51.100.7"})
            took = time.monotonic() - start
            assert answer.status_code == 200 and took < 5, (probe, answer.status_code, took)
        post = requests.post(slow.sparql, data={"query": "ASK { ?s ?p ?o }"}, timeout=20,
                             headers={"X-Forwarded-For": "198.51.100.8"})
        assert post.status_code == 503 and post.headers["Retry-After"] == "1", post.status_code
        assert "request bodies already" in post.json()["message"]
    finally:
        for sock in socks:
            sock.close()
    alive(slow)


# A query that makes pyoxigraph 0.5.13 panic (abort) on the on-disk store of the shipped data: ORDER BY over
# mixed literals ("user-provided comparison function does not correctly implement a total order"). A panic
# takes its process down: it must be a query worker's, answered 503 (the query stopped), never the web process.
ENGINE_PANIC = "SELECT ?s ?o WHERE { ?s ?p ?o } ORDER BY ?o LIMIT 20"


def test_an_engine_crash_costs_a_worker_not_the_service():
    # a generous time limit: the sort that panics takes seconds on a loaded machine, and must reach the panic
    disk = server("--engine-store", "disk", "--timeout", "60", env={"FWGRAPH_WORKERS": "1"})
    for attempt in range(3):  # every attempt costs one worker, replaced at once
        r = requests.get(disk.sparql, params={"query": f"{ENGINE_PANIC} # {attempt}"}, timeout=30)
        assert r.status_code in (200, 503), r.text[:300]
        if r.status_code == 503:
            assert "stopped the worker" in r.json()["message"] and r.headers["Retry-After"]
        ok = requests.get(disk.sparql, params={"query": f"ASK {{ ?s ?p ?o }} # after {attempt}"}, timeout=30)
        assert ok.status_code == 200 and ok.json()["boolean"] is True
    alive(disk)


# Issue 20: queries whose parse alone is unbounded work for pyoxigraph (it plans every form at query(), and
# evaluates ASK eagerly): sent with no acceptable result format, they were parsed in the web process, on one
# thread, with no time limit, and three of them stopped the server (with --store: every query took that path).
HEAVY = {
    "ask-values-cross-product": "ASK { " + " ".join(
        f"VALUES ?v{i} {{ {' '.join(str(n) for n in range(400))} }}" for i in range(4))
    + " FILTER(?v0 + ?v1 + ?v2 + ?v3 < 0) }",
    "select-400-identical-patterns": "SELECT * WHERE { " + " ".join(["?s ?p ?o ."] * 400) + " }",
}
UNACCEPTABLE = {"format-bogus": ({"format": "bogus"}, {}), "turtle-for-select": ({}, {"Accept": "text/turtle"}),
                "image-png": ({}, {"Accept": "image/png"})}


def _heavy_then_cheap(srv, query: str, params: dict[str, str], headers: dict[str, str]) -> list[int]:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(12) as pool:
        heavy = [pool.submit(requests.get, srv.sparql, params={"query": query, **params}, headers=headers,
                             timeout=60) for _ in range(3)]
        time.sleep(0.5)
        cheap = [pool.submit(requests.get, srv.sparql, params={"query": "ASK {}", **params}, headers=headers,
                             timeout=60) for _ in range(8)]
        health = requests.get(srv.url + "healthz", timeout=5)
        assert health.status_code == 200
        statuses = [f.result().status_code for f in heavy + cheap]
    alive(srv)
    assert requests.get(srv.sparql, params={"query": "ASK { ?s ?p ?o }"}, timeout=10).status_code == 200
    return statuses


@pytest.mark.parametrize("how", sorted(UNACCEPTABLE))
@pytest.mark.parametrize("name", sorted(HEAVY))
def test_work_for_an_unacceptable_format_is_bounded(name, how):
    """Each heavy request ends at the time limit (503) or earlier; the cheap ones and /healthz are answered."""
    srv = server("--timeout", "2")
    params, headers = UNACCEPTABLE[how]
    statuses = _heavy_then_cheap(srv, HEAVY[name], params, headers)
    assert set(statuses[:3]) <= {503, 406}, statuses
    assert set(statuses[3:]) <= {406, 503}, statuses


def test_a_service_call_after_a_carriage_return_is_refused_and_makes_no_connection():
    """``# x\\r`` ends a comment for the engine: the SERVICE after it is refused, and nothing connects."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)
    port = listener.getsockname()[1]
    srv = server()
    try:
        for params in ({"format": "bogus"}, {}):
            query = f"ASK {{ # x\rSERVICE <http://127.0.0.1:{port}/internal> {{ ?s ?p ?o }} }}"
            answer = requests.get(srv.sparql, params={"query": query, **params}, timeout=30)
            assert answer.status_code == 400
            assert "SERVICE" in answer.text and "unreachable" not in answer.text.lower()
        with pytest.raises(TimeoutError):
            listener.accept()
    finally:
        listener.close()


# Issue 20: a 2 KB query gave a 1.0 GB answer (REPLACE, CONCAT of long literals within the row cap).
BIG = ("SELECT ?big WHERE { VALUES ?i { " + " ".join(map(str, range(100))) + " } VALUES ?j { "
       + " ".join(map(str, range(100))) + ' } BIND(REPLACE("x", "x", "' + "y" * 1000 + '") AS ?s) '
       "BIND(CONCAT(?s, ?s, ?s, ?s, ?s, ?s, ?s, ?s, ?s, ?s) AS ?big) }")


@pytest.mark.parametrize("fmt", ["json", "xml", "csv", "tsv", "html"])
def test_no_answer_is_longer_than_the_byte_cap(fmt):
    """10,000 rows of 10 KB (100 MB) are cut to the first rows that fit in MAX_ANSWER_BYTES, and say so."""
    cap = 1024 * 1024
    srv = server(env={"FWGRAPH_MAX_ANSWER_BYTES": str(cap)})
    answer = requests.get(srv.sparql, params={"query": BIG, "format": fmt}, timeout=60)
    assert answer.status_code == 200
    assert 0 < len(answer.content) <= cap
    assert answer.headers["X-Fwgraph-Truncated"] == "true"
    assert answer.headers["X-Fwgraph-Max-Bytes"] == str(cap)
    assert answer.content.count(b"y" * 1000) >= 50  # as many whole rows as fit, not an empty answer


def test_a_graph_answer_is_cut_to_the_byte_cap_too():
    cap = 256 * 1024
    srv = server(env={"FWGRAPH_MAX_ANSWER_BYTES": str(cap)})
    query = BIG.replace("SELECT ?big WHERE", "CONSTRUCT { ?x <urn:p> ?big } WHERE").replace(
        "AS ?big) }", 'AS ?big) BIND(IRI(CONCAT("urn:x:", STR(?i), "-", STR(?j))) AS ?x) }')
    answer = requests.get(srv.sparql, params={"query": query}, headers={"Accept": "application/n-triples"},
                          timeout=60)
    assert answer.status_code == 200 and len(answer.content) <= cap
    assert answer.headers["X-Fwgraph-Truncated"] == "true"
