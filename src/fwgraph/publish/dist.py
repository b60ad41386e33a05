"""A built distribution on disk: the names of its files, its integrity check, and what opens from it (the
query engine's store, the vocabulary, the shapes, the VoID) — one dist context for the server and validation.
Also the shipped releases (``releases/<version>/``, frozen distributions) and the version a build states.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import zlib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS

from fwgraph.core.errors import InputError, StartError
from fwgraph.core.namespace import BASE, DCAT3, SPDX_TERMS
from fwgraph.data.graph import parse_file
from fwgraph.store.engine import OxigraphEngine, store_triples, write_store

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
#: The most a gzip dump may decompress to. A release's VoID states each dump's size and decompression stops
#: there; this bounds a release crafted whole (its VoID included) and a bare dump given to `fwgraph diff`.
MAX_DUMP_BYTES = 1 << 30
_CHUNK = 1 << 20
#: The names a client may download from a distribution or release directory.
_DOWNLOADS = (*DUMPS, *(f"{n}.gz" for n in COMPRESSED), VOID_FILE, NOTES_FILE)


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
        """Every file a client may download: the build's list, nothing else, and only the directory's own files."""
        return [n for n in _DOWNLOADS if _own_file(self.path / n)]

    @cached_property
    def releases(self) -> dict[str, Dist]:
        """The shipped releases this distribution serves (``releases/<version>/``), oldest first."""
        found = {r.version: Dist(r.path) for r in shipped_releases(self.path / RELEASES_DIR)}
        return dict(sorted(found.items(), key=lambda item: version_key(item[0])))

    def verify(self) -> None:
        """Check the files against the sizes and SHA-256 checksums in ``void.ttl``, and that every file a client
        may download is the directory's own (no symbolic link), in it and in each release; StartError if not."""
        void_path = self.path / VOID_FILE
        if not void_path.is_file():
            raise StartError(f"{self.path} holds no {VOID_FILE}: not a distribution written by `fwgraph build`")
        listed = listed_files(parse_file(void_path))
        if not listed:
            raise StartError(f"{void_path} lists no checksums: rebuild the distribution with `fwgraph build`")
        try:
            for name in _DOWNLOADS:
                refuse_link(self.path / name)
            for name, expected in sorted(listed.items()):
                check_file(self.path / name, expected)
            releases = self.releases
        except InputError as exc:
            raise StartError(f"{exc}; rebuild the distribution with `fwgraph build`") from None
        for release in releases.values():
            release.verify()


def _lines(path: Path) -> int:
    with path.open("rb") as fh:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(_CHUNK), b""))


def _own_file(path: Path) -> bool:
    """A regular file of its directory: not a symbolic link (which would publish what it points to)."""
    return path.is_file() and not path.is_symlink()


def refuse_link(path: Path) -> None:
    """Raise InputError when ``path`` is a symbolic link (see :func:`check_own_files`)."""
    if path.is_symlink():
        raise InputError("is a symbolic link; a distribution or release holds only its own files, never a link to "
                         "another (it would publish the file it points to)", source=str(path))


def check_own_files(folder: Path) -> None:
    """Raise InputError unless ``folder`` is a directory (not a symbolic link) of regular files only.

    A release is published file by file at ``/download/<version>/``: a ``NOTES.md`` that was a link to a file
    outside the release published that file. Links, even to a file in the release, and anything that is not
    a regular file (a folder, a pipe) are refused, whoever reads the release: build, release, serve (diff reads
    no linked dump either: :func:`refuse_link`).
    """
    refuse_link(folder)
    for entry in sorted(folder.iterdir()):
        refuse_link(entry)
        if not entry.is_file():
            raise InputError("is not a regular file; a release holds only its own files", source=str(entry))


@dataclass(frozen=True)
class Listed:
    """A file as a VoID description lists it: its SHA-256 and its size in bytes (None when not stated)."""

    sha256: str
    size: int | None


