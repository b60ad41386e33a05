"""`fwgraph advisories` on a small advisory database built at test time, and the shipped data/advisories/ checked."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name
from packaging.version import Version
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, DOAP, RDF, RDFS, SDO, SKOS, XSD

from fwgraph.core.errors import InputError
from fwgraph.core.namespace import BASE, FW
from fwgraph.publish.harvest import advisories as adv
from fwgraph.publish.harvest import downloads as dl
from tests.cli import fwgraph

from .conftest import ROOT
from .gitrepos import GitRepo

ADVISORY = BASE + "advisory/"
LICENCE = "Attribution 4.0 International\n\n=====\n\nCreative Commons Corporation ...\n"

RECORDS = """\
@prefix fw: <https://w3id.org/fwgraph/ns#> .
@prefix doap: <http://usefulinc.com/ns/doap#> .
@prefix framework: <https://w3id.org/fwgraph/framework/> .
@prefix server: <https://w3id.org/fwgraph/server/> .
@prefix library: <https://w3id.org/fwgraph/library/> .
framework:demo a fw:WebFramework ; fw:pypiDistribution "Demo_Pkg" ;
    fw:latestRelease [ a doap:Version ; doap:revision "2.0.0" ] .
server:demo-server a fw:ApplicationServer ; fw:pypiDistribution "demo-pkg" ;
    fw:latestRelease [ a doap:Version ; doap:revision "2.0.0" ] .
library:lib a fw:TemplateEngine ; fw:pypiDistribution "lib" ;
    fw:latestRelease [ a doap:Version ; doap:revision "1.5" ] .
framework:nolatest a fw:WebFramework ; fw:pypiDistribution "nolatest" .
framework:quiet a fw:WebFramework ; fw:pypiDistribution "quiet" ;
    fw:latestRelease [ a doap:Version ; doap:revision "1.0" ] .
"""

RANGES = """\
id: PYSEC-2024-1
summary: ""
details: |-
  Demo is a small web framework for testing. A crafted header lets a client read another client's session.

  More details follow.
aliases:
- GHSA-aaaa-bbbb-cccc
- CVE-2024-0001
published: "2024-03-01T10:00:00Z"
modified: "2024-04-02T11:00:00Z"
affected:
- package:
    name: Demo_Pkg
    ecosystem: PyPI
  ranges:
  - type: GIT
    repo: https://github.com/example/demo
    events:
    - introduced: "0"
    - fixed: 0123456789abcdef0123456789abcdef01234567
  - type: ECOSYSTEM
    events:
    - introduced: 2.0.0
    - fixed: 2.0.1
    - introduced: "0"
    - fixed: 1.2.3
  versions:
  - 1.0
  - 2.0.0
"""

LAST_AFFECTED = """\
id: PYSEC-2024-2
details: An issue was discovered in Demo 1.x before 1.10. Uploads could overwrite files.
aliases: []
published: 2024-05-06T00:00:00Z
modified: 2024-05-07T00:00:00Z
affected:
- package: {name: demo-pkg, ecosystem: PyPI}
  ranges:
  - type: ECOSYSTEM
    events:
    - introduced: 1.0
    - last_affected: 1.9
  - type: ECOSYSTEM
    events:
    - introduced: 0
    - fixed: 1.10
"""

VERSIONS_ONLY = """\
id: GHSA-xxxx-yyyy-zzzz
summary: Template injection in lib's sandbox
details: Long text.
aliases: [CVE-2024-0002]
published: "2024-01-15T00:00:00Z"
modified: "2024-01-16T00:00:00Z"
affected:
- package: {name: lib, ecosystem: PyPI}
  versions: ["1.4", "1.5"]
"""

WITHDRAWN = """\
id: PYSEC-2023-9
details: Demo 1.0 can raise an error on a malformed URL, which may lead to a denial of service.
aliases: [CVE-2023-0009]
published: "2023-06-23T17:15:00Z"
modified: "2024-02-16T13:47:54Z"
withdrawn: "2023-11-08T00:54:24Z"
affected:
- package: {name: demo.pkg, ecosystem: PyPI}
  ranges:
  - type: ECOSYSTEM
    events:
    - introduced: "0"
