"""Release histories and month-precise release dates: `fwgraph harvest --releases`, the check, the shipped files."""

from __future__ import annotations

import re
from datetime import date

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DOAP, XSD

from fwgraph.core.namespace import BASE, FW
from fwgraph.data.dates import day_span
from fwgraph.data.graph import parse_file
from fwgraph.publish.harvest import harvest
from fwgraph.publish.harvest.check import check
from tests.cli import fwgraph

from .conftest import FIXTURES, ROOT
from .gitrepos import MIT, GitRepo, pyproject

AS_OF = date(2026, 11, 30)
RECORD = FIXTURES / "harvest" / "demo.ttl"
DEMO = URIRef(BASE + "framework/demo-fw")
EXTRA = ('license = "MIT"\nrequires-python = ">=3.10"\nclassifiers = ["Programming Language :: Python :: 3.12"]\n'
         '[project.urls]\nHomepage = "https://demo.example.org/"')


def _repo(path, *, later: bool = False) -> None:
    """The fixture record's repository: 1.1.0 and 1.2.0 tagged, an untagged bump, a tag of another version."""
    built = GitRepo(path)
    files = {"pyproject.toml": pyproject("demo-fw", "1.1.0", extra=EXTRA), "LICENSE": MIT,
             "src/demo_fw/__init__.py": "", "src/demo_fw/py.typed": ""}
    built.commit(files, "2026-01-10")
    built.tag("v1.1.0", "2026-01-12")
    built.commit({"pyproject.toml": pyproject("demo-fw", "1.2.0", extra=EXTRA)}, "2026-05-01")
    built.tag("1.2.0", "2026-05-01")
    built.tag("1.9.0", "2026-05-02")  # names a version the package does not declare: not a release
    if later:
        built.commit({"pyproject.toml": pyproject("demo-fw", "1.2.1", extra=EXTRA)}, "2026-06-01")  # untagged
    built.close()


def _record(tmp_path, text: str):
    path = tmp_path / "demo.ttl"
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- dates of a day or a month


def test_day_span_of_a_day_a_month_and_other_forms():
    assert day_span("2026-02-18") == (date(2026, 2, 18), date(2026, 2, 18))
    assert day_span("2026-02") == (date(2026, 2, 1), date(2026, 2, 28))
    assert day_span("2024-02") == (date(2024, 2, 1), date(2024, 2, 29))
    assert day_span("2026") is None and day_span("2026-13") is None and day_span("soon") is None


# --------------------------------------------------------------------------- fwgraph harvest --releases


def test_releases_writes_every_tagged_release_byte_stable(tmp_path):
    _repo(tmp_path / "repos" / "example+demo", later=True)
    out = tmp_path / "releases"
    args = ("harvest", "--releases", out, "--repos", tmp_path / "repos", "--as-of", "2026-11-30", RECORD)
    first = fwgraph(*args)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "framework/demo-fw: 2 release(s)" in first.stdout
    written = out / "demo-fw.ttl"
    text = written.read_text(encoding="utf-8")
    assert text.startswith("# Release history of Demo: every tagged release in the repository snapshot")
    g = Graph().parse(data=text, format="turtle")
    releases = {(str(g.value(r, DOAP.revision)), g.value(r, DOAP.created)) for r in g.objects(DEMO, DOAP.release)}
    assert releases == {("1.1.0", Literal("2026-01-12", datatype=XSD.date)),
                        ("1.2.0", Literal("2026-05-01", datatype=XSD.date))}  # not 1.9.0 (mismatch), not 1.2.1
    assert g.value(DEMO, FW.lastCommit) == Literal("2026-06-01", datatype=XSD.date)
    assert re.findall(r'doap:revision "([^"]+)"', text) == ["1.1.0", "1.2.0"]  # oldest first
    assert "https://github.com/example/demo/tree/v1.1.0" in text  # each release cites its tag
    second = fwgraph(*args)
    assert second.returncode == 0 and written.read_text(encoding="utf-8") == text  # the same bytes again


