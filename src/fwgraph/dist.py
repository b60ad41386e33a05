"""A built distribution on disk: the names of its files, its integrity check, and what opens from it (the
query engine's store, the vocabulary, the shapes, the VoID) — one dist context for the server and validation.
Also the shipped releases (``releases/<version>/``, frozen distributions) and the version a build states.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS

from fwgraph.engine import OxigraphEngine, store_triples, write_store
from fwgraph.errors import InputError, StartError
from fwgraph.graph import parse_file
from fwgraph.namespace import BASE, DCAT3, SPDX_TERMS

#: The files a build writes besides the compressed copies and the VoID (the server serves them from /download/).
DUMPS = ("fwgraph.ttl", "fwgraph.nt", "fwgraph.jsonld", "fwgraph.context.jsonld", "ontology.ttl", "shapes.ttl")
COMPRESSED = ("fwgraph.ttl", "fwgraph.nt", "fwgraph.jsonld")
GRAPH_DUMP = "fwgraph.nt"
VOID_FILE = "void.ttl"
ONTOLOGY_FILE = "ontology.ttl"
SHAPES_FILE = "shapes.ttl"
#: A release's notes (what changed, with the data diff against the release before it).
NOTES_FILE = "NOTES.md"
#: Where releases live: ``releases/<version>/`` beside data/ in the sources, and inside a built distribution.
RELEASES_DIR = "releases"
#: What the sources keep of a release (the uncompressed dumps are restored from the gzip copies and checked).
RELEASE_FILES = (*(f"{n}.gz" for n in COMPRESSED), "fwgraph.context.jsonld", ONTOLOGY_FILE, SHAPES_FILE, VOID_FILE,
                 NOTES_FILE)
#: Release versions are MAJOR.MINOR.PATCH (Semantic Versioning, no pre-release or build part).
_SEMVER = re.compile(r"^(0|[1-9][0-9]{0,5})\.(0|[1-9][0-9]{0,5})\.(0|[1-9][0-9]{0,5})$")
#: An on-disk Oxigraph store of fwgraph.nt that the server can open instead of loading the dump into
#: memory (large graphs). It is an index, not a distribution: not downloadable, not byte-stable.
STORE_DIR = "fwgraph.oxigraph"


@dataclass(frozen=True)
class Dist:
    """A distribution directory written by ``fwgraph build``."""

    path: Path

    @classmethod
    def at(cls, path: Path | str) -> Dist:
        dist = Path(path)
        if not (dist / GRAPH_DUMP).is_file():
            raise FileNotFoundError(f"{dist} holds no {GRAPH_DUMP}: run `fwgraph build --out {dist}` first")
        return cls(dist)

    def __truediv__(self, name: str) -> Path:
        return self.path / name

    @cached_property
    def digest(self) -> str:
        """The data version: a digest of the N-Triples dump (answers and ETags are keyed by it)."""
        with (self.path / GRAPH_DUMP).open("rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()[:20]

    def store_source(self, mode: str = "auto", disk_bytes: int = 0) -> Path:
        """What an engine loads: the N-Triples dump into memory, or the on-disk store (written when missing).

        ``mode`` is "memory", "disk" or "auto" (disk once the dump exceeds ``disk_bytes``): memory is fastest
        for small graphs; on disk, a large graph costs no load time and little memory.
        """
        dump = self.path / GRAPH_DUMP
        if mode == "memory" or (mode == "auto" and dump.stat().st_size <= disk_bytes):
            return dump
        store = self.path / STORE_DIR
        if not store.is_dir():
            write_store(dump, store)
        return store

    def store_problem(self) -> str | None:
        """Why the on-disk store cannot stand for the dump (unreadable, or not the dump's triples); None if it can."""
        try:
            held = store_triples(self.path / STORE_DIR)
        except InputError as exc:
            return exc.message
        expected = _lines(self.path / GRAPH_DUMP)  # canonical N-Triples: one triple a line
        return None if held == expected else f"it holds {held} triples, {GRAPH_DUMP} {expected}"

    def repair_store(self) -> str | None:
        """Check the on-disk store against the dump and rebuild it from the dump when it is damaged (it is an
        index of the checked dump, like one that is missing); return what was wrong, None when it was whole.

        A damaged store used to be served: /healthz 200 and every query 503, or, with a truncated manifest, an
        empty store answering every query with nothing. StartError when it cannot be rebuilt here.
        """
        problem = self.store_problem()
        if problem is not None:
            try:
                write_store(self.path / GRAPH_DUMP, self.path / STORE_DIR)
            except (OSError, RuntimeError) as exc:
                raise StartError(f"{self.path / STORE_DIR} is damaged ({problem}) and cannot be rebuilt there: "
                                 f"{exc}; rebuild the distribution with `fwgraph build`") from None
        return problem

    def engine(self, mode: str | None = None) -> OxigraphEngine:
        """An in-process engine over this distribution: its on-disk store when built (instant at any size),
        else the dump in memory; ``mode`` as in :meth:`store_source` to choose."""
        if mode is None:
            mode = "disk" if (self.path / STORE_DIR).is_dir() else "memory"
        return OxigraphEngine.from_file(self.store_source(mode), version=self.digest)

    def ontology(self) -> Graph:
        """The vocabulary (not the data): the base of every contribution's validation graph."""
        return parse_file(self.path / ONTOLOGY_FILE)

    def shapes(self) -> Graph:
        """The SHACL shapes, with the version the build stamped on them."""
        return parse_file(self.path / SHAPES_FILE)

    def void(self) -> Graph:
        return parse_file(self.path / VOID_FILE)

    def download_names(self) -> list[str]:
        """Every file a client may download: the build's list, nothing else."""
        names = [*DUMPS, *(f"{n}.gz" for n in COMPRESSED), VOID_FILE, NOTES_FILE]
        return [n for n in names if (self.path / n).is_file()]

    @cached_property
    def releases(self) -> dict[str, Dist]:
        """The shipped releases this distribution serves (``releases/<version>/``), oldest first."""
        found = {r.version: Dist(r.path) for r in shipped_releases(self.path / RELEASES_DIR)}
        return dict(sorted(found.items(), key=lambda item: version_key(item[0])))

    def verify(self) -> None:
        """Check the files against the SHA-256 checksums in ``void.ttl``; raise StartError if broken."""
        void_path = self.path / VOID_FILE
        if not void_path.is_file():
            raise StartError(f"{self.path} holds no {VOID_FILE}: not a distribution written by `fwgraph build`")
        void = parse_file(void_path)
        checked = 0
        for dist_iri, checksum in void.subject_objects(SPDX_TERMS.checksum):
            path = self.path / str(dist_iri).rsplit("/", 1)[-1]
            expected = str(void.value(checksum, SPDX_TERMS.checksumValue) or "")
            if not path.is_file():
                raise StartError(f"{path} is missing from the distribution (listed in {VOID_FILE})")
            with path.open("rb") as fh:
                actual = hashlib.file_digest(fh, "sha256").hexdigest()
            if actual != expected:
                raise StartError(f"{path} does not match the SHA-256 checksum in {VOID_FILE}: truncated or altered; "
                                 "rebuild with `fwgraph build`")
            checked += 1
        if not checked:
            raise StartError(f"{void_path} lists no checksums: rebuild the distribution with `fwgraph build`")
        for release in self.releases.values():
            release.verify()


def _lines(path: Path) -> int:
    with path.open("rb") as fh:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))


