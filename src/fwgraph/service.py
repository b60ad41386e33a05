"""The serving state: a built distribution, its query engine and validation context, loaded once and immutable."""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from rdflib import Graph, URIRef

from fwgraph.build import VOID_FILE, build
from fwgraph.engine import Engine, OxigraphEngine
from fwgraph.graph import Sources, parse_file, stamp_version
from fwgraph.query import ExampleQuery, examples
from fwgraph.validation import ValidationReport, describer, validate_contribution

_GRAPH_DUMP = "fwgraph.nt"


def _sources_digest(src: Sources) -> str:
    from fwgraph import __version__

    h = hashlib.sha256(__version__.encode())
    for path in [src.ontology, src.shapes, *src.data]:
        h.update(str(path.relative_to(src.root)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def ensure_dist(data_dir: Path | str | None = None, dist_dir: Path | str | None = None) -> Path:
    """A built distribution: ``dist_dir`` as given, or a build of ``data_dir`` cached by source digest."""
    if dist_dir is not None:
        dist = Path(dist_dir)
        if not (dist / _GRAPH_DUMP).is_file():
            raise FileNotFoundError(f"{dist} holds no {_GRAPH_DUMP}: run `fwgraph build --out {dist}` first")
        return dist
    src = Sources.at(data_dir)
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "fwgraph" / _sources_digest(src)
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError:
        cache = Path(tempfile.mkdtemp(prefix="fwgraph-dist-"))
    if not (cache / VOID_FILE).is_file():
        build(cache, root=src.root)
    return cache


def store_source(dist: Path, settings: dict[str, Any]) -> Path:
    """What the engine loads: the N-Triples dump into memory, or the build's on-disk store.

    ENGINE_STORE is "memory", "disk" or "auto" (disk once the dump exceeds DISK_STORE_BYTES): memory
    is fastest for small graphs; on disk, a large graph costs no load time and little memory.
    """
    from fwgraph.build import STORE_DIR, write_store

    mode = str(settings.get("ENGINE_STORE") or "auto")
    dump = dist / _GRAPH_DUMP
    if mode == "memory" or (mode == "auto" and dump.stat().st_size <= int(settings.get("DISK_STORE_BYTES") or 0)):
        return dump
    store = dist / STORE_DIR
    if not store.is_dir():
        write_store(dump, store)
    return store


@dataclass
class Service:
    """Everything the web layer serves, loaded once: the distribution, the engine, examples, validation context."""

    dist: Path
    engine: Engine
    version: str
    etag: str
    root: Path | None = None
    settings: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, settings: dict[str, Any]) -> Service:
        from fwgraph import __version__

        data_dir = settings.get("DATA_DIR")
        dist = ensure_dist(data_dir, settings.get("DIST_DIR"))
        digest = hashlib.sha256((dist / _GRAPH_DUMP).read_bytes()).hexdigest()[:20]
        engine: Engine
        if settings.get("STORE_URL"):
            from fwgraph.remote import RemoteEngine

            engine = RemoteEngine(settings["STORE_URL"], timeout=float(settings.get("QUERY_TIMEOUT", 10)),
                                  version=digest, post=str(settings.get("STORE_POST") or "auto"),
                                  dialect=str(settings.get("STORE_DIALECT") or "auto"))
        elif int(settings.get("QUERY_WORKERS") or 0) > 0:
            # Queries run in killable worker processes forked from one zygote holding the store
            # (fwgraph.pool): the only way to stop a pyoxigraph query at the time limit.
            from fwgraph.pool import PooledEngine

            engine = PooledEngine.start(store_source(dist, settings), workers=int(settings["QUERY_WORKERS"]),
                                        timeout=float(settings.get("QUERY_TIMEOUT") or 10), version=digest)
        else:
            engine = OxigraphEngine.from_file(store_source(dist, settings), version=digest)
        return cls(dist=dist, engine=engine, version=__version__, etag=digest,
                   root=Path(data_dir) if data_dir else None, settings=settings)

    @cached_property
    def examples(self) -> list[ExampleQuery]:
        return examples(self.root)

    @cached_property
    def void(self) -> Graph:
        return parse_file(self.dist / VOID_FILE)

    @cached_property
    def ontology(self) -> Graph:
        """The vocabulary (not the data): the base of every contribution's validation graph."""
        return parse_file(self.dist / "ontology.ttl")

    @cached_property
    def shapes(self) -> Graph:
        return stamp_version(parse_file(self.dist / "shapes.ttl"))

    def describe(self, iris: list[URIRef]) -> Graph:
        """The stored concise bounded descriptions of ``iris`` (DESCRIBE on the engine)."""
        return describer(self.engine)(iris)

    def validate(self, contribution: Graph, origin: dict[Any, str] | None = None) -> ValidationReport:
        """Validate a contribution against the shapes, with the stored data it refers to; writes nothing."""
        return validate_contribution(contribution, self.describe, self.ontology, shapes=self.shapes, origin=origin)