def test_releases_leaves_out_the_tags_the_record_excludes(tmp_path):
    _repo(tmp_path / "repos" / "example+demo")
    text = RECORD.read_text(encoding="utf-8").replace(
        'fw:lastChecked "2026-11-30"^^xsd:date ;',
        'fw:lastChecked "2026-11-30"^^xsd:date ;\n    fw:releaseHistoryExcludes "v1.1.0" ;')
    out = tmp_path / "releases"
    run = fwgraph("harvest", "--releases", out, "--repos", tmp_path / "repos", _record(tmp_path, text))
    assert run.returncode == 0, run.stdout + run.stderr
    assert re.findall(r'doap:revision "([^"]+)"', (out / "demo-fw.ttl").read_text(encoding="utf-8")) == ["1.2.0"]


def test_check_compares_the_history_with_the_repository(tmp_path):
    _repo(tmp_path / "example+demo")
    out = tmp_path / "releases"
    assert fwgraph("harvest", "--releases", out, "--repos", tmp_path, RECORD).returncode == 0
    history = out / "demo-fw.ttl"
    report = check([(str(RECORD), parse_file(RECORD)), (str(history), parse_file(history))], tmp_path, AS_OF,
                   harvest)
    [result] = report.records
    assert "release history" in result.agreed and not result.stale
    history.write_text(history.read_text(encoding="utf-8").replace('"2026-01-12"', '"2026-01-19"'), encoding="utf-8")
    report = check([(str(RECORD), parse_file(RECORD)), (str(history), parse_file(history))], tmp_path, AS_OF,
                   harvest)
    [stale] = report.records[0].stale
    assert stale.fact == "release history" and "1.1.0 (2026-01-19)" in stale.message


# --------------------------------------------------------------------------- the check with month-precise dates


def test_check_a_month_agrees_with_a_day_in_it(tmp_path):
    _repo(tmp_path / "example+demo")
    text = RECORD.read_text(encoding="utf-8").replace('"2026-05-01"^^xsd:date ]', '"2026-05"^^xsd:gYearMonth ]')
    report = check([(str(tmp_path / "demo.ttl"), parse_file(_record(tmp_path, text)))], tmp_path, AS_OF, harvest)
    [result] = report.records
    assert "latest release" in result.agreed and not result.stale
    text = text.replace('"2026-05"^^xsd:gYearMonth', '"2026-04"^^xsd:gYearMonth')
    report = check([(str(tmp_path / "demo.ttl"), parse_file(_record(tmp_path, text)))], tmp_path, AS_OF, harvest)
    assert [d.fact for d in report.records[0].stale] == ["latest release"]


@pytest.mark.parametrize(("created", "status", "agrees"), [
    ('"2026-10"^^xsd:gYearMonth', "active", True),     # newer than the snapshot, within the year: active
    ('"2026-10"^^xsd:gYearMonth', "slow", False),
    ('"2026-10-20"^^xsd:date', "active", True),
])
def test_check_a_release_newer_than_the_snapshot_is_kept_and_counted(tmp_path, created, status, agrees):
    _repo(tmp_path / "example+demo")
    text = (RECORD.read_text(encoding="utf-8")
            .replace('doap:revision "1.2.0" ; doap:created "2026-05-01"^^xsd:date ]',
                     f'doap:revision "1.3.0" ; doap:created {created} ]')
            .replace("status:active", f"status:{status}"))
    report = check([(str(tmp_path / "demo.ttl"), parse_file(_record(tmp_path, text)))], tmp_path,
                   date(2027, 6, 30) if status == "slow" and agrees else AS_OF, harvest)
    [result] = report.records
    assert any("1.3.0" in a and "newer than the snapshot" in a for a in result.ahead)
    assert "latest release" not in {d.fact for d in result.stale}
    assert ("maintenance status" in {d.fact for d in result.stale}) is (not agrees)
    assert "kept (newer than the repository snapshot): latest release" in report.to_text()


