"""A built distribution on disk: the names of its files, its integrity check, and what opens from it (the
query engine's store, the vocabulary, the shapes, the VoID) — one dist context for the server and validation.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from rdflib import Graph

from fwgraph.engine import OxigraphEngine, write_store
from fwgraph.errors import StartError
from fwgraph.graph import parse_file, stamp_version
from fwgraph.namespace import SPDX_TERMS

#: The files a build writes besides the compressed copies and the VoID (the server serves them from /download/).
DUMPS = ("fwgraph.ttl", "fwgraph.nt", "fwgraph.jsonld", "fwgraph.context.jsonld", "ontology.ttl", "shapes.ttl")
COMPRESSED = ("fwgraph.ttl", "fwgraph.nt", "fwgraph.jsonld")
GRAPH_DUMP = "fwgraph.nt"
VOID_FILE = "void.ttl"
ONTOLOGY_FILE = "ontology.ttl"
SHAPES_FILE = "shapes.ttl"
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
        return stamp_version(parse_file(self.path / SHAPES_FILE))

    def void(self) -> Graph:
        return parse_file(self.path / VOID_FILE)

    def download_names(self) -> list[str]:
        """Every file a client may download: the build's list, nothing else."""
        names = [*DUMPS, *(f"{n}.gz" for n in COMPRESSED), VOID_FILE]
        return [n for n in names if (self.path / n).is_file()]

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


def verify_dist(dist: Path | str) -> None:
    """Check a distribution against its checksums (see :meth:`Dist.verify`)."""
    Dist(Path(dist)).verify()
