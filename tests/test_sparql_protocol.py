"""The SPARQL 1.1 Protocol at /sparql, over real HTTP against `fwgraph serve` subprocesses.

Covers: GET / POST form / POST sparql-query, the protocol's status codes, content negotiation,
refusals (update, SERVICE, FROM, dataset parameters) with a listener that must see no connection,
limits (body, query length, rows, time), CORS, the service description, ETag/304.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid

import pytest
import requests
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, RDFS, VOID

from tests.server import MODES, mode_options, server
from tests.stores import RUNAWAY

FLASK = "https://w3id.org/fwgraph/framework/flask"
LABEL = f"SELECT ?label WHERE {{ <{FLASK}> <http://www.w3.org/2000/01/rdf-schema#label> ?label }}"
CONSTRUCT = (f"CONSTRUCT {{ <{FLASK}> <http://www.w3.org/2000/01/rdf-schema#label> ?l }} "
             f"WHERE {{ <{FLASK}> <http://www.w3.org/2000/01/rdf-schema#label> ?l }}")
SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
FORMATS = "http://www.w3.org/ns/formats/"
SELECT_JSON = "application/sparql-results+json"


@pytest.fixture(scope="module", params=MODES)
def mode(request) -> str:
    """Every test runs against the embedded engine (memory, disk) and in front of Oxigraph's server and Virtuoso."""
    return request.param


@pytest.fixture(scope="module")
def url(mode) -> str:
    return server(*mode_options(mode)).sparql


@pytest.fixture(scope="module")
def limited(mode) -> str:
    """A second server with a 2 s time limit and a 5-row cap."""
    return server("--timeout", "2", "--max-rows", "5", *mode_options(mode)).sparql


def labels(response: requests.Response) -> list[str]:
    return [b["label"]["value"] for b in response.json()["results"]["bindings"]]


def assert_cors(response: requests.Response) -> None:
    assert response.headers.get("Access-Control-Allow-Origin") == "*", response.headers
    assert "X-Fwgraph-Truncated" in response.headers.get("Access-Control-Expose-Headers", "")


