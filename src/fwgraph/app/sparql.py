"""The SPARQL 1.1 Protocol endpoint at /sparql: query by GET and POST, content negotiation, limits, caching.

The web layer only parses the HTTP request, negotiates the output format and keeps a result cache;
the query is checked by ``fwgraph.sparql.prepare`` and evaluated (and serialised) by the engine,
which for the embedded store is a pool of killable worker processes (``fwgraph.pool``).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from functools import lru_cache
from typing import Any

from flask import Blueprint, Response, current_app, redirect, request
from werkzeug.exceptions import RequestEntityTooLarge

from fwgraph.app.http import SANDBOX_POLICY, error_response
from fwgraph.app.ratelimit import ClientSlots, client_address
from fwgraph.engine import syntax_error
from fwgraph.errors import QueryError, RefusedQuery, ServiceBusy, TimeLimitExceeded, WorkerFailed
from fwgraph.pool import Answer
from fwgraph.results import CONTENT_TYPES, serialise
from fwgraph.sparql import PreparedQuery, prepare

bp = Blueprint("sparql", __name__)

#: What SELECT/ASK and CONSTRUCT/DESCRIBE results can be sent as: (media type, format), preferred first.
SELECT_OFFERS: tuple[tuple[str, str], ...] = (
    ("application/sparql-results+json", "json"),
    ("application/sparql-results+xml", "xml"),
    ("text/csv", "csv"),
    ("text/tab-separated-values", "tsv"),
    ("text/html", "html"),
    ("application/json", "json"),
    ("application/xml", "xml"),
    ("text/xml", "xml"),
)
GRAPH_OFFERS: tuple[tuple[str, str], ...] = (
    ("text/turtle", "turtle"),
    ("application/ld+json", "jsonld"),
    ("application/n-triples", "nt"),
    ("application/rdf+xml", "rdfxml"),
    ("application/json", "jsonld"),
    ("application/x-turtle", "turtle"),
    ("application/turtle", "turtle"),
    ("text/plain", "nt"),
)
#: Short names accepted by ``format=`` (besides the media types above), per result kind.
SELECT_NAMES = {"json": "json", "srj": "json", "xml": "xml", "srx": "xml", "csv": "csv", "tsv": "tsv",
                "html": "html"}
GRAPH_NAMES = {"turtle": "turtle", "ttl": "turtle", "jsonld": "jsonld", "json-ld": "jsonld", "json": "jsonld",
               "nt": "nt", "ntriples": "nt", "n-triples": "nt", "rdfxml": "rdfxml", "rdf": "rdfxml",
               "xml": "rdfxml"}
SD_OFFERS = GRAPH_OFFERS[:4] + (("text/html", "html"),) + GRAPH_OFFERS[4:]

SD = "http://www.w3.org/ns/sparql-service-description#"
FORMATS = "http://www.w3.org/ns/formats/"
FORMAT_IRIS = {  # W3C format IRIs for sd:resultFormat
    "json": FORMATS + "SPARQL_Results_JSON", "xml": FORMATS + "SPARQL_Results_XML",
    "csv": FORMATS + "SPARQL_Results_CSV", "tsv": FORMATS + "SPARQL_Results_TSV",
    "turtle": FORMATS + "Turtle", "jsonld": FORMATS + "JSON-LD", "nt": FORMATS + "N-Triples",
    "rdfxml": FORMATS + "RDF_XML",
}


# ---------------------------------------------------------------------------------------------- negotiation

def _parse_accept(header: str) -> tuple[tuple[str, str, float, int], ...]:
    """Accept as (type, subtype, q, position); parameters other than q (e.g. charset) are ignored."""
    out = []
    for pos, item in enumerate(header.split(",")):
        parts = [p.strip() for p in item.split(";")]
        mt = parts[0].lower()
        if not mt:
            continue
        if "/" not in mt:
            if mt != "*":
                continue
            mt = "*/*"
        typ, _, sub = mt.partition("/")
        q = 1.0
        for param in parts[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = max(0.0, min(1.0, float(value.strip())))
                except ValueError:
                    q = 0.0
        out.append((typ, sub, q, pos))
    return tuple(out)


def _quality(accept: tuple[tuple[str, str, float, int], ...], media_type: str) -> tuple[float, int, int]:
    """(q, specificity, -position) of the most specific Accept entry matching ``media_type``."""
    typ, _, sub = media_type.partition("/")
    best: tuple[float, int, int] | None = None
    for a_typ, a_sub, q, pos in accept:
        if a_typ == typ and a_sub == sub:
            spec = 2
        elif a_typ == typ and a_sub == "*":
            spec = 1
        elif a_typ == "*" and a_sub == "*":
            spec = 0
        else:
            continue
        if best is None or spec > best[1]:
            best = (q, spec, -pos)
    return best or (0.0, -1, 0)


def choose_format(offers: tuple[tuple[str, str], ...], names: tuple[tuple[str, str], ...] | None,
                  accept_header: str, format_param: str) -> str | None:
    """The output format for a request, or None (406); memoised for short headers (bounded memory)."""
    if len(accept_header) + len(format_param) <= 512:
        return _choose_format_memo(offers, names, accept_header, format_param)
    return _choose_format(offers, names, accept_header, format_param)


def _choose_format(offers: tuple[tuple[str, str], ...], names: tuple[tuple[str, str], ...] | None,
                   accept_header: str, format_param: str) -> str | None:
    """The output format for a request, or None (406). ``format=`` wins over Accept.

    Among acceptable offers the highest q wins, then the most specific match (text/csv over text/*
    over */*), then the client's order, then ours (so */* alone gives our default, the first offer).
    """
    if format_param:
        value = format_param.strip().lower()
        value_type = value.split(";")[0].strip()
        for name, fmt in names or ():
            if name == value:
                return fmt
        for media_type, fmt in offers:
            if media_type == value_type:
                return fmt
        return None
    if not accept_header.strip():
        return offers[0][1]
    accept = _parse_accept(accept_header)
    if not accept:
        return offers[0][1]
    best_fmt, best_key = None, None
    for rank, (media_type, fmt) in enumerate(offers):
        q, spec, neg_pos = _quality(accept, media_type)
        if q <= 0:
            continue
        key = (q, spec, neg_pos, -rank)
        if best_key is None or key > best_key:
            best_fmt, best_key = fmt, key
    return best_fmt


_choose_format_memo = lru_cache(maxsize=4096)(_choose_format)


# ---------------------------------------------------------------------------------------------- cache

class ResultCache:
    """A bounded LRU of serialised answers keyed by (data version, query text, format).

    Bounded by bytes, not only entries: the answers' bodies plus the query texts never exceed
    ``max_bytes``, and an answer larger than ``max_entry_bytes`` is not kept at all.
    """

    def __init__(self, entries: int, max_bytes: int = 64 * 1024 * 1024, max_entry_bytes: int = 2 * 1024 * 1024) -> None:
        self.entries = max(0, int(entries))
        self.max_bytes = max(0, int(max_bytes))
        self.max_entry_bytes = max(0, int(max_entry_bytes))
        self._data: OrderedDict[tuple[str, str, str], tuple[Answer, str]] = OrderedDict()
        self._lock = threading.Lock()
        self.size = 0
        self.hits = self.misses = 0

    @staticmethod
    def _cost(key: tuple[str, str, str], value: tuple[Answer, str]) -> int:
        return len(value[0].body) + len(key[1]) + len(value[0].message or "") + 256

    def get(self, key: tuple[str, str, str]) -> tuple[Answer, str] | None:
        with self._lock:
            item = self._data.get(key)
            if item is None:
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
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


class _Endpoint:
    """Per-app state of the endpoint: settings, cache, service description, prepared-query memo."""

    def __init__(self, app: Any) -> None:
        cfg = app.config
        self.service = app.extensions["fwgraph"]
        self.engine = self.service.engine
        self.version = str(getattr(self.engine, "version", "") or self.service.etag)
        self.max_rows = int(cfg["FWGRAPH_MAX_ROWS"])
        self.max_query_bytes = int(cfg["FWGRAPH_MAX_QUERY_BYTES"])
        self.max_body_bytes = int(cfg["FWGRAPH_MAX_BODY_BYTES"])
        self.timeout = float(cfg["FWGRAPH_QUERY_TIMEOUT"])
        self.max_age = int(cfg["FWGRAPH_CACHE_MAX_AGE"])
        self.base_iri = str(cfg["FWGRAPH_BASE_IRI"])
        self.cache = ResultCache(int(cfg["FWGRAPH_CACHE_ENTRIES"]), int(cfg["FWGRAPH_CACHE_BYTES"]) // 2,
                                 int(cfg["FWGRAPH_CACHE_ENTRY_BYTES"]))
        self.cache_control = f"public, max-age={self.max_age}"
        self.sd_cache: dict[tuple[str, str], bytes] = {}
        self._prepared = lru_cache(maxsize=4096)(self._prepare)
        workers = int(cfg["FWGRAPH_QUERY_WORKERS"])
        self.slots = ClientSlots(int(cfg["FWGRAPH_QUERIES_PER_CLIENT"]) or max(1, workers - 1),
                                 limit_loopback=bool(cfg["FWGRAPH_RATE_LIMIT_LOOPBACK"]))
        self.client_header = cfg["FWGRAPH_CLIENT_ADDRESS_HEADER"]

    def prepare(self, text: str) -> PreparedQuery | QueryError:
        """The checked query, memoised for short texts only (the memo's memory stays bounded: 4096 x 2 KiB)."""
        return self._prepared(text) if len(text) <= 2048 else self._prepare(text)

    def _prepare(self, text: str) -> PreparedQuery | QueryError:
        try:
            return prepare(text, max_bytes=self.max_query_bytes)
        except QueryError as exc:
            return exc

    def etag(self, text: str, fmt: str) -> str:
        digest = hashlib.blake2b(f"{self.version}\x00{fmt}\x00{text}".encode(), digest_size=16).hexdigest()
        return f'"{digest}"'

    def run(self, prepared: PreparedQuery, fmt: str) -> Answer:
        """Evaluate on the engine: the pooled fast path (bytes from a worker), or in-process."""
        execute = getattr(self.engine, "execute", None)
        if execute is not None:
            return execute(prepared, max_rows=self.max_rows, fmt=fmt)
        try:
            result = self.engine.query(prepared, max_rows=self.max_rows)
        except QueryError as exc:
            return Answer(400, "", b"", message=exc.message, line=exc.line, column=exc.column)
        ctype, body = serialise(result, fmt, query=prepared.text, max_rows=self.max_rows)
        return Answer(200, ctype, body, truncated=result.truncated)


def _endpoint() -> _Endpoint:
    state = current_app.extensions.get("fwgraph.sparql")
    if state is None:
        state = current_app.extensions["fwgraph.sparql"] = _Endpoint(current_app)
    return state


# ---------------------------------------------------------------------------------------------- errors

def _error(status: int, message: str, **extra: Any) -> Response:
    response = error_response(status, message, **extra)
    response.headers["Vary"] = "Accept"
    response.headers["Cache-Control"] = "no-store"
    return response


def _query_error(exc: QueryError, *, method: str) -> Response:
    where = ""
    if exc.line is not None:
        where = f"line {exc.line}, column {exc.column}: " if exc.column is not None else f"line {exc.line}: "
    status = 400
    if isinstance(exc, RefusedQuery):
        status = {"update": 403, "too-long": 414 if method == "GET" else 413}.get(exc.reason, 400)
    return _error(status, where + exc.message, line=exc.line, column=exc.column)


def _too_large(state: _Endpoint) -> Response:
    return _error(413, f"request body is larger than the limit of {state.max_body_bytes} bytes")


# ---------------------------------------------------------------------------------------------- the route

_DATASET_PARAMS = ("default-graph-uri", "named-graph-uri", "using-graph-uri", "using-named-graph-uri")


@bp.route("/sparql", methods=["GET", "POST"])
def sparql() -> Response:
    state = _endpoint()
    args = request.args
    method = "GET" if request.method == "HEAD" else request.method  # HEAD: the GET answer without its body
    if method == "GET":
        queries = args.getlist("query")
        params = args
        if "update" in args:
            return _error(403, "SPARQL Update is not allowed: this is a read-only endpoint")
        if not queries:
            if any(p in args for p in _DATASET_PARAMS):
                return _dataset_refused()
            return _service_description(state)
    else:
        mimetype = request.mimetype
        if mimetype == "application/x-www-form-urlencoded":
            try:
                form = request.form
            except RequestEntityTooLarge:
                return _too_large(state)
            if "update" in form or "update" in args:
                return _error(403, "SPARQL Update is not allowed: this is a read-only endpoint")
            if "query" in form and "query" in args:
                return _error(400, "the query is given both in the URL and in the request body; give it once")
            queries = form.getlist("query") or args.getlist("query")
            params = form
        elif mimetype == "application/sparql-query":
            if "query" in args:
                return _error(400, "the query is given both in the URL and in the request body; give it once")
            try:
                raw = request.get_data(cache=False)
            except RequestEntityTooLarge:
                return _too_large(state)
            charset = request.mimetype_params.get("charset", "utf-8")
            try:
                queries = [raw.decode(charset)]
            except LookupError:
                return _error(415, f"unknown charset {charset!r} in Content-Type; send UTF-8")
            except UnicodeDecodeError as exc:
                return _error(400, f"the query is not valid {charset}: {exc.reason} at byte {exc.start}")
            params = args
        elif mimetype == "application/sparql-update":
            return _error(403, "SPARQL Update is not allowed: this is a read-only endpoint")
        else:
            return _error(415, f"unsupported request media type {mimetype or '(none)'!r}: POST a query as "
                               "application/x-www-form-urlencoded (query=...) or application/sparql-query")
        if not queries:
            if any(p in params or p in args for p in _DATASET_PARAMS):
                return _dataset_refused()
            return _error(400, "no query: give the SPARQL query in the 'query' parameter")
    if len(queries) > 1:
        return _error(400, f"{len(queries)} 'query' parameters were given; the protocol allows exactly one")
    if any(p in params or p in args for p in _DATASET_PARAMS):
        return _dataset_refused()
    text = queries[0]
    prepared = state.prepare(text)
    if isinstance(prepared, QueryError):
        return _query_error(prepared, method=method)

    graph = prepared.form in ("construct", "describe")
    fmt_param = args.get("format", "") or (params.get("format", "") if params is not args else "")
    if graph:
        fmt = choose_format(GRAPH_OFFERS, _GRAPH_NAMES_T, request.headers.get("Accept", ""), fmt_param)
    else:
        fmt = choose_format(SELECT_OFFERS, _SELECT_NAMES_T, request.headers.get("Accept", ""), fmt_param)
    if fmt is None:
        syntax = syntax_error(text)  # a malformed query is a 400 whatever the client accepts
        if syntax is not None:
            return _query_error(syntax, method=method)
        offers = GRAPH_OFFERS if graph else SELECT_OFFERS
        return _error(406, f"no acceptable format for {prepared.form.upper()} results; available: "
                           + ", ".join(dict.fromkeys(mt for mt, _ in offers[:5 if not graph else 4]))
                           + " (or format=" + "|".join(GRAPH_FORMAT_NAMES if graph else SELECT_FORMAT_NAMES)
                           + ")")

    key = (state.version, text, fmt)
    cached = state.cache.get(key)
    if cached is None:
        etag = state.etag(text, fmt)
        if method == "GET" and _not_modified(etag):
            return _304(state, etag)
        try:
            with state.slots.slot(client_address(request.environ, state.client_header)) as allowed:
                if not allowed:
                    response = _error(503, f"you already have {state.slots.per_client} queries running here; "
                                           "send the next one when one of them has answered")
                    response.headers["Retry-After"] = "1"
                    return response
                answer = state.run(prepared, fmt)
        except TimeLimitExceeded as exc:
            response = _error(503, f"{exc}; simplify the query or add a LIMIT",
                              limit_seconds=exc.limit)
            response.headers["Retry-After"] = str(max(1, int(round(exc.limit))))
            return response
        except ServiceBusy as exc:
            response = _error(503, str(exc))
            response.headers["Retry-After"] = "1"
            return response
        except WorkerFailed as exc:
            return _error(500, str(exc))
        if answer.status in (200, 400):  # deterministic for this data version: cache it
            state.cache.put(key, (answer, etag))
    else:
        answer, etag = cached
        if method == "GET" and "If-None-Match" in request.headers and _not_modified(etag):
            return _304(state, etag)
    if answer.status != 200:
        exc = QueryError(answer.message or "query failed", line=answer.line, column=answer.column)
        return _query_error(exc, method=method)
    response = Response(answer.body, status=200, content_type=answer.content_type)
    headers = response.headers
    if fmt == "html":  # text a client chose, shown under this origin: sandboxed, never the site's own page
        headers["Content-Security-Policy"] = SANDBOX_POLICY
    headers["Vary"] = "Accept"
    if method == "GET":
        headers["ETag"] = etag
        headers["Cache-Control"] = state.cache_control
    if answer.truncated:
        headers["X-Fwgraph-Truncated"] = "true"
        headers["X-SPARQL-MaxRows"] = str(state.max_rows)
    return response


_SELECT_NAMES_T = tuple(SELECT_NAMES.items())
_GRAPH_NAMES_T = tuple(GRAPH_NAMES.items())
SELECT_FORMAT_NAMES = ("json", "xml", "csv", "tsv", "html")
GRAPH_FORMAT_NAMES = ("turtle", "jsonld", "nt", "rdfxml")


def _not_modified(etag: str) -> bool:
    header = request.headers.get("If-None-Match")
    if not header:
        return False
    if header.strip() == "*":
        return True
    tags = [t.strip() for t in header.split(",")]
    return etag in tags or ("W/" + etag) in tags


def _304(state: _Endpoint, etag: str) -> Response:
    response = Response(status=304)
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = state.cache_control
    response.headers["Vary"] = "Accept"
    return response


def _dataset_refused() -> Response:
    return _error(400, "default-graph-uri / named-graph-uri are not supported: the dataset has one default "
                       "graph (all of fwgraph), and this endpoint never loads graphs from elsewhere; leave them out")


# ---------------------------------------------------------------------------------------------- service description

def _service_description(state: _Endpoint) -> Response:
    fmt = choose_format(SD_OFFERS, _GRAPH_NAMES_T + (("html", "html"),), request.headers.get("Accept", ""),
                        request.args.get("format", ""))
    if fmt is None:
        return _error(406, "the service description is available as text/turtle, application/ld+json, "
                           "application/n-triples or application/rdf+xml")
    if fmt == "html":  # a browser: the landing page has the query editor
        response = redirect("/", code=303)
        response.headers["Vary"] = "Accept"
        return response
    endpoint = request.base_url
    key = (endpoint, fmt)
    body = state.sd_cache.get(key)
    if body is None:
        body = _sd_bytes(state, endpoint, fmt)
        if len(state.sd_cache) < 64:  # keyed by the Host a client sends: keep only a few
            state.sd_cache[key] = body
    response = Response(body, status=200, content_type=CONTENT_TYPES[fmt])
    response.headers["Vary"] = "Accept"
    response.headers["Cache-Control"] = state.cache_control
    return response


def service_description(state: _Endpoint, endpoint: str) -> Any:
    """The SPARQL Service Description of this endpoint as an rdflib Graph."""
    from rdflib import BNode, Graph, Literal, Namespace, URIRef
    from rdflib.namespace import DCTERMS, RDF, RDFS, VOID, XSD

    from fwgraph.namespace import DATASET_IRI, bind_prefixes

    sd = Namespace(SD)
    lim = Namespace(state.base_iri + "sparql#")
    g = bind_prefixes(Graph())
    g.bind("sd", sd)
    g.bind("formats", Namespace(FORMATS))
    g.bind("fwsparql", lim)
    svc = URIRef(endpoint + "#service")
    g.add((svc, RDF.type, sd.Service))
    g.add((svc, sd.endpoint, URIRef(endpoint)))
    g.add((svc, sd.supportedLanguage, sd.SPARQL11Query))
    for fmt in ("json", "xml", "csv", "tsv", "turtle", "jsonld", "nt", "rdfxml"):
        g.add((svc, sd.resultFormat, URIRef(FORMAT_IRIS[fmt])))
    g.add((svc, DCTERMS.title, Literal("fwgraph SPARQL 1.1 query endpoint", lang="en")))
    g.add((svc, DCTERMS.description, Literal(
        "A read-only SPARQL 1.1 Query endpoint over the fwgraph dataset. SPARQL Update, SERVICE (federated "
        "query), FROM / FROM NAMED and default-graph-uri / named-graph-uri are refused. "
        f"Queries are stopped after {state.timeout:g} s (503), results are capped at {state.max_rows} rows "
        "with truncation signalled by the X-Fwgraph-Truncated and X-SPARQL-MaxRows headers, "
        f"query text is limited to {state.max_query_bytes} bytes and request bodies to "
        f"{state.max_body_bytes} bytes (413).", lang="en")))
    limits = [
        (lim.queryTimeout, Literal(str(state.timeout), datatype=XSD.decimal), "query time limit",
         "Seconds a query may run before it is stopped and answered with 503."),
        (lim.maxRows, Literal(state.max_rows, datatype=XSD.integer), "result row limit",
         "Most rows (SELECT) or triples (CONSTRUCT/DESCRIBE) returned; longer results are truncated and "
         "flagged with the X-Fwgraph-Truncated: true header."),
        (lim.maxQueryBytes, Literal(state.max_query_bytes, datatype=XSD.integer), "query length limit",
         "Longest query text accepted, in bytes of UTF-8."),
        (lim.maxRequestBytes, Literal(state.max_body_bytes, datatype=XSD.integer), "request body limit",
         "Largest request body accepted, in bytes (413 beyond)."),
        (lim.cacheBytes, Literal(state.cache.max_bytes * 2, datatype=XSD.integer), "answer cache memory limit",
         "Bytes of cached answers one web process keeps at most (older answers are dropped first)."),
    ]
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
    try:
        void = state.service.void
    except Exception:  # noqa: BLE001  (the description is still useful without statistics)
        void = None
    if void is not None:
        for prop in (VOID.triples, VOID.entities, VOID.classes, VOID.properties, VOID.distinctSubjects,
                     VOID.distinctObjects):
            for value in void.objects(DATASET_IRI, prop):
                g.add((graph, prop, value))
    return g


def _sd_bytes(state: _Endpoint, endpoint: str, fmt: str) -> bytes:
    g = service_description(state, endpoint)
    rdflib_format = {"turtle": "turtle", "jsonld": "json-ld", "nt": "nt", "rdfxml": "xml"}[fmt]
    data = g.serialize(format=rdflib_format, encoding="utf-8")
    return data if isinstance(data, bytes) else data.encode("utf-8")
