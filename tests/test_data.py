"""The shipped data: conforms to the shapes, holds the chart's 13 rows, and is consistent and sourced."""

from __future__ import annotations

import csv

import pytest
from rdflib import URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS

from fwgraph.core.namespace import BASE, FW
from fwgraph.publish.validation import validate
from fwgraph.store.query import examples

from .conftest import FIXTURES, ROOT

FRAMEWORK_FILES = sorted((ROOT / "data" / "frameworks").glob("*.ttl"))
CAPABILITIES = URIRef(BASE + "feature/capabilities")


def test_shipped_data_conforms():
    report = validate()
    assert report.conforms, report.to_text()


def test_at_least_25_frameworks(graph):
    frameworks = set(graph.subjects(RDF.type, FW.WebFramework))
    assert len(frameworks) >= 25


@pytest.mark.parametrize("path", FRAMEWORK_FILES, ids=lambda p: p.stem)
def test_one_file_per_framework(path, graph):
    """The file name is the IRI's local name, and the file describes that framework with sources."""
    iri = URIRef(f"{BASE}framework/{path.stem}")
    assert (iri, RDF.type, FW.WebFramework) in graph
    assert path.stem == path.stem.lower()
    assert list(graph.objects(iri, DCTERMS.source)), f"{path.stem} has no dcterms:source"
    assert path.read_text(encoding="utf-8").startswith("# "), "files open with a one-line purpose comment"


def test_chart_has_13_rows_in_order(graph):
    rows = sorted(int(n) for n in graph.objects(None, FW.rowNumber))
    assert rows == list(range(1, 14))


def _values(graph, subject, prop, capabilities_only):
    values = set(graph.objects(subject, prop))
    if capabilities_only:
        values = {v for v in values if (CAPABILITIES, SKOS.member, v) in graph}
    return values


@pytest.mark.parametrize("prop", [FW.interface, FW.asyncSupport, FW.feature], ids=["interface", "async", "feature"])
def test_every_difference_from_the_chart_is_a_sourced_correction(graph, prop):
    """Where a chart row and today's record differ, exactly one correction records it, with sources."""
    problems = []
    for row in graph.subjects(RDF.type, FW.ChartRow):
        framework = graph.value(row, FW.claimAbout)
        chart = _values(graph, row, prop, prop == FW.feature)
        today = _values(graph, framework, prop, prop == FW.feature)
        corrections = [c for c in graph.subjects(FW.claimAbout, framework)
                       if (c, RDF.type, FW.Correction) in graph and graph.value(c, FW.onProperty) == prop]
        for c in corrections:
            assert list(graph.objects(c, DCTERMS.source)), f"{c} has no source"
        removed = {graph.value(c, FW.chartValue) for c in corrections} - {None}
        added = {graph.value(c, FW.currentValue) for c in corrections} - {None}
        if chart - today != removed or today - chart != added:
            problems.append(f"{framework}: chart-only {chart - today} vs corrections {removed}; "
                            f"today-only {today - chart} vs corrections {added}")
    assert not problems, "\n".join(problems)


def test_known_corrections_present(graph):
    expected = {"flask-async", "django-async", "starlette-graphql", "japronto-async", "klein-wsgi", "cyclone-wsgi"}
    present = {str(c).rsplit("/", 1)[1] for c in graph.subjects(RDF.type, FW.Correction)}
    assert expected <= present


def test_performance_tiers_only_on_chart_rows(graph):
    for subject in graph.subjects(FW.performanceTier, None):
        assert (subject, RDF.type, FW.ChartRow) in graph, f"{subject} states a subjective tier as a fact"


