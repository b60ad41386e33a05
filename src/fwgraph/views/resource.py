"""One resource for display: its description (CBD), who links to it, the claims about it and the labels of
everything it mentions — an engine and an IRI in, plain dataclasses out (the web layer only renders them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox
from rdflib import BNode, Graph, URIRef
from rdflib.namespace import DCTERMS, DOAP, OWL, RDF, RDFS, SDO, SKOS

from fwgraph.core.namespace import FW, QB, REUSED_TERM_LABELS, curie_or_iri, label_of
from fwgraph.data.dates import month_label
from fwgraph.data.querycheck import prepare
from fwgraph.store.engine import Bindings, Engine, iri_term
from fwgraph.store.results import to_rdflib

#: Most triples a description (or the claims about a resource) may have; more are cut.
MAX_TRIPLES = 100_000
#: IRIs that can be written between <> in a query (anything else never names a resource here).

#: Maps an IRI to where this server shows it (a local path), or None when it is not ours.
Linker = Callable[[str], "str | None"]


def _query(engine: Engine, text: str, max_rows: int = MAX_TRIPLES, bindings: Bindings | None = None) -> Any:
    return engine.query(prepare(text), max_rows=max_rows, bindings=bindings)


def describe(engine: Engine, iri: str) -> list[ox.Triple]:
    """The resource's Concise Bounded Description (its triples, blank-node closure included); none for a
    string that is no IRI (bound as a term, never spliced into the query)."""
    term = iri_term(iri)
    if term is None:
        return []
    return _query(engine, "DESCRIBE ?resource WHERE {}", bindings={"resource": term}).triples


# --------------------------------------------------------------------------- the view model


@dataclass
class Value:
    """One object of a fact, ready for a template."""

    text: str
    href: str | None = None
    local: bool = False
    lang: str | None = None
    datatype: str | None = None
    nested: list[Fact] = field(default_factory=list)


@dataclass
class Fact:
    key: str
    title: str
    values: list[Value]


@dataclass
class Claim:
    """A chart row or a correction about a resource."""

    iri: str
    href: str
    title: str
    kind: str  # "row" or "correction"
    facts: list[Fact]
    about: str | None = None
    chart: list[Value] = field(default_factory=list)
    now: list[Value] = field(default_factory=list)
    sources: list[Value] = field(default_factory=list)
    comment: str | None = None


@dataclass
class Support:
    """One row of a framework's feature matrix: the feature, its support level, through what, and why."""

    feature: Value
    feature_iri: str
    level: Value
    level_slug: str
    via: list[str]
    sources: list[Value]
    comment: str | None


@dataclass
class Figure:
    """One dated benchmark result of a framework, ready for a template: what was measured, when, how, and where
    it is stated."""

    scenario: str
    server: str  # the server package of an own run ("" when the result does not say)
    result: str  # "5882 requests/s", or "255615 requests completed"
    latency: str  # the median, "8.36 ms"
    version: str
    date: str
    source: str
    method: str | None


@dataclass
class Benchmarks:
    """A framework's results in one benchmark data set: how many, over which dates, the figures of the latest day."""

    title: str
    count: int
    first: str
    latest: list[Figure]


@dataclass
class ResourceView:
    """Everything a resource page shows."""

    iri: str
    title: str
    description: list[str]
    types: list[Value]
    groups: list[tuple[str, list[Fact]]]
    sources: list[Value]
    claims: list[Claim]
    used_by: list[Value]
    having: list[Value]
    referenced: dict[str, list[Value]]
    is_interface: bool
    is_feature: bool
    is_framework: bool
    is_server: bool = False
    notes: list[str] = field(default_factory=list)  # a record's curators' notes (rdfs:comment)
    matrix: list[Support] = field(default_factory=list)
    go_to: list[Value] = field(default_factory=list)  # homepage, documentation, repository, package index
    benchmarks: list[Benchmarks] = field(default_factory=list)  # a framework's dated results, per data set


@dataclass
class Term:
    iri: str
    anchor: str | None
    label: str
    comment: str
    facts: list[Fact]


@dataclass
class DocumentView:
    """The vocabulary or the shapes as a page: every term with its label, comment and facts."""

    iri: str
    title: str
    description: list[str]
    terms: list[Term]
    own: list[Fact] = field(default_factory=list)  # the document's own facts (the dataset's counts, licence, …)


