"""The console script, run as a user runs it: exit codes, reports, and nothing written into data/."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import pytest

from .conftest import FIXTURES, ROOT

CONTRIB = FIXTURES / "contributions"


def fwgraph(*args, check=False):
    return subprocess.run([sys.executable, "-m", "fwgraph", *map(str, args)], capture_output=True, text=True,
                          timeout=300, check=check)


def _tree_digest():
    h = hashlib.sha256()
    for path in sorted((ROOT / "data").rglob("*")):
        if path.is_file():
            h.update(path.name.encode())
            h.update(path.read_bytes())
    return h.hexdigest()


@pytest.fixture(autouse=True)
def data_untouched():
    before = _tree_digest()
    yield
    assert _tree_digest() == before, "a command changed data/"


def test_validate_shipped_data_exits_0():
    run = fwgraph("validate")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Conforms" in run.stdout


@pytest.mark.parametrize("name", ["new-framework-valid.ttl", "new-framework-valid.jsonld"])
def test_valid_contribution_exits_0(name):
    run = fwgraph("validate", CONTRIB / name)
    assert run.returncode == 0, run.stdout + run.stderr


def test_broken_contribution_reports_each_problem():
    run = fwgraph("validate", "--format", "json", CONTRIB / "broken-framework-invalid.ttl")
    assert run.returncode == 1, run.stdout + run.stderr
    report = json.loads(run.stdout)
    assert report["conforms"] is False
    found = {(r["path"], r["severity"]) for r in report["results"]}
    assert ("rdfs:label", "Violation") in found
    assert ("fw:interface", "Violation") in found
    assert ("owl:sameAs", "Violation") in found
    files = {r["file"] for r in report["results"] if r["severity"] == "Violation"}
    assert files == {str(CONTRIB / "broken-framework-invalid.ttl")}


def test_text_report_names_file_focus_path_and_message():
    run = fwgraph("validate", CONTRIB / "broken-framework-invalid.ttl")
    assert run.returncode == 1
    assert "broken-framework-invalid.ttl: Violation: framework:broken-fw" in run.stdout
    assert "path:    rdfs:label" in run.stdout
    assert "Does not conform" in run.stdout


def test_turtle_report():
    run = fwgraph("validate", "--format", "turtle", CONTRIB / "broken-framework-invalid.ttl")
    assert run.returncode == 1
    assert "sh:ValidationReport" in run.stdout and "sh:conforms false" in run.stdout


def test_syntax_error_exits_2_with_file_line_and_column():
    run = fwgraph("validate", CONTRIB / "syntax-error.ttl")
    assert run.returncode == 2
    assert f"{CONTRIB / 'syntax-error.ttl'}:5:" in run.stderr


def test_remote_jsonld_context_is_refused_not_fetched():
    run = fwgraph("validate", CONTRIB / "remote-context.jsonld")
    assert run.returncode == 2
    assert "remote JSON-LD @context" in run.stderr


def test_missing_file_exits_2():
    run = fwgraph("validate", CONTRIB / "no-such-file.ttl")
    assert run.returncode == 2
    assert "cannot read" in run.stderr


def test_query_formats():
    run = fwgraph("query", ROOT / "queries" / "frameworks-per-interface.rq", "--format", "json")
    assert run.returncode == 0, run.stderr
    counts = {b["label"]["value"]: int(b["frameworks"]["value"]) for b in json.loads(run.stdout)["results"]["bindings"]}
    assert counts["ASGI"] >= 8 and counts["WSGI"] >= 8
    run = fwgraph("query", "SELECT ?x WHERE { VALUES ?x { 1 2 } }", "--format", "csv")
    assert run.stdout.splitlines() == ["x", "1", "2"]


@pytest.mark.parametrize("text, message", [
    ("SELECT * WHERE { ?s ?p }", "1:"),
    ("INSERT DATA { <a:b> <a:c> <a:d> }", "read-only"),
    ("SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }", "SERVICE"),
], ids=["malformed", "update", "service"])
def test_bad_queries_exit_2(text, message):
    run = fwgraph("query", text)
    assert run.returncode == 2
    assert message in run.stderr


def test_build_writes_distribution(tmp_path):
    run = fwgraph("build", "--out", tmp_path)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "fwgraph.jsonld.gz").is_file()


def test_validate_against_a_build(rebuilt):
    """--dist checks contributions against a build's store and shapes, with the same verdicts."""
    valid = fwgraph("validate", "--dist", rebuilt, CONTRIB / "new-framework-valid.ttl")
    assert valid.returncode == 0, valid.stdout + valid.stderr
    broken = fwgraph("validate", "--dist", rebuilt, "--format", "json", CONTRIB / "broken-framework-invalid.ttl")
    assert broken.returncode == 1
    paths = {r["path"] for r in json.loads(broken.stdout)["results"] if r["severity"] == "Violation"}
    assert {"rdfs:label", "fw:interface", "owl:sameAs"} <= paths


def test_an_unreadable_build_exits_2_with_one_line_not_a_traceback(tmp_path):
    run = fwgraph("validate", CONTRIB / "new-framework-valid.ttl", "--dist", tmp_path)
    assert run.returncode == 2, run.stderr
    assert run.stderr.splitlines() == [f"error: {tmp_path} holds no fwgraph.nt: run `fwgraph build --out {tmp_path}` "
                                       "first"]


def test_a_store_that_cannot_be_reached_exits_2_with_one_line():
    run = fwgraph("query", "--endpoint", "http://127.0.0.1:9/sparql", "ASK {}")
    assert run.returncode == 2, run.stderr
    assert len(run.stderr.splitlines()) == 1 and run.stderr.startswith("error: "), run.stderr
    assert "Traceback" not in run.stderr
