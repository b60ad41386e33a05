"""The serving state and the web layer's one façade: a built distribution, its query engine, and every
per-process table, cache and sandbox derived from them, each made once on first use, with the verbs routes need.

Blueprints (``fwgraph.app``) import this module, ``fwgraph.core.formats``, ``fwgraph.core.errors`` and
``fwgraph.app.http`` only (``tests/test_structure.py``): what they need of the library is a verb here, and the few
types and constants they name (in signatures, route paths and ``except`` clauses) are named here too.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, VOID

from fwgraph.core._version import __version__
from fwgraph.core.errors import QueryError
from fwgraph.core.namespace import DATASET_IRI, FW, label_of
from fwgraph.core.settings import Settings
from fwgraph.data.examples import ExampleQuery
from fwgraph.data.graph import Sources
from fwgraph.data.querycheck import PreparedQuery, prepare
from fwgraph.publish.build import build
from fwgraph.publish.dist import RELEASES_DIR, VOID_FILE, Dist
from fwgraph.publish.sandbox import Sandbox
from fwgraph.publish.validation import ValidationReport, describer, validate_contribution
from fwgraph.store.engine import Answer, Engine, OxigraphEngine, run
from fwgraph.store.query import examples
from fwgraph.views.chart import ChartError, Table
from fwgraph.views.extension import Extension
from fwgraph.views.finder import Catalogue, FinderError, catalogue
from fwgraph.views.form import FormModel
from fwgraph.views.reconcile import PREVIEW_PATH, PROPOSE_PATH, SUGGEST_PATHS, Index
from fwgraph.views.suggest import MAX_TYPE


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


#: What blueprints name of the library (signatures, route paths, ``except`` clauses), through the façade.
__all__ = ["Answer", "ChartError", "Description", "Dist", "FinderError", "FormModel", "MAX_TYPE", "PREVIEW_PATH",
           "PROPOSE_PATH", "PreparedQuery", "SUGGEST_PATHS", "Service", "Table", "ensure_dist", "query_base",
           "store_source"]


class ResultCache:
    """A bounded LRU of serialised answers keyed by (data version, query text, format).

    Bounded by bytes, not only entries: the answers' bodies plus the query texts never exceed
    ``max_bytes``, and an answer larger than ``max_entry_bytes`` is not kept at all.
    """

    def __init__(self, entries: int, max_bytes: int, max_entry_bytes: int) -> None:
        self.entries = max(0, int(entries))
        self.max_bytes = max(0, int(max_bytes))
        self.max_entry_bytes = max(0, int(max_entry_bytes))
        self._data: OrderedDict[tuple[str, str, str], tuple[Answer, str]] = OrderedDict()
        self._lock = threading.Lock()
        self.size = 0

    @staticmethod
    def _cost(key: tuple[str, str, str], value: tuple[Answer, str]) -> int:
        return len(value[0].body) + len(key[1]) + len(value[0].message or "") + 256

    def get(self, key: tuple[str, str, str]) -> tuple[Answer, str] | None:
        with self._lock:
            item = self._data.get(key)
            if item is None:
                return None
            self._data.move_to_end(key)
            return item

    def put(self, key: tuple[str, str, str], value: tuple[Answer, str]) -> None:
        cost = self._cost(key, value)
        if not self.entries or cost > self.max_entry_bytes or cost > self.max_bytes:
            return
        with self._lock:
            old = self._data.pop(key, None)
            if old is not None:
                self.size -= self._cost(key, old)
            self._data[key] = value
            self.size += cost
            while self._data and (len(self._data) > self.entries or self.size > self.max_bytes):
                old_key, evicted = self._data.popitem(last=False)
                self.size -= self._cost(old_key, evicted)


@dataclass(frozen=True)
class Description:
    """A resource as the store describes it: its IRI, its concise bounded description and its types."""

    iri: str
    triples: list[Any]
    types: tuple[str, ...]


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
    _locks: dict[str, threading.Lock] = field(default_factory=dict, init=False, repr=False, compare=False)

    @classmethod
    def load(cls, settings: Settings) -> Service:
        data_dir = settings.data_dir
        dist = Dist(ensure_dist(data_dir, settings.dist_dir))
        engine: Engine
        if settings.store_url:
            from fwgraph.store.remote import RemoteEngine

            engine = RemoteEngine(settings.store_url, timeout=settings.query_timeout, version=dist.digest,
                                  post=settings.store_post, dialect=settings.store_dialect,
                                  base_iri=query_base(settings))
            # what is read from the store for one answer: the store's JSON or N-Triples of rows that may be
            # cut to MAX_ANSWER_BYTES afterwards, with room for the formats' different overheads
            engine.max_bytes = 4 * settings.max_answer_bytes + 1024 * 1024
        elif settings.query_workers > 0:
            # Queries run in killable worker processes forked from one zygote holding the store
            # (fwgraph.store.pool): the only way to stop a pyoxigraph query at the time limit.
            from fwgraph.store.pool import PooledEngine

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
        """``make()``, called once for the service however many threads ask at once: the one way every part the
        service derives from the build (tables, caches, memos, the sandbox) is made. One lock per part, so a part
        may be made of others and a slow part keeps no other waiting."""
        if key not in self._built:
            with self._build_lock:
                lock = self._locks.setdefault(key, threading.Lock())
            with lock:
                if key not in self._built:
                    self._built[key] = make()
        return self._built[key]

    def reconcile_index(self) -> Index:
        """The reconciliation candidates of the served data (fwgraph.views.reconcile), built on first use."""
        index: Index = self._once("reconcile", lambda: Index(self.engine))
        return index

    def extension(self) -> Extension:
        """Every data-extension value of the served data (fwgraph.views.extension), read on first use."""
        table: Extension = self._once("extension", lambda: Extension(self.engine))
        return table

    @property
    def _dist(self) -> Dist:
        dist: Dist = self._once("dist", lambda: Dist(self.dist))
        return dist

    @property
    def examples(self) -> list[ExampleQuery]:
        found: list[ExampleQuery] = self._once("examples", lambda: examples(self.root))
        return found

    @property
    def void(self) -> Graph:
        graph: Graph = self._once("void", lambda: self._dist.void())
        return graph

    @property
    def ontology(self) -> Graph:
        """The vocabulary (not the data): the base of every contribution's validation graph."""
        graph: Graph = self._once("ontology", lambda: self._dist.ontology())
        return graph

    @property
    def shapes(self) -> Graph:
        graph: Graph = self._once("shapes", lambda: self._dist.shapes())
        return graph

    @property
    def catalogue(self) -> Catalogue:
        """The finder's rows, facets and search entries, computed once from the graph on first use."""
        found: Catalogue = self._once("catalogue", lambda: catalogue(self.engine))
        return found

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

    def document(self, kind: str, version: str | None = None) -> Graph | None:
        """The vocabulary (``ns``), the shapes (``shapes``) or the dataset description (``dataset``) of the
        served build, or of shipped release ``version``; None when there is no such release."""
        if version is None:
            dist = self._dist
        elif version in self.releases:
            dist = self.releases[version]
        else:
            return None
        read = {"ns": dist.ontology, "shapes": dist.shapes, "dataset": dist.void}[kind]
        graph: Graph = self._once(f"document-{kind}-{version}", read)
        return graph

    @property
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
        from rdflib.namespace import XSD

        from fwgraph.core import formats
        from fwgraph.core.namespace import bind_prefixes

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

    # ------------------------------------------------------------------ the query endpoint (/sparql)

    def query_base(self) -> str:
        """The base IRI relative IRIs in a query resolve against (:func:`query_base`)."""
        return query_base(self.settings)

    @property
    def answers(self) -> ResultCache:
        """Serialised query answers, keyed by (data version, query text, format) (CACHE_ENTRIES, CACHE_BYTES)."""
        cfg = self.settings
        cache: ResultCache = self._once("answers", lambda: ResultCache(cfg.cache_entries, cfg.cache_bytes // 2,
                                                                       cfg.cache_entry_bytes))
        return cache

    def prepare(self, text: str) -> PreparedQuery | QueryError:
        """The checked query, or why it is refused; memoised for short texts only (the memo's memory stays
        bounded: PREPARED_QUERIES x 2 KiB)."""
        if len(text) > 2048:
            return self._prepare(text)
        memo: Callable[[str], PreparedQuery | QueryError] = self._once(
            "prepared", lambda: lru_cache(maxsize=self.settings.prepared_queries)(self._prepare))
        return memo(text)

    def _prepare(self, text: str) -> PreparedQuery | QueryError:
        try:
            return prepare(text, max_bytes=self.settings.max_query_bytes)
        except QueryError as exc:
            return exc

    def description_bytes(self, endpoint: str, fmt: Any) -> bytes:
        """The service description of ``endpoint`` serialised as ``fmt``, kept for a few endpoints (the Host a
        client sends names it)."""
        from fwgraph.store.results import rdf_bytes

        kept: dict[tuple[str, str], bytes] = self._once("descriptions", dict)
        key = (endpoint, fmt.name)
        body = kept.get(key)
        if body is None:
            body = rdf_bytes(self.service_description(endpoint), fmt)
            if len(kept) < 64:
                kept[key] = body
        return body

    # ------------------------------------------------------------------ documents and resources

    def graph_bytes(self, graph: Graph, fmt: Any, jsonld_form: str = "compacted") -> bytes:
        """An rdflib graph (a document, the dataset description) serialised as ``fmt``."""
        from fwgraph.store.results import rdf_bytes

        return rdf_bytes(graph, fmt, jsonld_form)

    def description(self, iri: str) -> Description | None:
        """The stored description of ``iri``, or None when the store says nothing about it."""
        import pyoxigraph as ox

        from fwgraph.views.resource import describe

        triples = describe(self.engine, iri)
        if not triples:
            return None
        types = tuple(sorted(str(t.object.value) for t in triples if isinstance(t.subject, ox.NamedNode)
                             and t.subject.value == iri and t.predicate.value == str(RDF.type)
                             and isinstance(t.object, ox.NamedNode)))
        return Description(iri, triples, types)

    def description_bytes_of(self, found: Description, fmt: Any, jsonld_form: str = "compacted") -> bytes:
        """A resource's description serialised as ``fmt``."""
        from fwgraph.store.results import graph_bytes

        return graph_bytes(found.triples, fmt, jsonld_form)

    def resource_page(self, found: Description, link: Callable[[str], str | None],
                      public: Callable[[str], str]) -> dict[str, Any]:
        """What a resource's HTML page shows: its view, its finder record and similar records, its schema.org
        markup (``link`` maps an IRI to a local path, ``public`` to the public IRI)."""
        from fwgraph.core.namespace import BASE
        from fwgraph.publish import schemaorg
        from fwgraph.store.results import to_rdflib
        from fwgraph.views.resource import resource_view

        order = [f"{BASE}feature/{slug}" for slug in self.catalogue.features]
        view = resource_view(self.engine, found.iri, found.triples, link, feature_order=order)
        record = self.catalogue.row(found.iri)
        markup = schemaorg.resource(to_rdflib(found.triples), found.iri, public, self.ontology)
        return {**vars(view), "record": record, "similar": self.catalogue.similar(record) if record else [],
                "structured_data": schemaorg.script_json(markup)}

    #: What each document served from the distribution is (its Link rel="type").
    DOCUMENT_TYPES = {"ns": str(OWL.Ontology), "shapes": str(OWL.Ontology), "dataset": str(VOID.Dataset)}

    def document_page(self, kind: str, iri: str, subject: str, shown: Graph, link: Callable[[str], str | None],
                      public: Callable[[str], str]) -> tuple[str, dict[str, Any]]:
        """The template and what it shows for a document's HTML page: the vocabulary's own page for ``ns``, a
        generic document page (with schema.org markup for the dataset) otherwise."""
        from fwgraph.publish import schemaorg
        from fwgraph.views.resource import document_view
        from fwgraph.views.vocabulary import vocabulary_view

        if kind == "ns":
            return "vocabulary.html", vars(vocabulary_view(subject, shown, link, self.engine))
        view = document_view(public(subject), shown, link)
        markup = schemaorg.dataset(shown, public(iri), canonical=iri) if kind == "dataset" else None
        return "document.html", {**vars(view), "structured_data": schemaorg.script_json(markup)}

    # ------------------------------------------------------------------ the landing page

    #: The counts the landing page shows, by the class they count.
    COUNTED = {"frameworks": FW.WebFramework, "interfaces": FW.ServerInterface, "features": FW.Feature}

    def landing_page(self, link: Callable[[str], str | None], href: Callable[[str], str],
                     public: Callable[[str], str], served_void: Graph) -> dict[str, Any]:
        """What the landing page shows: the dataset's title and counts, the examples, the frameworks, the
        downloads, and its schema.org markup (``served_void``: the dataset description as served)."""
        from fwgraph.publish import schemaorg

        counts: dict[str, int | None] = {name: self.count(cls) for name, cls in self.COUNTED.items()}
        counts["triples"] = self.triples()
        examples = [{"name": e.name, "title": e.title or e.name, "description": e.description, "text": e.text,
                     "group": e.group or "Other", "view": e.view} for e in self.examples]
        return {
            "title": self.void_text(DCTERMS.title) or "fwgraph",
            "description": self.void_text(DCTERMS.description),
            "counts": counts,
            "examples": examples,
            "frameworks": [{"iri": iri, "label": label, "href": href(iri)} for iri, label in self.frameworks()],
            "downloads": self.download_names(),
            "dataset_href": link(str(DATASET_IRI)),
            "structured_data": schemaorg.script_json(schemaorg.dataset(served_void, public(str(DATASET_IRI)),
                                                                       canonical=str(DATASET_IRI))),
        }

    # ------------------------------------------------------------------ the query editor, crawlers

    def editor_terms(self) -> str:
        """What the query editor completes (fwgraph.views.terms), as JSON text, computed once."""
        from fwgraph.views.terms import editor_terms

        text: str = self._once("terms", lambda: json.dumps(editor_terms(self.engine, self.ontology),
                                                           ensure_ascii=False))
        return text

    def robots(self, sitemap_url: str) -> str:
        from fwgraph.publish import sitemap

        return sitemap.robots(sitemap_url)

    def sitemap_files(self) -> int:
        """How many sitemap files the served pages need."""
        return len(self._sitemap())

    def _sitemap(self) -> list[Any]:
        from fwgraph.publish import sitemap

        files: list[Any] = self._once("sitemap", lambda: list(sitemap.chunks(sitemap.all_pages(self.engine))))
        return files

    def sitemap_xml(self, page: int, url: Callable[[str], str]) -> bytes:
        """Sitemap file ``page`` (1-based), or for 0 the sitemap: the one file, or past 50,000 pages an index of
        ``sitemap.xml?page=N`` (``url`` makes a page's absolute URL from its path)."""
        from fwgraph.publish import sitemap

        files = self._sitemap()
        if page:
            return sitemap.urlset(files[page - 1], url)
        if len(files) <= 1:
            return sitemap.urlset(files[0] if files else [], url)
        return sitemap.index(len(files), lambda n: url(f"sitemap.xml?page={n}"))

    # ------------------------------------------------------------------ the finder

    def find_page(self, args: Mapping[str, Sequence[str]]) -> dict[str, Any]:
        """What /find shows for the request's arguments (raises FinderError for one it cannot read)."""
        from fwgraph.views import finder

        found = self.catalogue.find(finder.parse_selection(args))
        return {"found": found, "sel": found.selection, "kinds": finder.KINDS, "levels": finder.LEVELS,
                "sorts": finder.SORTS, "default_order": finder.DEFAULT_ORDER, "features": self.catalogue.features,
                "max_q": finder.MAX_QUERY_CHARS}

    def search(self, q: str) -> dict[str, Any]:
        """/search's answer for ``q`` (raises FinderError past the bounds): the text searched, the hits, and what
        the page needs besides."""
        from fwgraph.views import finder

        hits = self.catalogue.search(q)
        return {"q": finder.search_text(q), "hits": hits, "kinds": finder.KINDS, "max_q": finder.MAX_QUERY_CHARS}

    # ------------------------------------------------------------------ the comparison chart

    def compare_table(self, as_of: str, frameworks: list[str], columns: list[str]) -> Table:
        """The frameworks' table as of ``as_of`` for these framework slugs (all when empty) and column names
        (all when empty); raises ChartError for a name it does not know."""
        from fwgraph.views import chart

        if as_of not in chart.AS_OF:
            raise ChartError(f"unknown as_of {as_of!r}; choose one of: {', '.join(chart.AS_OF)}")
        keys = chart.resolve_columns(columns, "today")  # names are checked against every column
        if as_of == "chart":
            keys = [k for k in keys if k in chart.CHART_COLUMNS]  # the chart has no licence, release or status
        return chart.framework_table(self.engine, frameworks or None, keys if columns else None, as_of)

    def compare_page(self, table: Table, as_of: str, frameworks: list[str],
                     href: Callable[[str], str]) -> dict[str, Any]:
        """What /compare shows besides the table: the choices, the queries behind it, its HTML."""
        from fwgraph.core.namespace import RECORD_KINDS
        from fwgraph.views import chart

        every = chart.framework_slugs(self.engine)
        extra = []
        if as_of == "today":
            iris = [str(RECORD_KINDS["framework"].iri(s)) for s in frameworks] if frameworks else None
            extra.append(("The chart's disputed claims (fw:Correction)", chart.corrections_query(iris)))
        return {"table_html": chart.render_html(table, href, sortable=True), "selected": set(frameworks) or set(every),
                "all_frameworks": every, "columns": chart.FRAMEWORK_COLUMNS, "chart_columns": chart.CHART_COLUMNS,
                "queries": self.table_queries(table, extra)}

    def table_queries(self, table: Table, extra: Sequence[tuple[str, str]] = ()) -> list[dict[str, str]]:
        """The queries behind a table, with links to the query editor."""
        from fwgraph.views import chart

        items = [("The table", table.query), *extra]
        return [{"title": title, "text": text, **chart.editor_links(text)} for title, text in items]

    #: The comparisons other than the frameworks', by name (their tables never change while the server runs).
    ASPECTS = ("interfaces", "servers")

    def aspect_table(self, aspect: str) -> Table:
        """The table of comparison ``aspect`` (one of ASPECTS), computed once."""
        from fwgraph.views import chart

        build = {"interfaces": chart.interface_table, "servers": chart.server_table}[aspect]
        table: Table = self._once(f"chart-{aspect}", lambda: build(self.engine))
        return table

    def table_text(self, table: Table, fmt: str, href: Callable[[str], str] | None = None, *,
                   sortable: bool = False) -> str:
        """A table as ``csv``, ``md`` or ``html`` (links through ``href``)."""
        from fwgraph.views import chart

        if fmt == "html":
            return chart.render_html(table, href or str, sortable=sortable)
        return chart.render_csv(table) if fmt == "csv" else chart.render_markdown(table)

    # ------------------------------------------------------------------ contributions: forms and validation

    def form_kinds(self) -> list[str]:
        from fwgraph.views.form import KINDS

        return list(KINDS)

    def form_model(self, kind_name: str) -> FormModel | None:
        """The contribution form of a record kind (fwgraph.views.form), built once; None for an unknown kind."""
        from fwgraph.views.form import KINDS, build_model, choices_from_rows, choices_query

        kind = KINDS.get(kind_name)
        if kind is None:
            return None

        def choices(cls: str) -> list[dict[str, str]]:
            return choices_from_rows(self.engine.query(prepare(choices_query(cls)), max_rows=5000).rows)

        model: FormModel = self._once(f"form-{kind_name}",
                                      lambda: build_model(kind, self.shapes, self.ontology, choices))
        return model

    def form_advice(self, model: FormModel | None = None) -> dict[str, dict[str, str]]:
        """The forms' plain-words messages by shape: of ``model``, or of every form."""
        from fwgraph.views.form import advice_map

        if model is not None:
            return advice_map(model)
        out: dict[str, dict[str, str]] = {}
        for name in self.form_kinds():
            found = self.form_model(name)
            if found is not None:
                out.update(advice_map(found))
        return out

    def records(self, kind_name: str) -> list[dict[str, str]]:
        """The stored records of a kind that a contributor may edit: value (IRI), label and slug."""
        from fwgraph.views.form import KINDS, choices_from_rows, choices_query

        kind = KINDS[kind_name]
        rows = self.engine.query(prepare(choices_query(str(kind.cls))), max_rows=10_000).rows
        base = kind.iri("")
        return [dict(c, slug=c["value"][len(base):]) for c in choices_from_rows(rows) if c["value"].startswith(base)]

    def form_values(self, model: FormModel, slug: str) -> tuple[dict[str, Any], str] | None:
        """The form's values for stored record ``slug`` and the Turtle of what the form has no field for; None
        when there is no such record."""
        from fwgraph.views.form import SLUG, record_values, stored_record, turtle_of

        graph = stored_record(model.kind, slug, self.root, self.describe) if SLUG.match(slug) else None
        if graph is None:
            return None
        values, rest = record_values(model, graph, model.kind.iri(slug))
        return values, turtle_of(rest)

    def file_name(self, model: FormModel, slug: str) -> str:
        from fwgraph.views.form import file_name

        return file_name(model, slug)

    def filled_form(self, model: FormModel, fields: Mapping[str, list[str]], slug: str,
                    extra: str) -> dict[str, Any]:
        """A filled form as a record file: its slug (a placeholder when the slug is wrong), file name, Turtle,
        triple count, subject and every problem (raises InputError when ``extra`` cannot be read)."""
        from fwgraph.views.form import file_name, placeholder_slug, read_record, record_turtle

        graph, problems = read_record(model, fields, slug, extra)
        slug = slug.strip() if not any(p.source == "slug" for p in problems) else placeholder_slug(model)
        return {"slug": slug, "file": file_name(model, slug), "turtle": record_turtle(model, graph, slug),
                "triples": len(graph), "subject": str(model.kind.iri(slug)), "problems": problems}

    def validation_sandbox(self) -> Sandbox:
        """The sandbox validation jobs run in (fwgraph.publish.sandbox), made on first use, prepared for the build."""
        box: Sandbox = self._once("sandbox", lambda: Sandbox(warm=str(self.dist), settings=self.settings))
        return box

    def check_contribution(self, client: str | None, data: bytes, fmt: str | None, source: str, *,
                           want_turtle: bool) -> dict[str, Any]:
        """Parse and validate a contribution in a killable child process (never in this one), as one of the
        client's jobs; ``fmt`` None reads the format from ``source``'s name. Raises the sandbox's limits."""
        from fwgraph.data.graph import format_for
        from fwgraph.publish.validation import check_contribution

        cfg = self.settings
        outcome: dict[str, Any] = self.validation_sandbox().run_for(
            client, check_contribution, data, fmt or format_for(source), source, str(self.dist),
            max_triples=cfg.validate_max_triples, max_results=cfg.validate_max_results, want_turtle=want_turtle)
        return outcome

    # ------------------------------------------------------------------ reconciliation

    def reconcile(self, queries: str) -> dict[str, Any]:
        """A reconciliation batch's answer (raises InputError for a batch it cannot read)."""
        from fwgraph.views.reconcile import answer, parse_batch

        return answer(self.reconcile_index(), parse_batch(queries))

    def extend(self, extend: str) -> dict[str, Any]:
        """A data extension's answer (raises InputError, TooManyIds past the ids one query may name)."""
        from fwgraph.views.extension import parse_extension

        return self.extension().extend(parse_extension(extend))

    def proposal(self, type_: str | None, limit: str | None) -> Callable[[], dict[str, Any]]:
        """The properties entities of ``type_`` can be extended with, to be computed (the arguments are read now:
        raises InputError for a bad limit)."""
        from fwgraph.views.extension import parse_limit

        count = parse_limit(limit)
        return lambda: self.extension().propose(type_, count)

    def suggester(self, kind: str, prefix: str | None, cursor: str | None, limit: str | None,
                  type_: str | None) -> Callable[[], dict[str, Any]] | None:
        """Auto-completion of ``kind`` (entity, type, property), to be computed; None for no such service (the
        arguments are read now: raises InputError)."""
        from fwgraph.views import suggest

        if kind not in SUGGEST_PATHS:
            return None
        text, start, count = suggest.parse_request(prefix, cursor, limit)
        if kind == "entity":
            return lambda: suggest.entities(self.reconcile_index(), text, start, count,
                                            self.extension().popularity, type_)
        chosen = suggest.types if kind == "type" else suggest.properties
        return lambda: chosen(text, start, count)

    def reconcile_manifest(self, base: str, service_root: str) -> dict[str, Any]:
        from fwgraph.views.reconcile import manifest

        return manifest(base, service_root)

    def preview(self, cid: str) -> tuple[dict[str, str | None], list[str]] | None:
        """A reconciliation candidate, or an entity a data extension gave as a value, as (name and description,
        type names); None for neither."""
        from fwgraph.views.reconcile import TYPES

        candidate = self.reconcile_index().candidates.get(cid)
        if candidate is not None:
            return {"name": candidate.name, "description": candidate.description}, [dict(TYPES)[t] for t in
                                                                                     candidate.types]
        value = self.extension().entities.get(cid)
        if value is None:
            return None
        return {"name": value[0], "description": None}, [value[1]]