class Labels:
    """Labels of IRIs, read from the store in one query per 400 IRIs (English or untagged preferred)."""

    def __init__(self, engine: Engine | None, iris: set[str], *, reused: bool = True) -> None:
        ranked: dict[str, tuple[int, str]] = {}
        terms = sorted(str(t) for t in map(iri_term, iris) if t is not None)  # each written by pyoxigraph
        for chunk in _chunks(terms, 400) if engine is not None else ():
            values = " ".join(chunk)
            query = f"SELECT ?x ?l WHERE {{ VALUES ?x {{ {values} }} ?x <{RDFS.label}>|<{SKOS.prefLabel}> ?l }}"
            for x, label in _query(engine, query).rows:  # type: ignore[arg-type]
                key = (0 if label.language in (None, "", "en") else 1, label.value)
                if x.value not in ranked or key < ranked[x.value]:
                    ranked[x.value] = key
        self.map = {k: v[1] for k, v in ranked.items()}
        self.reused = reused  # False: other vocabularies' terms by their compact names (the vocabulary's page)

    def __call__(self, iri: str) -> str:
        return self.map.get(iri) or (self.reused and REUSED_TERM_LABELS.get(iri)) or curie_or_iri(iri)


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _content(value: Value) -> str:
    """A value's nested facts as text, so that blank nodes (releases, overrides) sort the same in every process."""
    return "|".join(f"{f.key}=" + ",".join(v.text + "<" + (v.href or "") + ">{" + _content(v) + "}" for v in f.values)
                    for f in value.nested)


class Builder:
    """Turns terms of a graph into Values and Facts, with labels and local links."""

    def __init__(self, labels: Labels, link: Linker) -> None:
        self.labels = labels
        self.link = link

    def value(self, graph: Graph, term: Any, depth: int = 0) -> Value:
        if isinstance(term, URIRef):
            iri = str(term)
            local = self.link(iri)
            return Value(text=self.labels(iri), href=local or iri, local=local is not None)
        if isinstance(term, BNode):
            return self._blank(graph, term, depth)
        datatype = curie_or_iri(str(term.datatype)) if term.datatype else None
        return Value(text=str(term), lang=term.language, datatype=datatype)

    def _blank(self, graph: Graph, node: BNode, depth: int) -> Value:
        """A release as "3.1.3, released 18 Feb 2026" and a repository as its address, as a person reads them;
        other blank nodes as their nested facts."""
        revision = graph.value(node, DOAP.revision)
        if revision is not None:
            day = graph.value(node, DOAP.created)
            return Value(text=f"{revision}, released {month_label(str(day))}" if day is not None else str(revision))
        address = graph.value(node, DOAP.browse) or graph.value(node, DOAP.location)
        if isinstance(address, URIRef):
            return Value(text=str(address), href=str(address))
        return Value(text="", nested=self.facts(graph, node, depth + 1) if depth < 4 else [])

    def values(self, graph: Graph, subject: Any, pred: Any) -> list[Value]:
        return [self.value(graph, o) for o in sorted(graph.objects(subject, pred), key=str)]

    def facts(self, graph: Graph, subject: Any, depth: int = 0, skip: frozenset[Any] = frozenset()) -> list[Fact]:
        by_pred: dict[Any, list[Any]] = {}
        for p, o in graph.predicate_objects(subject):
            if p not in skip:
                by_pred.setdefault(p, []).append(o)
        facts = []
        for p, objects in by_pred.items():
            values = [self.value(graph, o, depth) for o in sorted(objects, key=lambda t: (type(t).__name__, str(t)))]
            # blank nodes by what they hold, not their id; two terms with one label by their IRI
            values.sort(key=lambda v: (v.text.lower(), _content(v), v.href or "", v.text))
            facts.append(Fact(key=str(p), title=self.labels(str(p)), values=values))
        facts.sort(key=lambda f: (f.title.lower(), f.key))  # two terms may share a label: the IRI decides
        return facts


