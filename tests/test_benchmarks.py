"""`fwgraph benchmarks` on a py-frameworks-bench repository built at test time, and the shipped published results."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, XSD

from fwgraph.core.errors import InputError
from fwgraph.core.namespace import FW, PUBLISHED_BENCH_IRI, QB
from fwgraph.publish.harvest.benchmarks import harvest_benchmarks, parse_post
from fwgraph.publish.validation import validate
from tests.cli import fwgraph

from .conftest import ROOT
from .gitrepos import GitRepo

UP = "https://github.com/klen/py-frameworks-bench"
SHIPPED = ROOT / "data" / "benchmarks" / "py-frameworks-bench"
RECORDS = """
@prefix fw: <https://w3id.org/fwgraph/ns#> .
@prefix framework: <https://w3id.org/fwgraph/framework/> .
@prefix server: <https://w3id.org/fwgraph/server/> .
framework:fastapi a fw:WebFramework ; fw:pypiDistribution "FastAPI" .
server:uvicorn a fw:ApplicationServer ; fw:pypiDistribution "muffin" .
"""
METHODIC = """---
title: The Methodic
---

## Hardware

* 2-core vCPU
* 7 GB of RAM memory

## Software

    wrk -d15s -t4 -c64 [URL]

## Scenarios
"""


def post(rps: int) -> str:
    return f"""---
title: Results (2022-03-14)
---

##  Accept a request and return HTML response with a custom dynamic header {{#html}}

