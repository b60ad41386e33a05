"""Apache httpd with the shipped deploy/apache/fwgraph.conf in front of a real fwgraph server: the errors
Apache or Granian answer before fwgraph carry CORS headers (once), slow senders get 408 without holding any
of fwgraph's threads, and the client address reaches fwgraph's per-client limits."""

from __future__ import annotations

import socket
import time

import pytest
import requests

from tests.apache import Apache
from tests.server import ROOT, free_port, server

CONFIG = (ROOT / "deploy" / "apache" / "fwgraph.conf").read_text()
CORS = ("Access-Control-Allow-Origin", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers",
        "Access-Control-Expose-Headers", "Access-Control-Max-Age")


@pytest.fixture(scope="module")
def backend():
    """fwgraph as the README says to run it behind the proxy: client addresses from X-Forwarded-For."""
    return server(env={"FWGRAPH_WORKERS": "1", "FWGRAPH_THREADS": "4", "FWGRAPH_BODIES_TOTAL": "2",
                       "FWGRAPH_RATE_LIMIT": "0",
                       "FWGRAPH_CLIENT_ADDRESS_HEADER": "X-Forwarded-For", "FWGRAPH_RATE_LIMIT_LOOPBACK": "1"})


def _apache(backend) -> Apache:
    return Apache(free_port(), f"Define FWGRAPH_BACKEND {backend.url.rstrip('/')}\n{CONFIG}",
                  modules=("proxy", "proxy_http", "headers", "reqtimeout", "rewrite", "buffer"))


@pytest.fixture(scope="module")
def proxy(backend):
    apache = _apache(backend)
    apache.start("healthz")
    yield apache
    apache.stop()
LONG_GET = b"GET /sparql?query=ASK%%7B%%7D%%23%s HTTP/1.1\r\nHost: x\r\n\r\n"


def _raw(url: str, request: bytes, timeout: float = 30, source: str | None = None) -> bytes:
    """Send ``request`` as is (from the local address ``source``) and return the whole answer (status line,
    headers, body)."""
    host, port = url.split("//", 1)[1].rstrip("/").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout,
                                  source_address=(source, 0) if source else None) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def _cors_once(headers: str) -> None:
    lines = [line.split(":", 1)[0].strip().lower() for line in headers.splitlines()[1:] if ":" in line]
    for name in CORS:
        assert lines.count(name.lower()) == 1, (name, headers)


def test_answers_pass_through_with_cors_once(proxy):
    r = requests.get(proxy.url + "sparql", params={"query": "ASK { ?s ?p ?o }"},
                     headers={"Accept": "application/sparql-results+json"}, timeout=30)
    assert r.status_code == 200 and r.json()["boolean"] is True
    raw = _raw(proxy.url, b"GET /framework/flask HTTP/1.1\r\nHost: x\r\nAccept: text/turtle\r\n"
                          b"Connection: close\r\n\r\n")
    head = raw.split(b"\r\n\r\n", 1)[0].decode()
    assert head.startswith("HTTP/1.1 200") and "text/turtle" in head
    _cors_once(head)


@pytest.mark.parametrize("request_bytes,status", [
    pytest.param(LONG_GET % (b"x" * 100_000), 414, id="uri-100k"),
    pytest.param(LONG_GET % (b"x" * 65_500), 414, id="uri-64k"),
    pytest.param(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"y" * 9000 + b"\r\n\r\n", 400, id="header-field-9k"),
    pytest.param(b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-H%d: 1\r\n" % i for i in range(150))
                 + b"\r\n", 400, id="header-fields-150"),
    pytest.param(b"GET /healthz HTTP/1.1 junk\r\nHost: x\r\n\r\n", 400, id="malformed-request-line"),
    pytest.param(b"POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: text/turtle\r\nContent-Length: 2000000\r\n"
                 b"\r\n" + b"#" * 100_000, 413, id="body-over-1mib"),
])
def test_errors_before_fwgraph_carry_cors(proxy, request_bytes, status):
    """Without the proxy Granian answers these itself (400/414/431) and no CORS header comes with them."""
    raw = _raw(proxy.url, request_bytes)
    head = raw.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    assert head.startswith(f"HTTP/1.1 {status}"), head
    _cors_once(head)


def test_a_query_too_long_for_get_still_goes_by_post(proxy):
    query = "ASK { ?s ?p ?o } #" + "x" * 100_000
    r = requests.post(proxy.url + "sparql", data=query.encode(), timeout=30,
                      headers={"Content-Type": "application/sparql-query", "Accept": "application/sparql-results+json"})
    assert r.status_code == 413 and "bytes" in r.json()["message"]  # fwgraph's own answer, over MAX_QUERY_BYTES
    r = requests.post(proxy.url + "sparql", data=("ASK { ?s ?p ?o } #" + "x" * 60_000).encode(), timeout=30,
                      headers={"Content-Type": "application/sparql-query", "Accept": "application/sparql-results+json"})
    assert r.status_code == 200 and r.json()["boolean"] is True