class Listener:
    """A TCP listener on loopback that counts the connections it receives."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        if self._stop:  # closed already (the test closes it before counting; the fixture again after)
            return
        time.sleep(0.5)  # give a (wrong) outgoing connection time to arrive
        self._stop = True
        self.thread.join()
        self.sock.close()


@pytest.fixture
def listener():
    lst = Listener()
    yield lst
    lst.close()


# ---------------------------------------------------------------------------------------------- the three ways to query

def test_get_post_form_and_post_query_agree(url):
    by_get = requests.get(url, params={"query": LABEL})
    by_form = requests.post(url, data={"query": LABEL})
    by_body = requests.post(url, data=LABEL.encode(), headers={"Content-Type": "application/sparql-query"})
    for response in (by_get, by_form, by_body):
        assert response.status_code == 200, response.text
        assert response.headers["Content-Type"].startswith(SELECT_JSON)
        assert labels(response) == ["Flask"]
        assert "Accept" in response.headers["Vary"]


def test_sparql_query_body_with_charset_parameter(url):
    text = 'SELECT ?x WHERE { BIND("Kärnten ✓" AS ?x) }'
    ok = requests.post(url, data=text.encode("utf-8"),
                       headers={"Content-Type": "application/sparql-query; charset=UTF-8"})
    assert ok.status_code == 200
    assert ok.json()["results"]["bindings"][0]["x"]["value"] == "Kärnten ✓"
    # SPARQL query strings are UTF-8 (issue 8 item 11): a body declared in another charset is refused.
    latin = requests.post(url, data=text.replace(" ✓", "").encode("latin-1"),
                          headers={"Content-Type": "application/sparql-query; charset=ISO-8859-1"})
    assert latin.status_code == 415 and "UTF-8" in latin.json()["message"]
    bad = requests.post(url, data=b"SELECT ?x WHERE { BIND(\"\xff\" AS ?x) }",
                        headers={"Content-Type": "application/sparql-query"})
    assert bad.status_code == 400


def test_two_query_parameters_are_400(url):
    r = requests.get(url, params=[("query", LABEL), ("query", "ASK {}")])
    assert r.status_code == 400 and "exactly one" in r.json()["message"]
    r = requests.post(url, data=[("query", LABEL), ("query", "ASK {}")])
    assert r.status_code == 400
    assert_cors(r)


def test_query_in_url_and_body_is_400(url):
    r = requests.post(url, params={"query": LABEL}, data={"query": LABEL})
    assert r.status_code == 400 and "both" in r.json()["message"]
    r = requests.post(url, params={"query": LABEL}, data=LABEL.encode(),
                      headers={"Content-Type": "application/sparql-query"})
    assert r.status_code == 400 and "both" in r.json()["message"]


def test_post_without_query_is_400(url):
    r = requests.post(url, data={"format": "json"})
    assert r.status_code == 400 and "query" in r.json()["message"]


def test_malformed_query_is_400_with_line_and_column(url):
    r = requests.get(url, params={"query": "SELECT *\nWHERE { ?s ?p }"})
    assert r.status_code == 400
    body = r.json()
    assert body["line"] == 2 and isinstance(body["column"], int) and body["column"] > 1
    assert "line 2, column" in body["message"] and "syntax error" in body["message"]
    assert_cors(r)
    plain = requests.get(url, params={"query": "SELECT *\nWHERE { ?s ?p }"}, headers={"Accept": "text/plain"})
    assert plain.status_code == 400 and plain.text.startswith("line 2, column")


@pytest.mark.parametrize("content_type", ["text/plain", "application/json", "multipart/form-data; boundary=x", None])
def test_unsupported_request_media_type_is_415(url, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    r = requests.post(url, data=LABEL.encode(), headers=headers)
    assert r.status_code == 415, r.text
    assert "application/sparql-query" in r.json()["message"]
    assert_cors(r)


# ---------------------------------------------------------------------------------------------- refusals

@pytest.mark.parametrize("request_kwargs", [
    {"method": "GET", "params": {"query": "INSERT DATA { <urn:a> <urn:b> <urn:c> }"}},
    {"method": "POST", "data": {"query": "DELETE WHERE { ?s ?p ?o }"}},
    {"method": "POST", "data": {"update": "INSERT DATA { <urn:a> <urn:b> <urn:c> }"}},
    {"method": "GET", "params": {"update": "DROP ALL"}},
    {"method": "POST", "data": b"CLEAR ALL", "headers": {"Content-Type": "application/sparql-update"}},
    {"method": "POST", "data": b"LOAD <http://127.0.0.1:9/x>", "headers": {"Content-Type": "application/sparql-query"}},
])
def test_update_is_403(url, request_kwargs):
    kwargs = dict(request_kwargs)
    r = requests.request(kwargs.pop("method"), url, **kwargs)
    assert r.status_code == 403, r.text
    assert "read-only" in r.json()["message"]
    assert_cors(r)
    # and nothing was changed
    assert labels(requests.get(url, params={"query": LABEL})) == ["Flask"]


@pytest.mark.parametrize("template", [
    "SELECT * WHERE {{ SERVICE <http://127.0.0.1:{port}/sparql> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ ?s ?p ?o OPTIONAL {{ SERVICE SILENT <http://127.0.0.1:{port}/sparql> {{ ?s ?q ?r }} }} }}",
    "SELECT * WHERE {{ \\u0053ERVICE <http://127.0.0.1:{port}/sparql> {{ ?s ?p ?o }} }}",
    "SELECT * FROM <http://127.0.0.1:{port}/graph.ttl> WHERE {{ ?s ?p ?o }}",
    "SELECT * FROM NAMED <http://127.0.0.1:{port}/graph.ttl> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
    "ASK FROM <file:///etc/passwd> {{ ?s ?p ?o }}",
])
def test_service_and_from_are_refused_without_any_connection(url, listener, template):
    query = template.format(port=listener.port)
    for r in (requests.get(url, params={"query": query}),
              requests.post(url, data=query.encode(), headers={"Content-Type": "application/sparql-query"})):
        assert r.status_code == 400, r.text
        message = r.json()["message"]
        assert "SERVICE" in message or "FROM" in message
        assert "line 1, column" in message
        assert_cors(r)
    listener.close()
    assert listener.connections == 0


@pytest.mark.parametrize("param", ["default-graph-uri", "named-graph-uri"])
def test_dataset_parameters_are_400_without_any_connection(url, listener, param):
    remote = f"http://127.0.0.1:{listener.port}/graph.ttl"
    r = requests.get(url, params={"query": LABEL, param: remote})
    assert r.status_code == 400 and "one default graph" in r.json()["message"]
    r = requests.post(url, data={"query": LABEL, param: remote})
    assert r.status_code == 400 and "default-graph-uri" in r.json()["message"]
    listener.close()
    assert listener.connections == 0


# ---------------------------------------------------------------------------------------------- content negotiation

@pytest.mark.parametrize(("accept", "expected"), [
    (None, SELECT_JSON),
    ("*/*", SELECT_JSON),
    ("application/sparql-results+xml", "application/sparql-results+xml"),
    ("text/csv;q=0.5, application/sparql-results+xml;q=0.9", "application/sparql-results+xml"),
    ("application/sparql-results+json;q=0.1, text/csv", "text/csv"),
    ("application/sparql-results+json; charset=utf-8", SELECT_JSON),
    ("application/json", SELECT_JSON),
    ("text/tab-separated-values", "text/tab-separated-values"),
    ("image/png, */*;q=0.1", SELECT_JSON),
    ("text/*", "text/csv"),
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "text/html"),
    ("application/sparql-results+json,text/turtle", SELECT_JSON),
    ("text/turtle, application/sparql-results+xml;q=0.2", "application/sparql-results+xml"),
])
def test_select_conneg(url, accept, expected):
    headers = {"Accept": accept} if accept is not None else {"Accept": ""}
    r = requests.get(url, params={"query": LABEL}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].split(";")[0] == expected
    assert "Flask" in r.text
    if expected == SELECT_JSON:
        assert labels(r) == ["Flask"]
    if expected == "text/csv":
        assert r.text.split("\r\n")[:2] == ["label", "Flask"]
    if expected == "text/tab-separated-values":
        assert r.text.splitlines() == ["?label", '"Flask"']


@pytest.mark.parametrize(("accept", "expected", "rdflib_format"), [
    (None, "text/turtle", "turtle"),
    ("*/*", "text/turtle", "turtle"),
    ("application/json", "application/ld+json", "json-ld"),
    ("application/ld+json;q=0.5, application/n-triples", "application/n-triples", "nt"),
    ("application/rdf+xml", "application/rdf+xml", "xml"),
    ("text/turtle; charset=utf-8", "text/turtle", "turtle"),
    ("text/html,application/xhtml+xml,*/*;q=0.8", "text/turtle", "turtle"),
])
def test_construct_conneg(url, accept, expected, rdflib_format):
    r = requests.get(url, params={"query": CONSTRUCT}, headers={"Accept": accept or ""})
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].split(";")[0] == expected
    graph = Graph().parse(data=r.content, format=rdflib_format)
    assert set(graph) == {(URIRef(FLASK), RDFS.label, Literal("Flask"))}


@pytest.mark.parametrize(("query", "fmt", "expected"), [
    (LABEL, "csv", "text/csv"),
    (LABEL, "tsv", "text/tab-separated-values"),
    (LABEL, "xml", "application/sparql-results+xml"),
    (LABEL, "html", "text/html"),
    (LABEL, "application/sparql-results+xml", "application/sparql-results+xml"),
    (CONSTRUCT, "json", "application/ld+json"),
    (CONSTRUCT, "nt", "application/n-triples"),
    (CONSTRUCT, "rdfxml", "application/rdf+xml"),
    (CONSTRUCT, "text/turtle", "text/turtle"),
])
def test_format_parameter_overrides_accept(url, query, fmt, expected):
    r = requests.get(url, params={"query": query, "format": fmt}, headers={"Accept": SELECT_JSON})
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].split(";")[0] == expected
    r = requests.post(url, data={"query": query, "format": fmt})
    assert r.headers["Content-Type"].split(";")[0] == expected


@pytest.mark.parametrize(("query", "headers", "params"), [
    (LABEL, {"Accept": "image/png"}, {}),
    (LABEL, {"Accept": "text/turtle"}, {}),
    (CONSTRUCT, {"Accept": SELECT_JSON}, {}),
    (CONSTRUCT, {"Accept": "text/html"}, {}),
    (LABEL, {}, {"format": "pdf"}),
    (LABEL, {"Accept": "application/sparql-results+json;q=0"}, {}),
])
def test_nothing_acceptable_is_406(url, query, headers, params):
    r = requests.get(url, params={"query": query, **params}, headers=headers)
    assert r.status_code == 406, r.text
    assert_cors(r)


def test_html_results_escape_everything(url):
    evil = '<script>alert("x")</script>'
    query = f"SELECT ?x WHERE {{ BIND('{evil}' AS ?x) }}"
    r = requests.get(url, params={"query": query}, headers={"Accept": "text/html"})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    assert "<script>" not in r.text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in r.text
    assert "<table>" in r.text


# ---------------------------------------------------------------------------------------------- limits

def test_oversized_bodies_are_413(url):
    big = "SELECT * WHERE { ?s ?p ?o } #" + "x" * (2 * 1024 * 1024)
    r = requests.post(url, data=big.encode(), headers={"Content-Type": "application/sparql-query"})
    assert r.status_code == 413 and "limit of 1048576 bytes" in r.json()["message"]
    assert_cors(r)
    r = requests.post(url, data={"query": big})
    assert r.status_code == 413
    assert_cors(r)

    def chunks():  # no Content-Length: chunked transfer encoding
        for _ in range(40):
            yield b"#" + b"y" * 65535

    r = requests.post(url, data=chunks(), headers={"Content-Type": "application/sparql-query"})
    assert "Content-Length" not in r.request.headers
    assert r.status_code == 413, r.text
    assert_cors(r)


def test_query_text_longer_than_the_limit_is_refused(url):
    long_query = "SELECT * WHERE { ?s ?p ?o } #" + "z" * 70_000  # > 64 KiB, < body limit
    r = requests.post(url, data=long_query.encode(), headers={"Content-Type": "application/sparql-query"})
    assert r.status_code == 413 and "65536 bytes" in r.json()["message"]


def test_truncation_is_signalled(limited):
    query = "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"
    r = requests.get(limited, params={"query": query})
    assert r.status_code == 200
    assert r.headers["X-Fwgraph-Truncated"] == "true" and r.headers["X-SPARQL-MaxRows"] == "5"
    body = r.json()
    assert len(body["results"]["bindings"]) == 5 and body["head"]["link"]
    r = requests.get(limited, params={"query": query}, headers={"Accept": "application/sparql-results+xml"})
    assert r.headers["X-Fwgraph-Truncated"] == "true" and "<link href=" in r.text
    r = requests.get(limited, params={"query": query, "format": "csv"})
    assert r.headers["X-Fwgraph-Truncated"] == "true" and len(r.text.strip().split("\r\n")) == 6
    r = requests.get(limited, params={"query": query}, headers={"Accept": "text/html"})
    assert 'id="truncated"' in r.text and r.text.count("<tr>") == 6
    # 200 triples, far over the 5-triple cap: the whole graph (125,000 triples) through a store is not what this
    # checks, and behind Virtuoso it ran past the limited server's 2 s time limit on a loaded machine
    r = requests.get(limited, params={"query": "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } LIMIT 200"})
    assert r.headers["X-Fwgraph-Truncated"] == "true"
    assert len(Graph().parse(data=r.content, format="turtle")) == 5
    r = requests.get(limited, params={"query": LABEL})  # a small result is not flagged
    assert "X-Fwgraph-Truncated" not in r.headers and "link" not in r.json()["head"]


def test_slow_query_is_stopped_while_others_are_served(limited):
    outcome: dict[str, object] = {}

    def slow() -> None:
        start = time.monotonic()
        r = requests.get(limited, params={"query": RUNAWAY, "nonce": uuid.uuid4().hex})
        outcome["elapsed"] = time.monotonic() - start
        outcome["response"] = r

    thread = threading.Thread(target=slow)
    thread.start()
    time.sleep(0.4)
    # Another client, another (uncached) query: answered while the slow one runs.
    fast = requests.get(limited, params={"query": f'SELECT ?x WHERE {{ BIND("{uuid.uuid4()}" AS ?x) }}'})
    assert fast.status_code == 200
    # answered while the slow one still ran: it did not wait for it (no wall-clock bound: CI machines vary)
    assert "response" not in outcome
    thread.join(timeout=10)
    r = outcome["response"]
    assert isinstance(r, requests.Response)
    assert r.status_code == 503, r.text
    assert "time limit of 2 s" in r.json()["message"]
    assert r.headers.get("Retry-After")
    assert_cors(r)
    assert 2.0 <= float(outcome["elapsed"]) <= 2.0 + 1.5  # type: ignore[arg-type]
    # The stopped worker was replaced: the pool serves queries again, repeatedly.
    for i in range(4):
        r = requests.get(limited, params={"query": f"ASK {{ FILTER({i} = {i}) }}"})
        assert r.status_code == 200 and r.json()["boolean"] is True


# ---------------------------------------------------------------------------------------------- CORS and caching

def test_options_preflight(url):
    r = requests.options(url, headers={"Origin": "https://example.org", "Access-Control-Request-Method": "POST",
                                       "Access-Control-Request-Headers": "Content-Type"})
    assert r.status_code in (200, 204)
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in r.headers["Access-Control-Allow-Methods"]
    assert "content-type" in r.headers["Access-Control-Allow-Headers"].lower()


def test_cors_on_method_not_allowed(url):
    r = requests.put(url, data=b"x")
    assert r.status_code == 405
    assert_cors(r)


def test_etag_and_304_on_repeated_get(url):
    params = {"query": f"SELECT ?x WHERE {{ BIND('{uuid.uuid4()}' AS ?x) }}"}
    first = requests.get(url, params=params)
    second = requests.get(url, params=params)
    assert first.status_code == second.status_code == 200
    etag = first.headers["ETag"]
    assert etag.startswith('"') and etag == second.headers["ETag"]
    assert first.content == second.content
    assert first.headers["Cache-Control"] == "public, max-age=300"
    r = requests.get(url, params=params, headers={"If-None-Match": etag})
    assert r.status_code == 304 and r.content == b""
    assert r.headers["ETag"] == etag
    assert_cors(r)
    other = requests.get(url, params={**params, "format": "csv"})
    assert other.headers["ETag"] != etag
    assert requests.get(url, params=params, headers={"If-None-Match": '"other"'}).status_code == 200
    # a conditional request for a result never computed yet is answered from the ETag alone
    fresh = {"query": f"SELECT ?x WHERE {{ BIND('{uuid.uuid4()}' AS ?x) }}"}
    tag = requests.get(url, params=fresh).headers["ETag"]
    assert requests.get(url, params=fresh, headers={"If-None-Match": f'"x", {tag}'}).status_code == 304


# ---------------------------------------------------------------------------------------------- service description

def test_service_description(url):
    r = requests.get(url, headers={"Accept": "text/turtle"})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/turtle")
    assert_cors(r)
    g = Graph().parse(data=r.text, format="turtle")
    service = next(g.subjects(RDF.type, SD.Service))
    assert (service, SD.endpoint, URIRef(url)) in g
    assert (service, SD.supportedLanguage, SD.SPARQL11Query) in g
    formats = {str(o) for o in g.objects(service, SD.resultFormat)}
    assert formats == {FORMATS + name for name in ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV",
                                                  "SPARQL_Results_TSV", "Turtle", "JSON-LD", "N-Triples",
                                                  "RDF_XML")}
    assert SD.BasicFederatedQuery not in set(g.objects(service, SD.feature))
    assert (None, None, SD.BasicFederatedQuery) not in g
    limits = {p.split("#")[-1]: o.toPython() for p, o in g.predicate_objects(service) if str(p).endswith(
        ("#queryTimeout", "#maxRows", "#maxQueryBytes", "#maxRequestBytes"))}
    assert float(limits["queryTimeout"]) == 10.0 and limits["maxRows"] == 10_000
    for prop in g.predicates(service):
        if str(prop).endswith("#maxRows"):
            assert (prop, RDFS.comment, None) in g  # the limit properties are described
    dataset = g.value(service, SD.defaultDataset)
    graph = g.value(dataset, SD.defaultGraph)
    triples = int(g.value(graph, VOID.triples))
    count = requests.get(url, params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"}).json()
    assert triples == int(count["results"]["bindings"][0]["n"]["value"])


@pytest.mark.parametrize(("accept", "rdflib_format"), [
    ("application/ld+json", "json-ld"), ("application/n-triples", "nt"), ("application/rdf+xml", "xml"),
    (None, "turtle"),
])
def test_service_description_formats(url, accept, rdflib_format):
    r = requests.get(url, headers={"Accept": accept or "*/*"})
    assert r.status_code == 200
    g = Graph().parse(data=r.content, format=rdflib_format)
    assert len(set(g.subjects(RDF.type, SD.Service))) == 1
    assert len(set(g.objects(None, SD.resultFormat))) == 8


def test_service_description_sends_browsers_to_the_editor(url):
    r = requests.get(url, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}, allow_redirects=False)
    assert r.status_code == 303 and r.headers["Location"].endswith("/")


# ---------------------------------------------------------------------------------------------- the worker pool itself

def test_pool_workers_are_isolated_and_replaced():
    from fwgraph.core.errors import TimeLimitExceeded
    from fwgraph.data.querycheck import prepare
    from fwgraph.store.pool import PooledEngine
    from tests.server import dist

    engine = PooledEngine.start(dist() / "fwgraph.nt", workers=1, timeout=1.0)
    try:
        status = engine.pool.worker_status()
        assert status["isolation"]["audit"] is True
        first_pid = status["pid"]
        start = time.monotonic()
        with pytest.raises(TimeLimitExceeded):
            engine.execute(prepare(SLOW), max_rows=10, fmt="json")
        assert time.monotonic() - start < 2.0
        assert engine.pool.worker_status()["pid"] != first_pid  # killed and replaced
        result = engine.query(prepare(LABEL), max_rows=10)
        assert [row[0].value for row in result.rows] == ["Flask"]
        graph = engine.query(prepare(CONSTRUCT), max_rows=10)
        assert len(graph.triples) == 1 and graph.triples[0].object.value == "Flask"
    finally:
        engine.close()


def test_json_error_bodies_are_json(url):
    r = requests.get(url, params={"query": "SELEC"})
    assert r.status_code == 400
    assert json.loads(r.text)["status"] == 400


def test_pool_workers_retire_after_growing():
    """A worker whose memory grew past the allowance answers, then is replaced by a fresh fork."""
    from fwgraph.core.settings import Settings
    from fwgraph.data.querycheck import prepare
    from fwgraph.store.pool import PooledEngine
    from tests.server import dist

    every_query_retires = Settings(worker_retire_bytes=-1)  # handed to the zygote
    engine = PooledEngine.start(dist() / "fwgraph.nt", workers=1, timeout=5.0, settings=every_query_retires)
    try:
        pids = set()
        for n in range(1, 4):
            pids.add(engine.pool.worker_status()["pid"])
            answer = engine.execute(prepare(LABEL + f" LIMIT {n}"), max_rows=10, fmt="json")
            assert answer.status == 200 and b'"Flask"' in answer.body
        assert engine.pool.stats["retired"] == 3
        assert len(pids) == 3
    finally:
        engine.close()


def test_a_freed_worker_goes_to_the_request_that_waited_longest():
    """Requests waiting for a query worker are served in order of arrival, and a request that arrives just as a
    worker is freed does not take it from one that was waiting (with a plain queue it did, and under load some
    requests waited far longer than others: the p99 tail)."""
    import queue
    import threading

    from fwgraph.store.pool import _IdleWorkers

    idle = _IdleWorkers()
    got: list[tuple[int, object]] = []

    def wait(i: int) -> None:
        got.append((i, idle.get(timeout=10)))

    threads = []
    for i in range(4):
        threads.append(threading.Thread(target=wait, args=(i,)))
        threads[-1].start()
        deadline = time.monotonic() + 5
        while len(idle._waiters) < i + 1 and time.monotonic() < deadline:  # wait until it is queued
            time.sleep(0.001)
    workers = [object() for _ in range(4)]
    for worker in workers:
        idle.put(worker)
        with pytest.raises(queue.Empty):  # a newcomer finds nothing: the worker went to a waiting request
            idle.get(timeout=0)
    for thread in threads:
        thread.join(5)
    assert sorted(got, key=lambda pair: workers.index(pair[1])) == [(i, workers[i]) for i in range(4)]
    idle.put(workers[0])
    assert idle.get(timeout=0) is workers[0] and idle.empty()


# Queries the worker answers with Oxigraph's own serialiser, bounded to one row over the cap, against the general
# path (Python rows, cut at the cap) as the reference: the same rows, the same truncation flag.
_NATIVE_PREFIX = ("PREFIX fw: <https://w3id.org/fwgraph/ns#>\n"
                  "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n")
_FRAMEWORKS = "SELECT ?f ?l WHERE { ?f a fw:WebFramework ; rdfs:label ?l } ORDER BY ?l"
NATIVE_QUERIES = {
    "no-limit": _FRAMEWORKS,
    "offset-only": _FRAMEWORKS + " OFFSET 3",
    "limit-over-cap": _FRAMEWORKS + " LIMIT 100000",
    "limit-offset-over-cap": _FRAMEWORKS + " LIMIT 100000 OFFSET 2",
    "offset-limit-over-cap": _FRAMEWORKS + " OFFSET 2 LIMIT 100000",
    "limit-under-cap": _FRAMEWORKS + " LIMIT 4",
    "limit-in-a-comment": _FRAMEWORKS + " # LIMIT 3",
    "limit-in-a-subquery": "SELECT ?l WHERE { { SELECT ?l WHERE { ?f a fw:WebFramework ; rdfs:label ?l } "
                           "ORDER BY ?l LIMIT 100000 } } ORDER BY ?l",
    "trailing-values": "SELECT ?f ?l WHERE { ?f rdfs:label ?l } ORDER BY ?l "
                       "VALUES ?l { 'Flask' 'Django' 'Bottle' 'Pyramid' }",
    "inline-values": "SELECT ?f ?l WHERE { VALUES ?l { 'Flask' 'Django' 'Bottle' 'Pyramid' } ?f rdfs:label ?l } "
                     "ORDER BY ?l",
    "group-by": "SELECT ?i (COUNT(?f) AS ?n) WHERE { ?f fw:interface ?i } GROUP BY ?i ORDER BY DESC(?n) ?i",
    "no-rows": "SELECT ?f WHERE { ?f a fw:NoSuchClass }",
}


@pytest.fixture(scope="module")
def engines():
    from fwgraph.store.engine import OxigraphEngine
    from fwgraph.store.pool import PooledEngine
    from tests.server import dist

    pooled = PooledEngine.start(dist() / "fwgraph.nt", workers=1, timeout=10.0)
    yield pooled, OxigraphEngine.from_file(dist() / "fwgraph.nt")
    pooled.close()


@pytest.mark.parametrize("cap", [3, 1000])
@pytest.mark.parametrize("fmt", ["json", "xml", "tsv", "csv"])
@pytest.mark.parametrize("name", list(NATIVE_QUERIES))
def test_the_workers_native_answers_match_the_general_path(engines, name, fmt, cap):
    import io

    import pyoxigraph as ox

    from fwgraph.core import formats
    from fwgraph.data.querycheck import prepare

    pooled, reference = engines
    query = prepare(_NATIVE_PREFIX + NATIVE_QUERIES[name])
    expected = reference.query(query, max_rows=cap)
    answer = pooled.execute(query, max_rows=cap, fmt=fmt)
    assert answer.status == 200 and answer.truncated == expected.truncated, (answer.truncated, expected.truncated)
    if fmt == "csv":  # not read back by pyoxigraph: a header line, then one line per row
        assert answer.body.count(b"\r\n") == 1 + len(expected.rows)
        return
    parsed = ox.parse_query_results(io.BytesIO(answer.body), format=formats.by_name(fmt).ox_results())
    rows = [tuple(solution[v] for v in parsed.variables) for solution in parsed]
    assert [v.value for v in parsed.variables] == expected.variables
    assert rows == [tuple(row) for row in expected.rows]
    assert len(rows) <= cap



def test_a_limit_past_any_count_gets_the_engines_own_answer(engines):
    """A LIMIT of 5,000 digits is not rewritten by the worker (converting it raised ValueError, answered as a
    failed evaluation): the query goes the general way and gets the same answer as in-process."""
    from fwgraph.core.errors import QueryError
    from fwgraph.data.querycheck import prepare

    pooled, reference = engines
    query = prepare(_NATIVE_PREFIX + _FRAMEWORKS + " LIMIT " + "9" * 5000)
    answer = pooled.execute(query, max_rows=1000, fmt="json")
    try:
        expected = reference.query(query, max_rows=1000)
    except QueryError as exc:
        assert answer.status == 400 and answer.message == exc.message, answer
    else:
        assert answer.status == 200 and answer.truncated == expected.truncated
    assert "ValueError" not in (answer.message or "")


def test_the_projects_prefixes_need_no_declaration(url):
    """Issue 22: as Wikidata's service does, fwgraph declares its prefixes (fw:, framework:, rdfs:, …) for every
    query, behind every engine (a store behind --store is sent the declarations); a query's own PREFIX wins."""
    implicit = "SELECT ?label WHERE { framework:flask rdfs:label ?label }"
    r = requests.get(url, params={"query": implicit}, headers={"Accept": SELECT_JSON})
    assert r.status_code == 200, r.text
    assert labels(r) == ["Flask"]
    own = "PREFIX rdfs: <http://example.org/other#>\nASK { framework:flask rdfs:label ?l }"
    r = requests.get(url, params={"query": own}, headers={"Accept": SELECT_JSON})
    assert r.status_code == 200 and r.json()["boolean"] is False


