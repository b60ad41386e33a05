"""Build the distribution: validated dumps (Turtle, N-Triples, JSON-LD), gzip copies and a VoID/DCAT description."""

from __future__ import annotations

import gzip
import hashlib
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, OWL, RDF, VOID, XSD

from fwgraph import formats
from fwgraph._version import __version__
from fwgraph.dist import COMPRESSED, STORE_DIR, VOID_FILE
from fwgraph.engine import write_store
from fwgraph.errors import BuildError, InputError
from fwgraph.graph import Sources, load_files, parse_file, stamp_version
from fwgraph.jsonld import context_bytes, to_jsonld
from fwgraph.namespace import BASE, DATASET_IRI, SPDX_TERMS, bind_prefixes
from fwgraph.validation import ValidationReport, validate_graph


@dataclass(frozen=True)
class BuildResult:
    """What a build wrote and the report of the validation that allowed it."""

    out: Path
    files: dict[str, Path]
    triples: int
    report: ValidationReport


def _canonical_quads(graph: Graph) -> list[ox.Quad]:
    """The graph's triples with blank nodes labelled by W3C RDF Dataset Canonicalization (RDFC-1.0), sorted.

    pyoxigraph's canonicalisation is linear on tree-shaped blank nodes like ours, where rdflib's
    ``to_canonical_graph`` takes minutes at a few thousand blank nodes.
    """
    dataset = ox.Dataset(ox.parse(graph.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES))
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return sorted(dataset, key=str)


def _canonical_nt(quads: list[ox.Quad]) -> bytes:
    """N-Triples with canonical blank node labels, lines sorted: identical bytes for identical graphs."""
    lines = sorted(f"{q.subject} {q.predicate} {q.object} ." for q in quads)
    return ("\n".join(lines) + "\n").encode("utf-8")


def _rdflib_term(term: Any) -> Any:
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)  # keep the canonical label (rdflib's parsers would draw new ones)
    if term.language:
        return Literal(term.value, lang=term.language)
    if term.datatype.value == str(XSD.string):
        return Literal(term.value)  # rdflib keeps plain and xsd:string literals apart
    return Literal(term.value, datatype=URIRef(term.datatype.value))


def _canonical_graph(quads: list[ox.Quad]) -> Graph:
    """An rdflib graph of canonically labelled quads (for Turtle and JSON-LD)."""
    graph = bind_prefixes(Graph())
    for q in quads:
        graph.add((_rdflib_term(q.subject), _rdflib_term(q.predicate), _rdflib_term(q.object)))
    return graph


def _turtle(graph: Graph) -> bytes:
    """Turtle with prefixes, blank nodes nested; rdflib sorts subjects and predicates, so the bytes are stable."""
    return graph.serialize(format="turtle", encoding="utf-8")


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=9, mtime=0)


def void_description(graph: Graph, files: dict[str, bytes], base: str = BASE) -> Graph:
    """VoID + DCAT for the dataset: statistics, distributions with checksums, endpoint and URI space."""

    dataset = URIRef(base + "dataset") if base != BASE else DATASET_IRI
    void = bind_prefixes(Graph())
    for triple in graph.triples((DATASET_IRI, None, None)):
        void.add((dataset, triple[1], triple[2]))
    void.add((dataset, RDF.type, VOID.Dataset))
    void.add((dataset, RDF.type, DCAT.Dataset))
    void.set((dataset, URIRef(str(DCAT) + "version"), Literal(__version__)))
    void.set((dataset, OWL.versionInfo, Literal(__version__)))
    void.set((dataset, VOID.triples, Literal(len(graph), datatype=XSD.integer)))
    void.set((dataset, VOID.entities, Literal(len({s for s in graph.subjects() if isinstance(s, URIRef)
                                                   and str(s).startswith(BASE)}), datatype=XSD.integer)))
    void.set((dataset, VOID.classes, Literal(len(set(graph.objects(None, RDF.type))), datatype=XSD.integer)))
    void.set((dataset, VOID.properties, Literal(len(set(graph.predicates())), datatype=XSD.integer)))
    void.set((dataset, VOID.distinctSubjects, Literal(len(set(graph.subjects())), datatype=XSD.integer)))
    void.set((dataset, VOID.distinctObjects, Literal(len(set(graph.objects())), datatype=XSD.integer)))
    void.set((dataset, VOID.uriSpace, Literal(base)))
    void.set((dataset, VOID.sparqlEndpoint, URIRef(base + "sparql")))
    void.set((dataset, VOID.rootResource, URIRef(base + "framework/flask")))
    for example in ("framework/flask", "framework/fastapi", "interface/asgi"):
        void.add((dataset, VOID.exampleResource, URIRef(base + example)))
    for vocab in ("http://usefulinc.com/ns/doap#", "http://purl.org/dc/terms/", "http://www.w3.org/2004/02/skos/core#",
                  "http://www.w3.org/ns/prov#", "https://schema.org/", base + "ns#"):
        void.add((dataset, VOID.vocabulary, URIRef(vocab)))
    service = URIRef(base + "sparql#service")
    void.add((dataset, DCAT.accessService, service))
    void.add((service, RDF.type, DCAT.DataService))
    void.add((service, DCAT.endpointURL, URIRef(base + "sparql")))
    void.add((service, DCAT.endpointDescription, URIRef(base + "sparql")))
    void.add((service, DCAT.servesDataset, dataset))
    void.add((service, DCTERMS.conformsTo, URIRef("https://www.w3.org/TR/sparql11-protocol/")))
    for name in sorted(files):
        data = files[name]
        fmt = formats.by_suffix(name.removesuffix(".gz"))
        dist = URIRef(f"{base}download/{name}")
        void.add((dataset, DCAT.distribution, dist))
        if name in ("fwgraph.ttl", "fwgraph.nt", "fwgraph.jsonld") or name.endswith(".gz"):
            void.add((dataset, VOID.dataDump, dist))
        void.add((dist, RDF.type, DCAT.Distribution))
        void.add((dist, DCTERMS.title, Literal(name)))
        void.add((dist, DCAT.downloadURL, dist))
        if fmt is not None:
            void.add((dist, DCAT.mediaType, URIRef(fmt.iana)))
        void.add((dist, DCAT.byteSize, Literal(len(data), datatype=XSD.nonNegativeInteger)))
        if name.endswith(".gz"):
            void.add((dist, DCAT.compressFormat, URIRef(formats.GZIP.iana)))
        checksum = BNode(f"checksum-{name}")
        void.add((dist, SPDX_TERMS.checksum, checksum))
        void.add((checksum, RDF.type, SPDX_TERMS.Checksum))
        void.add((checksum, SPDX_TERMS.algorithm, SPDX_TERMS.checksumAlgorithm_sha256))
        digest = Literal(hashlib.sha256(data).hexdigest(), datatype=XSD.hexBinary)
        void.add((checksum, SPDX_TERMS.checksumValue, digest))
    return void


