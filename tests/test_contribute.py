"""POST /validate over real HTTP: JSON, Turtle and HTML reports, parse errors, limits, no fetch, no write."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from rdflib import Graph, Literal
from rdflib.namespace import RDF, SH

from fwgraph.core.namespace import BASE
from tests.live import ROOT, live_server

CONTRIBUTIONS = ROOT / "tests" / "fixtures" / "contributions"
TURTLE = {"Content-Type": "text/turtle"}
JSONLD = {"Content-Type": "application/ld+json"}


@pytest.fixture(scope="module")
def server():
    return live_server()


def post(server, data: bytes | str, headers: dict[str, str]) -> requests.Response:
    return requests.post(server("validate"), data=data, headers=headers, timeout=60)


def test_valid_turtle_contribution_conforms(server):
    r = post(server, (CONTRIBUTIONS / "new-framework-valid.ttl").read_bytes(), TURTLE)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    report = r.json()
    assert report["conforms"] is True
    assert report["violations"] == 0


def test_valid_jsonld_contribution_conforms(server):
    r = post(server, (CONTRIBUTIONS / "new-framework-valid.jsonld").read_bytes(), JSONLD)
    assert r.status_code == 200
    assert r.json()["conforms"] is True


@pytest.mark.parametrize(
    "path",
    [
        CONTRIBUTIONS / "new-framework-valid.ttl",
        CONTRIBUTIONS / "broken-framework-invalid.ttl",
        ROOT / "data" / "frameworks" / "flask.ttl",
    ],
    ids=lambda p: p.stem,
)
def test_same_report_as_cli(server, path):
    """The service validates exactly as `fwgraph validate` does: same verdict, same results."""
    cli = subprocess.run(
        [sys.executable, "-m", "fwgraph", "validate", "--format", "json", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert cli.returncode in (0, 1), cli.stderr
    expected = json.loads(cli.stdout)
    r = post(server, path.read_bytes(), TURTLE)
    assert r.status_code == 200
    got = r.json()
    assert got["conforms"] is expected["conforms"] is (cli.returncode == 0)

    def strip(results):
        return sorted(
            json.dumps({k: v for k, v in x.items() if k != "file"}, sort_keys=True) for x in results
        )

    assert strip(got["results"]) == strip(expected["results"])


def test_broken_contribution_reports_paths(server):
    r = post(server, (CONTRIBUTIONS / "broken-framework-invalid.ttl").read_bytes(), TURTLE)
    assert r.status_code == 200
    report = r.json()
    assert report["conforms"] is False
    violations = {(v["path"], v["value"]) for v in report["results"] if v["severity"] == "Violation"}
    paths = {p for p, _ in violations}
    assert {"rdfs:label", "fw:interface", "owl:sameAs"} <= paths
    assert ("fw:interface", "iface:fastcgi") in violations
    assert ("owl:sameAs", "https://www.wikidata.org/wiki/Q42") in violations
    assert all(
        v["focusNode"] == "framework:broken-fw" for v in report["results"] if v["severity"] == "Violation"
    )


def test_report_as_turtle(server):
    r = post(
        server,
        (CONTRIBUTIONS / "broken-framework-invalid.ttl").read_bytes(),
        {**TURTLE, "Accept": "text/turtle"},
    )
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/turtle")
    g = Graph().parse(data=r.text, format="turtle")
    report = next(g.subjects(RDF.type, SH.ValidationReport))
    assert g.value(report, SH.conforms) == Literal(False)
    assert len(list(g.subjects(RDF.type, SH.ValidationResult))) >= 3


def test_syntax_error_gives_400_with_line_and_column(server):
    r = post(server, (CONTRIBUTIONS / "syntax-error.ttl").read_bytes(), TURTLE)
    assert r.status_code == 400
    body = r.json()
    assert body["line"] == 5
    assert isinstance(body["column"], int) and body["column"] > 0
    assert body["message"]


def test_invalid_json_gives_400_with_line_and_column(server):
    r = post(server, b'{\n  "@id": "x",\n  "label": \n}', JSONLD)
    assert r.status_code == 400
    assert r.json()["line"] == 4


def test_remote_context_is_refused_and_never_fetched(server):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(5)
        port = listener.getsockname()[1]
        doc = {
            "@context": f"http://127.0.0.1:{port}/context.jsonld",
            "@id": BASE + "framework/remote-ctx",
            "label": "Remote",
        }
        r = post(server, json.dumps(doc), JSONLD)
        assert r.status_code == 400
        assert "context" in r.json()["message"]
        scoped = {
            "@context": {"x": {"@id": "http://example.org/x", "@context": f"http://127.0.0.1:{port}/s"}},
            "@id": BASE + "framework/remote-ctx",
            "x": {"label": "y"},
        }
        assert post(server, json.dumps(scoped), JSONLD).status_code == 400
        listener.settimeout(1.0)
        with pytest.raises(TimeoutError):
            listener.accept()  # nobody connected


def test_oversized_contribution_gives_413(server):
    limit = 1024 * 1024  # the default FWGRAPH_MAX_BODY_BYTES
    body = b"# padding\n" * (limit // 10 + 1)
    r = post(server, body, TURTLE)
    assert r.status_code == 413


def test_other_media_type_gives_415(server):
    r = post(server, "<a> <b> <c> .", {"Content-Type": "text/plain"})
    assert r.status_code == 415


def test_html_form_and_report(server):
    form = requests.get(server("validate"), headers={"Accept": "text/html"}, timeout=10)
    assert form.status_code == 200
    assert 'enctype="multipart/form-data"' in form.text and 'name="file"' in form.text
    files = {
        "file": ("broken.ttl", (CONTRIBUTIONS / "broken-framework-invalid.ttl").read_bytes(), "text/turtle")
    }
    r = requests.post(server("validate"), files=files, headers={"Accept": "text/html"}, timeout=60)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    assert "Does not conform" in r.text and "iface:fastcgi" in r.text
    pasted = {"data": (CONTRIBUTIONS / "new-framework-valid.ttl").read_text(), "format": "turtle"}
    r = requests.post(
        server("validate"),
        files={k: (None, v) for k, v in pasted.items()},
        headers={"Accept": "text/html"},
        timeout=60,
    )
    assert r.status_code == 200 and "Conforms" in r.text


def test_nothing_is_written(server):
    new = BASE + "framework/example-fw"
    page = server("framework/example-fw")
    before = requests.get(page, headers={"Accept": "text/turtle"}, timeout=10)
    dump_etag = requests.get(server("download/fwgraph.nt"), timeout=10).headers["ETag"]
    flask_etag = requests.get(
        server("interface/asgi"), headers={"Accept": "text/turtle"}, timeout=10
    ).headers["ETag"]
    r = post(server, (CONTRIBUTIONS / "new-framework-valid.ttl").read_bytes(), TURTLE)
    assert r.status_code == 200 and r.json()["conforms"] is True
    after = requests.get(page, headers={"Accept": "text/turtle"}, timeout=10)
    assert before.status_code == after.status_code == 404
    asgi = requests.get(server("interface/asgi"), headers={"Accept": "text/turtle"}, timeout=10)
    assert asgi.headers["ETag"] == flask_etag
    assert new not in asgi.text
    assert requests.get(server("download/fwgraph.nt"), timeout=10).headers["ETag"] == dump_etag


def test_the_validation_forkserver_leaves_no_constraint_query_to_compile(dist):
    """A contribution's SPARQL-based constraints are evaluated by Oxigraph, so no job compiles an rdflib query
    (pyparsing, ~60 ms a text), before or after `warm` (run in the forkserver the validation jobs fork from); and
    `warm` changes no report."""
    script = (
        "import json, sys\n"
        "from fwgraph.publish.validation import _prepared, check_contribution, warm\n"
        "dist = sys.argv[1]\n"
        "files = [open(f, 'rb').read() for f in sys.argv[2:]]\n"
        "cold = [check_contribution(d, 'turtle', 'c.ttl', dist)['report'] for d in files]\n"
        "first = _prepared.cache_info().misses\n"
        "_prepared.cache_clear()\n"
        "warm(dist)\n"
        "warmed = _prepared.cache_info().misses\n"
        "hot = [check_contribution(d, 'turtle', 'c.ttl', dist)['report'] for d in files]\n"
        "print(json.dumps({'first': first, 'after': _prepared.cache_info().misses - warmed, 'same': cold == hot}))\n")
    fixtures = ROOT / "tests" / "fixtures" / "contributions"
    files = [fixtures / "new-framework-valid.ttl", fixtures / "broken-framework-invalid.ttl",
             ROOT / "data" / "servers" / "uvicorn.ttl", ROOT / "data" / "libraries" / "sqlalchemy.ttl",
             ROOT / "data" / "interfaces.ttl", ROOT / "data" / "features.ttl"]
    run = subprocess.run([sys.executable, "-c", script, str(dist), *map(str, files)],
                         capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    counts = json.loads(run.stdout)
    assert counts["first"] == 0  # Oxigraph evaluates every constraint query: rdflib compiles none...
    assert counts["after"] == 0  # ...neither after warm
    assert counts["same"]


def test_validation_jobs_start_from_the_warmed_forkserver(dist, tmp_path):
    """A Sandbox given a build starts its forkserver prepared for it: a job forked from it finds the build's
    vocabulary and shapes parsed already (without ``warm``, it finds none)."""
    script = tmp_path / "probe.py"
    script.write_text(
        "import sys\n"
        "from fwgraph.publish.sandbox import Sandbox\n\n\n"
        "def compiled():\n"
        "    from fwgraph.publish.validation import _contexts\n"
        "    return len(_contexts)\n\n\n"
        "if __name__ == '__main__':\n"
        "    print(Sandbox(warm=sys.argv[1] or None).run(compiled))\n")
    counts = []
    for warm in (str(dist), ""):
        run = subprocess.run([sys.executable, str(script), warm], capture_output=True, text=True, timeout=300,
                             cwd=ROOT)
        assert run.returncode == 0, run.stderr
        counts.append(int(run.stdout))
    assert counts[0] > 0 and counts[1] == 0, counts


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (children of each of its threads, recursively; Linux /proc)."""
    out: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:  # the process ended meanwhile
        return out
    for task in tasks:
        try:
            children = (task / "children").read_text().split()
        except OSError:  # the thread ended meanwhile
            continue
        for child in map(int, children):
            out += [child, *_descendants(child)]
    return out


def test_the_form_pages_start_the_validation_process(tmp_path):
    """Opening a form starts the process validation jobs fork from (it prepares itself while the contributor
    reads), so the first report does not wait for it; before, nothing started until the first POST."""
    import time

    from tests.server import server

    srv = server(env={"FWGRAPH_WORKERS": "1", "FWGRAPH_TEST_CASE": "form-starts-validation"})

    def forkservers() -> list[int]:
        found = []
        for pid in _descendants(srv.process.pid):
            try:
                if b"forkserver" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    found.append(pid)
            except OSError:
                pass
        return found

    assert forkservers() == []
    assert requests.get(srv.url + "contribute?kind=server", timeout=30).status_code == 200
    deadline = time.monotonic() + 30
    while not forkservers() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(forkservers()) == 1
    assert requests.get(srv.url + "validate", timeout=30).status_code == 200
    assert len(forkservers()) == 1  # started once per web process
