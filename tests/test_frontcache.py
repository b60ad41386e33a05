"""The response cache in front of Flask: what it keeps, what it never keeps, and how it answers."""

from __future__ import annotations

import requests

from fwgraph.app.frontcache import FrontCache
from tests.server import server


def _app(calls):
    def app(environ, start_response):
        calls.append(environ["PATH_INFO"])
        path = environ["PATH_INFO"]
        status = "404 Not Found" if path == "/missing" else "200 OK"
        control = "no-store" if path == "/private" else "public, max-age=60"
        body = f"{path} #{len(calls)}".encode()
        start_response(status, [("Content-Type", "text/plain"), ("Cache-Control", control),
                                ("ETag", f'"{path}"'), ("Content-Length", str(len(body)))])
        return [body]
    return app


def _get(cache, path, method="GET", **headers):
    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "", "wsgi.url_scheme": "http",
               **{"HTTP_" + k.upper(): v for k, v in headers.items()}}
    seen = {}

    def start_response(status, headers, exc_info=None):
        seen["status"], seen["headers"] = status, dict(headers)

    body = b"".join(cache(environ, start_response))
    return seen["status"], seen["headers"], body


def test_public_answers_are_served_from_the_cache():
    calls = []
    cache = FrontCache(_app(calls), entries=10)
    first = _get(cache, "/a")
    second = _get(cache, "/a")
    assert first == second and calls == ["/a"]
    assert _get(cache, "/a", method="HEAD")[2] == b""
    status, headers, body = _get(cache, "/a", if_none_match='"/a"')
    assert status.startswith("304") and body == b"" and headers["ETag"] == '"/a"'
    assert calls == ["/a"]


def test_a_query_answer_is_kept_once_by_the_services_answer_cache_not_here_too(dist):
    """/sparql's answers pass the front cache (kept once, behind it, by the Service: bench/query_caches.py);
    the app's pages are still kept here."""
    from fwgraph.app import create_app

    app = create_app({"dist_dir": str(dist), "query_workers": 0, "network_guard": False, "cache_entries": 16})
    layer = app.wsgi_app
    while not isinstance(layer, FrontCache):
        layer = getattr(layer, "inner", None) or layer.app
    client = app.test_client()
    query = "ASK { ?s ?p ?o } # kept once"
    for _ in range(2):
        assert client.get("/sparql", query_string={"query": query}).status_code == 200
        assert client.get("/robots.txt").status_code == 200
    assert [key[1] for key in layer._data] == ["/robots.txt"] and layer.hits == 1
    assert [key[1] for key in app.extensions["fwgraph"].answers._data] == [query]


def test_the_cache_compares_entity_tags_as_the_app_does_weakly():
    calls = []
    cache = FrontCache(_app(calls), entries=10)
    _get(cache, "/a")
    for held in ('W/"/a"', '"/b", W/"/a"', '"/b",W/"/a"', "*"):  # RFC 9110 13.1.2: If-None-Match compares weakly
        assert _get(cache, "/a", if_none_match=held)[0].startswith("304"), held
    for held in ('"/b"', 'W/"/b"'):
        assert _get(cache, "/a", if_none_match=held)[0].startswith("200"), held
    assert calls == ["/a"]


def test_a_conditional_request_for_an_answer_too_large_to_keep_gets_a_304():
    calls = []
    cache = FrontCache(_app(calls), entries=10, max_entry_bytes=2)  # every answer is too large to keep
    status, headers, body = _get(cache, "/a", if_none_match='"/a"')
    assert status.startswith("304") and body == b"" and headers["ETag"] == '"/a"' and "Content-Length" not in headers
    assert _get(cache, "/a", if_none_match='"/b"')[0].startswith("200") and calls == ["/a", "/a"]


def test_private_errors_and_posts_are_never_kept():
    calls = []
    cache = FrontCache(_app(calls), entries=10)
    for path, method in [("/private", "GET"), ("/missing", "GET"), ("/a", "POST")]:
        _get(cache, path, method=method)
        _get(cache, path, method=method)
    assert calls == ["/private", "/private", "/missing", "/missing", "/a", "/a"]


def test_accept_is_part_of_the_key_and_entries_are_bounded():
    calls = []
    cache = FrontCache(_app(calls), entries=2)
    _get(cache, "/a", accept="text/turtle")
    _get(cache, "/a", accept="application/ld+json")
    assert calls == ["/a", "/a"]
    _get(cache, "/b")  # evicts the oldest entry
    _get(cache, "/a", accept="text/turtle")
    assert calls == ["/a", "/a", "/b", "/a"]


def test_live_server_repeats_identical_answers_with_cors_and_304():
    url = server().sparql
    params = {"query": "SELECT ?s WHERE { ?s a <https://w3id.org/fwgraph/ns#WebFramework> } ORDER BY ?s LIMIT 2"}
    accept = {"Accept": "text/csv"}
    first = requests.get(url, params=params, headers=accept, timeout=30)
    second = requests.get(url, params=params, headers=accept, timeout=30)
    assert first.status_code == second.status_code == 200
    assert first.content == second.content and first.headers["ETag"] == second.headers["ETag"]
    assert second.headers["Access-Control-Allow-Origin"] == "*"
    assert second.headers["Content-Type"].startswith("text/csv")
    not_modified = requests.get(url, params=params, headers={**accept, "If-None-Match": first.headers["ETag"]},
                                timeout=30)
    assert not_modified.status_code == 304 and not_modified.headers["Access-Control-Allow-Origin"] == "*"
    other = requests.get(url, params=params, headers={"Accept": "application/sparql-results+json"}, timeout=30)
    assert other.headers["Content-Type"].startswith("application/sparql-results+json")


def test_a_conditional_miss_is_kept_and_answered_304():
    calls = []
    cache = FrontCache(_app(calls), entries=10)
    status, _, body = _get(cache, "/a", if_none_match='"/a"')
    assert status.startswith("304") and body == b""
    status, _, body = _get(cache, "/a")
    assert status.startswith("200") and body == b"/a #1" and calls == ["/a"]


def test_healthz_is_never_cached():
    url = server().url + "healthz"
    first = requests.get(url, timeout=30)
    assert first.status_code == 200 and first.text == "ok\n"
    assert first.headers["Cache-Control"] == "no-store"


def test_an_answer_too_large_to_keep_still_honours_if_none_match():
    calls = []
    cache = FrontCache(_app(calls), entries=10, max_entry_bytes=4)  # every answer here is larger: none is kept
    status, _, body = _get(cache, "/big")
    assert status.startswith("200") and body.startswith(b"/big")
    status, headers, body = _get(cache, "/big", if_none_match='"/big"')
    assert status.startswith("304") and body == b"" and headers["ETag"] == '"/big"'
    assert _get(cache, "/big", if_none_match='"other"')[0].startswith("200")
    assert calls == ["/big", "/big", "/big"]


def test_bounds_not_given_are_the_active_settings():
    """The cache's bounds default to the settings the process runs with (they were constants repeating the
    settings' defaults, which a changed setting left behind)."""
    from fwgraph.core import settings as config

    saved = config.active()
    config.activate(saved.replace({"cache_entries": 7, "cache_bytes": 1000, "cache_entry_bytes": 10}))
    try:
        cache = FrontCache(_app([]))
    finally:
        config.activate(saved)
    assert (cache.entries, cache.max_bytes, cache.max_entry_bytes) == (7, 500, 10)