def test_check_a_newer_version_dated_before_the_snapshot_ends_is_still_a_disagreement(tmp_path):
    _repo(tmp_path / "example+demo", later=True)  # the snapshot's newest commit is from 2026-06-01
    text = RECORD.read_text(encoding="utf-8").replace(
        'doap:revision "1.2.0" ; doap:created "2026-05-01"^^xsd:date ]',
        'doap:revision "1.3.0" ; doap:created "2026-05"^^xsd:gYearMonth ]')
    report = check([(str(tmp_path / "demo.ttl"), parse_file(_record(tmp_path, text)))], tmp_path, AS_OF, harvest)
    assert "latest release" in {d.fact for d in report.records[0].stale}


# --------------------------------------------------------------------------- the shipped histories


HISTORIES = sorted((ROOT / "data" / "releases").glob("*.ttl"))


def test_every_shipped_history_belongs_to_a_record_and_says_where_it_comes_from():
    assert HISTORIES, "data/releases/ holds no release history"
    records = {p.stem for kind in ("frameworks", "servers", "libraries") for p in (ROOT / "data" / kind).glob("*.ttl")}
    for path in HISTORIES:
        stem = re.sub(r"^(server|library)-", "", path.stem) if path.stem not in records else path.stem
        assert stem in records, f"{path.name}: no record data/*/{stem}.ttl"
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# Release history of ") and "fwgraph harvest --releases" in first, path.name


@pytest.mark.parametrize("path", HISTORIES, ids=lambda p: p.stem)
def test_a_shipped_history_is_as_the_tool_writes_it(path):
    """Re-rendered from its own triples, each file gives back its bytes: sorted, one layout, nothing by hand."""
    from fwgraph.publish.harvest.history import History, to_turtle
    from fwgraph.publish.harvest.releases import Release

    text = path.read_text(encoding="utf-8")
    g = Graph().parse(data=text, format="turtle")
    [subject] = set(g.subjects(DOAP.release, None)) | set(g.subjects(FW.lastCommit, None))
    header = re.match(r"# Release history of (?P<label>.+): every tagged release in the repository snapshot "
                      r"\((?P<repo>\S+) at (?P<head>[0-9a-f]{12})\)", text)
    assert header, "first line as `fwgraph harvest --releases` writes it"
    head = str(next(g.objects(subject, URIRef("http://purl.org/dc/terms/source")))).rsplit("/", 1)[-1]
    assert head.startswith(header["head"]) and re.fullmatch(r"[0-9a-f]{40}", head)
    releases = []
    for node in g.objects(subject, DOAP.release):
        source = str(g.value(node, URIRef("http://purl.org/dc/terms/source")))
        created = g.value(node, DOAP.created).toPython()
        assert isinstance(created, date), f"{source}: a tagged release is dated by the day"
        tag = source.rsplit("/tree/", 1)[-1]
        releases.append((Release(str(g.value(node, DOAP.revision)), tag, "", created, None, "matches"), source))
    releases.sort(key=lambda pair: (pair[0].date, pair[0].parsed, pair[0].tag or ""))
    last = g.value(subject, FW.lastCommit)
    again = to_turtle(History(str(subject), header["label"], header["repo"], head,
                              last.toPython() if last is not None else None, tuple(releases)))
    assert again == text


def test_the_dataset_period_ends_with_the_latest_release_in_its_own_precision():
    from fwgraph.publish.description import _dates

    g = Graph()
    for n, created in enumerate(('"2026-10-03"^^xsd:date', '"2026-10"^^xsd:gYearMonth', '"2025-01-31"^^xsd:date')):
        g.parse(data=f"""@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
            <https://w3id.org/fwgraph/framework/f{n}> <{FW.latestRelease}> [ <{DOAP.created}> {created} ] .""",
                format="turtle")
    assert _dates(g)[1] == Literal("2026-10", datatype=XSD.gYearMonth)  # October 2026 may end after the 3rd
