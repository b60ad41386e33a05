"""The store client: fwgraph's checked queries sent to an external SPARQL 1.1 endpoint (Oxigraph server, Virtuoso).

SPARQLWrapper speaks the protocol; this module chooses how (GET for short queries, URL-encoded POST for
long ones, direct POST only where a probe shows the store answers it), keeps the dataset parameters
written in the store URL, passes the time limit and row cap down to stores that take them, and reads
the answers with Oxigraph's parsers, stopping after the row cap. Each query is sent as
``fwgraph.data.querycheck.for_store`` rewrites it, and a SELECT answer is read back on the variables the embedded
engine's parser gives it: every store then answers what the embedded engine does (README, differences).
"""

from __future__ import annotations

import re
import socket
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import IO, Any, cast
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import pyoxigraph as ox
from SPARQLWrapper import GET, POST, POSTDIRECTLY, URLENCODED, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import (
    EndPointInternalError,
    EndPointNotFound,
    QueryBadFormed,
    SPARQLWrapperException,
    Unauthorized,
    URITooLong,
)

from fwgraph.core import formats
from fwgraph.core.errors import (
    QueryError,
    StartError,
    StoreFailed,
    StoreUnavailable,
    TimeLimitExceeded,
)
from fwgraph.core.namespace import PREFIXES
from fwgraph.core.settings import active
from fwgraph.data.querycheck import PreparedQuery, declared, for_store
from fwgraph.store.engine import TIME_LIMIT, Bindings, InProcessEngine, bound, substituted
from fwgraph.store.pool import WorkerPool
from fwgraph.store.results import QueryResult, result_from_bytes

_SELECT_ACCEPT = formats.SPARQL_JSON.media_type
_GRAPH_ACCEPT = formats.NTRIPLES.media_type
#: Parameters fwgraph sets itself (or that would change the answer's format), refused in the store URL.
_OWN_PARAMS = {"query", "update", "format", "output", "results"}
_POSTS = ("auto", "direct", "form")


@dataclass(frozen=True)
class Dialect:
    """What one engine takes beyond the protocol: request parameters for the limits, DESCRIBE's pragma."""

    name: str
    timeout_param: str | None = None  # takes the time limit in milliseconds; the store stops the query there
    rows_param: str | None = None  # takes the row cap of SELECT results
    describe_prefix: str = ""  # prepended to DESCRIBE, so that it answers the concise bounded description
    note: str = ""  # how the limits reach this store (logged at start)


DIALECTS: dict[str, Dialect] = {
    # Virtuoso 7: `timeout` (ms, at least 1000) interrupts the query and answers what it has with
    # X-SQL-State: S1TAT; `maxrows` caps SELECT rows (up to the ini's ResultSetMaxRows); DESCRIBE
    # answers the symmetric description without blank-node closure unless told "CBD".
    "virtuoso": Dialect("virtuoso", timeout_param="timeout", rows_param="maxrows",
                        describe_prefix='DEFINE sql:describe-mode "CBD" ',
                        note="time limit and row cap sent as timeout= and maxrows="),
    # Oxigraph's server takes no per-request limit: its own --timeout-s applies to every query, and its
    # answers stream, so closing the connection after the row cap stops the evaluation.
    "oxigraph": Dialect("oxigraph", note="time limit: the server's own --timeout-s; rows: the answer is read "
                                         "up to the row cap and the connection closed"),
    "standard": Dialect("standard", note="no limit parameters known for this store"),
}

#: Virtuoso's JSON writes blank nodes as "nodeID://b123", which no parser accepts as a blank-node label.
_VIRTUOSO_BNODE = re.compile(rb'("type"\s*:\s*"bnode"\s*,\s*"value"\s*:\s*")nodeID://')
_CANCELLED = re.compile(rb"cancel|timeout|time limit|interrupted", re.I)


def dialect_of(server: str) -> str:
    """The dialect for a store's ``Server`` header ("Virtuoso/07.20.3229 (Linux)", "Oxigraph/0.5.13")."""
    name = server.split("/", 1)[0].strip().lower()
    return name if name in DIALECTS else "standard"