"""

CROSS_LISTED = """\
id: PYSEC-2024-3
details: A shared parser in other and demo mishandles chunked bodies.
aliases: []
published: "2024-07-01T00:00:00Z"
modified: "2024-07-01T00:00:00Z"
affected:
- package: {name: other, ecosystem: PyPI}
  ranges: [{type: ECOSYSTEM, events: [{introduced: "0"}, {fixed: "3.0"}]}]
- package: {name: DEMO-PKG, ecosystem: PyPI}
  ranges: [{type: ECOSYSTEM, events: [{introduced: "1.5"}, {fixed: "2.1"}]}]
"""

NO_LATEST = """\
id: PYSEC-2022-5
details: Nolatest before 0.3 trusts a forwarded header.
aliases: []
published: "2022-02-02T00:00:00Z"
modified: "2022-02-03T00:00:00Z"
affected:
- package: {name: nolatest, ecosystem: PyPI}
  ranges: [{type: ECOSYSTEM, events: [{introduced: "0"}, {fixed: "0.3"}]}]
"""

UNRELATED = """\
id: PYSEC-2024-4
details: Something else entirely.
aliases: []
published: "2024-01-01T00:00:00Z"
modified: "2024-01-01T00:00:00Z"
affected:
- package: {name: unrelated, ecosystem: PyPI}
  ranges: [{type: ECOSYSTEM, events: [{introduced: "0"}]}]
"""

UNREADABLE = """\
id: PYSEC-2024-6
details: Demo's router mishandles a path.
aliases: []
published: "2024-08-01T00:00:00Z"
modified: "2024-08-01T00:00:00Z"
affected:
- package: {name: demo-pkg, ecosystem: PyPI}
  ranges: [{type: ECOSYSTEM, events: [{introduced: "0"}, {fixed: "0.2.0-n653"}]}]
