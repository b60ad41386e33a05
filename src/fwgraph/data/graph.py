"""Locate and load the fwgraph sources (ontology, shapes, data) and parse contributions safely."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, XSD

from fwgraph.core import formats
from fwgraph.core._version import __version__
from fwgraph.core.errors import InputError
from fwgraph.core.namespace import BASE, CONTEXT_IRI, ONTOLOGY_IRI, SHAPES_IRI, bind_prefixes
from fwgraph.core.settings import active
from fwgraph.data.convert import add_ox, to_ox
from fwgraph.data.examples import executables


def source_root() -> Path:
    """The directory holding ontology/, data/ and queries/: packaged with the wheel, else the source tree."""
    package = Path(__file__).resolve().parents[__name__.count(".") - 1]  # src/fwgraph, wherever this module sits
    packaged = package / "_sources"
    if (packaged / "ontology").is_dir():
        return packaged
    tree = package.parents[1]
    if (tree / "ontology").is_dir():
        return tree
    raise FileNotFoundError("fwgraph sources not found: neither packaged nor in a source tree")


@dataclass(frozen=True)
class Sources:
    """The files that make up one fwgraph graph."""

    root: Path
    ontology: Path
    shapes: Path
    data: tuple[Path, ...]
    queries: Path

    @classmethod
    def at(cls, root: Path | str | None = None) -> Sources:
        root = Path(root) if root is not None else source_root()
        ontology = root / "ontology" / "fwgraph.ttl"
        shapes = root / "ontology" / "shapes.ttl"
        if not ontology.is_file():
            raise FileNotFoundError(f"{ontology} not found (expected ontology/ and data/ under {root})")
        data = tuple(sorted((root / "data").rglob("*.ttl")))
        queries = root / "queries"
        if not queries.is_dir():
            queries = source_root() / "queries"
        return cls(root=root, ontology=ontology, shapes=shapes, data=data, queries=queries)


# --------------------------------------------------------------------------- parsing



def local_context() -> dict[str, Any]:
    """The fwgraph JSON-LD context (the same one `fwgraph build` writes), as a dict."""
    from fwgraph.data.jsonld import context  # local import: jsonld imports this module

    return context()


def _check_contexts(node: Any, source: str) -> Any:
    """Replace references to the fwgraph context by its content; refuse every other remote context.

    rdflib would fetch a remote ``@context`` (or read a local file) by itself; a contribution must
    never make the service open a connection or a file, so only inline contexts are accepted.
    """
    if isinstance(node, list):
        return [_check_contexts(item, source) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "@context":
            out[key] = _inline_context(value, source)
        else:
            out[key] = _check_contexts(value, source)
    return out


def _inline_context(value: Any, source: str) -> Any:
    if isinstance(value, list):
        return [_inline_context(v, source) for v in value]
    if isinstance(value, str):
        if value in (CONTEXT_IRI, "fwgraph.context.jsonld", "context.jsonld"):
            return local_context()["@context"]
        raise InputError(
            f"remote JSON-LD @context {value!r} is not fetched; inline the context or use {CONTEXT_IRI}",
            source=source)
    if isinstance(value, dict):
        if "@import" in value:
            raise InputError("JSON-LD @import is not fetched; inline the imported context", source=source)
        return {k: _check_contexts(v, source) if isinstance(v, (dict, list)) else v for k, v in value.items()}
    return value


# The deepest nesting of brackets ([ ( { in Turtle, [ { in JSON) a contribution may use is the setting
# CONTRIBUTION_MAX_NESTING; records need about 4.


def parse_bytes(data: bytes, fmt: str, source: str = "<input>", base: str = BASE) -> Graph:
    """Parse Turtle or JSON-LD ``data`` into a new graph; raise InputError with line and column.

    Nothing is fetched: JSON-LD contexts must be inline or the fwgraph context. Nesting deeper than
    CONTRIBUTION_MAX_NESTING is refused before any recursive parser sees the text.
    """
    _check_nesting(data, fmt, source)
    try:
        return _parse_bytes(data, fmt, source, base)
    except RecursionError:
        raise InputError(f"nested too deeply (more than {active().contribution_max_nesting} levels)",
                         source=source) from None
    except ValueError as exc:  # e.g. a JSON number with more digits than Python converts
        if isinstance(exc, InputError):
            raise
        raise InputError(f"unreadable value: {exc}", source=source) from None


_OPENERS = {"turtle": b"[(", "json-ld": b"[{"}
_CLOSERS = {"turtle": b"])", "json-ld": b"]}"}
# What can hold a bracket that is not one: strings (long ones first), IRIs and comments (Turtle), strings (JSON).
_SKIP = {
    "turtle": re.compile(rb'"""(?:[^"\\]|\\.|"(?!""))*+(?:"""|\Z)|\'\'\'(?:[^\'\\]|\\.|\'(?!\'\'))*+(?:\'\'\'|\Z)'
                         rb'|"(?:[^"\\\n]|\\.)*+"?|\'(?:[^\'\\\n]|\\.)*+\'?|<[^>\s]*+>?|#[^\n]*+'),
    "json-ld": re.compile(rb'"(?:[^"\\]|\\.)*+"?'),
}


def _check_nesting(data: bytes, fmt: str, source: str) -> None:
    """Refuse nesting past CONTRIBUTION_MAX_NESTING: one linear pass, skipped when too few brackets to break it."""
    max_nesting = active().contribution_max_nesting
    openers = _OPENERS.get(fmt)
    if openers is None or sum(data.count(bytes([c])) for c in openers) <= max_nesting:
        return
    closers = _CLOSERS[fmt]
    skip = _SKIP[fmt]
    depth, pos, end = 0, 0, len(data)
    while pos < end:
        byte = data[pos]
        if byte in openers:
            depth += 1
            if depth > max_nesting:
                line = data.count(b"\n", 0, pos) + 1
                column = pos - (data.rfind(b"\n", 0, pos) + 1) + 1
                raise InputError(f"nested too deeply (more than {max_nesting} levels)", source=source, line=line,
                                 column=column)
            pos += 1
        elif byte in closers:
            depth = max(0, depth - 1)
            pos += 1
        else:
            m = skip.match(data, pos)
            pos = m.end() if m and m.end() > pos else pos + 1


def check_blank_nesting(graph: Graph, source: str = "<input>") -> None:
    """Refuse blank nodes nested past CONTRIBUTION_MAX_NESTING in a parsed graph, as the text's brackets are.

    A writer (rdflib's Turtle serialiser) inlines a blank node that is the object of one triple inside that
    triple's subject, one recursion per level; blank nodes labelled so that the text stays flat
    (``_:a :p _:b . _:b :p _:c …``) chain them past any stack: 900 links raised RecursionError in the web
    process as a record was written. Linear: each blank node's depth is found once, walking up its one parent.
    """
    max_nesting = active().contribution_max_nesting
    parent: dict[Any, Any] = {}
    shared: set[Any] = set()  # objects of several triples: written once, by label, at the top level
    for subject, _, obj in graph:
        if isinstance(obj, BNode) and obj not in shared:
            if obj in parent:
                del parent[obj]
                shared.add(obj)
            else:
                parent[obj] = subject
    depth: dict[Any, int] = {}
    for node in parent:
        path: list[Any] = []
        while node in parent and node not in depth and node not in path:  # a cycle ends the walk
            path.append(node)
            if len(path) > max_nesting:
                break
            node = parent[node]
        base = depth.get(node, 0)
        for level, step in enumerate(reversed(path), start=base + 1):
            depth[step] = level
        if base + len(path) > max_nesting:
            raise InputError(f"blank nodes nest more than {max_nesting} deep (each the object of one statement, "
                             "written inside it); give the inner ones IRIs or state fewer levels", source=source)


def _parse_bytes(data: bytes, fmt: str, source: str, base: str) -> Graph:
    graph = bind_prefixes(Graph())
    if fmt == "turtle":
        # The triples pyoxigraph parsed go into the rdflib graph pySHACL needs.
        quads, prefixes = _turtle_quads(data, source, base)
        for prefix, namespace in prefixes.items():
            graph.bind(prefix, namespace, override=False)
        return add_ox(graph, quads)
    if fmt == "json-ld":
        try:
            doc = json.loads(data.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise InputError(f"not UTF-8: {exc.reason} at byte {exc.start}", source=source) from None
        except json.JSONDecodeError as exc:
            raise InputError(f"invalid JSON: {exc.msg}", source=source, line=exc.lineno,
                             column=exc.colno) from None
        doc = _check_contexts(doc, source)
        try:
            graph.parse(data=json.dumps(doc), format="json-ld", publicID=base)
        except Exception as exc:  # rdflib's JSON-LD errors are plain exceptions with a message
            raise InputError(f"invalid JSON-LD: {exc}", source=source) from None
        return graph
    raise InputError(f"unsupported format {fmt!r}; use Turtle or JSON-LD", source=source)


def _turtle_quads(data: bytes, source: str, base: str) -> tuple[list[ox.Quad], dict[str, str]]:
    """Turtle parsed by pyoxigraph (exact error positions, a fifth of rdflib's time): its triples and prefixes.
    Blank node labels are drawn afresh, so ``_:b`` in two files are two nodes."""
    parser = ox.parse(data, format=ox.RdfFormat.TURTLE, base_iri=base, rename_blank_nodes=True)
    try:
        quads = list(parser)
    except SyntaxError as exc:
        raise InputError(_ox_message(exc), source=source, line=getattr(exc, "lineno", None),
                         column=getattr(exc, "offset", None)) from None
    return quads, parser.prefixes


def _ox_message(exc: SyntaxError) -> str:
    text = str(exc)
    return re.sub(r"^Parser error at line \d+ (?:between columns \d+ and \d+|column \d+): ", "", text)


def format_for(name: str, content_type: str | None = None) -> str:
    """The parser format (rdflib's name) for a media type or else a file name: 'turtle' or 'json-ld'.

    A file named ``.json`` is read as JSON-LD; a name with no known suffix and no media type as Turtle.
    """
    fmt = formats.by_media_type(content_type, formats.INPUT_FORMATS)
    if fmt is None:
        fmt = formats.by_suffix(name, formats.INPUT_FORMATS)
    if fmt is None and name.lower().endswith(".json"):
        fmt = formats.JSONLD
    if fmt is None and (name.lower().endswith(".turtle") or not content_type):
        fmt = formats.TURTLE
    if fmt is None:
        raise InputError(f"unsupported media type {content_type!r}; send "
                         + " or ".join(f.media_type for f in formats.INPUT_FORMATS), source=name)
    assert fmt.rdflib is not None
    return fmt.rdflib


def parse_file(path: Path | str) -> Graph:
    """Parse one Turtle or JSON-LD file; raise InputError (with file, line and column) if it cannot be read."""
    path = Path(path)
    return parse_bytes(_read(path), format_for(path.name), source=str(path))


def parse_file_quads(path: Path | str) -> list[ox.Quad]:
    """The triples of one source file as pyoxigraph quads (fresh blank node labels), without an rdflib graph;
    the same checks and errors as :func:`parse_file`."""
    path = Path(path)
    fmt = format_for(path.name)
    if fmt != "turtle":
        return [ox.Quad(to_ox(s), to_ox(p), to_ox(o)) for s, p, o in parse_file(path)]
    data = _read(path)
    _check_nesting(data, fmt, str(path))
    return _turtle_quads(data, str(path), BASE)[0]


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", source=str(path)) from None


# --------------------------------------------------------------------------- loading


@dataclass
class LoadedGraph:
    """A graph plus the file each subject was stated in (for readable validation reports)."""

    graph: Graph
    origin: dict[Any, str] = field(default_factory=dict)


def load_files(paths: list[Path] | tuple[Path, ...], graph: Graph | None = None) -> LoadedGraph:
    """Parse ``paths`` into one graph, remembering which file stated each subject."""
    loaded = LoadedGraph(graph if graph is not None else bind_prefixes(Graph()))
    for path in paths:
        part = parse_file(path)
        for subject in set(part.subjects()):
            loaded.origin.setdefault(subject, str(path))
        loaded.graph += part
    return loaded


def rebase(graph: Graph, base: str) -> Graph:
    """``graph`` with the canonical base replaced by ``base`` in IRIs and in void:uriSpace literals."""
    if base == BASE:
        return graph
    out = bind_prefixes(Graph())

    def move(term: Any) -> Any:
        if isinstance(term, URIRef) and str(term).startswith(BASE):
            return URIRef(base + str(term)[len(BASE):])
        if isinstance(term, Literal) and str(term) == BASE:
            return Literal(base, lang=term.language, datatype=term.datatype)
        return term

    for s, p, o in graph:
        out.add((move(s), move(p), move(o)))
    return out


def stamp_version(graph: Graph, version: str | None = None, *, iri: bool = True, prior: str | None = None,
                  issued: str | None = None) -> Graph:
    """Write owl:versionInfo (and owl:versionIRI, owl:priorVersion, dcterms:issued) on the ontology and shapes
    headers in ``graph``.

    ``iri=False`` for a build that is no release (its version has no IRI); ``prior`` is the release before;
    ``issued`` the release's date.
    """

    version = version or __version__
    for header in (ONTOLOGY_IRI, SHAPES_IRI):
        if (header, RDF.type, OWL.Ontology) in graph:
            graph.set((header, OWL.versionInfo, Literal(version)))
            graph.remove((header, OWL.versionIRI, None))
            graph.remove((header, OWL.priorVersion, None))
            if iri:
                graph.add((header, OWL.versionIRI, URIRef(f"{header}/{version}")))
            if prior:
                graph.add((header, OWL.priorVersion, URIRef(f"{header}/{prior}")))
            if issued:
                graph.set((header, DCTERMS.issued, Literal(issued, datatype=XSD.date)))
    return graph


def load(root: Path | str | None = None, *, shapes: bool = False) -> Graph:
    """Load the ontology, all data and the example queries (and the shapes if asked) into one rdflib graph.

    >>> g = load()
    >>> len(g) > 500
    True
    """
    src = Sources.at(root)
    files = [src.ontology, *([src.shapes] if shapes and src.shapes.is_file() else []), *src.data]
    return stamp_version(with_examples(load_files(files).graph, src))


def with_examples(graph: Graph, src: Sources) -> Graph:
    """``graph`` with the example queries of ``src`` published in it (:func:`fwgraph.data.examples.executables`)."""
    graph += executables(src.queries)
    return graph


def load_store(root: Path | str | None = None) -> ox.Store:
    """The ontology, all data and the example queries in a pyoxigraph store, without an rdflib graph in between
    (what queries and charts need; :func:`load` gives the same triples as an rdflib graph, for validation)."""
    src = Sources.at(root)
    store = ox.Store()
    ontology = stamp_version(parse_file(src.ontology))  # the version stamp is written on an rdflib graph
    store.bulk_extend(ox.Quad(to_ox(s), to_ox(p), to_ox(o)) for s, p, o in ontology)
    for path in src.data:
        data = _read(path)
        _check_nesting(data, "turtle", str(path))
        store.bulk_extend(_turtle_quads(data, str(path), BASE)[0])
    store.bulk_extend(ox.Quad(to_ox(s), to_ox(p), to_ox(o)) for s, p, o in executables(src.queries))
    return store


@lru_cache(maxsize=4)
def load_shapes(root: str | None = None) -> Graph:
    """The SHACL shapes graph (cached; treat as read-only)."""
    src = Sources.at(root)
    return stamp_version(parse_file(src.shapes))