def build(out: Path | str = "dist", root: Path | str | None = None) -> BuildResult:
    """Validate the sources and write the distribution into ``out``; raise BuildError if they do not conform.

    Two builds of the same sources write identical bytes.
    """
    src = Sources.at(root)
    loaded = load_files([src.ontology, *src.data])
    graph = stamp_version(loaded.graph)
    shapes = stamp_version(parse_file(src.shapes))
    report = validate_graph(graph, shapes=shapes, origin=loaded.origin)
    if not report.conforms:
        raise BuildError("the sources do not conform to the shapes; nothing was written\n" + report.to_text())
    out = Path(out)
    _check_replaceable(out)
    ontology = stamp_version(parse_file(src.ontology))
    quads = _canonical_quads(graph)
    nt = _canonical_nt(quads)
    canonical = _canonical_graph(quads)
    files: dict[str, bytes] = {
        "fwgraph.ttl": _turtle(canonical),
        "fwgraph.nt": nt,
        "fwgraph.jsonld": to_jsonld(canonical),
        "fwgraph.context.jsonld": context_bytes(),
        "ontology.ttl": _turtle(_canonical_graph(_canonical_quads(ontology))),
        "shapes.ttl": _turtle(_canonical_graph(_canonical_quads(shapes))),
    }
    for name in COMPRESSED:
        files[name + ".gz"] = _gzip(files[name])
    files[VOID_FILE] = _turtle(void_description(canonical, files))
    # Everything is written into a fresh sibling directory that then replaces ``out`` as a whole: an
    # interrupted build leaves the old distribution untouched (and no stale file survives a rebuild).
    out.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(out)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-build-", dir=out.parent))
    try:
        for name, data in files.items():
            (staging / name).write_bytes(data)
        write_store(staging / "fwgraph.nt", staging / STORE_DIR)
        _replace_dir(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    written = {name: out / name for name in files}
    return BuildResult(out=out, files=written, triples=len(graph), report=report)


def _remove_leftovers(out: Path, older_than: float = 3600.0) -> None:
    """Remove what killed builds left beside ``out``: old trees always, staging trees after an hour."""
    for path in out.parent.glob(f".{out.name}-*"):
        stale = path.name.startswith(f".{out.name}-old-") or (
            path.name.startswith(f".{out.name}-build-") and time.time() - path.stat().st_mtime > older_than)
        if stale and path.is_dir():
            shutil.rmtree(path, ignore_errors=True)


def _check_replaceable(out: Path) -> None:
    """Refuse to replace a directory that holds something other than a distribution."""
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / VOID_FILE).is_file())):
        raise InputError(f"exists and is not a fwgraph distribution (no {VOID_FILE}); choose an empty or new "
                         "directory", source=str(out))


def _replace_dir(new: Path, out: Path) -> None:
    """Put directory ``new`` in the place of ``out``: renames only, the old tree removed afterwards."""
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}-old-", dir=out.parent))
        out.rename(old / "dist")
    new.rename(out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


__all__ = ["BuildResult", "build", "void_description"]
