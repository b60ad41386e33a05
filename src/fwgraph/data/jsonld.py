"""The fwgraph JSON-LD context and compact, deterministic JSON-LD serialisation."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from rdflib import BNode, Graph

from fwgraph.core.namespace import PREFIXES

#: Short names for the terms fwgraph data uses most, so documents read as plain JSON.
_TERMS: dict[str, tuple[str, str | None]] = {
    # name: (CURIE, "@id" for IRI values, a datatype CURIE, or None for plain/lang strings)
    "label": ("rdfs:label", None),
    "comment": ("rdfs:comment", None),
    "description": ("dcterms:description", None),
    "title": ("dcterms:title", None),
    "source": ("dcterms:source", "@id"),
    "license": ("doap:license", "@id"),
    "homepage": ("doap:homepage", "@id"),
    "repository": ("doap:repository", None),  # values are embedded blank nodes: no @id coercion
    "browse": ("doap:browse", "@id"),
    "codeRepository": ("schema:codeRepository", "@id"),
    "downloadPage": ("doap:download-page", "@id"),
    "programmingLanguage": ("doap:programming-language", None),
    "revision": ("doap:revision", None),
    "created": ("doap:created", "xsd:date"),
    "sameAs": ("owl:sameAs", "@id"),
    "seeAlso": ("rdfs:seeAlso", "@id"),
    "prefLabel": ("skos:prefLabel", None),
    "altLabel": ("skos:altLabel", None),
    "definition": ("skos:definition", None),
    "inScheme": ("skos:inScheme", "@id"),
    "broader": ("skos:broader", "@id"),
    "wasDerivedFrom": ("prov:wasDerivedFrom", "@id"),
    "interface": ("fw:interface", "@id"),
    "asyncSupport": ("fw:asyncSupport", "@id"),
    "asyncSince": ("fw:asyncSince", None),
    "performanceTier": ("fw:performanceTier", "@id"),
    "feature": ("fw:feature", "@id"),
    "extensionFeature": ("fw:extensionFeature", "@id"),
    "maintenanceStatus": ("fw:maintenanceStatus", "@id"),
    "firstReleaseYear": ("fw:firstReleaseYear", "xsd:gYear"),
    "latestRelease": ("fw:latestRelease", None),  # embedded blank node
    "pypiDistribution": ("fw:pypiDistribution", None),
    "buildsOn": ("fw:buildsOn", "@id"),
    "reimplementsApiOf": ("fw:reimplementsApiOf", "@id"),
    "claimAbout": ("fw:claimAbout", "@id"),
    "rowNumber": ("fw:rowNumber", "xsd:integer"),
    "onProperty": ("fw:onProperty", "@id"),
    "chartValue": ("fw:chartValue", "@id"),
    "currentValue": ("fw:currentValue", "@id"),
    "specification": ("fw:specification", "@id"),
    "extends": ("fw:extends", "@id"),
}


@lru_cache(maxsize=1)
def _context() -> dict[str, Any]:
    ctx: dict[str, Any] = dict(PREFIXES)
    for name, (curie, kind) in _TERMS.items():
        ctx[name] = {"@id": curie, "@type": kind} if kind else curie
    return {"@context": ctx}


def context() -> dict[str, Any]:
    """The context document (``{"@context": {...}}``), published at ``CONTEXT_IRI``."""
    return json.loads(json.dumps(_context()))


def context_bytes() -> bytes:
    """The context document, serialised deterministically."""
    return (json.dumps(_context(), indent=2, sort_keys=False, ensure_ascii=False) + "\n").encode("utf-8")


def _sort(node: Any) -> Any:
    if isinstance(node, dict):  # "@list" values are ordered: keep them as they are
        return {k: ([_sort(i) for i in v] if k == "@list" else _sort(v)) for k, v in node.items()}
    if isinstance(node, list):
        items = [_sort(v) for v in node]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True, ensure_ascii=False))
    return node


def _stable(graph: Graph) -> Graph:
    """``graph`` with blank nodes labelled by their content (a parse gives them fresh random labels)."""
    from fwgraph.data.bnodes import labels

    names = labels(graph, lambda term: isinstance(term, BNode), lambda term: term.n3())  # type: ignore[attr-defined]
    if not names:
        return graph
    # rdflib's store without contexts: the serializer only reads the copy, and reads it faster there
    out = Graph(store="SimpleMemory", namespace_manager=graph.namespace_manager)
    nodes = {old: BNode(new) for old, new in names.items()}
    out.addN((nodes.get(s, s), p, nodes.get(o, o), out) for s, p, o in graph)
    return out


def to_jsonld(graph: Graph, *, context_ref: str | None = None, form: str = "compacted") -> bytes:
    """Compact JSON-LD for ``graph`` with the fwgraph context, nodes and values in a stable order.

    The document refers to the context by IRI (``context_ref``) when given, else embeds it; in both
    cases the compaction is done with the local context, so nothing is fetched. ``form`` "expanded" or
    "flattened" (a client's JSON-LD ``profile``) gives the context-free form instead: a top-level array of
    node objects with full IRIs, blank nodes labelled — expanded and flattened at once.
    """
    graph = _stable(graph)
    if form in ("expanded", "flattened"):
        nodes = json.loads(graph.serialize(format="json-ld", auto_compact=False))
        nodes = sorted((_sort(n) for n in nodes), key=lambda n: (str(n.get("@id", "")), json.dumps(n, sort_keys=True)))
        return (json.dumps(nodes, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    raw = graph.serialize(format="json-ld", context=_context()["@context"], auto_compact=True)
    doc = json.loads(raw)
    doc.pop("@context", None)
    nodes = doc.pop("@graph", None)
    if nodes is None:
        nodes = [doc] if doc else []
    nodes = sorted((_sort(n) for n in nodes), key=lambda n: (str(n.get("@id", "")), json.dumps(n, sort_keys=True)))
    out = {"@context": context_ref if context_ref else _context()["@context"], "@graph": nodes}
    return (json.dumps(out, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
