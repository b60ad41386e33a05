"""gzip and Brotli answers (issue 26) from a real `fwgraph serve`, read with a raw HTTP client (no decoding of its own)
and with curl --compressed: smaller, the same bytes once decoded, an ETag of their own, stable, conditional."""

from __future__ import annotations

import gzip
import http.client
import re
import subprocess
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import brotli
import pytest

from tests.server import server

BUNDLE = Path(__file__).resolve().parents[1] / "src" / "fwgraph" / "app" / "static" / "vendor" / "codemirror.js"
BIG_SELECT = "SELECT * WHERE { ?s ?p ?o } LIMIT 5000"
DECODE = {"gzip": gzip.decompress, "br": brotli.decompress}


def _get(url: str, headers: dict[str, str], method: str = "GET", body: bytes | None = None):
    """status, headers (lower-case names), body: as sent, with no decoding."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        conn.request(method, parts.path + (f"?{parts.query}" if parts.query else ""), body=body, headers=headers)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def root() -> str:
    return server().url


@pytest.fixture(scope="module")
def bundle_url(root) -> str:
    """The editor's CodeMirror bundle (367 KB) at its versioned address, as the editor page links it."""
    page = _get(root, {"Accept": "text/html"})[2].decode()
    return root + re.search(r'/(static/vendor/codemirror\.js\?v=[0-9a-f]+)', page).group(1)


@pytest.mark.parametrize("encoding", ["br", "gzip"])
def test_the_editor_bundle_is_sent_compressed(bundle_url, encoding):
    status, identity_headers, identity = _get(bundle_url, {})
    assert status == 200 and identity == BUNDLE.read_bytes() and len(identity) > 300_000
    status, headers, body = _get(bundle_url, {"Accept-Encoding": encoding})
    assert status == 200 and headers["content-encoding"] == encoding, headers
    assert DECODE[encoding](body) == identity
    assert len(body) < len(identity) // 2, len(body)  # measured: about 120 KB either way
    assert int(headers["content-length"]) == len(body)
    # a representation of its own: its own strong ETag, and caches told that the answer varies by encoding
    assert headers["etag"] == identity_headers["etag"][:-1] + f':{encoding}"', (headers["etag"],
                                                                                 identity_headers["etag"])
    assert "accept-encoding" in headers["vary"].lower() and "accept-encoding" in identity_headers["vary"].lower()
    assert headers["cache-control"] == identity_headers["cache-control"] and "immutable" in headers["cache-control"]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_big_sparql_answer_is_sent_compressed(root, method):
    """The query fast path (GET) and the Flask view (POST) alike: the middleware is outside both."""
    accept = {"Accept": "application/sparql-results+json"}
    if method == "GET":
        url, body_sent = root + "sparql?" + urlencode({"query": BIG_SELECT}), None
    else:
        url, body_sent = root + "sparql", urlencode({"query": BIG_SELECT}).encode()
        accept["Content-Type"] = "application/x-www-form-urlencoded"
    identity = _get(url, accept, method, body_sent)[2]
    status, headers, body = _get(url, {**accept, "Accept-Encoding": "gzip, br"}, method, body_sent)
    assert status == 200 and headers["content-encoding"] == "br", headers
    assert brotli.decompress(body) == identity and len(identity) > 500_000
    assert len(body) < len(identity) // 5, (len(body), len(identity))  # measured: 53 KB of 925 KB


def test_curl_compressed_gets_the_same_bytes(bundle_url):
    run = subprocess.run(["curl", "--silent", "--show-error", "--compressed", "--dump-header", "-", bundle_url],
                         capture_output=True, timeout=60, check=True)
    head, _, body = run.stdout.partition(b"\r\n\r\n")
    assert re.search(rb"(?im)^content-encoding: (br|gzip|deflate|zstd)\r?$", head), head
    assert body == BUNDLE.read_bytes()


def test_two_compressed_gets_give_the_same_bytes(bundle_url):
    """Python's gzip writes the current time into its header: two GETs a second apart gave different bytes under one
    strong ETag. The gzip header's MTIME is zero ("no time stamp", RFC 1952), so the bytes are the same."""
    first = _get(bundle_url, {"Accept-Encoding": "gzip"})
    assert first[2][4:8] == b"\0\0\0\0", first[2][:10]
    second = _get(bundle_url, {"Accept-Encoding": "gzip"})
    assert (second[1]["etag"], second[2]) == (first[1]["etag"], first[2])


def test_conditional_requests_name_either_representation(bundle_url):
    compressed = _get(bundle_url, {"Accept-Encoding": "gzip"})[1]["etag"]
    identity = _get(bundle_url, {})[1]["etag"]
    assert compressed != identity
    assert _get(bundle_url, {"Accept-Encoding": "gzip", "If-None-Match": compressed})[0] == 304
    assert _get(bundle_url, {"If-None-Match": identity})[0] == 304
    assert _get(bundle_url, {"If-None-Match": compressed})[0] == 200  # the client does not take gzip now


def test_a_range_request_counts_the_bytes_of_the_identity_representation(bundle_url):
    """Ranges of a compressed body would count bytes no client asked about: a request with Range is answered
    uncompressed (206 with the identity's bytes, or the whole identity answer where the route takes no ranges)."""
    status, headers, body = _get(bundle_url, {"Accept-Encoding": "gzip, br", "Range": "bytes=0-99"})
    assert "content-encoding" not in headers, headers
    identity = BUNDLE.read_bytes()
    assert (status, body) in ((206, identity[:100]), (200, identity)), (status, len(body))


def test_small_answers_and_clients_that_accept_nothing_get_identity(root):
    status, headers, body = _get(root + "healthz", {"Accept-Encoding": "gzip, br"})
    assert status == 200 and "content-encoding" not in headers and body == b"ok\n"  # under 500 bytes
    status, headers, _ = _get(root + "sparql?" + urlencode({"query": BIG_SELECT}),
                              {"Accept": "application/sparql-results+json"})
    assert status == 200 and "content-encoding" not in headers and "accept-encoding" in headers["vary"].lower()
