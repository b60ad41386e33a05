"""The SPARQL 1.1 Protocol endpoint at /sparql: query by GET and POST, content negotiation, limits, caching.

The web layer only parses the HTTP request, negotiates the output format and keeps a result cache;
the query is checked by ``fwgraph.data.querycheck.prepare`` and evaluated (and serialised) by the engine,
which for the embedded store is a pool of killable worker processes (``fwgraph.store.pool``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from flask import Blueprint, Response, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from fwgraph.app.http import SANDBOX_POLICY, error_body, etag_matches, missing_headers, negotiate, reason_phrase
from fwgraph.app.ratelimit import ClientSlots, Runaways, client_address
from fwgraph.core import formats
from fwgraph.core.errors import (
    QueryError,
    RefusedQuery,
    ServiceBusy,
    TimeLimitExceeded,
    WorkerFailed,
    WorkStopped,
    http_status,
)
from fwgraph.service import Service

bp = Blueprint("sparql", __name__)

#: What SELECT/ASK and CONSTRUCT/DESCRIBE results can be sent as, preferred first; the service description.
SELECT_OFFERS = formats.offers(*formats.RESULT_FORMATS, formats.HTML)
GRAPH_OFFERS = formats.offers(*formats.RDF_FORMATS)
SD_OFFERS = formats.offers(*formats.RDF_FORMATS, formats.HTML)


# ---------------------------------------------------------------------------------------------- state

class _Endpoint:
    """Per-app state of the endpoint: the Service (its answer cache and prepared-query memo), the limits, and the
    per-client query slots and time-limit lanes (web-layer state, fwgraph.app.ratelimit)."""

    def __init__(self, service: Service) -> None:
        self.service = service
        limits = service.settings
        self.version = str(service.engine.version or service.etag)
        self.max_rows = limits.max_rows
        self.max_answer_bytes = limits.max_answer_bytes
        self.max_body_bytes = limits.max_body_bytes
        self.cache = service.answers
        self.cache_control = f"public, max-age={limits.cache_max_age}"
        self.prepare = service.prepare
        self.slots = ClientSlots(limits.client_queries, limit_loopback=limits.rate_limit_loopback)
        self.client_header = limits.client_address_header
        self.runaways = Runaways(max(1, limits.query_workers - 1), seconds=max(60.0, 6 * limits.query_timeout),
                                 limit_loopback=limits.rate_limit_loopback)

    @property
    def engine(self) -> Any:
        """The Service's engine (read at each use: the service owns it)."""
        return self.service.engine

    def etag(self, text: str, fmt: str) -> str:
        return hashlib.blake2b(f"{self.version}\x00{fmt}\x00{text}".encode(), digest_size=16).hexdigest()

    def not_modified(self, etag: str) -> Outcome:
        return 304, [("ETag", f'"{etag}"'), ("Cache-Control", self.cache_control), ("Vary", "Accept")], b""


def init_app(app: Any, service: Service) -> None:
    """Make the endpoint's state for ``app`` (with the app, as every per-process part is)."""
    app.extensions["fwgraph.sparql"] = _Endpoint(service)


def endpoint_state(app: Any) -> _Endpoint:
    """The endpoint's state for ``app`` (made by :func:`init_app`)."""
    state: _Endpoint = app.extensions["fwgraph.sparql"]
    return state


# ---------------------------------------------------------------------------------------------- the protocol core

#: A framework-free answer: status, headers, body. The Flask view and the WSGI fast path both send it.
Outcome = tuple[int, list[tuple[str, str]], bytes]
_DATASET_PARAMS = ("default-graph-uri", "named-graph-uri", "using-graph-uri", "using-named-graph-uri")


def failure(status: int, message: str, accept: str, *, retry_after: int | None = None, **extra: Any) -> Outcome:
    """An error answer in the client's format; never cached, varies with Accept."""
    ctype, body = error_body(status, message, accept, **extra)
    headers = [("Content-Type", ctype), ("Vary", "Accept"), ("Cache-Control", "no-store")]
    if retry_after is not None:
        headers.append(("Retry-After", str(max(1, retry_after))))
    return status, headers, body


def query_failure(exc: QueryError, accept: str, method: str) -> Outcome:
    where = ""
    if exc.line is not None:
        where = f"line {exc.line}, column {exc.column}: " if exc.column is not None else f"line {exc.line}: "
    status = 400
    if isinstance(exc, RefusedQuery):
        status = {"update": 403, "too-long": 414 if method == "GET" else 413}.get(exc.reason, 400)
    return failure(status, where + exc.message, accept, line=exc.line, column=exc.column)


T = TypeVar("T")


