"""Validate the graph or a contribution against the SHACL shapes, with readable, structured reports."""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pyshacl
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SH
from rdflib.plugins.sparql.algebra import translateQuery
from rdflib.plugins.sparql.parser import parseQuery
from rdflib.plugins.sparql.processor import SPARQLProcessor

from fwgraph.core.namespace import BASE, bind_prefixes, curie_or_iri, label_of
from fwgraph.core.settings import active
from fwgraph.data.examples import executables
from fwgraph.data.graph import Sources, load_files, load_shapes, parse_file
from fwgraph.publish.canonical import canonical_graph, canonical_nt, canonical_quads, load_sources, stamp_quads
from fwgraph.publish.dist import Version

SEVERITIES = {SH.Violation: "Violation", SH.Warning: "Warning", SH.Info: "Info"}


@dataclass(frozen=True)
class Result:
    """One SHACL validation result, in the terms a contributor reads."""

    focus_node: Any
    path: Any
    severity: str
    message: str
    source_shape: Any
    node_shape: Any
    value: Any = None
    file: str | None = None

    def as_dict(self, short: bool = False) -> dict[str, Any]:
        """The result as JSON-ready values; ``short`` writes IRIs as compact names where there is one."""
        return {
            "file": self.file,
            "focusNode": _show(self.focus_node, short),
            "path": _show(self.path, short),
            "severity": self.severity,
            "message": self.message,
            "value": _show(self.value, short),
            "sourceShape": _show(self.source_shape, short),
            "nodeShape": _show(self.node_shape, short),
        }


def _show(term: Any, short: bool = False) -> str | None:
    if term is None:
        return None
    if isinstance(term, URIRef) and short:
        return curie_or_iri(term)
    if isinstance(term, BNode):
        return f"_:{term}"
    return str(term)


@dataclass
class ValidationReport:
    """The outcome of a validation: conforms unless a Violation exists; warnings are reported too."""

    results: list[Result] = field(default_factory=list)
    report_graph: Graph = field(default_factory=Graph)
    focus_count: int = 0

    @property
    def conforms(self) -> bool:
        return not any(r.severity == "Violation" for r in self.results)

    @property
    def violations(self) -> list[Result]:
        return [r for r in self.results if r.severity == "Violation"]

    @property
    def warnings(self) -> list[Result]:
        return [r for r in self.results if r.severity == "Warning"]

    def as_dict(self) -> dict[str, Any]:
        return {
            "conforms": self.conforms,
            "violations": len(self.violations),
            "warnings": len(self.warnings),
            "results": [r.as_dict(short=True) for r in self.results],
        }

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2, ensure_ascii=False)

    def to_turtle(self) -> str:
        return bind_prefixes(self.report_graph).serialize(format="turtle")

    def to_text(self) -> str:
        lines = []
        for r in self.results:
            d = r.as_dict(short=True)
            where = d["file"] or "<graph>"
            lines.append(f"{where}: {d['severity']}: {d['focusNode']}")
            lines.append(f"    path:    {d['path'] or '(node)'}")
            if d["value"] is not None:
                lines.append(f"    value:   {d['value']}")
            lines.append(f"    shape:   {d['sourceShape']}")
            lines.append(f"    message: {d['message']}")
        verdict = "Conforms" if self.conforms else "Does not conform"
        lines.append(f"{verdict}: {len(self.violations)} violation(s), {len(self.warnings)} warning(s).")
        return "\n".join(lines) + "\n"


def _owner_shape(shapes: Graph, shape: Any) -> Any:
    owner = shapes.value(predicate=SH.property, object=shape)
    return owner if owner is not None else shape


def _results(report: Graph, shapes: Graph, origin: dict[Any, str]) -> list[Result]:
    out = []
    for node in report.subjects(RDF.type, SH.ValidationResult):
        focus = report.value(node, SH.focusNode)
        shape = report.value(node, SH.sourceShape)
        out.append(Result(
            focus_node=focus,
            path=report.value(node, SH.resultPath),
            severity=SEVERITIES.get(report.value(node, SH.resultSeverity), "Violation"),  # type: ignore[call-overload]
            message=label_of(report, node, SH.resultMessage) or "",
            source_shape=shape,
            node_shape=_owner_shape(shapes, shape),
            value=report.value(node, SH.value),
            file=origin.get(focus),
        ))
    order = {"Violation": 0, "Warning": 1, "Info": 2}
    out.sort(key=lambda r: (order[r.severity], r.file or "", str(r.focus_node), str(r.path), r.message))
    return out


