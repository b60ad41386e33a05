"""Build the distribution: validated dumps (Turtle, N-Triples, JSON-LD), gzip copies and a VoID/DCAT description."""

from __future__ import annotations

import datetime
import gzip
import shutil
import tempfile
import time
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib import Graph
from rdflib.plugins.serializers.turtle import TurtleSerializer

from fwgraph.core.errors import BuildError, InputError, StartError
from fwgraph.data.examples import executables
from fwgraph.data.graph import Sources, parse_file
from fwgraph.data.jsonld import context_bytes, to_jsonld
from fwgraph.publish.canonical import canonical_graph, canonical_nt, canonical_quads, load_sources, stamp_quads, stamped
from fwgraph.publish.description import void_description
from fwgraph.publish.dist import (
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
from fwgraph.publish.validation import ValidationReport, validate_beside
from fwgraph.store.engine import write_store


@dataclass(frozen=True)
class BuildResult:
    """What a build wrote and the report of the validation that allowed it."""

    out: Path
    files: dict[str, Path]
    triples: int
    report: ValidationReport
    version: Version


class _RememberingTurtleSerializer(TurtleSerializer):
    """rdflib's Turtle serializer, remembering the prefixed name it found for each IRI during one document.

    rdflib looks the prefixed name up again for every occurrence of an IRI, and an IRI under no bound prefix
    (a source on GitHub, a PyPI page) fails the lookup anew each time: that was half the writing time of
    fwgraph.ttl. The answers are the same: a found name never changes (rdflib keeps it), a miss is kept only
    until a prefix may be generated (a predicate's lookup), and every prefix a name uses was recorded for the
    header when the name was first found.
    """

    def reset(self) -> None:
        super().reset()
        self._found: dict[tuple[Any, bool], str] = {}
        self._missed: set[tuple[Any, bool]] = set()

    def get_pname(self, uri: Any, gen_prefix: bool = True) -> str | None:
        key = (uri, gen_prefix)
        found = self._found.get(key)
        if found is not None:
            return found
        if key in self._missed:
            return None
        if gen_prefix:  # this lookup may bind a new prefix, under which a missed IRI may have a name
            self._missed.clear()
        found = super().get_pname(uri, gen_prefix)
        if found is None:
            self._missed.add(key)
        else:
            self._found[key] = found
        return found


def _turtle(graph: Graph) -> bytes:
    """Turtle with prefixes, blank nodes nested; rdflib sorts subjects and predicates, so the bytes are stable.

    Written as ``graph.serialize(format="turtle", encoding="utf-8")`` writes it, by a serializer that remembers
    prefixed names (:class:`_RememberingTurtleSerializer`).
    """
    stream = BytesIO()
    _RememberingTurtleSerializer(graph).serialize(stream, base=graph.base, encoding="utf-8")
    return stream.getvalue()


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=9, mtime=0)


def build(out: Path | str = "dist", root: Path | str | None = None, *, version: str | None = None,
          issued: str | None = None) -> BuildResult:
    """Validate the sources and write the distribution into ``out``; raise BuildError if they do not conform.

    With ``version`` (MAJOR.MINOR.PATCH, above every shipped release) the build is that release: version IRIs,
    the release before as prior version, ``issued`` (ISO date, default today) as its date, and a description of
    ``dataset/<version>`` with its files under ``download/<version>/`` (see :mod:`fwgraph.publish.release`).
    Without, the build states the latest shipped release when the sources are that release, else
    ``<latest>+dev``; it also carries every shipped release (``releases/<version>/``), checked against its
    checksums, for the server.
    Two builds of the same sources write identical bytes.
    """
    src = Sources.at(root)
    out = Path(out)
    _check_replaceable(out)  # before the work: a wrong --out is an error at once, not after validation
    shipped = shipped_releases(src.root / RELEASES_DIR)
    sources = load_sources([src.ontology, *src.data], executables(src.queries), str(src.queries))
    shapes_source = parse_file(src.shapes)
    if version is not None:
        stamp = _new_release(version, issued, shipped)
        quads, shapes = stamp_quads(sources.quads, stamp), stamped(shapes_source, stamp)
    else:
        stamp, quads, shapes = _current(sources.quads, shapes_source, shipped)
    # The canonical graph is the one validated and written. The report is kept under the digest of the canonical
    # data and shapes: unchanged sources are not validated again, and pySHACL's graph is made only when they are,
    # for a large graph in another process while this one writes the dumps (validate_beside); nothing is written
    # to ``out`` before the report conforms. pySHACL adds a few axioms to the shapes graph it is given: it gets a
    # copy, the file gets the shapes alone.
    nt = canonical_nt(quads)
    checked = stamped(shapes, stamp)
    with validate_beside(lambda: canonical_graph(quads, "Memory"), nt, shapes=checked,
                         shapes_nt=canonical_nt(canonical_quads(checked)), origin=sources.origin_of(quads)) as pending:
        if pending.done:
            _check_conforms(pending.report())
        canonical = canonical_graph(quads)
        ontology = stamped(parse_file(src.ontology), stamp)
        files: dict[str, bytes] = {
            "fwgraph.ttl": _turtle(canonical),
            GRAPH_DUMP: nt,
            "fwgraph.jsonld": to_jsonld(canonical),
            "fwgraph.context.jsonld": context_bytes(),
            "ontology.ttl": _turtle(canonical_graph(canonical_quads(ontology))),
            "shapes.ttl": _turtle(canonical_graph(canonical_quads(shapes))),
        }
        for name in COMPRESSED:
            files[name + ".gz"] = _gzip(files[name])
        files[VOID_FILE] = _turtle(void_description(canonical, files, version=stamp,
                                                    versioned_dataset=version is not None))
        try:
            report = pending.report()
        except RuntimeError as exc:
            raise BuildError(f"{exc}; nothing was written") from None
    _check_conforms(report)
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


def _check_conforms(report: ValidationReport) -> None:
    if not report.conforms:
        raise BuildError("the sources do not conform to the shapes; nothing was written\n" + report.to_text())


# ---------------------------------------------------------------------------------------------- versions


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
        return dev, stamp_quads(quads, dev), stamped(shapes, dev)
    latest = shipped[-1]
    candidate = Version(name=latest.version, release=True, prior=latest.prior, issued=latest.issued,
                        releases=releases)
    data, shape_graph = stamp_quads(quads, candidate), stamped(shapes, candidate)
    same = canonical_nt(data) == _release_dump(latest) and canonical_nt(
        canonical_quads(shape_graph)) == canonical_nt(canonical_quads(parse_file(latest.path / "shapes.ttl")))
    if same:
        return candidate, data, shape_graph
    dev = Version(name=f"{latest.version}+dev", release=False, prior=latest.version, releases=releases)
    return dev, stamp_quads(quads, dev), stamped(shapes, dev)


def _release_dump(release: Release) -> bytes:
    try:
        return release.dump()
    except InputError as exc:
        raise BuildError(f"release {release.version} in {release.path} is damaged: {exc}") from None


def _unpack_release(release: Release, target: Path) -> None:
    """Copy a shipped release into a distribution, with its dumps uncompressed, and check its checksums.

    Each gzip copy is checked against the release's VoID before it is decompressed, and decompressed no
    further than the size stated there (:func:`fwgraph.publish.dist.unpack_listed`); the release holds only its own
    regular files (:func:`fwgraph.publish.dist.shipped_releases` checked), and a link is copied as a link, never
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
