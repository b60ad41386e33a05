"""`fwgraph link wikidata` against a real Oxigraph server (and as --dump) loaded with Wikidata-shaped triples
(tests/fixtures/wikidata/items.ttl): exactly the fixture's identifier matches are proposed, with their provenance,
and every trap in it is reported as a conflict or an ignored statement, never linked."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL, PROV, RDF, XSD

from fwgraph.core.namespace import BASE
from fwgraph.views.link import BY_PID, PS, WIKIDATA_ENDPOINT, spellings
from tests.cli import fwgraph
from tests.conftest import FIXTURES
from tests.server import ROOT, free_port
from tests.stores import oxigraph_with

ITEMS = FIXTURES / "wikidata" / "items.ttl"
WD = "http://www.wikidata.org/entity/"
#: The fixture's identifier matches, and the one DBpedia resource an English sitelink of theirs gives.
EXPECTED = {
    (BASE + "framework/bottle", WD + "Q9000000001"),  # repository: http, www., .git and a trailing slash
    (BASE + "framework/pyramid", WD + "Q9000000009"),  # repository in another case
    (BASE + "framework/cherrypy", WD + "Q9000000007"),  # PyPI name; a different website is only a note
    (BASE + "framework/robyn", WD + "Q9000000011"),  # PyPI name; German sitelink only: no DBpedia
    (BASE + "framework/bottle", "http://dbpedia.org/resource/Bottle_(web_framework)"),
}
CONFLICTS = [
    f"conflict: framework/falcon matches 2 items: {WD}Q9000000003 by P5568; {WD}Q9000000004 by P856",
    f"conflict: {WD}Q9000000005 matches 2 records: framework/litestar, framework/quart",
    f"conflict: {WD}Q9000000010 matches 2 records: framework/tornado, server/tornado-httpserver",
    f"conflict: framework/hug matches {WD}Q9000000006, but P1324 (source code repository) disagrees: "
    f"{WD}Q9000000006 has https://github.com/example/not-hug, framework/hug has https://github.com/hugapi/hug",
    f"conflict: framework/django is linked to {WD}Q842014 already, but matches {WD}Q9000000012",
]


@pytest.fixture(scope="module")
def store():
    """Oxigraph's server holding the fixture, loaded as the README loads a dump."""
    return oxigraph_with("wikidata-fixture", f"oxigraph load --location {{db}} --file {ITEMS}")


@pytest.fixture(scope="module")
def answer(store):
    """One run against the store, read by the tests that do not change its options."""
    return fwgraph("link", "wikidata", "--endpoint", store.url)


def _links(run) -> set[tuple[str, str]]:
    graph = Graph().parse(data=run.stdout, format="turtle")
    return {(str(s), str(o)) for s, o in graph.subject_objects(OWL.sameAs)}


def _lines(run, kind: str) -> list[str]:
    return sorted(line for line in run.stderr.splitlines() if line.startswith(kind))


def test_the_endpoint_gives_exactly_the_identifier_matches(answer):
    run = answer
    assert run.returncode == 1, run.stderr  # conflicts reported
    assert _links(run) == EXPECTED
    assert _lines(run, "conflict:") == sorted(CONFLICTS)


def test_a_deprecated_statement_is_reported_not_matched(answer):
    run = answer
    assert _lines(run, "ignored:") == [
        f"ignored: framework/starlette: deprecated P5568 statement {WD}statement/Q9000000008-pypi (starlette) of "
        f"{WD}Q9000000008 is not matched"]
    assert not any(s == BASE + "framework/starlette" for s, _ in _links(run))


def test_labels_are_never_matched(answer):
    """Q9000000002 is labelled "Pyramid" with other identifiers: Pyramid links to Q9000000009 alone."""
    links = _links(answer)
    assert {o for s, o in links if s == BASE + "framework/pyramid"} == {WD + "Q9000000009"}
    assert not any(o == WD + "Q9000000002" for _, o in links)


def test_links_confirmed_are_not_proposed_again(answer):
    run = answer
    assert run.stderr.splitlines()[0].startswith("5 proposal(s), 5 conflict(s), 1 link(s) confirmed, 1 statement")
    assert not any(s == BASE + "framework/flask" for s, _ in _links(run))