class _ValidationQueryProcessor(SPARQLProcessor):
    """The SPARQL processor pySHACL's queries meet: on a graph being validated with an Oxigraph copy
    (:func:`validate_graph`), the query is evaluated by Oxigraph on that copy; on any other graph, by rdflib, with
    each query text parsed and translated once (rdflib's prepared queries).

    pySHACL evaluates a SPARQL-based constraint once per focus node with the same text. rdflib's default processor
    parses that text every time (about 25 ms each with pyparsing: with 94 records that was 30 of the 42 s a full
    validation took); prepared, each text is still parsed once per process (~60 ms), a seventh of validating one
    record. Oxigraph parses a text in microseconds and evaluates it in Rust. pySHACL
    pre-binds ``$this`` (and ``$value``, ``$currentShape``) by ``initBindings``; Oxigraph is given the same values
    as substitutions (SEP-0007, the pre-binding SHACL defines), and its solutions come back as rdflib terms
    (:func:`fwgraph.data.convert.from_ox`). A text Oxigraph cannot parse is left to rdflib. pySHACL stays the SHACL
    engine and rdflib the reference: tests/test_shapes.py compares the reports of both evaluators on every witness
    in tests/shapes/, bench/sparql_engines.py on the witnesses and the whole graph.
    """

    def query(self, strOrQuery: Any, initBindings: Any = None, initNs: Any = None,  # type: ignore[override]  # noqa: N803
              base: Any = None, DEBUG: bool = False) -> Any:  # noqa: N803
        copy = _copies.get(id(self.graph))
        if copy is not None and copy[0] is self.graph and isinstance(strOrQuery, str):
            answer = _oxigraph_answer(copy[1], strOrQuery, initBindings or {}, initNs or {}, base)
            if answer is not None:
                return answer
        if isinstance(strOrQuery, str) and len(strOrQuery) <= 16384:
            strOrQuery = _prepared(strOrQuery, tuple(sorted((initNs or {}).items())), base)
        return super().query(strOrQuery, initBindings, initNs, base, DEBUG)


#: The graphs being validated with an Oxigraph copy, by id: (the graph, its copy).
_copies: dict[int, tuple[Graph, Any]] = {}


def _oxigraph_answer(store: Any, text: str, bindings: dict[Any, Any], namespaces: dict[str, Any],
                     base: str | None) -> dict[str, Any] | None:
    """rdflib's answer (the mapping a processor returns) to SELECT or ASK ``text`` on Oxigraph ``store`` with
    ``bindings`` substituted, the prefixes of ``namespaces`` (rdflib passes the graph's) and ``base``; None for a
    text Oxigraph cannot parse or a query of another form."""
    import pyoxigraph as ox
    from rdflib import Variable

    from fwgraph.data.convert import from_ox, to_ox

    try:
        solutions = store.query(text, base_iri=base, prefixes={str(k): str(v) for k, v in namespaces.items()},
                                substitutions={ox.Variable(str(k)): to_ox(v) for k, v in bindings.items()})
    except SyntaxError:
        return None
    if isinstance(solutions, ox.QueryBoolean):
        return {"type_": "ASK", "askAnswer": bool(solutions)}
    if not isinstance(solutions, ox.QuerySolutions):
        return None
    names = [v.value for v in solutions.variables]
    variables = [Variable(n) for n in names]
    rows = [{var: from_ox(term) for var, term in zip(variables, (row[n] for n in names), strict=True)
             if term is not None} for row in solutions]
    return {"type_": "SELECT", "vars_": variables, "bindings": rows}


@lru_cache(maxsize=512)
def _prepared(text: str, namespaces: tuple[tuple[str, Any], ...], base: str | None) -> Any:
    return translateQuery(parseQuery(text), base, dict(namespaces))


def _use_prepared_queries() -> None:
    from rdflib import plugin
    from rdflib.query import Processor

    plugin.register("sparql", Processor, __name__, "_ValidationQueryProcessor")