def split_store_url(url: str) -> tuple[str, list[tuple[str, str]]]:
    """The endpoint without its query string, and the parameters written there (kept for every request).

    >>> split_store_url("http://127.0.0.1:8890/sparql?default-graph-uri=https%3A%2F%2Fw3id.org%2Ffwgraph%2F")
    ('http://127.0.0.1:8890/sparql', [('default-graph-uri', 'https://w3id.org/fwgraph/')])
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise StartError(f"the store URL must be an http(s) URL of a SPARQL endpoint, not {url!r}")
    params = parse_qsl(parts.query, keep_blank_values=True)
    own = sorted({name for name, _ in params} & _OWN_PARAMS)
    if own:
        raise StartError(f"the store URL may not carry {', '.join(own)}: fwgraph sends the query and chooses "
                         "the result format itself (keep default-graph-uri, named-graph-uri and the like)")
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")), params


class _Body:
    """The store's answer as the parsers read it: a deadline on every read, the last bytes kept for
    diagnosis, and Virtuoso's blank-node labels made parseable (on the fly, across read boundaries)."""

    def __init__(self, response: Any, deadline: float, limit: float, rewrite_bnodes: bool,
                 max_bytes: int | None = None) -> None:
        self.response = response
        self.deadline = deadline
        self.limit = limit
        self.rewrite = rewrite_bnodes
        self.max_bytes = max_bytes
        self.read_bytes = 0
        self.pending = b""
        self.tail = b""

    def read(self, size: int = -1) -> bytes:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise TimeLimitExceeded(self.limit)
        _socket_timeout(self.response, remaining)
        # read1: what one receive gives, so that the deadline is checked between receives (read(n) waits for n
        # bytes, and a store trickling a byte a second held a thread for hours)
        chunk = self.response.read1(size if size and size > 0 else 65536)
        self.read_bytes += len(chunk)
        if self.max_bytes is not None and self.read_bytes > self.max_bytes:
            raise AnswerTooLarge(self.max_bytes)
        self.tail = (self.tail + chunk)[-512:]
        if not self.rewrite:
            return chunk
        data = _VIRTUOSO_BNODE.sub(rb"\1", self.pending + chunk)
        if not chunk:  # end of the answer: nothing more can complete a match
            self.pending = b""
            return data
        keep = min(len(data), 64)  # a match cut by the read boundary is completed by the next read
        self.pending, data = data[len(data) - keep:], data[:len(data) - keep]
        return data or self.read(size)


def _socket_timeout(response: Any, seconds: float) -> None:
    """Every receive on the store's connection waits at most ``seconds`` (what is left of the time limit)."""
    sock = getattr(getattr(getattr(response, "fp", None), "raw", None), "_sock", None)
    if sock is not None:
        try:
            sock.settimeout(max(0.01, seconds))
        except OSError:
            pass


class AnswerTooLarge(Exception):
    """The store's answer ran past the byte limit before its rows did."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the answer is larger than the limit of {limit} bytes")
        self.limit = limit


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """The store's endpoint answers itself: a redirect is an error, never followed (to wherever it points)."""

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)
_HTTP_ERRORS = {400: QueryBadFormed, 401: Unauthorized, 404: EndPointNotFound, 414: URITooLong,
                500: EndPointInternalError}


class _Client(SPARQLWrapper):
    """SPARQLWrapper whose requests follow no redirect. Its own opener is a module global shared with every other
    SPARQLWrapper in the process (a user's script, the tests): this one is ours alone."""

    def _query(self) -> tuple[Any, str]:
        try:
            return _OPENER.open(self._createRequest(), timeout=self.timeout), self.returnFormat
        except urllib.error.HTTPError as exc:  # the same mapping as SPARQLWrapper's own _query
            if exc.code in _HTTP_ERRORS:
                raise _HTTP_ERRORS[exc.code](exc.read()) from None
            raise