def verify_dist(dist: Path | str) -> None:
    """Check a distribution against its checksums (see :meth:`Dist.verify`)."""
    Dist(Path(dist)).verify()


# ---------------------------------------------------------------------------------------------- releases


def version_key(version: str) -> tuple[int, int, int]:
    """``"0.10.2"`` -> ``(0, 10, 2)``; raise InputError for anything but MAJOR.MINOR.PATCH."""
    match = _SEMVER.match(version)
    if match is None:
        raise InputError("a release version is MAJOR.MINOR.PATCH (e.g. 0.1.0), without a prefix or suffix",
                         source=version)
    major, minor, patch = (int(g) for g in match.groups())
    return major, minor, patch


def is_version(text: str) -> bool:
    return _SEMVER.match(text) is not None


def versioned(kind: str, version: str, base: str = BASE) -> URIRef:
    """The IRI of a version of ``ns``, ``shapes`` or ``dataset`` (``…/ns/0.1.0``)."""
    return URIRef(f"{base}{kind}/{version}")


@dataclass(frozen=True)
class Release:
    """One shipped release: a frozen distribution in ``releases/<version>/``."""

    version: str
    path: Path

    @cached_property
    def _void(self) -> Graph:
        return parse_file(self.path / VOID_FILE)

    @property
    def issued(self) -> str | None:
        value = self._void.value(versioned("dataset", self.version), DCTERMS.issued)
        return str(value) if isinstance(value, Literal) else None

    @property
    def prior(self) -> str | None:
        """The version of the release before this one, as this release's description states it."""
        value = self._void.value(versioned("dataset", self.version), DCAT3.previousVersion)
        return str(value).rsplit("/", 1)[-1] if value is not None else None

    def dump(self) -> bytes:
        """The release's canonical N-Triples dump."""
        import gzip

        return gzip.decompress((self.path / f"{GRAPH_DUMP}.gz").read_bytes())


def shipped_releases(releases_dir: Path) -> list[Release]:
    """The releases under ``releases_dir`` (one directory per version holding a void.ttl), oldest first."""
    if not releases_dir.is_dir():
        return []
    found = [Release(p.name, p) for p in releases_dir.iterdir()
             if p.is_dir() and is_version(p.name) and (p / VOID_FILE).is_file()]
    return sorted(found, key=lambda r: version_key(r.version))


@dataclass(frozen=True)
class Version:
    """The version a build states. A release has version IRIs (``…/ns/0.1.0``) that the server answers for;
    a build of sources changed since the last release states ``<last>+dev`` and links to that release."""

    name: str
    release: bool
    prior: str | None = None  # the release before (owl:priorVersion, dcat:previousVersion)
    issued: str | None = None  # ISO date of the release
    releases: tuple[str, ...] = ()  # every release shipped with the build, oldest first (dcat:hasVersion)

    @property
    def latest(self) -> str | None:
        return self.releases[-1] if self.releases else None
