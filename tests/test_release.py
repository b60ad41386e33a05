"""Releases as a maintainer cuts them and as clients use them: `fwgraph release` twice on a copy of the sources
(data changed in between), the versioned distribution, its notes and CHANGELOG section, the build that states the
latest release, and a real server answering every version IRI and versioned dump (rdflib, pyld, requests)."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest
import requests
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS

from fwgraph.core.namespace import BASE, DCAT3, FW
from fwgraph.publish.dist import RELEASE_FILES, Dist
from tests.cli import fwgraph
from tests.server import ROOT, once_per_run, server

FLASK = URIRef(BASE + "framework/flask")
NEW = URIRef(BASE + "framework/example-fw")
GONE = URIRef(BASE + "framework/vibora")
#: Vibora's download series (data/downloads/) goes with its record: its observations are removed resources too.
GONE_SERIES = Path("data") / "downloads" / "vibora.ttl"
REMOVED = 1 + (ROOT / GONE_SERIES).read_text(encoding="utf-8").count(" a qb:Observation ;")
VERSION_LINKS = (OWL.versionIRI, OWL.priorVersion, DCAT3.previousVersion, DCAT3.hasVersion, DCAT3.hasCurrentVersion,
                 DCAT3.isVersionOf)




def _tree(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def _cut_two_releases(root: Path) -> None:
    """A copy of the sources at ``root`` with two releases cut: 0.1.0 as shipped, 0.2.0 after a change."""
    root.mkdir(parents=True)
    for name in ("ontology", "data", "queries"):
        shutil.copytree(ROOT / name, root / name)
    (root / "CHANGELOG.md").write_text("# Changelog\n\n## [Unreleased]\n\n### Added\n- The first data.\n")
    first = fwgraph("release", "0.1.0", "--data", root, "--date", "2026-12-01")
    assert first.returncode == 0, first.stderr
    flask = root / "data" / "frameworks" / "flask.ttl"
    flask.write_text(flask.read_text().replace('doap:revision "3.1.3"', 'doap:revision "3.1.4"'))
    (root / "data" / "frameworks" / "vibora.ttl").unlink()
    (root / GONE_SERIES).unlink()
    (root / "data" / "releases" / "vibora.ttl").unlink(missing_ok=True)  # a record's release history goes with it
    shutil.copy(ROOT / "tests" / "fixtures" / "contributions" / "new-framework-valid.ttl",
                root / "data" / "frameworks" / "example-fw.ttl")
    text = (root / "CHANGELOG.md").read_text().replace("## [Unreleased]\n", "## [Unreleased]\n\n### Fixed\n"
                                                      "- Flask's latest release.\n", 1)
    (root / "CHANGELOG.md").write_text(text)
    second = fwgraph("release", "0.2.0", "--data", root, "--date", "2026-12-02")
    assert second.returncode == 0, second.stderr
    assert f"1 resource(s) added, {REMOVED} removed" in second.stdout


@pytest.fixture(scope="module")
def root() -> Path:
    """The sources with two releases cut (read-only: made once per test run, shared by the test processes)."""
    return once_per_run("release-sources", _cut_two_releases)


@pytest.fixture(scope="module")
def built(root) -> Path:
    """The build of ``root`` (read-only, made once per test run)."""
    def build(out: Path) -> None:
        run = fwgraph("build", "--data", root, "--out", out)
        assert run.returncode == 0, run.stderr

    return once_per_run("release-built", build)


def _ontology(path: Path) -> Graph:
    return Graph().parse(path / "ontology.ttl")


def test_a_release_keeps_its_files_and_notes(root):
    release = root / "releases" / "0.2.0"
    assert sorted(p.name for p in release.iterdir()) == sorted(RELEASE_FILES)
    notes = (release / "NOTES.md").read_text()
    assert notes.startswith("# fwgraph 0.2.0 (2026-12-02)")
    assert "- Flask's latest release." in notes  # the CHANGELOG's entries
    assert "## Data changes since release 0.1.0" in notes
    assert "`framework:example-fw` Example FW" in notes.split("### Resources added")[1]
    assert "`framework:vibora`" in notes.split("### Resources removed")[1]
    changed = notes.split("### Resources changed")[1]
    assert 'doap:revision "3.1.3"' in changed and 'doap:revision "3.1.4"' in changed
    first = (root / "releases" / "0.1.0" / "NOTES.md").read_text()
    assert "The first release" in first and "- The first data." in first


def test_versions_are_stamped_and_chained(root):
    for name, header in (("ontology.ttl", URIRef(BASE + "ns")), ("shapes.ttl", URIRef(BASE + "shapes"))):
        g = Graph().parse(root / "releases" / "0.2.0" / name)
        assert g.value(header, OWL.versionInfo) == Literal("0.2.0")
        assert g.value(header, OWL.versionIRI) == URIRef(f"{header}/0.2.0")
        assert g.value(header, OWL.priorVersion) == URIRef(f"{header}/0.1.0")
        first = Graph().parse(root / "releases" / "0.1.0" / name)
        assert first.value(header, OWL.priorVersion) is None
    void = Graph().parse(root / "releases" / "0.2.0" / "void.ttl")
    dataset = URIRef(BASE + "dataset/0.2.0")
    assert void.value(dataset, DCAT3.version) == Literal("0.2.0")
    assert void.value(dataset, DCAT3.previousVersion) == URIRef(BASE + "dataset/0.1.0")
    assert void.value(dataset, DCAT3.isVersionOf) == URIRef(BASE + "dataset")
    assert str(void.value(dataset, DCTERMS.issued)) == "2026-12-02"
    downloads = {str(d) for d in void.objects(dataset, URIRef("http://www.w3.org/ns/dcat#distribution"))}
    assert BASE + "download/0.2.0/fwgraph.nt" in downloads


def test_the_changelog_gets_a_section_per_release(root):
    log = (root / "CHANGELOG.md").read_text()
    assert log.index("## [Unreleased]") < log.index("## [0.2.0] - 2026-12-02") < log.index("## [0.1.0] - 2026-12-01")
    section = log.split("## [0.2.0] - 2026-12-02")[1].split("## [0.1.0]")[0]
    assert "- Flask's latest release." in section and f"1 resource(s) added, {REMOVED} removed" in section
    unreleased = log.split("## [Unreleased]")[1].split("## [0.2.0]")[0]
    assert unreleased.strip() == ""


@pytest.mark.parametrize(("version", "message"), [("0.2.0", "exists already"), ("0.1.5", "not above"),
                                                  ("v0.3", "MAJOR.MINOR.PATCH"), ("0.3.0-rc1", "MAJOR.MINOR.PATCH")])
def test_releases_are_never_replaced_nor_misnamed(root, version, message):
    before = _tree(root)
    run = fwgraph("release", version, "--data", root)
    assert run.returncode == 2 and message in run.stderr
    assert _tree(root) == before


def test_a_bad_release_date_is_refused(root):
    run = fwgraph("release", "0.3.0", "--data", root, "--date", "2026-13-40")
    assert run.returncode == 2 and "YYYY-MM-DD" in run.stderr
    assert not (root / "releases" / "0.3.0").exists()


def test_the_build_states_the_latest_release_when_the_sources_are_it(built):
    g = _ontology(built)
    ns = URIRef(BASE + "ns")
    assert g.value(ns, OWL.versionIRI) == URIRef(BASE + "ns/0.2.0")
    assert g.value(ns, OWL.priorVersion) == URIRef(BASE + "ns/0.1.0")
    assert (built / "fwgraph.nt").read_bytes() == gzip.decompress((built / "releases/0.2.0/fwgraph.nt.gz").read_bytes())
    assert sorted(Dist(built).releases) == ["0.1.0", "0.2.0"]
    Dist(built).verify()


def test_a_build_after_a_change_is_no_release(root, tmp_path):
    changed = tmp_path / "sources"
    shutil.copytree(root, changed)
    flask = changed / "data" / "frameworks" / "flask.ttl"
    flask.write_text(flask.read_text().replace("(micro-framework)", "(a microframework)"))
    run = fwgraph("build", "--data", changed, "--out", tmp_path / "dist")
    assert run.returncode == 0, run.stderr
    g = _ontology(tmp_path / "dist")
    ns = URIRef(BASE + "ns")
    assert g.value(ns, OWL.versionInfo) == Literal("0.2.0+dev")
    assert g.value(ns, OWL.versionIRI) is None  # no IRI for what is not released: every version IRI resolves
    assert g.value(ns, OWL.priorVersion) == URIRef(BASE + "ns/0.2.0")


def test_a_damaged_release_stops_the_build(root, tmp_path):
    damaged = tmp_path / "sources"
    shutil.copytree(root, damaged)
    dump = damaged / "releases" / "0.1.0" / "fwgraph.ttl.gz"
    dump.write_bytes(gzip.compress(gzip.decompress(dump.read_bytes()) + b"# edited\n", mtime=0))
    run = fwgraph("build", "--data", damaged, "--out", tmp_path / "dist")
    assert run.returncode == 1 and "release 0.1.0" in run.stderr and "checksum" in run.stderr
    assert not (tmp_path / "dist").exists()


# --------------------------------------------------------------------------- served


@pytest.fixture(scope="module")
def site(built):
    srv = server(dist_dir=built)
    return lambda path="": srv.url + path.lstrip("/")


def _get_graph(url: str, accept: str = "text/turtle") -> Graph:
    r = requests.get(url, headers={"Accept": accept}, timeout=30)
    assert r.status_code == 200, (url, r.status_code, r.text[:200])
    return Graph().parse(data=r.content, format="turtle")


def test_every_version_iri_in_the_served_graph_answers(site):
    served = Graph()
    for path in ("ns", "shapes", ".well-known/void", "dataset/0.1.0", "dataset/0.2.0", "ns/0.1.0", "shapes/0.1.0"):
        served += _get_graph(site(path))
    version_iris = {o for p in VERSION_LINKS for o in served.objects(None, p)}
    assert {str(i)[len(BASE):] for i in version_iris} == {
        "dataset", *(f"{kind}/{v}" for kind in ("ns", "shapes", "dataset") for v in ("0.1.0", "0.2.0"))}
    for iri in version_iris:
        path = str(iri)[len(BASE):]
        r = requests.get(site(path), headers={"Accept": "text/turtle"}, timeout=30)
        assert r.status_code == 200, iri
        g = Graph().parse(data=r.content, format="turtle")
        version = path.rsplit("/", 1)[-1]
        if path.startswith(("ns/", "shapes/")):
            assert g.value(URIRef(BASE + path.split("/")[0]), OWL.versionIRI) == iri
        elif version != "dataset":
            assert (iri, DCAT3.version, Literal(version)) in g
    unknown = requests.get(site("ns/9.9.9"), headers={"Accept": "text/turtle"}, timeout=30)
    assert unknown.status_code == 404


def test_versioned_iris_have_pages(site):
    r = requests.get(site("ns/0.1.0"), headers={"Accept": "text/html"}, timeout=30)
    assert r.status_code == 200 and "0.1.0" in r.text
    r = requests.get(site("download/"), headers={"Accept": "text/html"}, timeout=30)
    assert 'href="/download/0.1.0/"' in r.text and 'href="/download/0.2.0/NOTES.md"' in r.text


def test_unversioned_iris_serve_the_latest(site):
    latest = requests.get(site("download/fwgraph.nt"), timeout=30).content
    assert latest == requests.get(site("download/0.2.0/fwgraph.nt"), timeout=30).content
    assert latest != requests.get(site("download/0.1.0/fwgraph.nt"), timeout=30).content
    assert _get_graph(site("ns")).value(URIRef(BASE + "ns"), OWL.versionInfo) == Literal("0.2.0")
    assert _get_graph(site("ns/0.1.0")).value(URIRef(BASE + "ns"), OWL.versionInfo) == Literal("0.1.0")
    assert requests.get(site("download/0.1.0"), allow_redirects=False, timeout=30).status_code == 301
    assert requests.get(site("download/0.3.0/fwgraph.nt"), timeout=30).status_code == 404


@pytest.mark.parametrize("version", ["0.1.0", "0.2.0"])
def test_rdflib_loads_the_versioned_dumps(site, version):
    """rdflib fetches each versioned dump by URL; the releases differ where the data did."""
    for name, fmt in (("fwgraph.ttl", "turtle"), ("fwgraph.nt", "nt"), ("fwgraph.jsonld", "json-ld")):
        g = Graph().parse(site(f"download/{version}/{name}"), format=fmt)
        assert (FLASK, RDFS.label, Literal("Flask")) in g
        assert ((NEW, RDF.type, FW.WebFramework) in g) == (version == "0.2.0")
        assert ((GONE, RDF.type, FW.WebFramework) in g) == (version == "0.1.0")


def test_pyld_loads_a_versioned_json_ld_dump(site):
    from pyld import jsonld

    doc = requests.get(site("download/0.1.0/fwgraph.jsonld"), timeout=30).json()
    context = requests.get(site("download/0.1.0/fwgraph.context.jsonld"), timeout=30).json()
    doc["@context"] = context["@context"]
    nquads = jsonld.to_rdf(doc, {"format": "application/n-quads"})
    expected = gzip.decompress(requests.get(site("download/0.1.0/fwgraph.nt.gz"), timeout=30).content)
    assert nquads.count("\n") == expected.count(b"\n")


def test_diff_between_the_served_releases(tmp_path, site):
    for version in ("0.1.0", "0.2.0"):
        (tmp_path / f"{version}.nt").write_bytes(requests.get(site(f"download/{version}/fwgraph.nt"), timeout=30)
                                                 .content)
    run = fwgraph("diff", tmp_path / "0.1.0.nt", tmp_path / "0.2.0.nt", "--format", "json")
    assert run.returncode == 0, run.stderr
    diff = json.loads(run.stdout)
    assert [a["iri"] for a in diff["added"]] == [str(NEW)]
    assert str(GONE) in [r["iri"] for r in diff["removed"]]
    assert str(FLASK) in [c["iri"] for c in diff["changed"]]