#: The groups every record page (framework or server) ends with, in reading order.
_RECORD_GROUPS: list[tuple[str, list[URIRef]]] = [
    ("Licence", [DOAP.license]),
    ("Releases", [FW.latestRelease, FW.firstReleaseYear, FW.lastCommit, DOAP.release]),
    ("Maintenance status", [FW.maintenanceStatus]),
    ("Python", [FW.requiresPython, FW.pythonVersion, FW.typed]),
    ("Repository", [DOAP.repository, SDO.codeRepository]),
    ("Homepage and downloads", [DOAP.homepage, SDO.softwareHelp, DOAP["download-page"], FW.pypiDistribution]),
    ("Same as", [OWL.sameAs]),
]
#: The groups of a framework page, with their headings (relations first: what it builds on and runs on place
#: it; the feature matrix has its own table).
FRAMEWORK_GROUPS: list[tuple[str, list[URIRef]]] = [
    ("Relations", [FW.buildsOn, FW.reimplementsApiOf, FW.deploysOn]),
    ("Server interfaces", [FW.interface]),
    ("Async support", [FW.asyncSupport, FW.asyncSince]),
    ("Features", [FW.feature, FW.extensionFeature]),
    *_RECORD_GROUPS,
]
#: The groups of a server page.
SERVER_GROUPS: list[tuple[str, list[URIRef]]] = [
    ("Interfaces and protocols", [FW.implementsInterface, FW.interfaceVersion, FW.protocol, FW.workerModel]),
    *_RECORD_GROUPS,
]
#: Record kinds whose rdfs:comment are curators' notes (shown with the sources), not descriptions.
RECORD_TYPES = frozenset({str(FW.WebFramework), str(FW.ApplicationServer), str(FW.Library)})
_HEADING_PREDICATES = frozenset({RDFS.label, SKOS.prefLabel, DCTERMS.description, RDFS.comment, RDF.type,
                                 DCTERMS.source, SKOS.definition})


def _missing(graph: Graph, node: URIRef, labels: Labels) -> list[str]:
    """A record's fw:missingFact notes as sentences ("Recommended server: not recorded. <why>"), for the notes
    beside the sources: why a fact is absent is a curator's note, not a box among the facts."""
    notes = []
    for gap in graph.objects(node, FW.missingFact):
        prop = graph.value(gap, FW.onProperty)
        why = " ".join(sorted(map(str, graph.objects(gap, RDFS.comment))))
        what = labels(str(prop)) if prop is not None else "A fact"
        notes.append(f"{what[:1].upper()}{what[1:]}: not recorded. {why}".strip())
    return sorted(notes)


def _iris_in(graph: Graph) -> set[str]:
    return {str(t) for triple in graph for t in triple if isinstance(t, URIRef)}


def _by_text(values: Any) -> list[Value]:
    return sorted(values, key=lambda v: v.text.lower())


def resource_view(engine: Engine, iri: str, description: list[ox.Triple], link: Linker,
                  feature_order: list[str] | None = None) -> ResourceView:
    """The page of the resource ``iri`` whose description (from :func:`describe`) is ``description``;
    ``feature_order``: the core features' IRIs in the matrix's order."""
    graph = to_rdflib(description)
    node = URIRef(iri)
    types = {str(t) for t in graph.objects(node, RDF.type)}
    inverse = _query(engine, f"SELECT DISTINCT ?s ?p ?t WHERE {{ ?s ?p <{iri}> FILTER(isIRI(?s)) "
                             "OPTIONAL { ?s a ?t } }").rows
    claims = to_rdflib(_query(engine, f"CONSTRUCT {{ ?c ?p ?o }} WHERE {{ ?c <{FW.claimAbout}> <{iri}> ; "
                                      "?p ?o }").triples)
    iris = _iris_in(graph) | _iris_in(claims) | {iri} | {t.value for row in inverse for t in row if t is not None}
    labels = Labels(engine, iris)
    build = Builder(labels, link)
    record = bool(types & RECORD_TYPES)
    facts = build.facts(graph, node, skip=_HEADING_PREDICATES | ({FW.featureSupport, FW.missingFact} if record
                                                                  else set()))
    groups: list[tuple[str, list[Fact]]] = []
    layout = FRAMEWORK_GROUPS if str(FW.WebFramework) in types else \
        SERVER_GROUPS if str(FW.ApplicationServer) in types else None
    if layout is not None:
        by_key = {f.key: f for f in facts}
        for heading, preds in layout:
            members = [by_key.pop(str(p)) for p in preds if str(p) in by_key]
            if members:
                groups.append((heading, members))
        for f in (f for _, fs in groups for f in fs if f.key == str(FW.pypiDistribution)):
            for v in f.values:
                v.href = f"https://pypi.org/project/{v.text}/"
        rest = [f for f in facts if f.key in by_key]
        if rest:
            groups.append(("Other facts", rest))
    elif facts:
        groups.append(("Facts", facts))

    used_by: dict[str, Value] = {}
    having: dict[str, Value] = {}
    referenced: dict[str, dict[str, Value]] = {}
    frameworks = {row[0].value for row in inverse if row[2] is not None and row[2].value == str(FW.WebFramework)}
    # A download series is hundreds of observations: the page says so once (the summary), never lists them.
    observations = {row[0].value for row in inverse if row[2] is not None and row[2].value == str(QB.Observation)}
    for s, p, _t in inverse:
        value = build.value(graph, URIRef(s.value))
        if s.value in frameworks and p.value == str(FW.interface):
            used_by[s.value] = value
        elif s.value in frameworks and p.value in (str(FW.feature), str(FW.extensionFeature)):
            having[s.value] = value
        elif p.value not in (str(FW.claimAbout), str(RDF.type)) and s.value not in observations:
            referenced.setdefault(labels(p.value), {})[s.value] = value
    return ResourceView(
        iri=iri,
        title=label_of(graph, node) or labels(iri),
        # sorted: a graph iterates in an order that follows the process's string hashing; replicas must agree
        description=[text for p in ((DCTERMS.description, SKOS.definition) if record else
                                    (DCTERMS.description, RDFS.comment, SKOS.definition))
                     for text in sorted(map(str, graph.objects(node, p)))],
        notes=sorted(map(str, graph.objects(node, RDFS.comment))) + _missing(graph, node, labels) if record else [],
        matrix=_matrix(graph, node, build, feature_order or []),
        go_to=_links(graph, node),
        is_server=str(FW.ApplicationServer) in types,
        types=[build.value(graph, URIRef(t)) for t in sorted(types)],
        groups=groups,
        sources=build.values(graph, node, DCTERMS.source),
        claims=_claims(claims, build),
        used_by=_by_text(used_by.values()),
        having=_by_text(having.values()),
        referenced={k: _by_text(v.values()) for k, v in sorted(referenced.items())},
        is_interface=str(FW.ServerInterface) in types,
        is_feature=str(FW.Feature) in types,
        is_framework=str(FW.WebFramework) in types,
        benchmarks=_benchmarks(engine, iri, link) if str(FW.WebFramework) in types else [],
    )


