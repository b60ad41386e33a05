"""Every example query has a header, parses, returns rows, and gives the same answer on rdflib and Oxigraph."""

from __future__ import annotations

import re

import pytest
from rdflib import RDF, Graph, URIRef
from rdflib.plugins.sparql import prepareQuery

from fwgraph.store.engine import OxigraphEngine, RdflibEngine, run
from fwgraph.store.query import examples
from fwgraph.store.results import to_rdflib
from tests.graphs import isomorphic

EXAMPLES = examples()


@pytest.fixture(scope="module")
def engines(graph):
    return OxigraphEngine.from_graph(graph), RdflibEngine(graph)


#: Examples whose answer depends only on the triples of the instances of one class: rdflib's engine answers them
#: on those triples alone (example-queries took it 45 s of CPU on the whole graph, 0.1 s on its 200 triples), and
#: Oxigraph's answer on them is checked to be its answer on the whole graph, so the engines agree on the whole.
_ABOUT_INSTANCES_OF = {"example-queries": URIRef("http://www.w3.org/ns/shacl#SPARQLExecutable")}


def _instances_of(graph: Graph, cls: URIRef) -> Graph:
    """The triples whose subject is an instance of ``cls``."""
    part = Graph()
    for subject in set(graph.subjects(RDF.type, cls)):
        for p, o in graph.predicate_objects(subject):
            part.add((subject, p, o))
    return part


def test_at_least_ten_examples():
    assert len(EXAMPLES) >= 10
    names = {q.name for q in EXAMPLES}
    assert {"chart", "async-frameworks-with-websockets", "frameworks-per-interface", "chart-vs-today",
            "wikidata-links"} <= names


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda q: q.name)
def test_header(example):
    assert example.title, f"{example.path} has no '# title:' line"
    assert example.description, f"{example.path} has no '# description:' line"
    prepareQuery(example.text)  # rdflib's parser accepts it too


def _normalise(term):
    """Compare values, not presentation: GROUP_CONCAT order differs between engines."""
    if term is None:
        return None
    value = term.value
    parts = re.split(r", |/| ", value)
    return (type(term).__name__, tuple(sorted(parts)) if len(parts) > 1 else value)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda q: q.name)
def test_engines_agree(example, engines, graph):
    oxigraph, reference = engines
    fast = run(oxigraph, example.text)
    if example.name in _ABOUT_INSTANCES_OF:
        part = _instances_of(graph, _ABOUT_INSTANCES_OF[example.name])
        oxigraph, reference = OxigraphEngine.from_graph(part), RdflibEngine(part)
        assert run(oxigraph, example.text).rows == fast.rows, "the answer depends on other triples too"
    slow = run(reference, example.text)
    assert len(fast) >= 1, f"{example.name} returns no rows"
    assert fast.form == slow.form
    if fast.is_graph:
        assert isomorphic(to_rdflib(fast.triples), to_rdflib(slow.triples))
    else:
        assert fast.variables == slow.variables
        rows_fast = sorted(map(repr, (tuple(_normalise(t) for t in r) for r in fast.rows)))
        rows_slow = sorted(map(repr, (tuple(_normalise(t) for t in r) for r in slow.rows)))
        assert rows_fast == rows_slow


def test_chart_query_reproduces_the_chart(graph):
    """queries/chart.rq gives the seed chart's 13 rows, value by value (fixture: tests/fixtures/chart/)."""
    import csv

    from .conftest import FIXTURES

    chart = next(q for q in EXAMPLES if q.name == "chart")
    result = run(OxigraphEngine.from_graph(graph), chart.text)

    def cells(framework, type_, performance, async_, features, homepage):
        return (framework, frozenset(type_.split("/")), performance, async_,
                frozenset(f.strip().lower() for f in features.split(", ")), homepage)

    got = [cells(*(t.value for t in row[1:])) for row in result.rows]
    with (FIXTURES / "chart" / "seed-chart.csv").open(encoding="utf-8") as fh:
        expected = [cells(*row.values()) for row in csv.DictReader(fh)]
    assert [int(row[0].value) for row in result.rows] == list(range(1, 14))
    assert got == expected