def test_slow_senders_get_408_and_hold_no_fwgraph_thread(proxy, backend):
    """Twenty connections trickling bodies through the proxy: fwgraph (four threads) keeps answering POSTs,
    and Apache times every slow sender out."""
    socks = []
    for i in range(20):
        sock = socket.create_connection(("127.0.0.1", proxy.port), timeout=40)
        sock.sendall(f"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
                     f"Content-Length: 1000\r\n\r\nASK # {i}".encode())
        socks.append(sock)
    try:
        time.sleep(1.0)
        for i in range(6):  # more than fwgraph's threads: none is held by the trickling senders
            r = requests.post(proxy.url + "sparql", data=f"ASK {{ ?s ?p ?o }} # {i}".encode(), timeout=10,
                              headers={"Content-Type": "application/sparql-query"})
            assert r.status_code == 200, r.text[:200]
        start = time.monotonic()
        heads = [sock.recv(100) for sock in socks]
        assert all(head.startswith(b"HTTP/1.1 408") for head in heads), heads[:2]
        assert time.monotonic() - start < 30
    finally:
        for sock in socks:
            sock.close()


def _send_slowly(port: int, body: bytes, rate: int) -> bytes:
    """POST ``body`` to /sparql at about ``rate`` bytes a second; the answer's status line."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(f"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
                     f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode())
        step = rate // 10
        for start in range(0, len(body), step):
            sock.sendall(body[start:start + step])
            time.sleep(0.1)
        return sock.recv(100).split(b"\r\n", 1)[0]


def test_senders_above_the_minimum_rate_hold_no_fwgraph_body_slot(proxy):
    """Bodies over 16 KiB sent just above Apache's minimum rate: Apache keeps each until it is whole (proxy-sendcl)
    before fwgraph sees it, so they take none of fwgraph's body slots, and fast POSTs through the same proxy
    (one client to fwgraph, as every proxied request) keep being answered."""
    from concurrent.futures import ThreadPoolExecutor

    body = ("ASK { ?s ?p ?o }\n" + "#" * 40_000).encode()
    with ThreadPoolExecutor(8) as pool:
        slow = [pool.submit(_send_slowly, proxy.port, body, 16_000) for _ in range(8)]
        time.sleep(1.0)
        statuses = []
        for i in range(10):
            r = requests.post(proxy.url + "sparql", data=body + f"# {i}".encode(), timeout=20,
                              headers={"Content-Type": "application/sparql-query"})
            statuses.append(r.status_code)
            time.sleep(0.1)
        slow_statuses = [f.result() for f in slow]
    assert statuses == [200] * 10, statuses
    # the slow senders were not timed out; arriving together from one client (the proxy's address is the only
    # entry), they meet fwgraph's bodies-at-once bound per client, as any client does
    assert all(line.split()[1] in (b"200", b"503") for line in slow_statuses), slow_statuses
    assert slow_statuses.count(b"HTTP/1.1 200 OK") >= 1, slow_statuses


def test_the_client_address_reaches_fwgraph():
    """The proxy appends the peer to X-Forwarded-For and fwgraph takes the last entry: a client that names
    other addresses in the header itself is still one client to the rate limit, and a client of another network
    (another loopback address: Apache sees it as the peer) is another client, with its own allowance."""
    limited = server(env={"FWGRAPH_WORKERS": "1", "FWGRAPH_RATE_LIMIT": "6", "FWGRAPH_RATE_BURST": "3",
                          "FWGRAPH_CLIENT_ADDRESS_HEADER": "X-Forwarded-For", "FWGRAPH_RATE_LIMIT_LOOPBACK": "1"})
    apache = _apache(limited)
    apache.start("healthz")
    try:
        statuses = [requests.get(apache.url + "sparql", params={"query": f"ASK {{ }} # {i}"}, timeout=30,
                                 headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code for i in range(5)]
        other = _raw(apache.url, b"GET /sparql?query=ASK%7B%7D%23other HTTP/1.1\r\nHost: x\r\nConnection: close"
                                 b"\r\n\r\n", source="127.0.2.1")
    finally:
        apache.stop()
    # a burst of 3 (the server's own start-up probe may have taken one), then 429 whatever address is named
    assert statuses[0] == 200 and statuses[3:] == [429, 429] and statuses.count(200) <= 3, statuses
    assert other.startswith(b"HTTP/1.1 200"), other[:300]  # another network behind the proxy: its own allowance