BENCHMARKS_QUERY = """PREFIX fw: <https://w3id.org/fwgraph/ns#>
PREFIX qb: <http://purl.org/linked-data/cube#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX dcterms: <http://purl.org/dc/terms/>
# A framework's benchmark results per data set (published, own runs): how many and from when, and every figure
# of the data set's latest day for it.
SELECT ?dataset ?title ?count ?first ?date ?scenario ?server ?rps ?completed ?p50 ?version ?source ?method WHERE {
  { SELECT ?dataset (COUNT(?x) AS ?count) (MIN(?d) AS ?first) (MAX(?d) AS ?date) WHERE {
      ?x fw:benchmarkedFramework <IRI> ; qb:dataSet ?dataset ; fw:resultDate ?d } GROUP BY ?dataset }
  ?o fw:benchmarkedFramework <IRI> ; qb:dataSet ?dataset ; fw:resultDate ?date ; fw:benchmarkScenario ?s ;
     fw:packageVersion ?version ; fw:latencyP50 ?p50 .
  ?s skos:prefLabel ?scenario .
  OPTIONAL { ?dataset rdfs:label ?title }
  OPTIONAL { ?o fw:serverPackage ?server }
  OPTIONAL { ?o fw:requestsPerSecond ?rps }
  OPTIONAL { ?o fw:requestsCompleted ?completed }
  OPTIONAL { ?o dcterms:source ?source }
  OPTIONAL { ?o fw:benchmarkMethod ?method }
}
ORDER BY ?dataset ?scenario ?server
"""


def _benchmarks(engine: Engine, iri: str, link: Linker) -> list[Benchmarks]:
    """The framework's benchmark results, one entry per data set: the count, the first day, the latest day's
    figures (each with its source, or for an own run its method node)."""
    rows = _query(engine, BENCHMARKS_QUERY.replace("IRI", iri))
    idx = {v: i for i, v in enumerate(rows.variables)}

    def get(row: Any, var: str) -> str | None:
        term = row[idx[var]]
        return None if term is None else term.value

    out: dict[str, Benchmarks] = {}
    for r in rows.rows:
        dataset = get(r, "dataset") or ""
        entry = out.setdefault(dataset, Benchmarks(title=get(r, "title") or dataset, count=int(get(r, "count") or 0),
                                                   first=get(r, "first") or "", latest=[]))
        method = get(r, "method")
        rps = get(r, "rps")
        entry.latest.append(Figure(
            scenario=get(r, "scenario") or "", server=get(r, "server") or "", version=get(r, "version") or "",
            result=f"{float(rps):.0f} requests/s" if rps is not None else f"{get(r, 'completed')} requests completed",
            latency=f"{float(get(r, 'p50') or 0):.2f} ms", date=get(r, "date") or "",
            source=get(r, "source") or (link(method) or method if method else ""),
            method=(link(method) or method) if method else None))
    return list(out.values())