def oxigraph_copy(data: Graph, data_nt: bytes | None = None) -> Any:
    """An in-memory Oxigraph store with the triples of ``data``: parsed from ``data_nt`` when given (its N-Triples,
    blank nodes labelled as in ``data``), else converted term by term."""
    import pyoxigraph as ox

    from fwgraph.data.convert import to_ox

    store = ox.Store()
    if data_nt is not None:
        store.bulk_extend(ox.parse(data_nt, format=ox.RdfFormat.N_TRIPLES))
    else:
        store.bulk_extend(ox.Quad(to_ox(s), to_ox(p), to_ox(o)) for s, p, o in data)
    return store


def validate_graph(data: Graph, *, shapes: Graph | None = None, focus: set[Any] | None = None,
                   origin: dict[Any, str] | None = None, data_nt: bytes | None = None,
                   oxigraph: bool = True) -> ValidationReport:
    """Validate ``data`` (ontology included) against ``shapes``; report only ``focus`` nodes if given.

    pySHACL's own ``focus_nodes`` option is not used: it skips nested checks (sh:node, qualified
    shapes) on values outside the list and fails on blank nodes, so the whole (small) graph is
    validated and the results are filtered instead. The SPARQL-based constraints are evaluated by Oxigraph on a
    copy of ``data`` (:func:`oxigraph_copy`, from ``data_nt`` when given), or with ``oxigraph=False`` by rdflib:
    the reports are the same (:class:`_ValidationQueryProcessor`).
    """
    shapes = shapes if shapes is not None else load_shapes()
    _use_prepared_queries()
    if oxigraph:
        _copies[id(data)] = (data, oxigraph_copy(data, data_nt))
    try:
        _conforms, report, _text = pyshacl.validate(
            data, shacl_graph=shapes, inference="none", advanced=False, allow_warnings=True,
            do_owl_imports=False, js=False)
    finally:
        _copies.pop(id(data), None)
    results = _results(report, shapes, origin or {})
    if focus is not None:
        results = [r for r in results if r.focus_node in focus]
    return ValidationReport(results=results, report_graph=report,
                            focus_count=len(focus) if focus is not None else 0)


def validation_cache_dir() -> Path:
    """Where validation reports of whole graphs are kept: ``$XDG_CACHE_HOME/fwgraph/validation``."""
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "fwgraph" / "validation"


def validation_cache_path(data_nt: bytes, shapes_nt: bytes) -> Path:
    """Where :func:`validate_graph_cached` keeps the report of data and shapes with these canonical N-Triples."""
    import hashlib

    import rdflib

    from fwgraph.core._version import __version__

    digest = hashlib.sha256()
    for part in (f"pyshacl {pyshacl.__version__} rdflib {rdflib.__version__} fwgraph {__version__}".encode(),
                 data_nt, shapes_nt):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return validation_cache_dir() / f"{digest.hexdigest()}.nt"


def validate_graph_cached(data: Callable[[], Graph], data_nt: bytes, *, shapes: Graph, shapes_nt: bytes,
                          origin: dict[Any, str] | None = None) -> ValidationReport:
    """:func:`validate_graph` of the graph ``data()`` gives (made only when needed), its report kept under the
    SHA-256 of what determines it.

    ``data_nt`` and ``shapes_nt`` are the canonical N-Triples of the data and ``shapes`` (blank nodes labelled by
    RDFC-1.0, the labels the data graph itself carries): the key is their digest with the versions of pySHACL, rdflib
    and fwgraph, so identical inputs are validated once and any change to the data, the vocabulary or the shapes
    is validated afresh. The report is stored as N-Triples with the blank node labels of ``data``, so its results
    name the same nodes. A cache that cannot be read or written is only a slower validation.
    """
    path = validation_cache_path(data_nt, shapes_nt)
    cached = _cached_report(path, shapes, origin)
    if cached is not None:
        return cached
    fresh = validate_graph(data(), shapes=shapes, origin=origin, data_nt=data_nt)
    _store_report(path, fresh.report_graph)
    return fresh


def _report_nt(report: Graph) -> bytes:
    import pyoxigraph as ox

    from fwgraph.data.convert import to_ox

    return ox.serialize((ox.Triple(to_ox(s), to_ox(p), to_ox(o)) for s, p, o in report),
                        format=ox.RdfFormat.N_TRIPLES) or b""


