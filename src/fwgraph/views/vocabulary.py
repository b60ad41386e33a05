"""The vocabulary as its documentation page shows it (what pyLODE or Widoco show): metadata (version, licence,
dates, prefix), a table of contents, and per term its kind, domain and range, where it is used ("in domain of",
"in range of"), super- and subclasses or -properties, and an example drawn from the data with how often it is used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS

from fwgraph.core.namespace import REUSED_TERM_LABELS, curie_or_iri, label_of
from fwgraph.store.engine import Engine, run
from fwgraph.views.resource import Builder, Fact, Labels, Linker, Value

VANN = "http://purl.org/vocab/vann/"
#: The kinds of term, in the order the page lists them: (rdf:type, heading, anchor of the section).
KINDS: tuple[tuple[URIRef, str, str, str], ...] = (
    (OWL.Class, "Classes", "classes", "class"),
    (OWL.ObjectProperty, "Object properties", "object-properties", "object property"),
    (OWL.DatatypeProperty, "Datatype properties", "datatype-properties", "datatype property"),
    (OWL.AnnotationProperty, "Annotation properties", "annotation-properties", "annotation property"),
    (RDF.Property, "Other properties", "properties", "property"),
    (OWL.NamedIndividual, "Named individuals", "individuals", "individual"),
)
#: What the term sections state themselves (the rest is listed as further facts).
_SHOWN = frozenset({RDF.type, RDFS.label, RDFS.comment, RDFS.isDefinedBy, RDFS.domain, RDFS.range,
                    RDFS.subClassOf, RDFS.subPropertyOf})


@dataclass
class Example:
    """One use of a term in the data, written as a Turtle triple, with a link to the subject's page."""

    subject: Value
    text: str
    uses: int


@dataclass
class TermDoc:
    iri: str
    anchor: str
    curie: str
    label: str
    comment: str
    kind: str
    domain: list[Value] = field(default_factory=list)
    range: list[Value] = field(default_factory=list)
    superterms: list[Value] = field(default_factory=list)  # superclasses or superproperties
    subterms: list[Value] = field(default_factory=list)
    in_domain_of: list[Value] = field(default_factory=list)
    in_range_of: list[Value] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    example: Example | None = None


@dataclass
class VocabularyView:
    iri: str
    title: str
    description: list[str]
    metadata: list[Fact]
    sections: list[tuple[str, str, list[TermDoc]]]  # (heading, anchor, terms)


def _members(graph: Graph, node: Any) -> list[Any]:
    """A domain or range: the class itself, or the members of an owl:unionOf."""
    if isinstance(node, BNode):
        union = graph.value(node, OWL.unionOf)
        if union is not None:
            return list(Collection(graph, union))
    return [node]


def _examples(engine: Engine | None, classes: list[str], properties: list[str]) -> dict[str, Example]:
    """For each term, its use count and the first use by a named resource (by IRI order): three queries."""
    if engine is None:
        return {}
    found: dict[str, tuple[str, int]] = {}
    if classes:
        values = " ".join(f"<{c}>" for c in classes)
        rows = run(engine, "SELECT ?c (MIN(STR(?s)) AS ?first) (COUNT(DISTINCT ?s) AS ?n) WHERE { "
                           f"VALUES ?c {{ {values} }} ?s a ?c FILTER(isIRI(?s)) }} GROUP BY ?c", max_rows=10_000).rows
        found.update({c.value: (first.value, int(n.value)) for c, first, n in rows
                      if c is not None and first is not None and n is not None})
    pairs: dict[str, tuple[str, int]] = {}
    if properties:
        values = " ".join(f"<{p}>" for p in properties)
        rows = run(engine, f"SELECT ?p (MIN(STR(?s)) AS ?first) (COUNT(*) AS ?n) WHERE {{ VALUES ?p {{ {values} }} "
                           "?s ?p ?o FILTER(isIRI(?s)) } GROUP BY ?p", max_rows=10_000).rows
        pairs = {p.value: (first.value, int(n.value)) for p, first, n in rows
                 if p is not None and first is not None and n is not None}
    objects: dict[str, Any] = {}
    if pairs:
        values = " ".join(f"(<{s}> <{p}>)" for p, (s, _) in pairs.items())
        for _s, p, o in run(engine, f"SELECT ?s ?p ?o WHERE {{ VALUES (?s ?p) {{ {values} }} ?s ?p ?o }}",
                           max_rows=100_000).rows:
            if p is None or o is None:
                continue
            best = objects.get(p.value)
            if best is None or str(o) < str(best):
                objects[p.value] = o
    examples: dict[str, Example] = {}
    for cls, (subject, n) in found.items():
        name = curie_or_iri(subject)
        examples[cls] = Example(Value(name, href=subject), f"{name} a {curie_or_iri(cls)} .", n)
    for prop, (subject, n) in pairs.items():
        obj = objects.get(prop)
        text = _term_text(obj) if obj is not None else "…"
        name = curie_or_iri(subject)
        examples[prop] = Example(Value(name, href=subject), f"{name} {curie_or_iri(prop)} {text} .", n)
    return examples


