"""A query engine that sends queries to an external SPARQL 1.1 endpoint (Oxigraph, Fuseki, QLever, Virtuoso)."""

from __future__ import annotations

import socket

import pyoxigraph as ox
from SPARQLWrapper import POST, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import QueryBadFormed, SPARQLWrapperException

from fwgraph import formats
from fwgraph.engine import InProcessEngine, parser_error
from fwgraph.errors import QueryError, TimeLimitExceeded, WorkerFailed
from fwgraph.results import QueryResult, result_from_bytes
from fwgraph.sparql import PreparedQuery

_SELECT_ACCEPT = formats.SPARQL_JSON.media_type
_GRAPH_ACCEPT = formats.NTRIPLES.media_type
_EMPTY = ox.Store()  # parsing a query on an empty store is instant and gives exact positions


class RemoteEngine(InProcessEngine):
    """Runs checked queries on a remote endpoint with SPARQLWrapper and reads the answers with Oxigraph.

    The query text has passed ``fwgraph.sparql.prepare`` (no update, no SERVICE, no FROM), so the
    remote store only ever receives read-only queries. Results are capped like the embedded engine's.
    """

    timeout: float

    def __init__(self, url: str, *, timeout: float = 10.0, version: str = "", allow_any: bool = False) -> None:
        self.url = url
        self.timeout = timeout
        self.version = version
        self.allow_any = allow_any

    def _request(self, text: str, accept: str) -> bytes:
        client = SPARQLWrapper(self.url, agent="fwgraph")
        client.setMethod(POST)
        client.setRequestMethod("postdirectly")
        client.setTimeout(max(1, int(self.timeout)))
        client.setQuery(text)
        client.addCustomHttpHeader("Accept", accept)
        client.setOnlyConneg(True)
        try:
            response = client.query().response
            return response.read()
        except QueryBadFormed as exc:
            raise QueryError(f"the store rejected the query: {exc}") from None
        except TimeoutError as exc:
            raise TimeLimitExceeded(self.timeout) from exc
        except (SPARQLWrapperException, OSError) as exc:
            if isinstance(getattr(exc, "reason", None), (TimeoutError, socket.timeout)):
                raise TimeLimitExceeded(self.timeout) from exc
            raise WorkerFailed(f"the SPARQL store at {self.url} failed: {exc}") from None

    def query(self, query: PreparedQuery, *, max_rows: int) -> QueryResult:
        try:  # parse locally first, so errors carry line and column whatever the store reports
            _EMPTY.query(query.text)
        except SyntaxError as exc:
            raise parser_error(exc) from None
        body = self._request(query.text, _GRAPH_ACCEPT if query.is_graph else _SELECT_ACCEPT)
        return result_from_bytes(query.form, body, max_rows=max_rows)