def _store_report(path: Path, report: Graph) -> bytes:
    """Keep a report's N-Triples at ``path`` (written whole or not at all); return them."""
    text = _report_nt(report)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}")
        temporary.write_bytes(text)
        temporary.replace(path)
    except OSError:
        pass
    return text


def _report_from_nt(text: bytes, shapes: Graph, origin: dict[Any, str] | None) -> ValidationReport | None:
    """The report whose N-Triples are ``text``; None when they are no SHACL validation report."""
    import pyoxigraph as ox

    from fwgraph.data.convert import add_ox

    try:
        report = add_ox(Graph(), ox.parse(text, format=ox.RdfFormat.N_TRIPLES))
    except SyntaxError:
        return None
    if (None, RDF.type, SH.ValidationReport) not in report:
        return None
    return ValidationReport(results=_results(report, shapes, origin or {}), report_graph=report)


def _cached_report(path: Path, shapes: Graph, origin: dict[Any, str] | None) -> ValidationReport | None:
    try:
        stored = path.read_bytes()
    except OSError:
        return None
    return _report_from_nt(stored, shapes, origin)


#: From this size of the data's N-Triples on, `fwgraph build` validates in another process while it writes
#: (about 50,000 triples: below, starting the process costs more than it saves).
BESIDE_BYTES = 8_000_000


