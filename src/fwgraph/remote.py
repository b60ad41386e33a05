"""A query engine that sends queries to an external SPARQL 1.1 endpoint (Oxigraph, Fuseki, QLever, Virtuoso)."""

from __future__ import annotations

import io
import socket

import pyoxigraph as ox
from SPARQLWrapper import POST, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import QueryBadFormed, SPARQLWrapperException

from fwgraph.engine import QueryResult, _capped, _syntax_error
from fwgraph.errors import QueryError, TimeLimitExceeded, WorkerFailed
from fwgraph.sparql import PreparedQuery

_SELECT_ACCEPT = "application/sparql-results+json"
_GRAPH_ACCEPT = "application/n-triples"
_EMPTY = ox.Store()  # parsing a query on an empty store is instant and gives exact positions


class RemoteEngine:
    """Runs checked queries on a remote endpoint with SPARQLWrapper and reads the answers with Oxigraph.

    The query text has passed ``fwgraph.sparql.prepare`` (no update, no SERVICE, no FROM), so the
    remote store only ever receives read-only queries. Results are capped like the embedded engine's.
    """

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
            raise _syntax_error(exc) from None
        if query.is_graph:
            body = self._request(query.text, _GRAPH_ACCEPT)
            triples, truncated = _capped(
                (ox.Triple(q.subject, q.predicate, q.object)
                 for q in ox.parse(body, format=ox.RdfFormat.N_TRIPLES)), max_rows)
            return QueryResult(form=query.form, triples=triples, truncated=truncated)
        body = self._request(query.text, _SELECT_ACCEPT)
        parsed = ox.parse_query_results(io.BytesIO(body), format=ox.QueryResultsFormat.JSON)
        if isinstance(parsed, ox.QueryBoolean):
            return QueryResult(form="ask", boolean=bool(parsed))
        variables = [v.value for v in parsed.variables]
        rows, truncated = _capped((tuple(s[i] for i in range(len(variables))) for s in parsed), max_rows)
        return QueryResult(form="select", variables=variables, rows=rows, truncated=truncated)