class StoreClient:
    """One store endpoint: how to send it queries (probed once) and what it takes beyond the protocol."""

    def __init__(self, url: str, *, timeout: float | None = None, post: str = "auto", dialect: str = "auto",
                 agent: str = "fwgraph") -> None:
        self.url = url
        self.agent = agent  # the User-Agent sent (public endpoints such as Wikidata's ask for a contact in it)
        self.endpoint, self.params = split_store_url(url)
        if post not in _POSTS:
            raise StartError(f"STORE_POST must be one of {', '.join(_POSTS)}, not {post!r}")
        if dialect != "auto" and dialect not in DIALECTS:
            raise StartError(f"STORE_DIALECT must be auto or one of {', '.join(DIALECTS)}, not {dialect!r}")
        self.limit = float(active().query_timeout if timeout is None else timeout)
        self._post = post
        self._dialect = None if dialect == "auto" else DIALECTS[dialect]
        self.server = ""
        self._lock = threading.Lock()

    # ------------------------------------------------------------------------------------------ probing

    @property
    def dialect(self) -> Dialect:
        """The store's dialect, from its ``Server`` header on first use unless configured."""
        if self._dialect is None:
            with self._lock:
                if self._dialect is None:
                    response = self._send("ASK {}", _SELECT_ACCEPT, GET, [], self.timeout)
                    response.close()
                    self.server = (response.headers.get("Server", "") or "").strip()
                    self._dialect = DIALECTS[dialect_of(self.server)]
        return self._dialect

    @property
    def post(self) -> str:
        """"direct" when the store answers a direct POST (probed on first need unless configured), else "form"."""
        if self._post == "auto":
            with self._lock:
                if self._post == "auto":
                    self._post = "direct" if self._answers_direct_post() else "form"
        return self._post

    def _answers_direct_post(self) -> bool:
        try:
            wait = min(active().store_probe_timeout, self.timeout)
            response = self._send("ASK {}", _SELECT_ACCEPT, POSTDIRECTLY, [], wait)
            with response:
                ox.parse_query_results(response, format=ox.QueryResultsFormat.JSON)
        except (OSError, SyntaxError, SPARQLWrapperException):  # no answer in time, an error status, not results
            return False
        return True

    def probe(self) -> str:
        """Learn the store's dialect and POST form now; a line for the log. StartError when it cannot be queried."""
        try:
            dialect, post = self.dialect, self.post
        except (OSError, SPARQLWrapperException) as exc:
            raise StartError(f"cannot query the store at {self.url}: {_reason(exc)}") from None
        named = "".join(f" {k}={v}" for k, v in self.params)
        return (f"store {self.endpoint} ({self.server or 'no Server header'}; dialect {dialect.name}{named}): "
                f"GET up to {active().store_get_url_bytes} bytes of URL, longer queries by "
                f"{'direct POST' if post == 'direct' else 'URL-encoded POST (no answer to a direct POST)'}; "
                f"{dialect.note}")

    # ------------------------------------------------------------------------------------------ requests

    def _send(self, text: str, accept: str, how: str, extra: list[tuple[str, str]], timeout: float) -> Any:
        client = _Client(self.endpoint, agent=self.agent)
        client.setOnlyConneg(True)
        client.setQuery(text)
        if how == GET:
            client.setMethod(GET)
        else:
            client.setMethod(POST)
            client.setRequestMethod(POSTDIRECTLY if how == POSTDIRECTLY else URLENCODED)
        for name, value in [*self.params, *extra]:
            client.addParameter(name, value)
        client.addCustomHttpHeader("Accept", accept)
        # a float works (it goes to urlopen as the socket timeout); the stubs say int
        client.setTimeout(timeout)  # type: ignore[arg-type]
        return client.query().response

    @property
    def timeout(self) -> float:
        """The time limit of a query sent now: the block's own (:func:`fwgraph.store.engine.own_time_limit`: a
        warm-up's), else the client's (a request's)."""
        return TIME_LIMIT.get() or self.limit

    def _method(self, text: str, extra: list[tuple[str, str]]) -> str:
        from urllib.parse import urlencode

        length = len(self.endpoint) + 1 + len(urlencode([*self.params, *extra, ("query", text)]))
        if length <= active().store_get_url_bytes:
            return GET
        return POSTDIRECTLY if self.post == "direct" else URLENCODED

    def _limits(self, dialect: Dialect, form: str, max_rows: int) -> list[tuple[str, str]]:
        given = {name for name, _ in self.params}  # a limit written in the store URL wins
        extra = []
        if dialect.timeout_param and dialect.timeout_param not in given:
            extra.append((dialect.timeout_param, str(max(1000, int(self.timeout * 1000)))))
        if dialect.rows_param and dialect.rows_param not in given and form == "select":
            extra.append((dialect.rows_param, str(max_rows + 1)))
        return extra

    def request(self, query: PreparedQuery, accept: str, max_rows: int,
                max_bytes: int | None = None) -> tuple[Any, _Body]:
        """Send ``query``; the response (headers) and its body, read under the time limit."""
        start = time.monotonic()
        try:
            dialect = self.dialect
            text = dialect.describe_prefix + query.text if query.form == "describe" else query.text
            extra = self._limits(dialect, query.form, max_rows)
            # The socket waits a little past the limit, so that a store that stops the query itself
            # (Virtuoso, Oxigraph's --timeout-s) says so before fwgraph gives up on it.
            response = self._send(text, accept, self._method(text, extra), extra, self.timeout + 0.5)
        except QueryBadFormed as exc:  # fwgraph has parsed it: the store refuses a valid query
            raise StoreFailed(f"the SPARQL store refused a valid query: {_reason(exc)}") from None
        except (SPARQLWrapperException, OSError) as exc:
            if _timed_out(exc):
                raise TimeLimitExceeded(self.timeout) from None
            if _unreachable(exc):
                raise StoreUnavailable("the SPARQL store cannot be reached now; try again shortly") from None
            raise StoreFailed(f"the SPARQL store failed: {_reason(exc)}") from None
        if response.headers.get("X-SQL-State") == "S1TAT":  # Virtuoso: interrupted at the limit, answer partial
            response.close()
            raise TimeLimitExceeded(self.timeout)
        body = _Body(response, start + self.timeout + 0.5, self.timeout, rewrite_bnodes=dialect.name == "virtuoso",
                     max_bytes=max_bytes)
        return response, body

    def failure(self, exc: BaseException, body: _Body) -> Exception:
        """What a broken answer means: the store stopped the query at its limit, or it failed."""
        if isinstance(exc, TimeLimitExceeded) or _timed_out(exc) or _CANCELLED.search(body.tail):
            return TimeLimitExceeded(self.timeout)
        if isinstance(exc, AnswerTooLarge):
            return QueryError(f"{exc}: add a LIMIT, or select fewer or shorter values")
        return StoreFailed(f"the SPARQL store sent an answer that cannot be read: {exc}")


