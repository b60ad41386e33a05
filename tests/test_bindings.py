"""Engines take values for a query's variables as terms (bindings), never spliced into the query text: a value
that is no IRI (``>``, spaces) or a literal full of SPARQL cannot change the query, on every path an engine has."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal, URIRef

from fwgraph.core.errors import QueryError
from fwgraph.data.querycheck import prepare
from fwgraph.store.engine import OxigraphEngine, RdflibEngine, bound, iri_term, substituted
from fwgraph.views.resource import describe

X, Y, P = "http://example.org/x", "http://example.org/y", "http://example.org/p"
HOSTILE_IRIS = [f"{X}> <{Y}", f"{X}> . ?s ?p ?o . <{Y}", f"{X} {Y}", f"{X}>}} UNION {{ ?s ?p ?o"]


def _graph() -> Graph:
    g = Graph()
    g.add((URIRef(X), URIRef(P), Literal("of x")))
    g.add((URIRef(Y), URIRef(P), Literal("of y")))
    return g


@pytest.fixture(params=["oxigraph", "rdflib"])
def engine(request):
    return OxigraphEngine.from_graph(_graph()) if request.param == "oxigraph" else RdflibEngine(_graph())


def _objects(engine, query: str, bindings) -> set[str]:
    return {row[0].value for row in engine.query(prepare(query), max_rows=100, bindings=bindings).rows}


def test_a_bound_iri_selects_its_resource_only(engine):
    assert _objects(engine, "SELECT ?o ?s WHERE { ?s ?p ?o }", {"s": ox.NamedNode(X)}) == {"of x"}


@pytest.mark.parametrize("hostile", HOSTILE_IRIS)
def test_a_string_that_is_no_iri_names_nothing(engine, hostile):
    """Spliced into ``DESCRIBE <…>`` these describe y (or everything) too; as a binding they are no term."""
    assert iri_term(hostile) is None
    with pytest.raises(ValueError):
        ox.NamedNode(hostile)
    assert describe(engine, hostile) == []
    assert {t.subject.value for t in describe(engine, X)} == {X}


def test_the_values_clause_for_engines_that_take_text_is_written_by_pyoxigraph(engine):
    """The pool's workers and a remote store get a VALUES clause: a literal holding quotes, braces and a
    pattern stays one literal, and the answers are the substituting engine's."""
    literal = ox.Literal('of x" } UNION { ?s ?p ?o } #')
    query = prepare("SELECT ?s ?o WHERE { ?s ?p ?o }")
    sent = bound(query, {"o": literal})
    assert sent.text.count("UNION") == 1 and "\\\"" in sent.text  # escaped inside the literal, nothing added
    assert engine.query(sent, max_rows=100).rows == []
    assert engine.query(query, max_rows=100, bindings={"o": literal}).rows == []
    text = bound(query, {"o": ox.Literal("of y")})
    assert {r[0].value for r in engine.query(text, max_rows=100).rows} == {Y}


def test_a_binding_names_a_variable():
    with pytest.raises(QueryError):
        bound(prepare("SELECT ?s WHERE { ?s ?p ?o }"), {"s) {} #": ox.NamedNode(X)})


def test_a_describe_for_a_store_has_its_variable_replaced_by_the_term_only(engine):
    """A DESCRIBE sent to a remote store gets the term in place of its variable token: not inside a string or
    a comment, and the store describes the bound resource only."""
    query = prepare('DESCRIBE ?r WHERE { OPTIONAL { ?r ?p "?r" } } # ?r')
    sent = substituted(query, {"r": ox.NamedNode(X)})
    assert sent.text == f'DESCRIBE <{X}> WHERE {{ OPTIONAL {{ <{X}> ?p "?r" }} }} # ?r'
    assert {t.subject.value for t in engine.query(sent, max_rows=100).triples} == {X}


def test_the_reference_engine_runs_rdflibs_own_processor_after_a_validation(monkeypatch):
    """Validation registers its own processor as rdflib's "sparql" plugin for the whole process (pySHACL looks
    it up by name); the reference engine must still be rdflib's SPARQL engine, not run through it."""
    from fwgraph.publish import validation

    validation._use_prepared_queries()  # what every validation does first
    seen: list[str] = []
    original = validation._ValidationQueryProcessor.query

    def spy(self, query, *args, **kwargs):
        seen.append(str(query))
        return original(self, query, *args, **kwargs)

    monkeypatch.setattr(validation._ValidationQueryProcessor, "query", spy)
    assert _objects(RdflibEngine(_graph()), "SELECT ?o WHERE { ?s ?p ?o }", None) == {"of x", "of y"}
    assert seen == []