def _term_text(term: Any) -> str:
    """A pyoxigraph term as Turtle, IRIs shortened."""
    import pyoxigraph as ox

    if isinstance(term, ox.NamedNode):
        return curie_or_iri(term.value)
    if isinstance(term, ox.BlankNode):
        return "[ … ]"
    return str(term)


def vocabulary_view(iri: str, ontology: Graph, link: Linker, engine: Engine | None = None) -> VocabularyView:
    """The documentation page of the vocabulary ``ontology`` (header ``iri``), with examples from ``engine``."""
    header = URIRef(iri)
    build = Builder(Labels(None, set(), reused=False), link)  # a vocabulary's readers want doap:Project
    terms = sorted({s for s in ontology.subjects() if isinstance(s, URIRef) and str(s) != iri
                    and (s, RDFS.isDefinedBy, header) in ontology}, key=str)
    kinds = {t: next((k for k, *_ in KINDS if (t, RDF.type, k) in ontology), RDF.Property) for t in terms}
    values = {t: build.value(ontology, t) for t in terms}

    def value(node: Any) -> Value:
        return values.get(node) or build.value(ontology, node)

    in_domain: dict[Any, list[Value]] = {}
    in_range: dict[Any, list[Value]] = {}
    for t in terms:
        for d in ontology.objects(t, RDFS.domain):
            for cls in _members(ontology, d):
                in_domain.setdefault(cls, []).append(value(t))
        for r in ontology.objects(t, RDFS.range):
            for cls in _members(ontology, r):
                in_range.setdefault(cls, []).append(value(t))
    class_iris = [str(t) for t in terms if kinds[t] == OWL.Class]
    property_iris = [str(t) for t in terms if kinds[t] != OWL.Class and kinds[t] != OWL.NamedIndividual]
    examples = _examples(engine, class_iris, property_iris)
    for example in examples.values():
        local = link(str(example.subject.href))
        example.subject.href, example.subject.local = local or example.subject.href, local is not None

    docs: dict[Any, TermDoc] = {}
    for t in terms:
        is_class = kinds[t] == OWL.Class
        sup, sub = (RDFS.subClassOf, RDFS.subClassOf) if is_class else (RDFS.subPropertyOf, RDFS.subPropertyOf)
        docs[t] = TermDoc(
            iri=str(t),
            anchor=str(t).rsplit("#", 1)[-1] if "#" in str(t) else str(t).rsplit("/", 1)[-1],
            curie=curie_or_iri(str(t)),
            label=label_of(ontology, t) or curie_or_iri(str(t)),
            comment=" ".join(str(c) for c in ontology.objects(t, RDFS.comment)),
            kind=next(name for k, *_, name in KINDS if k == kinds[t]),
            domain=[value(c) for d in ontology.objects(t, RDFS.domain) for c in _members(ontology, d)],
            range=[value(c) for r in ontology.objects(t, RDFS.range) for c in _members(ontology, r)],
            superterms=sorted((value(o) for o in ontology.objects(t, sup) if isinstance(o, URIRef)),
                              key=lambda v: v.text.lower()),
            subterms=sorted((value(s) for s in ontology.subjects(sub, t) if isinstance(s, URIRef)),
                            key=lambda v: v.text.lower()),
            in_domain_of=sorted(in_domain.get(t, []), key=lambda v: v.text.lower()),
            in_range_of=sorted(in_range.get(t, []), key=lambda v: v.text.lower()),
            facts=build.facts(ontology, t, skip=_SHOWN),
            example=examples.get(str(t)),
        )
    sections = [(heading, anchor, [docs[t] for t in terms if kinds[t] == kind]) for kind, heading, anchor, _ in KINDS]
    metadata_props = (OWL.versionInfo, OWL.versionIRI, OWL.priorVersion, DCTERMS.issued, DCTERMS.modified,
                      DCTERMS.license, DCTERMS.creator, URIRef(VANN + "preferredNamespacePrefix"),
                      URIRef(VANN + "preferredNamespaceUri"), RDFS.seeAlso)
    metadata = [Fact(key=str(p), title=_METADATA_TITLES.get(str(p), curie_or_iri(str(p))), values=build.values(ontology,
                header, p)) for p in metadata_props if (header, p, None) in ontology]
    return VocabularyView(
        iri=iri, title=label_of(ontology, header) or iri,
        description=[str(o) for o in ontology.objects(header, DCTERMS.description) if isinstance(o, Literal)],
        metadata=metadata, sections=[s for s in sections if s[2]])


_METADATA_TITLES = {
    **REUSED_TERM_LABELS, str(OWL.versionInfo): "Version", VANN + "preferredNamespacePrefix": "Preferred prefix",
    VANN + "preferredNamespaceUri": "Namespace",
}

__all__ = ["TermDoc", "VocabularyView", "vocabulary_view"]
