"""Every example query has a header, parses, returns rows, and gives the same answer on rdflib and Oxigraph."""

from __future__ import annotations

import re

import pytest
from rdflib.compare import isomorphic
from rdflib.plugins.sparql import prepareQuery

from fwgraph.engine import OxigraphEngine, RdflibEngine, run
from fwgraph.query import examples
from fwgraph.results import to_rdflib

EXAMPLES = examples()


@pytest.fixture(scope="module")
def engines(graph):
    return OxigraphEngine.from_graph(graph), RdflibEngine(graph)


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
def test_engines_agree(example, engines):
    oxigraph, reference = engines
    fast = run(oxigraph, example.text)
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
