"""`fwgraph downloads` on a list repository built at test time, and the shipped download series."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import RDF

from fwgraph.core.namespace import BASE, DOWNLOADS_IRI, FW, QB
from fwgraph.publish.harvest.downloads import (
    DATASET_FILE,
    harvest_downloads,
    monthly,
    parse_list,
    records_graph,
    stale,
    top_list,
    write,
)
from tests.cli import fwgraph

from .conftest import ROOT
from .gitrepos import GitRepo

UP = "https://github.com/hugovk/top-pypi-packages"
NEW, OLD = "top-pypi-packages.json", "top-pypi-packages-30-days.json"

RECORDS = """
@prefix fw: <https://w3id.org/fwgraph/ns#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix framework: <https://w3id.org/fwgraph/framework/> .
@prefix server: <https://w3id.org/fwgraph/server/> .
@prefix library: <https://w3id.org/fwgraph/library/> .
framework:flask a fw:WebFramework ; rdfs:label "Flask" ; fw:pypiDistribution "Flask" .
framework:wheezy-web a fw:WebFramework ; rdfs:label "wheezy.web" ; fw:pypiDistribution "wheezy.web" .
framework:nevow a fw:WebFramework ; rdfs:label "Nevow" ; fw:pypiDistribution "Nevow" .
framework:twisted-web a fw:WebFramework ; rdfs:label "Twisted Web" ; fw:pypiDistribution "Twisted" .
framework:karrigell a fw:WebFramework ; rdfs:label "Karrigell" .
server:twisted-web a fw:ApplicationServer ; rdfs:label "Twisted Web (twistd web)" ; fw:pypiDistribution "Twisted" .
library:jinja2 a fw:TemplateEngine ; rdfs:label "Jinja" ; fw:pypiDistribution "Jinja2" .
"""


def listing(updated: str | None, rows: list[tuple[str, int]]) -> str:
    body = [{"download_count": count, "project": name} for name, count in rows]
    return json.dumps(body if updated is None else {"last_update": updated, "rows": body}, indent=1)


@pytest.fixture
def upstream(tmp_path):
    """Four list commits: a 365-day bare list (no snapshot), two in March 2024 (the later one counts) and one
    in April 2024 under the file's newer name only."""
    repo = GitRepo(tmp_path / "top-pypi-packages", bare=True)
    commits = {
        "bare": repo.commit({NEW: listing(None, [("flask", 9)])}, "2018-01-09"),
        "early-march": repo.commit({NEW: None, OLD: listing("2024-03-01 11:13:20", [
            ("twisted", 900), ("flask", 800), ("wheezy-web", 100)])}, "2024-03-01"),
        "late-march": repo.commit({OLD: listing("2024-03-29 08:00:00", [
            ("flask", 950), ("twisted", 940), ("Wheezy_Web", 120), ("other", 50)])}, "2024-03-29"),
        "readme": repo.commit({"README.md": "A monthly dump of the most-downloaded packages."}, "2024-03-30"),
        "april": repo.commit({OLD: None, NEW: listing("2024-04-01 06:34:58", [
            ("twisted", 990), ("flask", 970), ("other", 60)])}, "2024-04-01"),
    }
    yield repo.path, commits
    repo.close()


def run(path: Path):
    return harvest_downloads(path, Graph().parse(data=RECORDS, format="turtle"))


def text(result, name: str) -> str:
    return result.files[name].decode()


def test_one_snapshot_per_month_the_last_of_it(upstream, tmp_path):
    path, commits = upstream
    result = run(path)
    assert [(s.day, s.commit, s.path) for s in result.snapshots] == [
        ("2024-03-29", commits["late-march"], OLD), ("2024-04-01", commits["april"], NEW)]
    assert any(commits["bare"] in note and "not a dated list" in note for note in result.skipped)