def listed_files(void: Graph) -> dict[str, Listed]:
    """The files a build's VoID lists with a checksum, by file name."""
    listed: dict[str, Listed] = {}
    for dist_iri, checksum in void.subject_objects(SPDX_TERMS.checksum):
        size = void.value(dist_iri, DCAT.byteSize)
        value = size.toPython() if isinstance(size, Literal) else None
        listed[str(dist_iri).rsplit("/", 1)[-1]] = Listed(str(void.value(checksum, SPDX_TERMS.checksumValue) or ""),
                                                          value if isinstance(value, int) else None)
    return listed


def check_file(path: Path, listed: Listed) -> None:
    """Raise InputError unless ``path`` is a regular file of the size, then the SHA-256, that its VoID states.

    The size is compared first: a file of another size is refused before a byte of it is read.
    """
    if not path.is_file():
        raise InputError(f"is missing (listed in {VOID_FILE})", source=str(path))
    size = path.stat().st_size
    if listed.size is not None and size != listed.size:
        raise InputError(f"does not match the size and SHA-256 checksum in {VOID_FILE} ({size} bytes, not "
                         f"{listed.size}): truncated or altered", source=str(path))
    with path.open("rb") as fh:
        actual = hashlib.file_digest(fh, "sha256").hexdigest()
    if actual != listed.sha256:
        raise InputError(f"does not match the SHA-256 checksum in {VOID_FILE}: truncated or altered",
                         source=str(path))


def gunzip(path: Path, limit: int) -> bytes:
    """The decompressed bytes of the gzip file ``path``, decompressed a chunk at a time: InputError as soon as
    they exceed ``limit`` bytes (a 2 MB bomb used to cost 4.3 GB) or when the file is no gzip."""
    out = bytearray()
    try:
        with gzip.open(path, "rb") as fh:
            while chunk := fh.read(min(_CHUNK, limit + 1 - len(out))):
                out += chunk
                if len(out) > limit:
                    raise InputError(f"decompresses to more than {limit} bytes", source=str(path))
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(f"cannot read: {exc}", source=str(path)) from None
    return bytes(out)


def unpack_listed(folder: Path, name: str) -> bytes:
    """Dump ``name`` of a build or release directory from its gzip copy ``name.gz``, checked against the
    directory's VoID: the copy's size and SHA-256 before it is decompressed, decompression no further than the
    size stated for ``name`` (and ``MAX_DUMP_BYTES``), and the result's SHA-256."""
    void = folder / VOID_FILE
    listed = listed_files(parse_file(void)) if void.is_file() else {}
    packed, plain = listed.get(f"{name}.gz"), listed.get(name)
    if packed is None or plain is None or plain.size is None:
        raise InputError(f"{VOID_FILE} states no checksum and size for {name}.gz and {name}", source=str(folder))
    refuse_link(folder / f"{name}.gz")
    check_file(folder / f"{name}.gz", packed)
    data = gunzip(folder / f"{name}.gz", min(plain.size, MAX_DUMP_BYTES))
    if hashlib.sha256(data).hexdigest() != plain.sha256:
        raise InputError(f"decompressed, does not match the SHA-256 checksum {VOID_FILE} states for {name}",
                         source=str(folder / f"{name}.gz"))
    return data


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
        """The release's canonical N-Triples dump, from its gzip copy checked first (see :func:`unpack_listed`)."""
        return unpack_listed(self.path, GRAPH_DUMP)


def shipped_releases(releases_dir: Path) -> list[Release]:
    """The releases under ``releases_dir`` (one directory per version holding a void.ttl), oldest first; each
    one checked to hold only its own regular files (InputError otherwise, see :func:`check_own_files`)."""
    if not releases_dir.is_dir():
        return []
    found = [Release(p.name, p) for p in releases_dir.iterdir()
             if is_version(p.name) and (p.is_dir() or p.is_symlink()) and (p / VOID_FILE).is_file()]
    for release in found:
        check_own_files(release.path)
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