| Framework | Requests/sec | Latency 50% (ms) | Latency 75% (ms) | Latency Avg (ms) |
| --------- | -----------: | ---------------: | ---------------: | ---------------: |
| [fastapi](https://pypi.org/project/fastapi/) `0.75.0` | {rps} | 5.46 | 9.79 | 7.03
| [muffin](https://pypi.org/project/muffin/) `0.87.0` | 16571 | 3.09 | 5.17 | 3.83

## Composite stats {{#composite}}

| Framework | Requests completed | Avg Latency 50% (ms) | Avg Latency 75% (ms) | Avg Latency (ms) |
| --------- | -----------------: | -------------------: | -------------------: | ---------------: |
| [fastapi](https://pypi.org/project/fastapi/) `0.75.0` | 255615 | 12.48 | 22.29 | 16.11
"""


@pytest.fixture
def upstream(tmp_path):
    """The post added, then corrected, then an unrelated commit: the post is cited at its correction."""
    repo = GitRepo(tmp_path / "py-frameworks-bench", bare=True)
    name = "docs/_posts/2022-03-14-results.md"
    commits = {
        "first": repo.commit({name: post(1), "docs/methodic.md": METHODIC, "LICENSE": "MIT"}, "2022-03-14"),
        "fix": repo.commit({name: post(9060)}, "2022-03-15"),
        "later": repo.commit({"README.md": "benchmarks"}, "2022-04-01"),
    }
    yield repo.path, commits
    repo.close()


def run(path: Path):
    return harvest_benchmarks(path, Graph().parse(data=RECORDS, format="turtle"))


def test_every_row_becomes_an_observation_citing_the_commit_that_last_changed_the_post(upstream):
    path, commits = upstream
    result = run(path)
    assert sorted(result.files) == ["2022-03-14.ttl", "py-frameworks-bench.ttl"]
    text = result.files["2022-03-14.ttl"].decode()
    assert f"""<{PUBLISHED_BENCH_IRI}/2022-03-14/html/fastapi> a qb:Observation ;
    qb:dataSet <{PUBLISHED_BENCH_IRI}> ;
    fw:resultDate "2022-03-14"^^xsd:date ;
    fw:benchmarkScenario scenario:pfb-html ;
    fw:benchmarkedPackage "fastapi" ;
    fw:packageVersion "0.75.0" ;
    fw:benchmarkedFramework framework:fastapi ;
    fw:requestsPerSecond 9060 ;
    fw:latencyP50 5.46 ;
    fw:latencyP75 9.79 ;
    fw:latencyMean 7.03 ;
    fw:benchmarkMethod <{PUBLISHED_BENCH_IRI}/method> ;
    dcterms:source <{UP}/blob/{commits["fix"]}/docs/_posts/2022-03-14-results.md> .
""" in text
    assert "fw:requestsCompleted 255615 ;" in text
    graph = Graph().parse(data=text, format="turtle")
    assert len(set(graph.subjects(RDF.type, QB.Observation))) == 3


def test_a_package_is_linked_only_to_a_framework_record_with_that_pypi_name(upstream):
    path, _ = upstream
    graph = Graph().parse(data=run(path).files["2022-03-14.ttl"], format="turtle")
    muffin = URIRef(f"{PUBLISHED_BENCH_IRI}/2022-03-14/html/muffin")
    assert graph.value(muffin, FW.benchmarkedPackage) == Literal("muffin")
    assert graph.value(muffin, FW.benchmarkedFramework) is None  # a server record has that PyPI name: not linked


def test_the_data_set_states_the_method_from_methodic(upstream):
    path, commits = upstream
    dataset = run(path).files["py-frameworks-bench.ttl"].decode()
    assert 'fw:machine "* 2-core vCPU * 7 GB of RAM memory"@en' in dataset
    assert 'dcterms:description "wrk -d15s -t4 -c64 [URL]"@en' in dataset
    assert f"<{UP}/blob/{commits['first']}/docs/methodic.md>" in dataset
    assert f"<{UP}/blob/{commits['later']}/LICENSE>" in dataset


def test_a_row_that_does_not_parse_is_an_error():
    with pytest.raises(InputError, match="does not read as"):
        parse_post("## API {#api}\n| [fastapi](u) `1.0` | n/a | 1 | 2 | 3\n", "post.md")
    with pytest.raises(InputError, match="unknown section"):
        parse_post("## Other {#other}\n", "post.md")


def test_the_cli_writes_then_finds_the_folder_up_to_date(upstream, tmp_path):
    path, _ = upstream
    out = tmp_path / "out"
    fwgraph("benchmarks", "--repo", path, "--out", out, check=True)
    assert (out / "2022-03-14.ttl").is_file()
    checked = fwgraph("benchmarks", "--repo", path, "--out", out, "--check")
    assert checked.returncode == 0 and checked.stdout.startswith("up to date: 1 posts"), checked.stdout
    (out / "2022-03-14.ttl").write_text("# stale\n", encoding="utf-8")
    assert fwgraph("benchmarks", "--repo", path, "--out", out, "--check").returncode == 1


def test_the_generated_files_conform_to_the_shapes(upstream, tmp_path):
    path, _ = upstream
    out = tmp_path / "out"
    fwgraph("benchmarks", "--repo", path, "--out", out, check=True)
    report = validate(sorted(out.glob("*.ttl")))
    mine = [r for r in report.results if r.severity == "Violation" and r.file and Path(r.file).parent == out]
    assert not mine, "\n".join(f"{r.focus_node} {r.path}: {r.message}" for r in mine)


def test_the_shipped_results_hold_every_post_dated_and_sourced():
    graph = Graph()
    for path in sorted(SHIPPED.glob("*.ttl")):
        graph.parse(path)
    observations = set(graph.subjects(RDF.type, QB.Observation))
    assert len(observations) == 748  # 17 posts, 2021-04-28 to 2022-03-14, every table row
    days = {graph.value(o, FW.resultDate) for o in observations}
    assert len(days) == 17 and all(d.datatype == XSD.date for d in days)
    assert {p.stem for p in SHIPPED.glob("????-??-??.ttl")} == {str(d) for d in days}
    blacksheep = URIRef(f"{PUBLISHED_BENCH_IRI}/2022-03-14/html/blacksheep")  # the post's first row
    assert graph.value(blacksheep, FW.requestsPerSecond) == Literal(18546)
    assert str(graph.value(blacksheep, FW.packageVersion)) == "1.2.5"
