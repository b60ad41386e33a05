"""The terms a query editor completes: the project's prefixes, and the classes, properties and named resources
the data uses, as compact names with labels and counts."""

from __future__ import annotations

from typing import Any

from rdflib import Graph, URIRef
from rdflib.namespace import RDFS, SKOS

from fwgraph.core.namespace import BASE, PREFIXES, curie, label_of
from fwgraph.data.querycheck import prepare
from fwgraph.store.engine import Engine

_CLASSES = "SELECT ?term (COUNT(?s) AS ?n) WHERE { ?s a ?term } GROUP BY ?term"
_PROPERTIES = "SELECT ?term (COUNT(?s) AS ?n) WHERE { ?s ?term ?o } GROUP BY ?term"
_RESOURCES = (f"SELECT ?term (SAMPLE(?l) AS ?label) WHERE {{ ?term <{RDFS.label}>|<{SKOS.prefLabel}> ?l "
              f"FILTER(isIRI(?term) && STRSTARTS(STR(?term), \"{BASE}\") && (LANG(?l) = \"\" || LANGMATCHES(LANG(?l), "
              "\"en\"))) } GROUP BY ?term")
#: Most named resources offered (classes and properties are few; resources grow with the data).
MAX_RESOURCES = 5000


def editor_terms(engine: Engine, vocabulary: Graph) -> dict[str, Any]:
    """Prefixes, then classes and properties in use (most used first) and named resources of the data.

    Each term is ``{"iri", "name" (prefix:local or None), "label", "count"}``; ``vocabulary`` gives labels.
    """
    def rows(query: str, limit: int) -> list[tuple[Any, ...]]:
        return engine.query(prepare(query), max_rows=limit).rows

    def terms(query: str) -> list[dict[str, Any]]:
        found = [(str(t.value), int(n.value)) for t, n in rows(query, 10_000) if t is not None and hasattr(t, "value")
                 and type(t).__name__ == "NamedNode"]
        found.sort(key=lambda item: (-item[1], item[0]))
        return [{"iri": iri, "name": curie(iri), "label": label_of(vocabulary, URIRef(iri), RDFS.label), "count": n}
                for iri, n in found]

    classes, properties = terms(_CLASSES), terms(_PROPERTIES)
    known = {t["iri"] for t in classes + properties}
    resources = [{"iri": str(t.value), "name": curie(str(t.value)), "label": str(found.value) if found else None}
                 for t, found in rows(_RESOURCES, MAX_RESOURCES) if t is not None and str(t.value) not in known]
    resources.sort(key=lambda r: str(r["iri"]))
    return {"prefixes": dict(PREFIXES), "classes": classes, "properties": properties, "resources": resources}
