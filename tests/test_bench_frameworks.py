"""bench/run_frameworks.py end to end on two small frameworks (Bottle under gunicorn, Starlette under uvicorn):
real venvs installed from the package index, real servers, real wrk, 1 s and 1 round; the Turtle it writes
validates against the shapes. No figure is asserted (speed never is), only that each was measured and stated."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF

from fwgraph.core.namespace import BASE, FW, QB, RUNS_IRI
from fwgraph.publish.validation import validate

from .conftest import ROOT


def test_wrk_is_installed():
    """The harness's load generator (Debian package wrk, installed by the README's test command): without it
    every test below fails rather than being skipped."""
    assert shutil.which("wrk") is not None, "install wrk (Debian package wrk)"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    work = tmp_path_factory.mktemp("bench-frameworks")
    out = work / "run.ttl"
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "run_frameworks.py"), "--only", "bottle,starlette",
                           "--duration", "1", "--rounds", "1", "--connections", "4", "--work", str(work / "venvs"),
                           "--out", str(out), "--date", "2030-01-01"],
                          capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out, proc.stdout


def test_every_framework_server_and_scenario_is_an_observation(run):
    out, stdout = run
    graph = Graph().parse(out)
    observations = set(graph.subjects(RDF.type, QB.Observation))
    keys = {(str(graph.value(o, FW.benchmarkedPackage)), str(graph.value(o, FW.serverPackage)),
             str(graph.value(o, FW.benchmarkScenario)).rsplit("/", 1)[-1]) for o in observations}
    assert keys == {(f, s, k) for f, s in (("bottle", "gunicorn"), ("starlette", "uvicorn"))
                    for k in ("plaintext", "json", "echo")}
    for o in observations:
        assert graph.value(o, FW.requestsPerSecond).toPython() > 0  # measured: wrk answered something
        assert graph.value(o, FW.errorCount) == Literal(0)
        assert graph.value(o, FW.rounds) == Literal(1)
        # Bottle's recommended server is gunicorn, the common one; Starlette's docs recommend none: one row each
        assert graph.value(o, FW.serverRole) == URIRef(BASE + "server-role/common")
    bottle = URIRef(f"{RUNS_IRI}/2030-01-01/bottle/gunicorn/json")
    assert str(graph.value(bottle, FW.packageVersion)) == "0.13.5"  # the pin of bench/frameworks/frameworks.toml
    assert graph.value(bottle, FW.benchmarkedFramework) == URIRef(BASE + "framework/bottle")
    method = graph.value(bottle, FW.benchmarkMethod)
    assert "logical cores" in str(graph.value(method, FW.machine))
    assert "wrk -t1 -c4 -d1s" in str(graph.value(method, URIRef("http://purl.org/dc/terms/description")))
    assert len(str(graph.value(method, FW.harnessCommit))) >= 40
    assert "0 failure(s)" in stdout


def test_the_run_validates_against_the_shapes(run):
    out, _ = run
    report = validate([out])
    mine = [r for r in report.results if r.severity == "Violation" and r.file and Path(r.file) == out]
    assert not mine, "\n".join(f"{r.focus_node} {r.path}: {r.message}" for r in mine)


def test_an_app_that_answers_wrongly_is_not_measured():
    """check() against a real HTTP server whose JSON is not the expected one: it says what is wrong."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    sys.path.insert(0, str(ROOT / "bench"))
    import run_frameworks

    class Wrong(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the http.server name)
            body = json.dumps({"message": "Hello"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Wrong)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        json_scenario = next(s for s in run_frameworks.SCENARIOS if s.key == "json")
        plain = next(s for s in run_frameworks.SCENARIOS if s.key == "plaintext")
        assert run_frameworks.check(base, json_scenario) == "json: answered {'message': 'Hello'}"
        assert run_frameworks.check(base, plain).startswith("plaintext: status 200, Content-Type 'application/json'")
    finally:
        server.shutdown()
        server.server_close()


def test_the_plan_runs_the_recommended_servers_the_records_state():
    """Which servers each framework runs under: its record's fw:recommendedServer (the shipped records, read by
    recommended_servers) beside the common server of its interface; a recommended server that is the common one
    runs once, and one the harness cannot start, or that does not serve the app's interface, is reported."""
    import tomllib

    sys.path.insert(0, str(ROOT / "bench"))
    import run_frameworks

    config = tomllib.loads(run_frameworks.SPEC.read_text(encoding="utf-8"))
    recommended = run_frameworks.recommended_servers()
    assert recommended["quart"] == ["hypercorn"]
    assert recommended["flask"] == []  # its docs recommend none (a missing-fact note says so)

    def servers(name: str, rec: list[str] | None = None) -> tuple[list[tuple[str | None, str]], list[str]]:
        plans, skipped = run_frameworks.plan(config["frameworks"][name], config,
                                             recommended[name] if rec is None else rec)
        return [(p.server, p.role) for p in plans], skipped

    assert servers("quart") == ([("uvicorn", "common"), ("hypercorn", "recommended")], [])
    assert servers("pyramid") == ([("gunicorn", "common"), ("waitress", "recommended")], [])
    assert servers("bottle") == ([("gunicorn", "common")], [])  # recommended gunicorn is the common server
    assert servers("aiohttp") == ([(None, "own")], [])
    plans, skipped = servers("flask", ["mod-wsgi", "hypercorn"])
    assert plans == [("gunicorn", "common")]
    assert skipped == ["recommended server mod-wsgi not run (the harness has no command for it)",
                       "recommended server hypercorn not run (it does not serve WSGI apps)"]