def _bounded(state: _Endpoint, client: str, accept: str, work: Callable[[], T]) -> T | Outcome:
    """``work`` (the engine's) in one of the client's query slots, its limits answered as 503: the result, or
    the failure to send."""
    try:
        with state.slots.slot(client) as allowed, state.runaways.lane(client) as lane:
            if not allowed:
                return failure(503, f"you already have {state.slots.per_client} queries running here; send "
                                    "the next one when one of them has answered", accept, retry_after=1)
            if not lane:
                return failure(503, "your recent queries ran into the time limit: for a while your queries share "
                                    f"{state.runaways.lanes} query worker(s) with others' that did, and they are "
                                    "busy; retry shortly, or simplify the query or add a LIMIT", accept,
                               retry_after=5)
            return work()  # waiting for a query worker as the client's network (RateLimit set it: asking)
    except (TimeLimitExceeded, ServiceBusy, WorkStopped, WorkerFailed) as exc:  # the service goes on
        status, retry_after = http_status(exc) or (500, None)  # the one mapping, as for every route's error
        if isinstance(exc, TimeLimitExceeded):
            state.runaways.mark(client)
            return failure(status, f"{exc}; simplify the query or add a LIMIT", accept, retry_after=retry_after,
                           limit_seconds=exc.limit)
        return failure(status, str(exc), accept, retry_after=retry_after)


def evaluate(state: _Endpoint, text: str, *, method: str, accept: str, format_param: str,
             if_none_match: str | None, client: str) -> Outcome:
    """One protocol request whose query text and parameters are known: check, negotiate, answer from the
    cache or a worker. Every answer of /sparql that carries a query comes from here."""
    prepared = state.prepare(text)
    if isinstance(prepared, QueryError):
        return query_failure(prepared, accept, method)
    choices = GRAPH_OFFERS if prepared.is_graph else SELECT_OFFERS
    chosen = formats.negotiate(choices, accept, format_param)
    if chosen is None:  # a malformed query is a 400 whatever the client accepts: parsed in a worker, bounded
        syntax = _bounded(state, client, accept, lambda: state.engine.check(prepared))
        if isinstance(syntax, tuple):
            return syntax
        if syntax is not None:
            return query_failure(syntax, accept, method)
        kinds = formats.RDF_FORMATS if prepared.is_graph else (*formats.RESULT_FORMATS, formats.HTML)
        return failure(406, f"no acceptable format for {prepared.form.upper()} results; available: "
                            + ", ".join(f.media_type for f in kinds) + f" (or format={formats.names(kinds)})", accept)
    fmt = chosen[1].name
    key = (state.version, text, fmt)
    cached = state.cache.get(key)
    if cached is None:
        etag = state.etag(text, fmt)
        if method == "GET" and etag_matches(if_none_match, etag):
            return state.not_modified(etag)
        answer = _bounded(state, client, accept,
                          lambda: state.engine.execute(prepared, max_rows=state.max_rows, fmt=fmt,
                                                       max_bytes=state.max_answer_bytes))
        if isinstance(answer, tuple):
            return answer
        if answer.status in (200, 400):  # deterministic for this data version: cache it
            state.cache.put(key, (answer, etag))
    else:
        answer, etag = cached
        if method == "GET" and etag_matches(if_none_match, etag):
            return state.not_modified(etag)
    if answer.status != 200:
        return query_failure(QueryError(answer.message or "query failed", line=answer.line, column=answer.column),
                             accept, method)
    headers = [("Content-Type", answer.content_type), ("Vary", "Accept")]
    if fmt == "html":  # text a client chose, shown under this origin: sandboxed, never the site's own page
        headers.append(("Content-Security-Policy", SANDBOX_POLICY))
    if method == "GET":
        headers += [("ETag", f'"{etag}"'), ("Cache-Control", state.cache_control)]
    if answer.truncated:
        headers += [("X-Fwgraph-Truncated", "true"), ("X-SPARQL-MaxRows", str(state.max_rows))]
    if answer.cut_bytes:
        headers.append(("X-Fwgraph-Max-Bytes", str(state.max_answer_bytes)))
    return 200, headers, answer.body