def test_performance_tier_corrections_are_the_tercile_rule(graph):
    """The chart's performance tiers are corrected exactly where queries/performance-tier-vs-tercile.rq finds the
    measured tercile contradicts them, from the chart's tier to the measured one, citing the observations the
    rule ranked (the published post's and the reference own run's)."""
    rule = next(q for q in examples() if q.name == "performance-tier-vs-tercile")
    expected = {}
    for row in graph.query(rule.text):
        if row.contradicts.toPython():
            cited = {o for o in (row.published, row.own) if o is not None}
            expected[row.framework] = (row.chartTier, row.measuredTier, cited)
    corrections = {}
    for c in graph.subjects(FW.onProperty, FW.performanceTier):
        corrections[graph.value(c, FW.claimAbout)] = (graph.value(c, FW.chartValue), graph.value(c, FW.currentValue),
                                                       set(graph.objects(c, DCTERMS.source)))
    assert expected, "the rule finds no contradiction: the data or the query changed"
    assert corrections == expected


def test_wikidata_links_are_the_verified_ones(graph):
    """No Wikidata item is entered without evidence; the evidence lives in the fixture beside each link."""
    with (FIXTURES / "verified-links.csv").open(encoding="utf-8") as fh:
        verified = {(row["resource"], row["link"]) for row in csv.DictReader(fh)}
    links = {(str(s), str(o)) for s, o in graph.subject_objects(OWL.sameAs)
             if str(o).startswith("http://www.wikidata.org/")}
    assert links == verified


def test_relations_from_the_issue(graph):
    def fw(slug):
        return URIRef(f"{BASE}framework/{slug}")

    assert (fw("fastapi"), FW.buildsOn, fw("starlette")) in graph
    assert (fw("responder"), FW.buildsOn, fw("starlette")) in graph
    assert (fw("quart"), FW.reimplementsApiOf, fw("flask")) in graph
    assert (fw("klein"), FW.buildsOn, fw("twisted-web")) in graph
    assert (fw("cyclone"), FW.buildsOn, fw("twisted-web")) in graph
    assert (URIRef(BASE + "interface/asgi"), FW.extends, URIRef(BASE + "interface/wsgi")) in graph


def test_every_vocabulary_term_is_documented(graph):
    for term in graph.subjects(RDFS.isDefinedBy, URIRef(BASE + "ns")):
        assert graph.value(term, RDFS.label) is not None, term
        assert graph.value(term, RDFS.comment) is not None, term
        if (term, RDF.type, OWL.ObjectProperty) in graph or (term, RDF.type, OWL.DatatypeProperty) in graph:
            assert graph.value(term, RDFS.domain) is not None, f"{term} has no domain"


CORE_FEATURES = ["url-routing", "middleware", "templating", "orm", "sessions", "authentication", "admin-ui", "forms",
                 "validation", "openapi", "dependency-injection", "websockets", "background-tasks", "graphql", "cli",
                 "test-client", "static-files", "i18n", "caching"]


def test_the_core_feature_lists_agree(graph):
    """feature:core (ordered and unordered) and the two copies of its list in the shapes name the same 19 features."""
    import re

    from rdflib import Graph
    from rdflib.collection import Collection
    from rdflib.namespace import SH

    core = URIRef(BASE + "feature/core")
    expected = [URIRef(BASE + "feature/" + slug) for slug in CORE_FEATURES]
    assert list(Collection(graph, graph.value(core, SKOS.memberList))) == expected
    assert set(graph.objects(core, SKOS.member)) == set(expected)
    for feature in expected:
        assert (feature, RDF.type, FW.Feature) in graph and (CAPABILITIES, SKOS.member, feature) in graph, feature
    shapes = Graph().parse(ROOT / "ontology" / "shapes.ttl")
    shape = URIRef("https://w3id.org/fwgraph/shapes#FeatureSupportShape-supportedFeature")
    assert list(Collection(shapes, shapes.value(shape, SH["in"]))) == expected
    missing = URIRef("https://w3id.org/fwgraph/shapes#WebFrameworkShape-featureSupport-missing")
    query = str(shapes.value(shapes.value(missing, SH.sparql), SH.select))
    assert [URIRef(iri) for iri in re.findall(r"BIND \(<([^>]+)> AS \?value\)", query)] == expected