@pytest.mark.parametrize(("query", "words"), [
    ("SELECT *\nWHERE { ?s a nope:Thing }", "the prefix 'nope:' is not declared"),
    ("SELECT ?x\nWHERE { ?s ?p ?o FILTER(?s = ) }", "expected"),
    ("SELECT *\nWHERE { ?s ?p ?o } LIMIT x", "unexpected 'x'"),
], ids=["undeclared-prefix", "missing-operand", "bad-limit"])
def test_a_syntax_error_is_told_in_words(url, query, words):
    """Issue 22: the parser's grammar dump (character classes such as ['\\u{00C0}'..='\\u{00D6}'], dozens of
    function names, wider than the page) is turned into a short sentence, still at its line and column."""
    r = requests.get(url, params={"query": query})
    assert r.status_code == 400
    body = r.json()
    assert body["line"] == 2 and words in body["message"], body
    assert "['" not in body["message"] and "..=" not in body["message"] and len(body["message"]) < 240, body


# ---------------------------------------------------------------------------------------------- the same answers

# Queries whose answers behind a store differed from the embedded engine's (issue 26): each is sent to this mode's
# server and to the embedded engine's, and the two answers compared (rows as a multiset; the queries name no blank
# node in their answers, whose labels differ between stores).
_FRAMEWORK_IRIS = "SELECT ?f WHERE { ?f a fw:WebFramework }"
PARITY = {
    "limit-past-the-cap": _FRAMEWORK_IRIS + " LIMIT 1000000000000",
    "sorted-limit-past-the-cap": _FRAMEWORK_IRIS + " ORDER BY ?f LIMIT 1000000000000",
    "longest-limit-in-a-subquery": "SELECT (COUNT(*) AS ?n) WHERE { { " + _FRAMEWORK_IRIS
                                   + " LIMIT 9223372036854775807 } }",
    "huge-offset": _FRAMEWORK_IRIS + " OFFSET 1000000000000",
    "offset-without-limit": _FRAMEWORK_IRIS + " ORDER BY ?f OFFSET 60",
    "offset-in-a-subquery": "SELECT (COUNT(*) AS ?n) WHERE { { " + _FRAMEWORK_IRIS + " OFFSET 3 } }",
    "select-star-of-nothing": "SELECT * {}",
    "select-star-without-variables": 'SELECT * WHERE { framework:flask rdfs:label "Flask" }',
    "blank-node-in-a-pattern": "SELECT ?l WHERE { _:f a fw:WebFramework ; rdfs:label ?l }",
    "blank-node-under-select-star": "SELECT * WHERE { _:f a fw:WebFramework ; rdfs:label ?l }",
    "blank-node-under-select-distinct-star": "SELECT DISTINCT * WHERE { _:f a fw:WebFramework }",
    "blank-node-starting-a-property-path": "SELECT (COUNT(*) AS ?n) WHERE { _:c rdfs:subClassOf+ "
                                           "<http://www.w3.org/2004/02/skos/core#Concept> }",
    "blank-node-ending-a-property-path": "SELECT (COUNT(*) AS ?n) WHERE { fw:WebFramework rdfs:subClassOf* _:c }",
    "anonymous-blank-node": "SELECT (COUNT(*) AS ?n) WHERE { ?f a fw:WebFramework ; fw:interface [] }",
    "relative-iris-in-construct": "CONSTRUCT { <framework/flask> <label> ?l } "
                                  "WHERE { <framework/flask> rdfs:label ?l }",
    "relative-iri-in-ask": "ASK { <framework/flask> ?p ?o }",
    "a-36-kb-query": "# " + "padding " * 4500 + "\nSELECT ?l WHERE { framework:flask rdfs:label ?l }",
}


