"""RDF terms and triples converted between rdflib and pyoxigraph, value for value."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import XSD

_XSD_STRING = str(XSD.string)


def to_ox(term: Any) -> Any:
    """The pyoxigraph term with the value of rdflib ``term`` (None stays None)."""
    if term is None:
        return None
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype is not None:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise TypeError(f"unsupported term {term!r}")


def from_ox(term: Any) -> Any:
    """The rdflib term with the value of pyoxigraph ``term``; blank nodes keep their labels."""
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if term.language:
        return Literal(term.value, lang=term.language)
    datatype = term.datatype.value
    if datatype == _XSD_STRING:
        return Literal(term.value)  # rdflib keeps plain and xsd:string literals apart; RDF 1.1 does not
    return Literal(term.value, datatype=URIRef(datatype))


def add_ox(graph: Graph, quads: Iterable[Any]) -> Graph:
    """Add pyoxigraph triples or quads (their default-graph part) to rdflib ``graph``; return it."""
    cache: dict[Any, Any] = {}

    def term(t: Any) -> Any:
        found = cache.get(t)
        if found is None:
            found = cache[t] = from_ox(t)
        return found

    graph.addN((term(q.subject), term(q.predicate), term(q.object), graph) for q in quads)
    return graph
