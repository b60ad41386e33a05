"""Build the distribution: validated dumps (Turtle, N-Triples, JSON-LD), gzip copies and a VoID/DCAT description."""

from __future__ import annotations

import datetime
import gzip
import multiprocessing
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib import BNode, Graph, URIRef

from fwgraph.convert import add_ox, from_ox, to_ox
from fwgraph.description import void_description
from fwgraph.dist import (
    COMPRESSED,
    GRAPH_DUMP,
    RELEASES_DIR,
    STORE_DIR,
    VOID_FILE,
    Dist,
    Release,
    Version,
    shipped_releases,
    unpack_listed,
    version_key,
)
from fwgraph.engine import write_store
from fwgraph.errors import BuildError, InputError, StartError
from fwgraph.graph import Sources, parse_file, parse_file_quads, stamp_version
from fwgraph.jsonld import context_bytes, to_jsonld
from fwgraph.namespace import ONTOLOGY_IRI, SHAPES_IRI, bind_prefixes
from fwgraph.validation import ValidationReport, validate_graph_cached, validation_cache_path


@dataclass(frozen=True)
class BuildResult:
    """What a build wrote and the report of the validation that allowed it."""

    out: Path
    files: dict[str, Path]
    triples: int
    report: ValidationReport
    version: Version


def canonical_quads(graph: Graph) -> list[ox.Quad]:
    """The graph's triples with blank nodes labelled by W3C RDF Dataset Canonicalization (RDFC-1.0), sorted.

    pyoxigraph's canonicalisation is linear on tree-shaped blank nodes like ours, where rdflib's
    ``to_canonical_graph`` takes minutes at a few thousand blank nodes.
    """
    dataset = ox.Dataset(ox.parse(graph.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES))
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return sorted(dataset, key=str)


def canonical_nt(quads: list[ox.Quad]) -> bytes:
    """N-Triples with canonical blank node labels, lines sorted: identical bytes for identical graphs."""
    lines = sorted(f"{q.subject} {q.predicate} {q.object} ." for q in quads)
    return ("\n".join(lines) + "\n").encode("utf-8")


def canonical_graph(quads: list[ox.Quad], store: str = "SimpleMemory") -> Graph:
    """An rdflib graph of canonically labelled quads: for Turtle and JSON-LD in rdflib's store without contexts
    (a third faster to fill and to write, the same bytes), for pySHACL in its default store (``"Memory"``)."""
    return add_ox(bind_prefixes(Graph(store=store)), quads)


def _turtle(graph: Graph) -> bytes:
    """Turtle with prefixes, blank nodes nested; rdflib sorts subjects and predicates, so the bytes are stable."""
    return graph.serialize(format="turtle", encoding="utf-8")


def _beside(work: Callable[[], object]) -> multiprocessing.process.BaseProcess | None:
    """``work()`` started in a forked process; None where processes cannot be forked, or when this process runs
    other threads (one of them could hold a lock the forked process would wait for forever)."""
    if threading.active_count() > 1:
        return None
    try:
        process = multiprocessing.get_context("fork").Process(target=work, daemon=True)
        process.start()
    except (ValueError, OSError):
        return None
    return process


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=9, mtime=0)