def _timed_out(exc: BaseException) -> bool:
    reason = getattr(exc, "reason", None)
    return isinstance(exc, (TimeoutError, socket.timeout)) or isinstance(reason, (TimeoutError, socket.timeout))


def _unreachable(exc: BaseException) -> bool:
    """A connection the store refused, reset or never answered at the network level (no HTTP answer)."""
    reason = getattr(exc, "reason", exc)
    return isinstance(reason, (ConnectionError, socket.gaierror)) or (
        isinstance(reason, OSError) and not isinstance(exc, urllib.error.HTTPError))


def _reason(exc: BaseException) -> str:
    """The store's own words for an error (SPARQLWrapper puts the response body after its own text)."""
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    text = str(exc)
    text = text.split("Response:\n", 1)[-1].strip()
    if text.startswith("b'") or text.startswith('b"'):
        text = text[2:-1].encode().decode("unicode_escape", errors="replace")
    return " ".join(text.split())[:500] or type(exc).__name__


class RemoteEngine(InProcessEngine):
    """Runs checked queries on a store with a StoreClient and reads the answers with Oxigraph.

    The query text has passed ``fwgraph.data.querycheck.prepare`` (no update, no SERVICE, no FROM), so the
    store only ever receives read-only queries. Results are capped like the embedded engine's; the
    time limit is the store's where it takes one (Dialect), and fwgraph's own in any case.
    """

    timeout: float

    def __init__(self, url: str, *, timeout: float | None = None, version: str = "", post: str = "auto",
                 dialect: str = "auto", base_iri: str | None = None, agent: str = "fwgraph") -> None:
        """``timeout``: the time limit (default: the active settings' QUERY_TIMEOUT)."""
        self.client = StoreClient(url, timeout=timeout, post=post, dialect=dialect, agent=agent)
        self.url = url
        self.timeout = self.client.limit
        self.version = version
        self.base_iri = base_iri or None  # relative IRIs in a query resolve against it (the endpoint's IRI)
        # The parse workers start now, with the server, not on the first query (whose time limit they would use).
        self._parser: WorkerPool | None = self._parse_workers()
        #: bytes read from the store for one answer at most (past it: a 400 asking for a LIMIT); the answer
        #: sent is cut to the service's byte cap after that, as the embedded engine's
        self.max_bytes: int | None = None
        self._parser_lock = threading.Lock()

    def _parse_workers(self) -> WorkerPool:
        return WorkerPool("", timeout=self.timeout, base_iri=self.base_iri or "")  # as many as QUERY_WORKERS

    def check(self, query: PreparedQuery) -> QueryError | None:
        """The parser's error for the query, or None: decided by pyoxigraph in a killable, network-less worker
        (it plans, and for ASK evaluates, what it parses: never in the web process, and never unbounded)."""
        return self._parse(query)[0]

    def _parse(self, query: PreparedQuery) -> tuple[QueryError | None, list[str] | None]:
        """The parser's error, or for a SELECT query the variables the embedded engine answers."""
        with self._parser_lock:
            if self._parser is None:  # closed, then asked again
                self._parser = self._parse_workers()
        return self._parser.parse(query.text)

    def close(self) -> None:
        with self._parser_lock:
            if self._parser is not None:
                self._parser.close()
                self._parser = None

    def query(self, query: PreparedQuery, *, max_rows: int, bindings: Bindings | None = None) -> QueryResult:
        error, variables = self._parse(bound(query, bindings))  # parsed here first, so errors carry line and column
        if error is not None:
            raise error
        # What the store must be sent to answer as the embedded engine does (fwgraph.data.querycheck.for_store),
        # with the prefixes fwgraph declares for every query written out (the store knows none of them).
        sent = for_store(declared(query.text, PREFIXES), base_iri=self.base_iri, variables=variables, cap=max_rows)
        # the bindings as terms written by pyoxigraph: in place of a DESCRIBE's variables (Virtuoso 7 takes no
        # VALUES after a DESCRIBE), else as a trailing VALUES clause after the rewrite's LIMIT
        writes = substituted if query.form == "describe" else bound
        response, body = self.client.request(writes(PreparedQuery(sent.text, query.form), bindings),
                                             _GRAPH_ACCEPT if query.is_graph else _SELECT_ACCEPT, max_rows,
                                             self.max_bytes)
        try:
            result = result_from_bytes(query.form, cast(IO[bytes], body), max_rows=max_rows)
        except (SyntaxError, OSError, TimeLimitExceeded, AnswerTooLarge) as exc:
            raise self.client.failure(exc, body) from None
        finally:
            response.close()  # before the end of a capped answer: the store stops sending (and, streaming, working)
        if query.form == "select" and result.form != "select":  # e.g. a redirect's or a proxy's other answer
            raise StoreFailed(f"the SPARQL store answered a {query.form.upper()} query with another form of result")
        if query.form == "ask" and result.boolean is None:  # Virtuoso 7 answers ASK as a one-column table
            return QueryResult(form="ask", boolean=any(row[0] is not None and row[0].value not in ("0", "false")
                                                       for row in result.rows))
        store_cap = response.headers.get("X-SPARQL-MaxRows", "")
        if store_cap.isdigit() and len(result.rows) >= int(store_cap):  # the store cut the answer at its own cap
            result.truncated = True
        if query.form == "select" and variables is not None:  # the embedded engine's columns, in its order
            return result.projected(variables, sent.distinct)
        return result
