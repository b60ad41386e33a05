"""The example queries published in the graph as SHACL SPARQL executables (SIB's sparql-examples convention):
each queries/*.rq is there with its title, description, group, form and text, the text runs where no prefix is
known, and a running server lists them all with the example query that says how."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
import requests
from rdflib import Literal, URIRef
from rdflib.namespace import RDF, RDFS, SDO, SH

from fwgraph.core.namespace import BASE
from fwgraph.data.examples import EXAMPLES_BASE, SPEX, published_text
from fwgraph.data.graph import load_store
from fwgraph.store.query import examples
from tests.server import ROOT, server

EXAMPLES = examples()
TEXT = {SH.SPARQLSelectExecutable: SH.select, SH.SPARQLConstructExecutable: SH.construct,
        SH.SPARQLAskExecutable: SH.ask, SPEX.SPARQLDescribeExecutable: SPEX.describe}


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda q: q.name)
def test_each_example_is_in_the_graph(graph, example):
    node = URIRef(EXAMPLES_BASE + example.name)
    types = set(graph.objects(node, RDF.type))
    assert SH.SPARQLExecutable in types
    (kind,) = types & set(TEXT)
    assert graph.value(node, TEXT[kind]) == Literal(published_text(example))
    assert graph.value(node, RDFS.label) == Literal(example.title, lang="en")
    assert graph.value(node, RDFS.comment) == Literal(example.description, lang="en")
    assert graph.value(node, SDO.target) == URIRef(BASE + "sparql")
    assert (graph.value(node, SDO.keywords) == Literal(example.group, lang="en")) if example.group else \
        graph.value(node, SDO.keywords) is None


def test_the_form_is_the_querys():
    kinds = {q.name: q for q in EXAMPLES}
    assert "describe-flask" in kinds and "frameworks-by-license" in kinds
    store = load_store()
    construct = store.query(f"ASK {{ <{EXAMPLES_BASE}describe-flask> a <{SH.SPARQLConstructExecutable}> }}")
    select = store.query(f"ASK {{ <{EXAMPLES_BASE}frameworks-by-license> a <{SH.SPARQLSelectExecutable}> }}")
    assert bool(construct) and bool(select)


@pytest.fixture(scope="module")
def bare():
    """The graph in a store queried with no default prefixes, as another endpoint would be."""
    return load_store()


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda q: q.name)
def test_the_published_text_runs_where_no_prefix_is_known(bare, example):
    result = bare.query(published_text(example))  # no prefixes= argument: every one must be declared
    assert len(list(result)) >= 1
    assert not published_text(example).startswith("# title:")


def test_a_running_server_lists_every_example():
    text = (ROOT / "queries" / "example-queries.rq").read_text(encoding="utf-8")
    r = requests.post(server().sparql, data={"query": text}, headers={"Accept": "application/sparql-results+json"},
                      timeout=60)
    assert r.status_code == 200, r.text
    rows = r.json()["results"]["bindings"]
    assert sorted(row["query"]["value"] for row in rows) == sorted(EXAMPLES_BASE + q.name for q in EXAMPLES)
    by_name = {row["query"]["value"].rsplit("/", 1)[1]: row for row in rows}
    flask = by_name["describe-flask"]
    assert flask["form"]["value"] == "CONSTRUCT" and flask["endpoint"]["value"] == BASE + "sparql"
    assert by_name["example-queries"]["title"]["value"] == "The example queries, as other tools read them"
    assert ox.parse_query_results(r.content, format=ox.QueryResultsFormat.JSON) is not None