def build(out: Path | str = "dist", root: Path | str | None = None, *, version: str | None = None,
          issued: str | None = None) -> BuildResult:
    """Validate the sources and write the distribution into ``out``; raise BuildError if they do not conform.

    With ``version`` (MAJOR.MINOR.PATCH, above every shipped release) the build is that release: version IRIs,
    the release before as prior version, ``issued`` (ISO date, default today) as its date, and a description of
    ``dataset/<version>`` with its files under ``download/<version>/`` (see :mod:`fwgraph.release`). Without, the
    build states the latest shipped release when the sources are that release, else ``<latest>+dev``; it also
    carries every shipped release (``releases/<version>/``), checked against its checksums, for the server.
    Two builds of the same sources write identical bytes.
    """
    src = Sources.at(root)
    out = Path(out)
    _check_replaceable(out)  # before the work: a wrong --out is an error at once, not after validation
    shipped = shipped_releases(src.root / RELEASES_DIR)
    sources = load_sources([src.ontology, *src.data])
    shapes_source = parse_file(src.shapes)
    if version is not None:
        stamp = _new_release(version, issued, shipped)
        quads, shapes = stamp_quads(sources.quads, stamp), _stamped(shapes_source, stamp)
    else:
        stamp, quads, shapes = _current(sources.quads, shapes_source, shipped)
    # The canonical graph is the one validated and written. The report is kept under the digest of the canonical
    # data and shapes (validate_graph_cached): unchanged sources are not validated again, and pySHACL's graph is
    # made only when they are. pySHACL adds a few axioms to the shapes graph it is given: it gets a copy, the
    # file gets the shapes alone.
    canonical = canonical_graph(quads)
    nt = canonical_nt(quads)
    checked = _stamped(shapes, stamp)
    shapes_nt = canonical_nt(canonical_quads(checked))

    def check() -> ValidationReport:
        return validate_graph_cached(lambda: canonical_graph(quads, "Memory"), nt, shapes=checked,
                                     shapes_nt=shapes_nt, origin=sources.origin_of(quads))

    # With no report cached, a forked process validates (and caches the report) while this one writes the dumps.
    validating = None if validation_cache_path(nt, shapes_nt).is_file() else _beside(check)
    ontology = _stamped(parse_file(src.ontology), stamp)
    files: dict[str, bytes] = {
        "fwgraph.ttl": _turtle(canonical),
        GRAPH_DUMP: nt,
        "fwgraph.jsonld": to_jsonld(canonical),
        "fwgraph.context.jsonld": context_bytes(),
        "ontology.ttl": _turtle(canonical_graph(canonical_quads(ontology))),
        "shapes.ttl": _turtle(canonical_graph(canonical_quads(shapes))),
    }
    if validating is not None:
        validating.join()
    report = check()  # the report the forked process cached; validated here when it could not
    if not report.conforms:
        raise BuildError("the sources do not conform to the shapes; nothing was written\n" + report.to_text())
    for name in COMPRESSED:
        files[name + ".gz"] = _gzip(files[name])
    files[VOID_FILE] = _turtle(void_description(canonical, files, version=stamp,
                                                versioned_dataset=version is not None))
    # Everything is written into a fresh sibling directory that then replaces ``out`` as a whole: an
    # interrupted build leaves the old distribution untouched (and no stale file survives a rebuild).
    out.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(out)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-build-", dir=out.parent))
    try:
        for name, data in files.items():
            (staging / name).write_bytes(data)
        if version is None:
            for release in shipped:
                _unpack_release(release, staging / RELEASES_DIR / release.version)
        write_store(staging / GRAPH_DUMP, staging / STORE_DIR)
        _replace_dir(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    written = {name: out / name for name in files}
    return BuildResult(out=out, files=written, triples=len(quads), report=report, version=stamp)


# ---------------------------------------------------------------------------------------------- versions


def _stamped(graph: Graph, stamp: Version) -> Graph:
    copy = Graph()
    copy += graph
    for prefix, ns in graph.namespaces():
        copy.bind(prefix, ns, override=True)
    return stamp_version(copy, stamp.name, iri=stamp.release, prior=stamp.prior,
                         issued=stamp.issued if stamp.release else None)


_HEADERS = frozenset(ox.NamedNode(str(iri)) for iri in (ONTOLOGY_IRI, SHAPES_IRI))


def stamp_quads(quads: list[ox.Quad], stamp: Version) -> list[ox.Quad]:
    """Canonical quads stamped with ``stamp`` (as :func:`_stamped` stamps a graph), sorted.

    Stamping rewrites triples of the ontology and shapes headers whose objects are IRIs or literals, never a
    blank node: RDFC-1.0 labels a blank node from the quads that mention blank nodes only, so the quads
    canonicalised once before stamping carry the labels the stamped graph would get.
    """
    header = [q for q in quads if q.subject in _HEADERS]
    if not header:
        return list(quads)
    stamped = _stamped(add_ox(Graph(), header), stamp)
    rest = [q for q in quads if q.subject not in _HEADERS]
    return sorted([*rest, *(ox.Quad(to_ox(s), to_ox(p), to_ox(o)) for s, p, o in stamped)], key=str)


@dataclass
class SourceQuads:
    """The sources' triples, canonically labelled and sorted, and which file stated each subject."""

    quads: list[ox.Quad]
    subjects: dict[ox.NamedNode, str]
    anchors: dict[tuple[ox.NamedNode, ox.NamedNode], str]

    def origin_of(self, quads: list[ox.Quad]) -> dict[Any, str]:
        """The file each subject of ``quads`` (canonically labelled) was stated in, keyed by rdflib term.

        An IRI: the first file stating it as a subject. A blank node: the first file hanging a blank node from
        the IRI and predicate it hangs from (its labels are the canonical ones, not the files').
        """
        origin: dict[Any, str] = {URIRef(k.value): v for k, v in self.subjects.items()}
        parent: dict[Any, tuple[Any, Any]] = {}
        for q in quads:
            if isinstance(q.object, ox.BlankNode):
                parent.setdefault(q.object, (q.subject, q.predicate))
        for node in {q.subject for q in quads if isinstance(q.subject, ox.BlankNode)}:
            seen, step = {node}, parent.get(node)
            while step is not None and isinstance(step[0], ox.BlankNode) and step[0] not in seen:
                seen.add(step[0])
                step = parent.get(step[0])
            if step is not None and isinstance(step[0], ox.NamedNode):
                found = self.anchors.get(step)
                if found is not None:
                    origin[BNode(node.value)] = found
        return origin


def load_sources(paths: list[Path]) -> SourceQuads:
    """Parse the Turtle sources with pyoxigraph, each term as rdflib reads it, and canonicalise them once.

    Terms go through rdflib's term conversion (:mod:`fwgraph.convert`), so literals are normalised exactly as
    when the graph was loaded into rdflib first.
    """
    quads: list[ox.Quad] = []
    subjects: dict[ox.NamedNode, str] = {}
    anchors: dict[tuple[ox.NamedNode, ox.NamedNode], str] = {}
    cache: dict[Any, Any] = {}

    def term(t: Any) -> Any:
        found = cache.get(t)
        if found is None:
            found = cache[t] = t if isinstance(t, (ox.NamedNode, ox.BlankNode)) else to_ox(from_ox(t))
        return found

    for path in paths:
        part = parse_file_quads(path)
        for q in part:
            if isinstance(q.subject, ox.NamedNode):
                subjects.setdefault(q.subject, str(path))
                if isinstance(q.object, ox.BlankNode):
                    anchors.setdefault((q.subject, q.predicate), str(path))
            quads.append(ox.Quad(q.subject, q.predicate, term(q.object)))
    dataset = ox.Dataset(quads)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return SourceQuads(quads=sorted(dataset, key=str), subjects=subjects, anchors=anchors)


def _new_release(version: str, issued: str | None, shipped: list[Release]) -> Version:
    key = version_key(version)
    latest = shipped[-1] if shipped else None
    if latest is not None and key <= version_key(latest.version):
        raise InputError(f"release {version} is not above the latest shipped release {latest.version}; releases "
                         "are never replaced", source=version)
    if issued is None:
        issued = datetime.datetime.now(datetime.UTC).date().isoformat()
    try:
        datetime.date.fromisoformat(issued)
    except ValueError:
        raise InputError("the release date is YYYY-MM-DD", source=issued) from None
    return Version(name=version, release=True, prior=latest.version if latest else None, issued=issued,
                   releases=(*(r.version for r in shipped), version))


def _current(quads: list[ox.Quad], shapes: Graph, shipped: list[Release]) -> tuple[Version, list[ox.Quad], Graph]:
    """The version the sources are at: the latest release when they are that release, else ``<latest>+dev``;
    with the data's canonical quads and the shapes, both stamped.

    "Are that release" is decided on the canonical graphs: the data and the shapes, stamped as the release,
    equal the release's own dumps.
    """
    releases = tuple(r.version for r in shipped)
    if not shipped:
        dev = Version(name="0.0.0+dev", release=False)
        return dev, stamp_quads(quads, dev), _stamped(shapes, dev)
    latest = shipped[-1]
    candidate = Version(name=latest.version, release=True, prior=latest.prior, issued=latest.issued,
                        releases=releases)
    data, shape_graph = stamp_quads(quads, candidate), _stamped(shapes, candidate)
    same = canonical_nt(data) == _release_dump(latest) and canonical_nt(
        canonical_quads(shape_graph)) == canonical_nt(canonical_quads(parse_file(latest.path / "shapes.ttl")))
    if same:
        return candidate, data, shape_graph
    dev = Version(name=f"{latest.version}+dev", release=False, prior=latest.version, releases=releases)
    return dev, stamp_quads(quads, dev), _stamped(shapes, dev)


def _release_dump(release: Release) -> bytes:
    try:
        return release.dump()
    except InputError as exc:
        raise BuildError(f"release {release.version} in {release.path} is damaged: {exc}") from None


def _unpack_release(release: Release, target: Path) -> None:
    """Copy a shipped release into a distribution, with its dumps uncompressed, and check its checksums.

    Each gzip copy is checked against the release's VoID before it is decompressed, and decompressed no
    further than the size stated there (:func:`fwgraph.dist.unpack_listed`); the release holds only its own
    regular files (:func:`fwgraph.dist.shipped_releases` checked), and a link is copied as a link, never
    followed.
    """
    target.mkdir(parents=True)
    try:
        for path in sorted(release.path.iterdir()):
            shutil.copyfile(path, target / path.name, follow_symlinks=False)
            if path.name.endswith(".gz") and path.name.removesuffix(".gz") in COMPRESSED:
                name = path.name.removesuffix(".gz")
                (target / name).write_bytes(unpack_listed(release.path, name))
        Dist(target).verify()
    except (InputError, StartError) as exc:
        raise BuildError(f"release {release.version} in {release.path} is damaged: {exc}") from None


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
