"""The serving state: a built distribution, its query engine and validation context, loaded once and immutable."""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDFS, VOID

from fwgraph._version import __version__
from fwgraph.build import build
from fwgraph.dist import RELEASES_DIR, VOID_FILE, Dist
from fwgraph.engine import Engine, OxigraphEngine, run
from fwgraph.examples import ExampleQuery
from fwgraph.extension import Extension
from fwgraph.finder import Catalogue, catalogue
from fwgraph.graph import Sources
from fwgraph.namespace import DATASET_IRI, FW, label_of
from fwgraph.query import examples
from fwgraph.reconcile import Index
from fwgraph.settings import Settings
from fwgraph.validation import ValidationReport, describer, validate_contribution


def _sources_digest(src: Sources) -> str:
    h = hashlib.sha256(__version__.encode())
    releases = sorted(p for p in (src.root / RELEASES_DIR).rglob("*") if p.is_file())
    for path in [src.ontology, src.shapes, *src.data, *releases]:
        h.update(str(path.relative_to(src.root)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def ensure_dist(data_dir: Path | str | None = None, dist_dir: Path | str | None = None) -> Path:
    """A built distribution: ``dist_dir`` as given, or a build of ``data_dir`` cached by source digest."""
    if dist_dir is not None:
        return Dist.at(dist_dir).path
    src = Sources.at(data_dir)
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "fwgraph" / _sources_digest(src)
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError:
        cache = Path(tempfile.mkdtemp(prefix="fwgraph-dist-"))
    with _building(cache):  # a second process starting on the same sources waits for the first one's build
        if not (cache / VOID_FILE).is_file():
            build(cache, root=src.root)
    return cache


@contextmanager
def _building(cache: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``cache`` (a lock file beside it) while it is checked and built."""
    try:
        import fcntl
    except ImportError:  # no fcntl: no lock (builds still replace the directory whole)
        yield
        return
    fd = os.open(cache.parent / f".{cache.name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def store_source(dist: Path, settings: Settings) -> Path:
    """What the engine loads for these settings (ENGINE_STORE, DISK_STORE_BYTES): see :meth:`Dist.store_source`."""
    return Dist(dist).store_source(settings.engine_store, settings.disk_store_bytes)


def query_base(settings: Settings) -> str:
    """The base IRI relative IRIs in a query resolve against: the endpoint's public IRI (``<framework/flask>``
    is then ``<https://w3id.org/fwgraph/framework/flask>``), the same whatever Host a client sends."""
    return settings.base_iri + "sparql"


@dataclass
class Service:
    """Everything the web layer serves, loaded once: the distribution, the engine, examples, validation context."""

    dist: Path
    engine: Engine
    version: str
    etag: str
    root: Path | None = None
    settings: Settings = field(default_factory=Settings)
    _built: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)
    _build_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)

    @classmethod
    def load(cls, settings: Settings) -> Service:
        data_dir = settings.data_dir
        dist = Dist(ensure_dist(data_dir, settings.dist_dir))
        engine: Engine
        if settings.store_url:
            from fwgraph.remote import RemoteEngine

            engine = RemoteEngine(settings.store_url, timeout=settings.query_timeout, version=dist.digest,
                                  post=settings.store_post, dialect=settings.store_dialect,
                                  base_iri=query_base(settings))
            # what is read from the store for one answer: the store's JSON or N-Triples of rows that may be
            # cut to MAX_ANSWER_BYTES afterwards, with room for the formats' different overheads
            engine.max_bytes = 4 * settings.max_answer_bytes + 1024 * 1024
        elif settings.query_workers > 0:
            # Queries run in killable worker processes forked from one zygote holding the store
            # (fwgraph.pool): the only way to stop a pyoxigraph query at the time limit.
            from fwgraph.pool import PooledEngine

            engine = PooledEngine.start(store_source(dist.path, settings), workers=settings.query_workers,
                                        timeout=settings.query_timeout, version=dist.digest,
                                        base_iri=query_base(settings), max_waiting=settings.waiting_slots,
                                        settings=settings)
        else:
            engine = OxigraphEngine.from_file(store_source(dist.path, settings), version=dist.digest,
                                              base_iri=query_base(settings))
        return cls(dist=dist.path, engine=engine, version=__version__, etag=dist.digest,
                   root=Path(data_dir) if data_dir else None, settings=settings)

    def _once(self, key: str, make: Any) -> Any:
        """``make()``, called once for the service however many threads ask at once."""
        if key not in self._built:
            with self._build_lock:
                if key not in self._built:
                    self._built[key] = make()
        return self._built[key]

    def reconcile_index(self) -> Index:
        """The reconciliation candidates of the served data (fwgraph.reconcile), built on first use."""
        index: Index = self._once("reconcile", lambda: Index(self.engine))
        return index

    def extension(self) -> Extension:
        """Every data-extension value of the served data (fwgraph.extension), read on first use."""
        table: Extension = self._once("extension", lambda: Extension(self.engine))
        return table

    @cached_property
    def _dist(self) -> Dist:
        return Dist(self.dist)

    @cached_property
    def examples(self) -> list[ExampleQuery]:
        return examples(self.root)

    @cached_property
    def void(self) -> Graph:
        return self._dist.void()

    @cached_property
    def ontology(self) -> Graph:
        """The vocabulary (not the data): the base of every contribution's validation graph."""
        return self._dist.ontology()

    @cached_property
    def shapes(self) -> Graph:
        return self._dist.shapes()

    @cached_property
    def catalogue(self) -> Catalogue:
        """The finder's rows, facets and search entries, computed once from the graph on first use."""
        return catalogue(self.engine)

    def download_names(self) -> list[str]:
        return self._dist.download_names()

    @property
    def dist_files(self) -> Dist:
        """The served build's files."""
        return self._dist

    @property
    def releases(self) -> dict[str, Dist]:
        """The shipped releases served beside the latest data, oldest first."""
        return self._dist.releases

    @cached_property
    def _documents(self) -> dict[tuple[str, str | None], Graph]:
        return {}

    def document(self, kind: str, version: str | None = None) -> Graph | None:
        """The vocabulary (``ns``), the shapes (``shapes``) or the dataset description (``dataset``) of the
        served build, or of shipped release ``version``; None when there is no such release."""
        key = (kind, version)
        if key not in self._documents:
            if version is None:
                dist = self._dist
            elif version in self.releases:
                dist = self.releases[version]
            else:
                return None
            self._documents[key] = {"ns": dist.ontology, "shapes": dist.shapes, "dataset": dist.void}[kind]()
        return self._documents[key]

    @cached_property
    def licence(self) -> str | None:
        """The licence of the data (and of every description served)."""
        value = self.void.value(DATASET_IRI, DCTERMS.license)
        return str(value) if value is not None else None

    def describe(self, iris: list[URIRef]) -> Graph:
        """The stored concise bounded descriptions of ``iris`` (DESCRIBE on the engine)."""
        return describer(self.engine)(iris)

    def validate(self, contribution: Graph, origin: dict[Any, str] | None = None) -> ValidationReport:
        """Validate a contribution against the shapes, with the stored data it refers to; writes nothing."""
        return validate_contribution(contribution, self.describe, self.ontology, shapes=self.shapes, origin=origin)

    # ------------------------------------------------------------------ what the landing page shows

    def count(self, cls: URIRef) -> int:
        """How many distinct resources have type ``cls``."""
        result = run(self.engine, f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s a <{cls}> }}", max_rows=1)
        first = result.rows[0][0] if result.rows else None
        return int(first.value) if first is not None else 0

    def frameworks(self) -> list[tuple[str, str]]:
        """Every framework as (IRI, label), by label."""
        result = run(self.engine, f"SELECT ?f (SAMPLE(?l) AS ?label) WHERE {{ ?f a <{FW.WebFramework}> "
                                  f"OPTIONAL {{ ?f <{RDFS.label}> ?l }} }} GROUP BY ?f", max_rows=100_000)
        items = [(f.value, label.value if label is not None else f.value.rsplit("/", 1)[-1])
                 for f, label in result.rows if f is not None]
        return sorted(items, key=lambda i: i[1].lower())

    def void_text(self, prop: URIRef) -> str | None:
        """A literal of the dataset description (English or untagged preferred)."""
        return label_of(self.void, DATASET_IRI, prop)

    def triples(self) -> int | None:
        value = self.void.value(DATASET_IRI, VOID.triples)
        return int(value) if isinstance(value, Literal) else None

    # ------------------------------------------------------------------ the SPARQL service description

    def service_description(self, endpoint: str) -> Graph:
        """The SPARQL 1.1 Service Description of the endpoint at ``endpoint``, with the limits in force."""
        from rdflib import BNode, Namespace
        from rdflib.namespace import DCTERMS, RDF, XSD

        from fwgraph import formats
        from fwgraph.namespace import bind_prefixes

        cfg = self.settings
        sd = Namespace("http://www.w3.org/ns/sparql-service-description#")
        lim = Namespace(cfg.base_iri + "sparql#")
        g = bind_prefixes(Graph())
        g.bind("sd", sd)
        g.bind("formats", Namespace(formats.W3C_FORMATS))
        g.bind("fwsparql", lim)
        svc = URIRef(endpoint + "#service")
        g.add((svc, RDF.type, sd.Service))
        g.add((svc, sd.endpoint, URIRef(endpoint)))
        g.add((svc, sd.supportedLanguage, sd.SPARQL11Query))
        for fmt in (*formats.RESULT_FORMATS, *formats.RDF_FORMATS):
            g.add((svc, sd.resultFormat, URIRef(str(fmt.w3c))))
        timeout = self.engine.timeout
        max_rows, max_query, max_body = cfg.max_rows, cfg.max_query_bytes, cfg.max_body_bytes
        stopped = (f"Queries are stopped after {timeout:g} s (503)" if timeout is not None else
                   "No time limit is enforced by this configuration (queries run in the web process)")
        g.add((svc, DCTERMS.title, Literal("fwgraph SPARQL 1.1 query endpoint", lang="en")))
        g.add((svc, DCTERMS.description, Literal(
            "A read-only SPARQL 1.1 Query endpoint over the fwgraph dataset. SPARQL Update, SERVICE (federated "
            "query), FROM / FROM NAMED and default-graph-uri / named-graph-uri are refused. "
            f"{stopped}, results are capped at {max_rows} rows "
            "with truncation signalled by the X-Fwgraph-Truncated and X-SPARQL-MaxRows headers, "
            f"query text is limited to {max_query} bytes and request bodies to {max_body} bytes (413).",
            lang="en")))
        limits = [(lim[name], Literal(str(value) if isinstance(value, float) else value,
                                      datatype=XSD.decimal if isinstance(value, float) else XSD.integer),
                   label, meaning) for name, value, label, meaning in cfg.published()
                  if name != "queryTimeout" or timeout is not None]  # the time limit only where it is enforced
        for prop, value, label, comment in limits:
            g.add((svc, prop, value))
            g.add((prop, RDF.type, RDF.Property))
            g.add((prop, RDFS.label, Literal(label, lang="en")))
            g.add((prop, RDFS.comment, Literal(comment, lang="en")))
            g.add((prop, RDFS.domain, sd.Service))
        dataset, graph = BNode("defaultDataset"), BNode("defaultGraph")
        g.add((svc, sd.defaultDataset, dataset))
        g.add((dataset, RDF.type, sd.Dataset))
        g.add((dataset, RDFS.seeAlso, DATASET_IRI))
        g.add((dataset, sd.defaultGraph, graph))
        g.add((graph, RDF.type, sd.Graph))
        for prop in (VOID.triples, VOID.entities, VOID.classes, VOID.properties, VOID.distinctSubjects,
                     VOID.distinctObjects):
            for count in self.void.objects(DATASET_IRI, prop):
                g.add((graph, prop, count))
        return g