def test_the_generated_turtle(upstream, tmp_path):
    path, commits = upstream
    result = run(path)
    assert text(result, "flask.ttl") == f"""\
# PyPI downloads of Flask (framework:flask, PyPI Flask): one observation per monthly snapshot of \
hugovk/top-pypi-packages. Written by `fwgraph downloads`; do not edit.
@prefix qb:        <http://purl.org/linked-data/cube#> .
@prefix fw:        <https://w3id.org/fwgraph/ns#> .
@prefix xsd:       <http://www.w3.org/2001/XMLSchema#> .
@prefix dcterms:   <http://purl.org/dc/terms/> .
@prefix framework: <https://w3id.org/fwgraph/framework/> .

<https://w3id.org/fwgraph/pypi-downloads/flask/2024-03-29> a qb:Observation ;
    qb:dataSet <https://w3id.org/fwgraph/pypi-downloads> ;
    fw:project framework:flask ;
    fw:snapshotDate "2024-03-29"^^xsd:date ;
    fw:downloadCount 950 ;
    fw:downloadRank 1 ;
    dcterms:source <{UP}/blob/{commits["late-march"]}/{OLD}> .

<https://w3id.org/fwgraph/pypi-downloads/flask/2024-04-01> a qb:Observation ;
    qb:dataSet <https://w3id.org/fwgraph/pypi-downloads> ;
    fw:project framework:flask ;
    fw:snapshotDate "2024-04-01"^^xsd:date ;
    fw:downloadCount 970 ;
    fw:downloadRank 2 ;
    dcterms:source <{UP}/blob/{commits["april"]}/{NEW}> .
"""


def test_a_project_not_in_the_list(upstream, tmp_path):
    path, commits = upstream
    nevow = text(run(path), "nevow.ttl")
    assert """fw:project framework:nevow ;
    fw:snapshotDate "2024-04-01"^^xsd:date ;
    fw:inTopList false ;
    fw:downloadsBelow 60 ;
    fw:topListSize 3 ;
""" in nevow
    assert "fw:downloadCount" not in nevow and nevow.count("a qb:Observation") == 2


def test_names_are_compared_after_pep_503_normalisation(upstream, tmp_path):
    path, _ = upstream
    wheezy = text(run(path), "wheezy-web.ttl")  # "wheezy.web" in the record, "Wheezy_Web" in the list
    assert "fw:downloadCount 120 ;\n    fw:downloadRank 3 ;" in wheezy
    assert "fw:inTopList false ;\n    fw:downloadsBelow 60 ;" in wheezy  # April: not in the list


def test_records_sharing_a_slug_get_a_file_each(upstream, tmp_path):
    path, _ = upstream
    result = run(path)
    assert sorted(result.files) == ["flask.ttl", "nevow.ttl", "pypi-downloads.ttl", "server-twisted-web.ttl",
                                    "twisted-web.ttl", "wheezy-web.ttl"]  # none for the library or Karrigell
    server = text(result, "server-twisted-web.ttl")
    assert "<https://w3id.org/fwgraph/pypi-downloads/server-twisted-web/2024-04-01>" in server
    assert "fw:project server:twisted-web ;" in server
    assert [f"{s.entry.kind}:{s.entry.slug}" for s in result.never_listed()] == ["framework:nevow"]


def test_the_files_parse_and_describe_the_data_set(upstream, tmp_path):
    path, commits = upstream
    result = run(path)
    graph = Graph()
    for data in result.files.values():
        graph.parse(data=data, format="turtle")
    assert len(set(graph.subjects(RDF.type, QB.Observation))) == result.observations == 10
    assert (DOWNLOADS_IRI, QB.structure, FW.pypiDownloadsStructure) in graph
    dataset = text(result, DATASET_FILE)
    assert 'dcat:startDate "2024-03-29"^^xsd:date ; dcat:endDate "2024-04-01"^^xsd:date' in dataset
    assert f"has no licence file, and README.md states no licence (checked at commit {commits['april']})" in dataset


def test_written_files_are_byte_stable_and_stale_ones_removed(upstream, tmp_path):
    path, _ = upstream
    out = tmp_path / "downloads"
    out.mkdir()
    (out / "gone.ttl").write_text("# a record that no longer has a distribution\n")
    first = run(path)
    assert stale(first, out) == sorted([*first.files, "gone.ttl"])
    written, removed = write(first, out)
    assert len(written) == len(first.files) and removed == [out / "gone.ttl"]
    assert {p.name: p.read_bytes() for p in out.glob("*.ttl")} == first.files
    again = run(path)
    assert again.files == first.files and stale(again, out) == [] and write(again, out) == ([], [])