def _answer(endpoint: str, query: str) -> tuple[int, object]:
    """The answer to ``query`` POSTed to ``endpoint``: status, and the rows as a sorted list, the boolean, or the
    triples as a sorted list."""
    graph = query.lstrip().upper().startswith("CONSTRUCT")
    r = requests.post(endpoint, data={"query": query}, timeout=60,
                      headers={"Accept": "application/n-triples" if graph else SELECT_JSON})
    if r.status_code != 200:
        return r.status_code, r.text
    if graph:
        return 200, sorted(line for line in r.text.splitlines() if line.strip())
    body = r.json()
    if "boolean" in body:
        return 200, body["boolean"]
    return 200, (body["head"]["vars"], sorted(json.dumps(b, sort_keys=True) for b in body["results"]["bindings"]))


@pytest.mark.parametrize("query", list(PARITY.values()), ids=list(PARITY))
def test_every_engine_gives_the_embedded_engines_answer(url, query):
    """Issue 26: behind --store, fwgraph rewrites what a store would answer otherwise or refuse
    (fwgraph.data.querycheck.for_store): a LIMIT or OFFSET past 32 bits or the row cap, an OFFSET alone
    (Virtuoso: "TOP parameter < 0"), relative IRIs (resolved against the endpoint's IRI), blank nodes in patterns
    (fresh variables, not projected), and reads a SELECT answer back on the embedded engine's variables
    (Virtuoso's `_star_fake` for `SELECT * {}`)."""
    expected = _answer(server().sparql, query)
    assert expected[0] == 200, expected
    assert _answer(url, query) == expected


def test_a_query_longer_than_virtuosos_code_vector_is_its_failure(url, mode):
    """A 36 KB query with a VALUES block of 3,000 strings: every engine answers it but Virtuoso, whose SQL compiler
    refuses a query compiled past 32,767 bytes of code ("SQ199: Maximum size (32767) of a code vector exceeded",
    from about 2,600 values; a query as long made of other parts passes: PARITY's "a-36-kb-query"): 502 with its
    message (README, differences between stores)."""
    query = ("# " + "padding " * 1200 + "\nSELECT (COUNT(*) AS ?n) WHERE { VALUES ?x { "
             + " ".join(f'"v{i:05d}"' for i in range(3000)) + " } }")
    assert len(query.encode()) > 36_000
    status, answer = _answer(url, query)
    if mode == "virtuoso":
        assert status == 502 and "code vector" in str(answer), (status, answer)
    else:
        assert (status, answer) == (200, (["n"], [json.dumps({"n": {"datatype": "http://www.w3.org/2001/XMLSchema#"
                                                                   "integer", "type": "literal", "value": "3000"}},
                                                            sort_keys=True)]))