def _matrix(graph: Graph, node: URIRef, build: Builder, order: list[str]) -> list[Support]:
    """The framework's feature statements (``fw:featureSupport``), in the core list's order."""
    rows = []
    for statement in graph.objects(node, FW.featureSupport):
        feature, level = graph.value(statement, FW.supportedFeature), graph.value(statement, FW.supportLevel)
        if feature is None or level is None:
            continue
        comment = graph.value(statement, RDFS.comment)
        rows.append(Support(feature=build.value(graph, feature), feature_iri=str(feature),
                            level=build.value(graph, level),
                            level_slug=str(level).rsplit("/", 1)[-1],
                            via=sorted(str(v) for v in graph.objects(statement, FW.viaPackage)),
                            sources=build.values(graph, statement, DCTERMS.source),
                            comment=str(comment) if comment is not None else None))
    rank = {iri: n for n, iri in enumerate(order)}
    rows.sort(key=lambda r: (rank.get(r.feature_iri, len(rank)), r.feature.text.lower()))
    return rows


def _links(graph: Graph, node: URIRef) -> list[Value]:
    """Where a person goes next: homepage, documentation, repository, the package index."""
    out = []
    for pred, name in ((DOAP.homepage, "Homepage"), (SDO.softwareHelp, "Documentation"),
                       (SDO.codeRepository, "Repository")):
        for target in sorted(graph.objects(node, pred), key=str):
            if isinstance(target, URIRef):
                out.append(Value(text=name, href=str(target)))
                break
    for dist in sorted(graph.objects(node, FW.pypiDistribution), key=str):
        out.append(Value(text="PyPI", href=f"https://pypi.org/project/{dist}/"))
        break
    return out


def _claims(claims: Graph, build: Builder) -> list[Claim]:
    out = []
    skip = frozenset({RDF.type, FW.claimAbout, RDFS.label})
    for c in sorted(set(claims.subjects(FW.claimAbout, None)), key=str):
        kind = "correction" if FW.Correction in set(claims.objects(c, RDF.type)) else "row"
        claim = Claim(iri=str(c), href=build.link(str(c)) or str(c), title=label_of(claims, c) or build.labels(str(c)),
                      kind=kind, facts=build.facts(claims, c, skip=skip))
        if kind == "correction":
            prop = claims.value(c, FW.onProperty)
            claim.about = build.labels(str(prop)) if prop is not None else None
            claim.chart = build.values(claims, c, FW.chartValue)
            claim.now = build.values(claims, c, FW.currentValue)
            claim.sources = build.values(claims, c, DCTERMS.source)
            comment = claims.value(c, RDFS.comment)
            claim.comment = str(comment) if comment is not None else None
        out.append(claim)
    out.sort(key=lambda c: (c.kind != "row", c.title))
    return out


def document_view(iri: str, doc: Graph, link: Linker) -> DocumentView:
    """The vocabulary (/ns) or the shapes (/shapes) as a page: every term with its label and comment."""
    build = Builder(Labels(None, set()), link)
    terms = []
    for s in sorted({s for s in doc.subjects() if isinstance(s, URIRef) and str(s) != iri}, key=str):
        terms.append(Term(
            iri=str(s),
            anchor=str(s).split("#", 1)[1] if "#" in str(s) else None,
            label=label_of(doc, s) or curie_or_iri(str(s)),
            comment=" ".join(sorted(str(c) for c in doc.objects(s, RDFS.comment))),
            facts=build.facts(doc, s, skip=frozenset({RDFS.label, RDFS.comment, RDFS.isDefinedBy})),
        ))
    node = URIRef(iri)
    own = build.facts(doc, node, skip=frozenset({RDFS.label, DCTERMS.title, DCTERMS.description, RDFS.comment}))
    return DocumentView(iri=iri, title=label_of(doc, node) or iri,
                        description=sorted(str(o) for o in doc.objects(node, DCTERMS.description)), terms=terms,
                        own=own)