def test_the_command_writes_and_checks_the_series(upstream, tmp_path):
    path, _ = upstream
    root = tmp_path / "tree"
    (root / "ontology").mkdir(parents=True)
    (root / "ontology" / "fwgraph.ttl").write_text("# a stand-in vocabulary\n")
    for kind in ("frameworks", "servers"):
        (root / "data" / kind).mkdir(parents=True)
    (root / "data" / "frameworks" / "flask.ttl").write_text(RECORDS)
    assert fwgraph("downloads", "--repo", path, "--data", root, "--check").returncode == 1  # nothing written yet
    out = fwgraph("downloads", "--repo", path, "--data", root, check=True).stdout
    assert "2 snapshots (2024-03-29 to 2024-04-01)" in out and "never in the list: framework:nevow" in out
    folder = root / "data" / "downloads"
    assert (folder / "flask.ttl").is_file() and (folder / DATASET_FILE).is_file()
    assert "up to date" in fwgraph("downloads", "--repo", path, "--data", root, "--check", check=True).stdout
    assert len(records_graph(root / "data")) == len(Graph().parse(data=RECORDS, format="turtle"))
    assert fwgraph("downloads", "--repo", tmp_path, "--data", root).returncode == 2  # not a repository


def test_list_forms():
    assert parse_list(b"[]") is None  # the first form: a bare array, no last_update
    assert parse_list(b"Tue Jan  9 13:13:42 EET 2018\n") is None  # the very first commits: not JSON
    assert parse_list(json.dumps({"last_update": "2026-04-01 06:34:06", "source": "ClickHouse",
                                  "rows": [{"download_count": 5, "project": "a"}]}).encode()) == (
        "2026-04-01 06:34:06", [("a", 5)])
    item = top_list("2024-01-01 00:00:00", [("A.B", 9), ("a_b", 5), ("c", 3)], "0" * 40, OLD)
    assert item.ranks == {"a-b": (9, 1), "c": (3, 3)} and (item.smallest, item.size) == (3, 3)
    later = top_list("2024-01-20 00:00:00", [("c", 1)], "1" * 40, OLD)
    assert monthly([later, item]) == [later] and monthly([item, later]) == [later]


# --------------------------------------------------------------------------- the shipped series


def test_every_record_with_a_distribution_has_a_series(graph):
    records = {s for kind in (FW.WebFramework, FW.ApplicationServer) for s in graph.subjects(RDF.type, kind)
               if graph.value(s, FW.pypiDistribution) is not None}
    observed = Counter(graph.value(o, FW.project) for o in graph.subjects(QB.dataSet, DOWNLOADS_IRI))
    assert set(observed) == records
    assert len(set(observed.values())) == 1, "every record has one observation per snapshot"
    files = sorted(p for p in (ROOT / "data" / "downloads").glob("*.ttl") if p.name != DATASET_FILE)
    assert len(files) == len(records)
    assert all(p.read_text(encoding="utf-8").startswith("# PyPI downloads of ") for p in files)


def test_shipped_observations_are_consistent(graph):
    by_day: dict[str, list[tuple[int, int]]] = defaultdict(list)
    below: dict[str, set[int]] = defaultdict(set)
    keys = set()
    for obs in graph.subjects(QB.dataSet, DOWNLOADS_IRI):  # not the benchmark observations
        project, day = graph.value(obs, FW.project), str(graph.value(obs, FW.snapshotDate))
        segment = str(obs).removeprefix(str(DOWNLOADS_IRI) + "/").split("/")
        assert segment[1] == day and str(project).endswith("/" + segment[0].removeprefix("server-"))
        assert (project, day) not in keys
        keys.add((project, day))
        count = graph.value(obs, FW.downloadCount)
        if count is not None:
            by_day[day].append((int(graph.value(obs, FW.downloadRank)), int(count)))
        else:
            below[day].add(int(graph.value(obs, FW.downloadsBelow)))
    for day, pairs in by_day.items():
        ordered = [count for _rank, count in sorted(set(pairs))]
        assert ordered == sorted(ordered, reverse=True), f"{day}: ranks and counts disagree"
        assert len(below[day]) <= 1 and all(count >= min(below[day] or {0}) for _r, count in pairs)
    assert URIRef(BASE + "pypi-downloads") == DOWNLOADS_IRI