def test_each_link_carries_its_matching_statement_and_retrieval(answer, store):
    run = answer
    graph = Graph().parse(data=run.stdout, format="turtle")
    (node,) = graph.subjects(RDF.object, URIRef(WD + "Q9000000001"))
    assert graph.value(node, RDF.subject) == URIRef(BASE + "framework/bottle")
    assert graph.value(node, RDF.predicate) == OWL.sameAs
    statement = graph.value(node, PROV.wasDerivedFrom)
    assert statement == URIRef(WD + "statement/Q9000000001-bottle-repo")
    assert graph.value(statement, PS.P1324) == URIRef("http://www.github.com/bottlepy/bottle.git/")
    activity = graph.value(node, PROV.wasGeneratedBy)
    assert graph.value(activity, PROV.used) == URIRef(store.url)
    ended = graph.value(activity, PROV.endedAtTime)
    assert isinstance(ended, Literal) and ended.datatype == XSD.dateTime
    (dbpedia,) = graph.subjects(RDF.object, URIRef("http://dbpedia.org/resource/Bottle_(web_framework)"))
    assert graph.value(dbpedia, PROV.wasDerivedFrom) == URIRef("https://en.wikipedia.org/wiki/Bottle_(web_framework)")
    assert run.stdout.startswith("# Proposed owl:sameAs links for a curator to review")


def test_batches_of_one_value_give_the_same(store):
    """Every VALUES batch is answered on its own: one spelling per query finds what 100 per query find."""
    run = fwgraph("link", "wikidata", "--endpoint", store.url, "--batch", "1")
    assert _links(run) == EXPECTED and _lines(run, "conflict:") == sorted(CONFLICTS)


@pytest.mark.parametrize("suffix", [".ttl", ".nt"])
def test_a_dump_gives_the_same(tmp_path, suffix):
    dump = tmp_path / f"wikidata{suffix}"
    fmt = ox.RdfFormat.N_TRIPLES if suffix == ".nt" else ox.RdfFormat.TURTLE
    ox.serialize(ox.parse(path=str(ITEMS), format=ox.RdfFormat.TURTLE), output=str(dump), format=fmt)
    out = tmp_path / "proposals.ttl"
    run = fwgraph("link", "wikidata", "--dump", dump, "--output", out)
    assert run.returncode == 1
    graph = Graph().parse(out)
    assert {(str(s), str(o)) for s, o in graph.subject_objects(OWL.sameAs)} == EXPECTED
    assert _lines(run, "conflict:") == sorted(CONFLICTS)
    assert set(graph.objects(None, PROV.used)) == {URIRef(dump.resolve().as_uri())}


def test_nothing_is_written_into_data(tmp_path):
    before = sorted(p.name for p in (ROOT / "data").iterdir())
    run = fwgraph("link", "wikidata", "--dump", ITEMS, "--output", ROOT / "data" / "proposals.ttl")
    assert run.returncode == 2 and "inside" in run.stderr
    assert sorted(p.name for p in (ROOT / "data").iterdir()) == before


def test_an_unreachable_endpoint_is_an_error():
    run = fwgraph("link", "wikidata", "--endpoint", f"http://127.0.0.1:{free_port()}/sparql", "--timeout", "5")
    assert run.returncode == 2 and run.stderr.startswith("error:") and not run.stdout


def test_the_default_endpoint_is_wikidatas():
    assert WIKIDATA_ENDPOINT == "https://query.wikidata.org/sparql"


@pytest.mark.parametrize(("pid", "ours", "theirs"), [
    ("P1324", "https://github.com/bottlepy/bottle", "http://www.github.com/bottlepy/bottle.git/"),
    ("P1324", "https://github.com/Pylons/pyramid", "https://github.com/pylons/pyramid"),
    ("P856", "https://falconframework.org", "https://falconframework.org/"),
    ("P5568", "Flask-Login", "flask_login"),
])
def test_spellings_cover_what_wikidata_may_hold(pid, ours, theirs):
    assert theirs in spellings(BY_PID[pid], ours)
