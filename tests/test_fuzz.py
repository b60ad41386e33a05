"""Property-based fuzzing of the running server (issue 8): whatever a client sends, no 5xx, no hang, still alive.

Hypothesis builds queries from SPARQL fragments (nesting, operators, escapes, blanks, strings, comments),
arbitrary Accept and format values, and contributions from Turtle and JSON fragments; each is sent to a
real `fwgraph serve` subprocess on loopback. The example counts are fixed, so the run is bounded in time.
503 is allowed only with Retry-After (a deliberate limit), never a 500.
"""

from __future__ import annotations

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.server import server

FRAGMENTS = ["SELECT", "ASK", "CONSTRUCT", "DESCRIBE", "WHERE", "PREFIX p: <http://x/>", "BASE <x>", "{", "}", "(",
             ")", "[", "]", "?s", "?p", "?o", "UNION", "OPTIONAL", "FILTER", "BIND", "AS", "VALUES", "+", "-", "*",
             "/", "||", "&&", "!", "=", "<", ">", "1", "1e999", "\"str\"", "'''long'''", "\"\"\"x\"\"\"", "#c\n",
             "\\u007b", "\\U0000007d", " ", "\t", "\n", ".", ";", ",", "a", "<http://x/y>", "p:x", "_:b", "LIMIT",
             "OFFSET", "ORDER BY", "GROUP BY", "COUNT(*)", "SERVICE", "FROM", "INSERT", "REGEX(?s, \"(a+)+$\")",
             "%", "\x00", "\u202e", "é"]
OPEN_CLOSE = [("{", "}"), ("(", ")"), ("[", "]"), ("{SELECT * WHERE {", "}}")]
NESTED = st.builds(lambda n, pair, head: head + pair[0] * n + "?s" + pair[1] * n + "}",
                   st.integers(1, 2500), st.sampled_from(OPEN_CLOSE), st.sampled_from(["ASK {", "SELECT * {"]))
CHAINED = st.builds(lambda n, op: "ASK { FILTER(" + op.join(["1"] * n) + ") }", st.integers(2, 12000),
                    st.sampled_from(["+", "-", "*", "||", "&&", "="]))
BLANKS = st.builds(lambda n, blank, tail: blank * n + tail, st.integers(1, 60), st.sampled_from([" ", "\t", "\n"]),
                   st.sampled_from(["X", "PREFIX", "SELECT * {}", "#"]))
QUERIES = (st.lists(st.sampled_from(FRAGMENTS), max_size=60).map(" ".join) | st.text(max_size=300) | NESTED
           | CHAINED | BLANKS)
ACCEPTS = st.sampled_from(["", "*/*", "text/csv", "application/sparql-results+json;q=0", "text/*;q=0.5, x/y",
                           "application/ld+json; profile=\"x\"", ",,,;;;q=", "text/html"]) | st.text(max_size=80)
FORMATS = st.sampled_from(["", "json", "csv", "bogus", "turtle", "html", "xml"]) | st.text(max_size=20)
SETTINGS = settings(max_examples=150, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.fixture(scope="module")
def srv():
    return server()


def _header_safe(value: str) -> str:
    return "".join(c for c in value if 32 <= ord(c) < 127).strip()


def _check(response: requests.Response) -> None:
    assert response.status_code < 500 or (response.status_code == 503 and "Retry-After" in response.headers), (
        response.status_code, response.text[:300])


@SETTINGS
@given(query=QUERIES, accept=ACCEPTS, fmt=FORMATS, post=st.booleans())
def test_queries_never_get_a_server_error(srv, query, accept, fmt, post):
    headers = {"Accept": _header_safe(accept)}
    if post or len(query) > 4000:
        response = requests.post(srv.sparql, data={"query": query, "format": fmt}, headers=headers, timeout=30)
    else:
        response = requests.get(srv.sparql, params={"query": query, "format": fmt}, headers=headers, timeout=30)
    _check(response)


TURTLE = ["@prefix fw: <https://w3id.org/fwgraph/ns#> .", "<https://w3id.org/fwgraph/framework/f>", "a",
          "fw:WebFramework", ";", ".", ",", "[", "]", "(", ")", "\"x\"", "\"\"\"y\"\"\"", "'z'", "1", "true",
          "<http://www.w3.org/2000/01/rdf-schema#subClassOf>", "_:b", "#c\n", "\n", "@base <x> .", "<", ">",
          "\\u0041", "^^<http://www.w3.org/2001/XMLSchema#gYear>", "@en"]
JSON = ["{", "}", "[", "]", "\"@id\"", "\"@context\"", "\"http://x\"", ":", ",", "1" * 50, "null", "\"@type\"",
        "{\"@vocab\": \"http://x/\"}", "\"https://example.org/ctx\""]


@SETTINGS
@given(parts=st.lists(st.sampled_from(TURTLE), max_size=80) | st.lists(st.sampled_from(JSON), max_size=80),
       as_json=st.booleans())
def test_contributions_never_get_a_server_error(srv, parts, as_json):
    body = (" " if not as_json else "").join(parts).encode()
    media = "application/ld+json" if as_json else "text/turtle"
    response = requests.post(srv.url + "validate", data=body, headers={"Content-Type": media}, timeout=60)
    _check(response)


@SETTINGS
@given(path=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=0x2FF), max_size=40),
       accept=ACCEPTS)
def test_paths_never_get_a_server_error(srv, path, accept):
    url = srv.url + requests.utils.quote(path, safe="/%:@!$&'()*+,;=")
    response = requests.get(url, headers={"Accept": _header_safe(accept)}, timeout=30, allow_redirects=False)
    _check(response)


def test_the_server_survived_the_fuzzing(srv):
    assert srv.process.poll() is None
    assert requests.get(srv.url + "healthz", timeout=10).status_code == 200
