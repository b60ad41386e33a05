"""`fwgraph serve --store` and `fwgraph query --endpoint` in front of real stores: Oxigraph's server and Virtuoso 7.

What the shared suites (protocol, SPARQLWrapper, Linked Data) cannot show: how the store client talks to
each store (probed once, logged), the dataset named in the store URL, the whole dump reachable, the limits
passed down so that a runaway query stops in the store itself, replicas that answer alike, the README's
loading commands, and the per-store differences the README lists.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
import urllib.parse
import uuid

import pytest
import requests

from fwgraph.core.settings import Settings
from fwgraph.data.querycheck import prepare
from fwgraph.store.remote import StoreClient
from tests.server import ROOT, dist, free_port, mode_options, server
from tests.stores import (
    GRAPH,
    OXIGRAPH_LOAD,
    OXIGRAPH_SERVE,
    OXIGRAPH_TIMEOUT_S,
    RUNAWAY,
    STORES,
    VIRTUOSO_LOAD,
    VIRTUOSO_URL,
)

COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
IN_GRAPHS = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
README = (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module", params=sorted(STORES))
def store(request):
    return STORES[request.param]()


def dump_triples() -> int:
    return sum(1 for line in (dist() / "fwgraph.nt").read_text(encoding="utf-8").splitlines() if line.strip())


def count(url: str, query: str = COUNT, **params: str) -> int:
    r = requests.get(url, params={"query": query, **params}, headers={"Accept": "application/sparql-results+json"},
                     timeout=30)
    assert r.status_code == 200, r.text
    return int(r.json()["results"]["bindings"][0]["n"]["value"])


# ---------------------------------------------------------------------------------------------- the client


def test_the_store_is_probed_once_at_start_and_logged(store):
    srv = server("--store", store.url)
    log = srv.log.read_text()
    assert log.count("fwgraph: store ") == 1, log  # the parent probes; the web processes inherit the answer
    line = next(line for line in log.splitlines() if line.startswith("fwgraph: store "))
    assert f"dialect {store.name}" in line
    if store.name == "virtuoso":  # Virtuoso 7.2 never answers a direct POST: long queries go URL-encoded
        assert "by URL-encoded POST (no answer to a direct POST)" in line and "timeout= and maxrows=" in line
        assert f"default-graph-uri={GRAPH}" in line
    else:
        assert "by direct POST" in line and "--timeout-s" in line


def test_short_queries_go_by_get_long_ones_by_post(store):
    client = StoreClient(store.url, timeout=10)
    short = prepare(COUNT)
    long = prepare(COUNT + " # " + "x" * Settings().store_get_url_bytes)
    assert client._method(short.text, []) == "GET"
    assert client._method(long.text, []) == ("urlencoded" if store.name == "virtuoso" else "postdirectly")
    # through fwgraph, both reach the same dataset
    url = server(*mode_options(store.name)).sparql
    assert count(url, long.text) == count(url, short.text) == dump_triples()


def test_a_count_of_all_triples_through_fwgraph_equals_the_dump(store):
    assert count(server("--store", store.url).sparql) == dump_triples()


def test_the_dataset_named_in_the_store_url_applies_to_every_request(store):
    """Virtuoso holds its own graphs beside the dump: the URL's default-graph-uri keeps them out, by GET and
    by POST. Oxigraph's server holds the dump in its default graph; naming an empty graph empties it."""
    plain = store.url.split("?", 1)[0]
    if store.name == "virtuoso":
        assert count(plain) > dump_triples()  # without the parameter, Virtuoso answers over every graph
        url = store.url
        expected = dump_triples()
    else:
        assert count(plain) == dump_triples()
        url = plain + "?default-graph-uri=" + urllib.parse.quote("urn:x-fwgraph:empty", safe="")
        expected = 0
    from fwgraph.store.remote import RemoteEngine

    engine = RemoteEngine(url, timeout=10)
    for text in (COUNT, COUNT + " # " + "y" * Settings().store_get_url_bytes):  # GET, then POST
        assert int(engine.query(prepare(text), max_rows=10).rows[0][0].value) == expected


def test_graph_patterns_per_store(store):
    """README, per-store differences: Virtuoso serves the dump as the named graph its URL names as well."""
    url = server("--store", store.url).sparql
    assert count(url, IN_GRAPHS) == (dump_triples() if store.name == "virtuoso" else 0)
    if store.name == "virtuoso":  # default-graph-uri alone would expose every graph of the store
        only_default = store.url.split("&named-graph-uri=", 1)[0]
        assert count(only_default, IN_GRAPHS) > dump_triples()