class PendingValidation:
    """A validation started by :func:`validate_beside`; :meth:`report` waits for its report."""

    def __init__(self, report: ValidationReport | None = None, process: Any = None, connection: Any = None,
                 shapes: Graph | None = None, origin: dict[Any, str] | None = None) -> None:
        self._report, self._process, self._connection = report, process, connection
        self._shapes, self._origin = shapes, origin
        self._received = False

    @property
    def done(self) -> bool:
        """Whether the report is known already (cached, or validated in this process)."""
        return self._report is not None

    def report(self) -> ValidationReport:
        """The report, once the validating process has sent it; RuntimeError if it ended without one."""
        if self._report is None:
            try:
                kind, payload = self._connection.recv()
            except EOFError:
                kind, payload = "error", "the validating process ended without a report"
            self._received = True
            self.close()
            if kind == "error":
                raise RuntimeError(f"validation failed: {payload}")
            assert self._shapes is not None
            report = _report_from_nt(payload, self._shapes, self._origin)
            if report is None:
                raise RuntimeError("validation failed: the validating process sent no SHACL validation report")
            self._report = report
        return self._report

    def close(self) -> None:
        """Wait for the validating process to end; end it at once if its report was not asked for."""
        if self._process is not None:
            if not self._received:
                self._process.terminate()
            self._process.join()
            self._connection.close()
            self._process = None

    def __enter__(self) -> PendingValidation:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _cores() -> int:
    """The CPU cores this process may run on. Validating in another process pays for a second interpreter
    (start-up, imports, parsing the graph again, about 3 s of CPU): a gain in wall time where a core is free
    for it — on two cores, unless other work keeps them busy (``Settings.validate_beside``: CI's parallel tests
    measured the whole suite three minutes slower with it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def validate_beside(data: Callable[[], Graph], data_nt: bytes, *, shapes: Graph, shapes_nt: bytes,
                    origin: dict[Any, str] | None = None) -> PendingValidation:
    """:func:`validate_graph_cached`, run in another process while this one goes on (a large graph, no report
    cached); use as a context manager and ask :meth:`PendingValidation.report` for the report.

    The other process is started fresh (``spawn``: a fork could inherit a lock held by pyoxigraph's native
    threads), makes pySHACL's graph from ``data_nt`` (the canonical labels are kept), validates it against
    ``shapes_nt`` with the prefixes of ``shapes``, keeps the report in the cache and sends its N-Triples back:
    the report is read as a cached one is. Smaller graphs are validated here, by :func:`validate_graph_cached`.
    """
    import multiprocessing

    path = validation_cache_path(data_nt, shapes_nt)
    cached = _cached_report(path, shapes, origin)
    if cached is not None:
        return PendingValidation(cached)
    if len(data_nt) < BESIDE_BYTES or _cores() < 2 or not active().validate_beside:
        return PendingValidation(validate_graph_cached(data, data_nt, shapes=shapes, shapes_nt=shapes_nt,
                                                       origin=origin))
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_validate_elsewhere, name="fwgraph-validate", daemon=True,
                              args=(data_nt, shapes_nt, list(shapes.namespaces()), str(path), sender))
    process.start()
    sender.close()
    return PendingValidation(process=process, connection=receiver, shapes=shapes, origin=origin)


def _validate_elsewhere(data_nt: bytes, shapes_nt: bytes, namespaces: list[tuple[str, Any]], path: str,
                        connection: Any) -> None:
    """The other process of :func:`validate_beside`: validate, keep the report, send its N-Triples."""
    import traceback

    import pyoxigraph as ox

    from fwgraph.data.convert import add_ox

    try:
        data = canonical_graph(list(ox.parse(data_nt, format=ox.RdfFormat.N_TRIPLES)), "Memory")
        shapes = add_ox(Graph(), ox.parse(shapes_nt, format=ox.RdfFormat.N_TRIPLES))
        for prefix, namespace in namespaces:
            shapes.bind(prefix, namespace, override=True, replace=True)
        report = validate_graph(data, shapes=shapes, data_nt=data_nt)
        connection.send(("report", _store_report(Path(path), report.report_graph)))
    except BaseException:
        connection.send(("error", traceback.format_exc()))
    finally:
        connection.close()


def contribution_focus(contribution: Graph) -> set[Any]:
    """The nodes a contribution describes: every subject it states something about."""
    return set(contribution.subjects())


def referenced_iris(contribution: Graph) -> list[URIRef]:
    """Every IRI a contribution mentions, whose stored description validation needs (types, labels)."""
    return sorted({t for triple in contribution for t in triple if isinstance(t, URIRef)}, key=str)


#: Namespaces whose terms a contribution may use but never describe: the vocabulary, the shapes and the
#: W3C and community vocabularies fwgraph reuses. A statement about them would change what validation
#: means (``skos:Concept rdfs:subClassOf fw:ServerInterface`` made an invalid framework conform).
PROTECTED_NAMESPACES = (
    BASE + "ns", BASE + "shapes", "http://www.w3.org/1999/02/22-rdf-syntax-ns#", "http://www.w3.org/2000/01/rdf-schema#",
    "http://www.w3.org/2002/07/owl#", "http://www.w3.org/ns/shacl#", "http://www.w3.org/2004/02/skos/core#",
    "http://www.w3.org/2001/XMLSchema#", "http://usefulinc.com/ns/doap#", "http://purl.org/dc/terms/",
    "http://purl.org/dc/elements/1.1/", "https://schema.org/", "http://schema.org/", "http://www.w3.org/ns/prov#",
    "http://www.w3.org/ns/dcat#", "http://rdfs.org/ns/void#", "https://codemeta.github.io/terms/",
    "http://xmlns.com/foaf/0.1/", "http://spdx.org/rdf/terms#", "http://purl.org/linked-data/cube#",
)
#: Predicates that define classes, properties or shapes: never accepted in a contribution.
SCHEMA_PREDICATES = frozenset(URIRef(p) for p in (
    RDFS.subClassOf, RDFS.subPropertyOf, RDFS.domain, RDFS.range, OWL.equivalentClass, OWL.equivalentProperty,
    OWL.inverseOf, OWL.unionOf, OWL.intersectionOf, OWL.complementOf, OWL.disjointWith, OWL.onProperty,
    OWL.propertyChainAxiom, OWL.hasKey, OWL.imports))
SCHEMA_TYPES = frozenset(URIRef(t) for t in (
    RDFS.Class, OWL.Class, RDF.Property, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty,
    OWL.Restriction, OWL.Ontology, SH.NodeShape, SH.PropertyShape, SH.Shape))


def vocabulary_statements(contribution: Graph) -> list[tuple[Any, Any, Any]]:
    """The triples of ``contribution`` that state something about the vocabulary or the shapes."""
    out = []
    for s, p, o in contribution:
        if (p in SCHEMA_PREDICATES or str(p).startswith(str(SH))
                or (isinstance(s, URIRef) and str(s).startswith(PROTECTED_NAMESPACES))
                or (p == RDF.type and o in SCHEMA_TYPES)):
            out.append((s, p, o))
    return sorted(out, key=lambda t: tuple(map(str, t)))


def _vocabulary_results(statements: list[tuple[Any, Any, Any]], origin: dict[Any, str]) -> list[Result]:
    return [Result(focus_node=s, path=p, severity="Violation", value=o, source_shape=None, node_shape=None,
                   file=origin.get(s),
                   message="A contribution may not state anything about the vocabulary or the shapes (classes, "
                           "properties, shapes, or terms of the vocabularies fwgraph uses): propose such a change "
                           "to ontology/ instead. The statement was left out of the validation.")
            for s, p, o in statements]


def validate_contribution(contribution: Graph, describe: Callable[[list[URIRef]], Graph], vocabulary: Graph, *,
                          shapes: Graph | None = None, origin: dict[Any, str] | None = None,
                          oxigraph: bool = True) -> ValidationReport:
    """Validate a contribution with the stored descriptions of what it refers to.

    The data graph is the vocabulary, the contribution, and ``describe(iris)`` for every IRI the
    contribution mentions but does not describe itself (a contribution describing a resource
    replaces its stored record), so the cost grows with the contribution, not with the stored graph.
    Only the contribution's own nodes are reported. Nothing is modified. ``oxigraph`` as for
    :func:`validate_graph`.
    """
    described = contribution_focus(contribution)
    data = Graph()
    data += vocabulary
    # A contribution that describes a resource replaces its stored description (one file per
    # resource), so only the resources it refers to without describing them are looked up.
    data += describe([iri for iri in referenced_iris(contribution) if iri not in described])
    refused = vocabulary_statements(contribution)
    if refused:
        contribution = Graph() + contribution
        for triple in refused:
            contribution.remove(triple)
    data += contribution
    report = validate_graph(data, shapes=shapes, focus=contribution_focus(contribution), origin=origin,
                            oxigraph=oxigraph)
    if refused:  # in the results and in the report graph (the Turtle report), which then does not conform
        refusals = _vocabulary_results(refused, origin or {})
        report.results[:0] = refusals
        graph = report.report_graph
        for report_node in list(graph.subjects(RDF.type, SH.ValidationReport)):
            graph.set((report_node, SH.conforms, Literal(False)))
            _add_results(graph, report_node, refusals)
    return report


def validate(files: list[Path] | list[str] | None = None, *, root: Path | str | None = None,
             dist: Path | str | None = None, oxigraph: bool = True) -> ValidationReport:
    """Validate contribution ``files`` merged with the shipped graph, or the shipped graph itself.

    With ``dist`` (a directory written by `fwgraph build`), contributions are checked against that
    build's store and shapes instead of parsing the sources: fast whatever the size of the graph.
    Raises InputError when a file cannot be read or parsed. Writes nothing but the whole graph's report into
    the validation cache (:func:`validate_graph_cached`).
    With ``oxigraph=False`` a contribution's SPARQL-based constraints are evaluated by rdflib, the reference
    (:func:`validate_graph`).

    >>> validate().conforms
    True
    """
    if dist is not None and files:
        return _validate_against_dist([Path(f) for f in files], Path(dist))
    src = Sources.at(root)
    shapes = load_shapes(str(root) if root else None)
    if not files:
        return _validate_sources(src, shapes)
    contribution = load_files([Path(f) for f in files])
    return validate_contribution(contribution.graph, describe_in_files([src.ontology, *src.data]),
                                 parse_file(src.ontology), origin=contribution.origin, shapes=shapes,
                                 oxigraph=oxigraph)


def _validate_sources(src: Sources, shapes: Graph) -> ValidationReport:
    """The whole graph, stamped with this version, validated as `fwgraph build` validates it: canonically
    labelled, its report kept under the digest of the canonical data and shapes (:func:`validate_graph_cached`)."""
    from fwgraph.core._version import __version__

    sources = load_sources([src.ontology, *src.data], executables(src.queries), str(src.queries))
    quads = stamp_quads(sources.quads, Version(name=__version__, release=True))
    return validate_graph_cached(lambda: canonical_graph(quads, "Memory"), canonical_nt(quads), shapes=shapes,
                                 shapes_nt=canonical_nt(canonical_quads(shapes)), origin=sources.origin_of(quads))


def _validate_against_dist(files: list[Path], path: Path) -> ValidationReport:
    from fwgraph.publish.dist import Dist

    dist = Dist.at(path)
    contribution = load_files(files)
    return validate_contribution(contribution.graph, describer(dist.engine("disk")), dist.ontology(),
                                 origin=contribution.origin, shapes=dist.shapes())


def describer(engine: Any) -> Callable[[list[URIRef]], Graph]:
    """DESCRIBE on an engine (any fwgraph Engine), converted to rdflib for pySHACL."""

    def describe(iris: list[URIRef]) -> Graph:
        from fwgraph.data.querycheck import prepare
        from fwgraph.store.results import to_rdflib

        out = Graph()
        for start in range(0, len(iris), 200):
            query = prepare("DESCRIBE " + " ".join(f"<{i}>" for i in iris[start:start + 200]))
            out += to_rdflib(engine.query(query, max_rows=10_000_000).triples)
        return out

    return describe


def describe_in_files(paths: list[Path]) -> Callable[[list[URIRef]], Graph]:
    """A describer over stored Turtle files, parsed by Oxigraph (fast even for large graphs).

    Only the descriptions a contribution needs are converted to rdflib, so validating one
    contribution does not cost a full rdflib load of the stored graph. The files are loaded once into an
    on-disk store kept under the digest of their paths and bytes (:func:`sources_store`).
    """
    from fwgraph.store.engine import OxigraphEngine

    return describer(OxigraphEngine(sources_store(paths)))


#: On-disk stores of the sources kept in the cache (the newest; each is a few times the size of the sources).
KEPT_STORES = 3


def sources_store(paths: list[Path]) -> Any:
    """The triples of Turtle ``paths`` in a pyoxigraph store: an on-disk store in the cache
    (``$XDG_CACHE_HOME/fwgraph/stores/<digest>``), made when no store has the digest of the files' names and
    bytes (and the pyoxigraph version), opened read-only when one does; any change to a file makes a new
    store. Without a usable cache, a store in memory.
    """
    import hashlib
    import shutil
    import tempfile
    import time

    import pyoxigraph as ox

    from fwgraph.core.errors import InputError

    def quads() -> Any:
        for path in paths:
            try:
                yield from ox.parse(path=str(path), format=ox.RdfFormat.TURTLE, base_iri=BASE)
            except SyntaxError as exc:
                raise InputError(str(exc), source=str(path)) from None

    digest = hashlib.sha256(f"pyoxigraph {ox.__version__}".encode())
    try:
        for path in paths:
            data = path.read_bytes()
            for part in (str(path).encode(), data):
                digest.update(len(part).to_bytes(8, "big"))
                digest.update(part)
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", source=str(path)) from None
    folder = validation_cache_dir().parent / "stores" / digest.hexdigest()
    try:
        return ox.Store.read_only(str(folder))
    except OSError:
        pass
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".store-", dir=folder.parent))
    except OSError:
        store = ox.Store()
        store.bulk_extend(quads())
        return store
    try:
        store = ox.Store(str(staging))
        store.bulk_extend(quads())
        store.flush()
        del store
        staging.rename(folder)
    except OSError:  # another process made it first, or the disk is full
        shutil.rmtree(staging, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    for left in folder.parent.glob(".store-*"):  # what killed processes left
        if time.time() - left.stat().st_mtime > 3600:
            shutil.rmtree(left, ignore_errors=True)
    stores = sorted((p for p in folder.parent.iterdir() if not p.name.startswith(".")),
                    key=lambda p: p.stat().st_mtime, reverse=True)
    for old in stores[KEPT_STORES:]:
        if old != folder:
            shutil.rmtree(old, ignore_errors=True)
    try:
        return ox.Store.read_only(str(folder))
    except OSError:
        store = ox.Store()
        store.bulk_extend(quads())
        return store


def check_contribution(data: bytes, fmt: str, source: str, dist: str, *, max_triples: int = 5000,
                       max_results: int = 500, want_turtle: bool = False) -> dict[str, Any]:
    """Parse and validate one contribution against a build; a plain dict, so it can cross a process boundary.

    This is the job the server runs in its sandbox (fwgraph.publish.sandbox): ``{"error": {...}}`` for input
    that cannot be parsed or is too large, else ``{"report": ..., "triples": n, "subjects": [...]}``,
    with the report cut to ``max_results`` results (``"truncated": true`` then).
    """
    from fwgraph.core.errors import InputError
    from fwgraph.data.graph import parse_bytes
    from fwgraph.publish.dist import Dist

    try:
        contribution = parse_bytes(data, fmt, source=source)
    except InputError as exc:
        return {"error": exc.as_dict()}
    if len(contribution) == 0:
        return {"error": InputError("the contribution holds no triples", source=source).as_dict()}
    if len(contribution) > max_triples:
        return {"error": InputError(f"the contribution holds {len(contribution)} triples; at most {max_triples} are "
                                    "validated at once (split it, one file per resource)", source=source).as_dict()}
    ontology, shapes = dist_context(dist)
    origin = {s: source for s in contribution.subjects()}
    report = validate_contribution(contribution, describer(Dist(Path(dist)).engine()), ontology, shapes=shapes,
                                   origin=origin)
    doc = report.as_dict()
    truncated = len(doc["results"]) > max_results
    doc["results"] = doc["results"][:max_results]
    doc["truncated"] = truncated
    subjects = [curie_or_iri(str(s)) for s in sorted(set(contribution.subjects()), key=str)]
    out: dict[str, Any] = {"report": doc, "triples": len(contribution), "subjects": subjects}
    if want_turtle:
        out["turtle"] = report.to_turtle() if not truncated else _report_turtle(report, max_results)
    return out


_contexts: dict[tuple[str, int, int], tuple[Graph, Graph]] = {}


def dist_context(dist: str) -> tuple[Graph, Graph]:
    """A build's vocabulary and shapes, parsed once per process (again when either file changes).

    Reusing one shapes graph also reuses what pySHACL makes from it: a contribution's validation takes a fraction
    of the time it takes with freshly parsed shapes.
    """
    from fwgraph.publish.dist import ONTOLOGY_FILE, SHAPES_FILE, Dist

    context = Dist(Path(dist))
    key = (str(context.path), (context.path / ONTOLOGY_FILE).stat().st_mtime_ns,
           (context.path / SHAPES_FILE).stat().st_mtime_ns)
    if key not in _contexts:
        _contexts.clear()
        _contexts[key] = (context.ontology(), context.shapes())
    return _contexts[key]


def warm(dist: str) -> None:
    """Prepare this process to validate contributions against ``dist``, for the processes forked from it.

    The vocabulary and shapes are parsed, and a synthetic graph with one focus node for every target the
    shapes declare (an instance of each target class, a subject and an object of each target property) is
    validated, so that pySHACL has met every shape a contribution can meet (its SPARQL constraints are evaluated
    by Oxigraph, which compiles nothing that lasts; rdflib's prepared queries serve other graphs). No store is
    opened: the cost does not grow with the data, and nothing stays open across a fork.
    """
    ontology, shapes = dist_context(dist)
    sample = Graph()
    nodes = (URIRef(f"urn:fwgraph:warm:{n}") for n in itertools.count())
    for target in sorted(set(shapes.objects(None, SH.targetClass)), key=str):
        sample.add((next(nodes), RDF.type, target))
    for target in sorted(set(shapes.objects(None, SH.targetSubjectsOf)), key=str):
        sample.add((next(nodes), target, next(nodes)))
    for target in sorted(set(shapes.objects(None, SH.targetObjectsOf)), key=str):
        sample.add((next(nodes), target, next(nodes)))
    validate_contribution(sample, lambda iris: Graph(), ontology, shapes=shapes)


def _report_turtle(report: ValidationReport, limit: int) -> str:
    """A SHACL validation report of the first ``limit`` results (a truncated report stays bounded)."""
    g = bind_prefixes(Graph())
    node = BNode()
    g.add((node, RDF.type, SH.ValidationReport))
    g.add((node, SH.conforms, Literal(report.conforms)))
    _add_results(g, node, report.results[:limit])
    return g.serialize(format="turtle")


def _add_results(graph: Graph, report_node: Any, results: list[Result]) -> None:
    """Write ``results`` into a SHACL report graph as sh:ValidationResult nodes of ``report_node``."""
    severities = {v: k for k, v in SEVERITIES.items()}
    for r in results:
        res = BNode()
        graph.add((report_node, SH.result, res))
        graph.add((res, RDF.type, SH.ValidationResult))
        graph.add((res, SH.resultSeverity, severities[r.severity]))
        graph.add((res, SH.resultMessage, Literal(r.message, lang="en")))
        for prop, value in ((SH.focusNode, r.focus_node), (SH.resultPath, r.path), (SH.value, r.value),
                            (SH.sourceShape, r.source_shape)):
            if value is not None:
                graph.add((res, prop, value))