class FastPath:
    """WSGI middleware: ``GET /sparql?query=…[&format=…]`` — the common request — answered by :func:`evaluate`
    without Flask's routing, request and response objects. Anything else (other parameters, POST, HEAD, the
    service description, a query string that is not UTF-8) goes to the Flask view, which ends in the same
    :func:`evaluate`."""

    def __init__(self, app: Any, flask_app: Any) -> None:
        self.app = app
        self.flask_app = flask_app
        self.client_header = flask_app.extensions["fwgraph"].settings.client_address_header

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "GET" or environ.get("PATH_INFO") != "/sparql":
            return self.app(environ, start_response)
        try:
            params = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True, errors="strict")
        except (UnicodeDecodeError, ValueError):
            return self.app(environ, start_response)
        names = [k for k, _ in params]
        if names.count("query") != 1 or names.count("format") > 1 or len(names) != 1 + names.count("format"):
            return self.app(environ, start_response)
        values = dict(params)
        accept = environ.get("HTTP_ACCEPT", "")
        try:
            status, headers, body = evaluate(
                endpoint_state(self.flask_app), values["query"], method="GET", accept=accept,
                format_param=values.get("format", ""), if_none_match=environ.get("HTTP_IF_NONE_MATCH"),
                client=client_address(environ, self.client_header))
        except Exception:  # as the Flask view's error handler does: logged, and a 500 in the client's format
            self.flask_app.logger.exception("unhandled error")
            status, headers, body = failure(500, "internal error; the request was not processed", accept)
        headers += missing_headers(headers, dict(headers).get("Content-Type", ""))
        headers.append(("Content-Length", str(len(body))))
        start_response(f"{status} {reason_phrase(status)}", headers)
        return [body]


# ---------------------------------------------------------------------------------------------- the route

def _error(status: int, message: str, **extra: Any) -> Response:
    return _send(failure(status, message, request.headers.get("Accept", ""), **extra))


def _send(outcome: Outcome) -> Response:
    status, headers, body = outcome
    return Response(body, status=status, headers=headers)


def _too_large(state: _Endpoint) -> Response:
    return _error(413, f"request body is larger than the limit of {state.max_body_bytes} bytes")


@bp.route("/sparql", methods=["GET", "POST"])
def sparql() -> Response:
    state = endpoint_state(current_app)
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
        if mimetype == formats.FORM_URLENCODED:
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
        elif mimetype == formats.SPARQL_QUERY:
            if "query" in args:
                return _error(400, "the query is given both in the URL and in the request body; give it once")
            try:
                raw = request.get_data(cache=False)
            except RequestEntityTooLarge:
                return _too_large(state)
            charset = request.mimetype_params.get("charset", "utf-8")
            if charset.strip().lower() not in ("utf-8", "utf8"):  # SPARQL query strings are UTF-8 (Protocol 2.1.3)
                return _error(415, f"the query body is declared as {charset!r}; send it as UTF-8")
            try:
                queries = [raw.decode("utf-8")]
            except UnicodeDecodeError as exc:
                return _error(400, f"the query is not valid UTF-8: {exc.reason} at byte {exc.start}")
            params = args
        elif mimetype == formats.SPARQL_UPDATE:
            return _error(403, "SPARQL Update is not allowed: this is a read-only endpoint")
        else:
            return _error(415, f"unsupported request media type {mimetype or '(none)'!r}: POST a query as "
                               f"{formats.FORM_URLENCODED} (query=...) or {formats.SPARQL_QUERY}")
        if not queries:
            if any(p in params or p in args for p in _DATASET_PARAMS):
                return _dataset_refused()
            return _error(400, "no query: give the SPARQL query in the 'query' parameter")
    if len(queries) > 1:
        return _error(400, f"{len(queries)} 'query' parameters were given; the protocol allows exactly one")
    if any(p in params or p in args for p in _DATASET_PARAMS):
        return _dataset_refused()
    fmt_param = args.get("format", "") or (params.get("format", "") if params is not args else "")
    return _send(evaluate(state, queries[0], method=method, accept=request.headers.get("Accept", ""),
                          format_param=fmt_param, if_none_match=request.headers.get("If-None-Match"),
                          client=client_address(request.environ, state.client_header)))


def _dataset_refused() -> Response:
    return _error(400, "default-graph-uri / named-graph-uri are not supported: the dataset has one default "
                       "graph (all of fwgraph), and this endpoint never loads graphs from elsewhere; leave them out")


# ---------------------------------------------------------------------------------------------- service description

def _service_description(state: _Endpoint) -> Response:
    chosen = negotiate(SD_OFFERS)
    if chosen is None:
        return _error(406, "the service description is available as "
                           + ", ".join(f.media_type for f in formats.RDF_FORMATS))
    media, fmt = chosen
    if fmt is formats.HTML:  # a browser: the landing page has the query editor
        moved = Response(status=303, headers={"Location": "/", "Vary": "Accept"})
        return moved
    body = state.service.description_bytes(request.base_url, fmt)  # kept for a few Host names
    response = Response(body, status=200, content_type=fmt.content_type_for(media))
    response.headers["Vary"] = "Accept"
    response.headers["Cache-Control"] = state.cache_control
    return response