@pytest.mark.parametrize("mode", ["embedded", "oxigraph", "virtuoso"])
def test_blank_node_labels_per_store(mode):
    """README, per-store differences: the dump's labels embedded, each store's own behind --store."""
    query = ("SELECT ?r WHERE { <https://w3id.org/fwgraph/framework/flask> "
             "<https://w3id.org/fwgraph/ns#latestRelease> ?r }")
    r = requests.get(server(*mode_options(mode)).sparql, params={"query": query}, timeout=30)
    value = r.json()["results"]["bindings"][0]["r"]
    assert value["type"] == "bnode"
    pattern = {"embedded": r"c14n\d+", "oxigraph": r"[0-9a-f]{16,32}", "virtuoso": r"b\d+"}[mode]
    assert re.fullmatch(pattern, value["value"]), value


def test_cli_query_endpoint_uses_the_same_client(store):
    long = COUNT + " # " + "z" * Settings().store_get_url_bytes
    run = subprocess.run([sys.executable, "-m", "fwgraph", "query", long,
                          "--endpoint", store.url, "--format", "csv"], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == ["n", str(dump_triples())]
    ask = subprocess.run([sys.executable, "-m", "fwgraph", "query", "ASK { ?s ?p ?o }", "--endpoint", store.url,
                          "--format", "json"], capture_output=True, text=True, timeout=60)
    assert ask.returncode == 0 and '"boolean":true' in ask.stdout.replace(" ", ""), ask.stdout + ask.stderr


@pytest.mark.parametrize(("url", "message"), [
    ("http://127.0.0.1:{port}/sparql", "cannot query the store at"),
    ("http://127.0.0.1:{port}/sparql?query=ASK%7B%7D", "may not carry query"),
    ("ftp://127.0.0.1:{port}/sparql", "must be an http(s) URL"),
], ids=["unreachable", "query-in-url", "not-http"])
def test_a_store_that_cannot_be_used_stops_serve_with_exit_2(url, message):
    run = subprocess.run([sys.executable, "-m", "fwgraph", "serve", "--port", str(free_port()), "--dist", str(dist()),
                          "--store", url.format(port=free_port())], capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and message in run.stderr, run.stderr


# ---------------------------------------------------------------------------------------------- limits


def test_a_runaway_query_is_stopped_in_the_store_too(store):
    """fwgraph answers 503 at its time limit, and the store's own CPU record shows that it stopped working on
    the query soon after (Virtuoso checks its limit now and then: up to about 2 s late, measured), where it
    would otherwise run on (Virtuoso: for the ini's MaxQueryExecutionTime, 60 s here)."""
    limit = OXIGRAPH_TIMEOUT_S
    limited = server("--timeout", str(limit), "--max-rows", "5", "--store", store.url).sparql
    time.sleep(0.5)
    before = store.cpu_seconds()
    start = time.monotonic()
    r = requests.get(limited, params={"query": RUNAWAY + f" # {uuid.uuid4()}"}, timeout=30)
    assert r.status_code == 503, r.text
    assert f"time limit of {limit} s" in r.json()["message"]
    assert time.monotonic() - start < limit + 1.5
    idle_after = None
    while time.monotonic() - start < limit + 6:
        window = store.cpu_seconds()
        time.sleep(1.0)
        if store.cpu_seconds() - window < 0.15:  # a second in which the store did (next to) nothing
            idle_after = time.monotonic() - 1.0 - start
            break
    worked = store.cpu_seconds() - before
    assert worked > 0.4, f"the store used {worked:.2f} s of CPU: it did not evaluate the query"
    assert idle_after is not None, f"the store was still busy {limit + 6} s after the query began"
    assert idle_after < limit + 3.5


def test_the_row_cap_is_passed_to_virtuoso():
    """Virtuoso takes the cap (maxrows) and says so in its own header; fwgraph still flags the truncation."""
    client = StoreClient(STORES["virtuoso"]().url, timeout=10)
    response, _body = client.request(prepare("SELECT * WHERE { ?s ?p ?o }"), "application/sparql-results+json", 5)
    try:
        assert response.headers["X-SPARQL-MaxRows"] == "6"
        assert response.headers["X-SPARQL-default-graph"] == GRAPH  # and the dataset named in the URL
    finally:
        response.close()


def test_a_valid_query_the_store_cannot_run(store):
    """README, per-store differences: Virtuoso refuses some valid shapes; fwgraph passes its words on as an
    upstream failure (502: the client did nothing wrong)."""
    query = "SELECT ?s WHERE { ?s (<urn:x-a>|^<urn:x-b>)* ?o } LIMIT 1"
    r = requests.get(server("--store", store.url).sparql, params={"query": query}, timeout=30)
    if store.name == "virtuoso":
        assert r.status_code == 502 and "transitive start not given" in r.json()["message"], r.text
    else:
        assert r.status_code == 200, r.text


def test_virtuoso_blank_nodes_are_read_across_any_read_boundary():
    """Virtuoso's JSON names blank nodes "nodeID://b123"; the client rewrites them while streaming, so a label
    cut by a read boundary is still rewritten (the store's real answer, read three bytes at a time)."""
    import io

    import pyoxigraph as ox

    from fwgraph.store.remote import _Body

    query = "SELECT ?f ?r WHERE { ?f <https://w3id.org/fwgraph/ns#latestRelease> ?r } ORDER BY ?f"
    url = STORES["virtuoso"]().url + "&" + urllib.parse.urlencode({"query": query})
    raw = requests.get(url, headers={"Accept": "application/sparql-results+json"}, timeout=30).content
    assert raw.count(b'"nodeID://') > 10

    class Trickle(io.BytesIO):
        def read(self, size: int = -1) -> bytes:
            return super().read(3)

    rows = list(ox.parse_query_results(_Body(Trickle(raw), time.monotonic() + 60, 60, rewrite_bnodes=True),
                                       format=ox.QueryResultsFormat.JSON))
    assert len(rows) == raw.count(b'"nodeID://')
    assert all(isinstance(row[1], ox.BlankNode) and re.fullmatch(r"b\d+", row[1].value) for row in rows)


# ---------------------------------------------------------------------------------------------- replicas

REPLICA_QUERIES = [
    "SELECT ?f ?label WHERE { ?f a <https://w3id.org/fwgraph/ns#WebFramework> ; "
    "<http://www.w3.org/2000/01/rdf-schema#label> ?label } ORDER BY ?f",
    "SELECT ?f ?release WHERE { ?f <https://w3id.org/fwgraph/ns#latestRelease> ?release } ORDER BY ?f",  # bnodes
    "CONSTRUCT { ?f ?p ?o } WHERE { ?f a <https://w3id.org/fwgraph/ns#WebFramework> ; ?p ?o . FILTER isIRI(?o) }",
    "ASK { ?s ?p ?o }",
]
REPLICA_PAGES = [("framework/flask", "text/html"), ("framework/flask", "text/turtle"), ("", "text/html"),
                 ("interface/asgi", "application/ld+json")]


def test_two_replicas_in_front_of_one_store_answer_alike(store):
    """Two fwgraph processes on different ports, one store: the same bytes, ETags and pages from both, so a
    load balancer may send any request (a conditional one included) to either."""
    # Different string-hash seeds: nothing may depend on the order a process happens to iterate in.
    a = server("--store", store.url, env={"PYTHONHASHSEED": "1"})
    b = server("--store", store.url, env={"PYTHONHASHSEED": "2"})
    assert a.url != b.url
    for query in REPLICA_QUERIES:
        answers = [requests.get(s.sparql, params={"query": query}, timeout=30) for s in (a, b)]
        assert [r.status_code for r in answers] == [200, 200], answers[1].text
        assert answers[0].content == answers[1].content, query
        assert answers[0].headers["ETag"] == answers[1].headers["ETag"]
        again = requests.get(b.sparql, params={"query": query}, headers={"If-None-Match": answers[0].headers["ETag"]},
                             timeout=30)
        assert again.status_code == 304
    for path, accept in REPLICA_PAGES:
        pages = [requests.get(s.url + path, headers={"Accept": accept, "Host": "fwgraph.test"}, timeout=30)
                 for s in (a, b)]  # behind a load balancer both see the same Host
        assert [p.status_code for p in pages] == [200, 200]
        assert pages[0].content == pages[1].content, path
        assert pages[0].headers["ETag"] == pages[1].headers["ETag"]


# ---------------------------------------------------------------------------------------------- the README


def test_the_readme_gives_the_tested_commands():
    assert OXIGRAPH_LOAD.format(db="db", dist="dist") in README
    assert OXIGRAPH_SERVE.format(db="db", port=7878, timeout=10) in README
    assert f'isql-vt 1111 dba dba exec="{VIRTUOSO_LOAD.format(dist="$PWD/dist")}"' in README
    assert f"fwgraph serve --dist dist --store '{VIRTUOSO_URL.format(port=8890)}'" in README
    assert re.search(r"apt-get install -y [^&]*\bvirtuoso-opensource\b", README)  # the test command installs it
    assert "Fuseki" not in README and "QLever" not in README  # only the tested engines are named


def test_the_parse_before_a_store_is_bounded(store):
    """Issue 20: every query is parsed here before it goes to the store, and pyoxigraph plans what it parses
    (400 identical patterns: minutes): the parse runs in a killable worker, so three such queries end at the
    time limit and the cheap ones and /healthz are answered meanwhile (it ran in the web process, unbounded)."""
    from tests.test_safety import HEAVY, _heavy_then_cheap

    srv = server("--store", store.url, "--timeout", "2")
    statuses = _heavy_then_cheap(srv, HEAVY["select-400-identical-patterns"], {}, {})
    assert set(statuses[:3]) <= {503}, statuses
    assert set(statuses[3:]) <= {200, 503}, statuses