"""

FILES = {
    "LICENSE": LICENCE,
    "README.md": "# Python Packaging Advisory Database\n",
    "vulns/demo-pkg/PYSEC-2024-1.yaml": RANGES,
    "vulns/demo-pkg/PYSEC-2024-2.yaml": LAST_AFFECTED,
    "vulns/demo-pkg/PYSEC-2023-9.yaml": WITHDRAWN,
    "vulns/lib/GHSA-xxxx-yyyy-zzzz.yaml": VERSIONS_ONLY,
    "vulns/other/PYSEC-2024-3.yaml": CROSS_LISTED,
    "vulns/nolatest/PYSEC-2022-5.yaml": NO_LATEST,
    "vulns/demo-pkg/PYSEC-2024-6.yaml": UNREADABLE,
    "vulns/unrelated/PYSEC-2024-4.yaml": UNRELATED,
}


@pytest.fixture
def database(tmp_path):
    built = GitRepo(tmp_path / "advisory-database", bare=True)
    built.commit({"LICENSE": LICENCE}, "2024-01-01", "Initial")
    commit = built.commit(FILES, "2024-10-10", "Assign IDs")
    yield built.path, commit
    built.close()


@pytest.fixture
def records():
    return Graph().parse(data=RECORDS, format="turtle")


def derive(path, records):
    names = {p.distribution for p in adv.projects(records)}
    return adv.derive(records, adv.read_database(path, names))


def parsed(result) -> Graph:
    graph = Graph()
    for text in result.files.values():
        graph.parse(data=text, format="turtle")
    return graph


def ranges(graph, advisory):
    return sorted((str(graph.value(r, FW.introduced)), str(graph.value(r, FW.fixed) or ""),
                   str(graph.value(r, FW.lastAffected) or "")) for r in graph.objects(advisory, FW.affectedRange))


# --------------------------------------------------------------------------- the generated Turtle


def test_files_per_record_and_the_snapshot(database, records):
    path, commit = database
    result = derive(path, records)
    assert sorted(result.files) == ["demo.ttl", "lib.ttl", "nolatest.ttl", adv.SNAPSHOT_FILE]
    assert result.database.commit == commit and result.database.day.isoformat() == "2024-10-10"
    ids = {name: [a.identifier for a in items] for name, items in result.advisories.items()}
    assert ids == {"demo": ["PYSEC-2023-9", "PYSEC-2024-1", "PYSEC-2024-2", "PYSEC-2024-3", "PYSEC-2024-6"],
                   "lib": ["GHSA-xxxx-yyyy-zzzz"], "nolatest": ["PYSEC-2022-5"]}
    for text in result.files.values():
        assert text.startswith(b"# "), "every file opens with a purpose line"


def test_ranges_aliases_links_and_latest_release(database, records):
    path, commit = database
    graph = parsed(derive(path, records))
    a = URIRef(ADVISORY + "pysec-2024-1")
    assert (a, RDF.type, FW.SecurityAdvisory) in graph
    assert graph.value(a, DCTERMS.identifier) == Literal("PYSEC-2024-1")
    assert set(graph.objects(a, SKOS.altLabel)) == {Literal("CVE-2024-0001"), Literal("GHSA-aaaa-bbbb-cccc")}
    assert set(graph.objects(a, RDFS.seeAlso)) == {
        URIRef("https://osv.dev/vulnerability/PYSEC-2024-1"), URIRef("https://nvd.nist.gov/vuln/detail/CVE-2024-0001"),
        URIRef("https://github.com/advisories/GHSA-aaaa-bbbb-cccc")}
    # the project's self-description is passed over for the sentence that names the issue
    assert graph.value(a, RDFS.label) == Literal(
        "A crafted header lets a client read another client's session.", lang="en")
    assert graph.value(a, DCTERMS.issued) == Literal("2024-03-01", datatype=XSD.date)
    assert graph.value(a, DCTERMS.modified) == Literal("2024-04-02", datatype=XSD.date)
    assert set(graph.objects(a, FW.affects)) == {URIRef(BASE + "framework/demo"), URIRef(BASE + "server/demo-server")}
    # GIT ranges are left out; the events, stated newest first, are sorted into two ranges
    assert ranges(graph, a) == [("0", "1.2.3", ""), ("2.0.0", "2.0.1", "")]
    assert {str(v) for v in graph.objects(a, FW.fixedIn)} == {"1.2.3", "2.0.1"}
    assert not list(graph.objects(a, FW.affectedVersion)), "a versions list is kept only without ranges"
    assert graph.value(a, FW.affectsLatestRelease) == Literal(True)  # 2.0.0 is in [2.0.0, 2.0.1)
    assert graph.value(a, DCTERMS.source) == URIRef(
        f"https://github.com/pypa/advisory-database/blob/{commit}/vulns/demo-pkg/PYSEC-2024-1.yaml")


def test_last_affected_and_unquoted_versions(database, records):
    graph = parsed(derive(database[0], records))
    a = URIRef(ADVISORY + "pysec-2024-2")
    # "1.10" unquoted stays the version 1.10 (not the float 1.1); the two ranges overlap, and are swept as OSV does
    assert ranges(graph, a) == [("0", "1.10", "")]
    assert {str(v) for v in graph.objects(a, FW.fixedIn)} == {"1.10"}
    assert graph.value(a, FW.affectsLatestRelease) == Literal(False)
    assert str(graph.value(a, RDFS.label)) == ("An issue was discovered in Demo 1.x before 1.10. "
                                               "Uploads could overwrite files.")
    assert not list(graph.objects(a, SKOS.altLabel))


def test_last_affected_range():
    swept = adv.sweep([("introduced", "1.0"), ("last_affected", "1.9")])
    assert swept == [adv.VersionRange("1.0", last_affected="1.9")]
    affected = adv.Affected([adv.VersionRange("1.0", last_affected="1.9")], [], [], True)
    assert adv.affects_version(affected, "1.9") is True
    assert adv.affects_version(affected, "1.9.1") is False
    assert adv.affects_version(affected, "0.9") is False


def test_sweep_edge_cases():
    assert adv.sweep([("introduced", "0")]) == [adv.VersionRange("0")]
    assert adv.sweep([("introduced", "1.0"), ("fixed", "1.0")]) == [], "fixed where introduced: nothing affected"
    assert adv.sweep([("introduced", "0"), ("fixed", "2.0"), ("introduced", "1.5"), ("fixed", "1.6")]) == [
        adv.VersionRange("0", fixed="1.6")], "overlapping ranges are evaluated as the OSV schema sorts them"
    notes: list[str] = []
    assert adv.sweep([("introduced", "0"), ("fixed", "not a version"), ("limit", "9")], notes) == [
        adv.VersionRange("0")]
    assert notes and "not a PEP 440 version" in notes[0]


def test_ranges_of_several_range_objects_are_merged():
    r = adv.VersionRange
    assert adv.union([r("2.0", fixed="2.1"), r("0", fixed="1.0")]) == [r("0", fixed="1.0"), r("2.0", fixed="2.1")]
    assert adv.union([r("0", last_affected="1.9"), r("1.5", fixed="1.10")]) == [r("0", fixed="1.10")]
    assert adv.union([r("1.0", fixed="2.0"), r("2.0", fixed="3.0")]) == [r("1.0", fixed="3.0")]
    assert adv.union([r("1.0"), r("1.5", fixed="1.6")]) == [r("1.0")]
    assert adv.union([r("1.0", fixed="3.0"), r("1.5", last_affected="2.0")]) == [r("1.0", fixed="3.0")]


def test_versions_only(database, records):
    graph = parsed(derive(database[0], records))
    a = URIRef(ADVISORY + "ghsa-xxxx-yyyy-zzzz")
    assert not list(graph.objects(a, FW.affectedRange))
    assert {str(v) for v in graph.objects(a, FW.affectedVersion)} == {"1.4", "1.5"}
    assert graph.value(a, FW.affectsLatestRelease) == Literal(True)  # the library's 1.5 is listed
    assert graph.value(a, RDFS.label) == Literal("Template injection in lib's sandbox", lang="en")
    assert set(graph.objects(a, FW.affects)) == {URIRef(BASE + "library/lib")}
    assert URIRef("https://osv.dev/vulnerability/GHSA-xxxx-yyyy-zzzz") not in set(graph.objects(a, RDFS.seeAlso))
    assert URIRef("https://github.com/advisories/GHSA-xxxx-yyyy-zzzz") in set(graph.objects(a, RDFS.seeAlso))


def test_withdrawn_is_kept_with_its_date_and_no_latest_release_verdict(database, records):
    graph = parsed(derive(database[0], records))
    a = URIRef(ADVISORY + "pysec-2023-9")
    assert graph.value(a, FW.withdrawn) == Literal("2023-11-08", datatype=XSD.date)
    assert ranges(graph, a) == [("0", "", "")]
    assert graph.value(a, FW.affectsLatestRelease) is None


def test_cross_listed_entry_and_record_without_latest_release(database, records):
    graph = parsed(derive(database[0], records))
    cross = URIRef(ADVISORY + "pysec-2024-3")
    assert ranges(graph, cross) == [("1.5", "2.1", "")], "only the ranges of the record's own package"
    assert graph.value(cross, FW.affectsLatestRelease) == Literal(True)
    assert (URIRef(ADVISORY + "pysec-2024-4"), None, None) not in graph
    nolatest = URIRef(ADVISORY + "pysec-2022-5")
    assert graph.value(nolatest, FW.affectsLatestRelease) is None, "no latest release, no verdict"


def test_a_range_that_cannot_be_evaluated_gives_no_verdict_and_says_why(database, records):
    result = derive(database[0], records)
    graph = parsed(result)
    a = URIRef(ADVISORY + "pysec-2024-6")
    assert not list(graph.objects(a, FW.affectedRange)), "a range with a version that is not PEP 440 is left out"
    assert graph.value(a, FW.affectsLatestRelease) is None, "not judged as affected because its end is unreadable"
    assert "0.2.0-n653" in str(graph.value(a, RDFS.comment))
    assert any("0.2.0-n653" in n for n in result.notes)


def test_the_generated_files_conform_to_the_shapes(database, records, tmp_path):
    """The advisories written for the fixture pass the advisory and range shapes (with the fixture's records)."""
    from fwgraph.publish.validation import validate

    out = tmp_path / "out"
    dl.write(derive(database[0], records), out)
    (tmp_path / "records.ttl").write_text(RECORDS)
    report = validate([tmp_path / "records.ttl", *sorted(out.glob("*.ttl"))])
    shapes = {BASE + "shapes#SecurityAdvisoryShape", BASE + "shapes#VersionRangeShape"}
    mine = [r for r in report.results if r.severity == "Violation" and str(r.node_shape) in shapes]
    assert not mine, report.to_text()


def test_snapshot_description(database, records):
    path, commit = database
    graph = parsed(derive(path, records))
    snap = URIRef(adv.SNAPSHOT_IRI)
    assert graph.value(snap, SDO.version) == Literal(commit)
    assert graph.value(snap, DCTERMS.date) == Literal("2024-10-10", datatype=XSD.date)
    assert graph.value(snap, DCTERMS.license) == URIRef("https://creativecommons.org/licenses/by/4.0/")
    assert URIRef(f"https://github.com/pypa/advisory-database/blob/{commit}/LICENSE") in set(
        graph.objects(snap, DCTERMS.source))


def test_byte_stable(database, records, tmp_path):
    first = derive(database[0], records)
    second = derive(database[0], records)
    assert first.files == second.files
    out = tmp_path / "out"
    written, removed = dl.write(first, out)
    assert len(written) == 4 and not removed
    assert dl.stale(second, out) == []
    (out / "gone.ttl").write_text("# an old file\n")
    assert dl.stale(second, out) == ["gone.ttl"]
    written, removed = dl.write(second, out)
    assert not written and [p.name for p in removed] == ["gone.ttl"]


def test_refuses_a_database_under_another_licence(tmp_path, records):
    built = GitRepo(tmp_path / "db", bare=True)
    built.commit({**FILES, "LICENSE": "MIT License\n"}, "2024-10-10")
    built.close()
    with pytest.raises(InputError, match="CC BY 4.0"):
        derive(tmp_path / "db", records)


def test_command_line_writes_then_checks(database, tmp_path):
    root = tmp_path / "src"
    shutil.copytree(ROOT / "ontology", root / "ontology")
    (root / "data").mkdir()
    (root / "data" / "records.ttl").write_text(RECORDS)
    first = fwgraph("advisories", "--repo", database[0], "--data", root)
    assert first.returncode == 0, first.stderr
    assert "7 advisories for 3 project(s)" in first.stdout
    assert (root / "data" / "advisories" / "demo.ttl").is_file()
    assert fwgraph("advisories", "--repo", database[0], "--data", root, "--check").returncode == 0
    (root / "data" / "advisories" / "lib.ttl").write_text("# edited by hand\n")
    check = fwgraph("advisories", "--repo", database[0], "--data", root, "--check")
    assert check.returncode == 1 and "lib.ttl" in check.stdout
    assert fwgraph("advisories", "--repo", tmp_path / "nowhere", "--data", root).returncode == 2


# --------------------------------------------------------------------------- the shipped advisories

ADVISORIES = ROOT / "data" / "advisories"


def _version(text: str) -> Version:
    return Version(text)


def _in_range(graph: Graph, node, version: Version) -> bool:
    introduced = str(graph.value(node, FW.introduced))
    fixed, last = graph.value(node, FW.fixed), graph.value(node, FW.lastAffected)
    if introduced != "0" and version < _version(introduced):
        return False
    if fixed is not None and version >= _version(str(fixed)):
        return False
    return last is None or version <= _version(str(last))


def test_every_latest_release_verdict_is_recomputed(graph):
    """fw:affectsLatestRelease, recomputed from each advisory's ranges (or versions) and the latest release of the
    records it affects, as stated in the shipped graph; any mismatch fails."""
    advisories = set(graph.subjects(RDF.type, FW.SecurityAdvisory))
    assert advisories, "no advisories shipped"
    problems = []
    for a in sorted(advisories):
        releases = {str(graph.value(v, DOAP.revision)) for r in graph.objects(a, FW.affects)
                    for v in graph.objects(r, FW.latestRelease) if graph.value(v, DOAP.revision) is not None}
        stated = graph.value(a, FW.affectsLatestRelease)
        if stated is None and graph.value(a, RDFS.comment) is not None:
            continue  # the advisory says why it cannot be judged
        if graph.value(a, FW.withdrawn) is not None or not releases:
            if stated is not None:
                problems.append(f"{a}: states {stated} but is withdrawn or affects no record with a latest release")
            continue
        if len(releases) != 1:
            problems.append(f"{a}: the records it affects disagree on the latest release {sorted(releases)}")
            continue
        latest = _version(releases.pop())
        range_nodes = list(graph.objects(a, FW.affectedRange))
        if range_nodes:
            expected = any(_in_range(graph, n, latest) for n in range_nodes)
        else:
            expected = any(_version(str(v)) == latest for v in graph.objects(a, FW.affectedVersion))
        if stated is None or stated.toPython() is not expected:
            problems.append(f"{a}: fw:affectsLatestRelease {stated}, recomputed {expected} for {latest}")
    assert not problems, "\n".join(problems)


def test_ranges_are_well_formed_and_disjoint(graph):
    problems = []
    for a in sorted(graph.subjects(RDF.type, FW.SecurityAdvisory)):
        spans = []
        for node in graph.objects(a, FW.affectedRange):
            low = str(graph.value(node, FW.introduced))
            start = Version("0") if low == "0" else _version(low)
            end = graph.value(node, FW.fixed) or graph.value(node, FW.lastAffected)
            if end is not None and not start < _version(str(end)) and not (
                    graph.value(node, FW.lastAffected) is not None and start == _version(str(end))):
                problems.append(f"{a}: range {low} .. {end} is empty")
            if (fixed := graph.value(node, FW.fixed)) is not None and fixed not in set(graph.objects(a, FW.fixedIn)):
                problems.append(f"{a}: fixed {fixed} not in fw:fixedIn")
            spans.append((start, _version(str(end)) if end is not None else None))
        spans.sort(key=lambda s: s[0])
        for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
            if end is None or start < end:
                problems.append(f"{a}: ranges overlap")
    assert not problems, "\n".join(problems)


def test_every_advisory_names_the_distribution_of_the_records_it_affects(graph):
    snapshot = URIRef(adv.SNAPSHOT_IRI)
    commit = str(graph.value(snapshot, SDO.version))
    assert len(commit) == 40
    prefix = f"https://github.com/pypa/advisory-database/blob/{commit}/vulns/"
    seen = {}
    for a in graph.subjects(RDF.type, FW.SecurityAdvisory):
        source = str(graph.value(a, DCTERMS.source))
        assert source.startswith(prefix), f"{a}: {source} is not at the snapshot's commit {commit}"
        package, name = source.removeprefix(prefix).split("/")
        assert name.rsplit(".", 1)[0] == str(graph.value(a, DCTERMS.identifier))
        for record in graph.objects(a, FW.affects):
            assert canonicalize_name(str(graph.value(record, FW.pypiDistribution))) == canonicalize_name(package), a
        seen[str(a)] = source
    assert len(seen) == len(set(seen.values()))


def test_one_file_per_record_and_the_snapshot(graph):
    names = {p.name for p in ADVISORIES.glob("*.ttl")}
    assert adv.SNAPSHOT_FILE in names
    slugs = {str(r).rsplit("/", 1)[-1] for a in graph.subjects(RDF.type, FW.SecurityAdvisory)
             for r in graph.objects(a, FW.affects)}
    for name in names - {adv.SNAPSHOT_FILE}:
        assert Path(name).stem in slugs, f"data/advisories/{name} is no record's slug"
        assert (ADVISORIES / name).read_text(encoding="utf-8").startswith("# ")
