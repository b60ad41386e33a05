"""Large answers are delivered under per-client bounds (issue 20): a client that does not read holds at most
its delivery slots (further large answers to it are refused before anything is sent), other clients and
/healthz are served meanwhile, and a connection that stops reading is closed after the write timeout."""

from __future__ import annotations

import socket
import time

import pytest
import requests

from tests.server import server

DUMP = "/download/fwgraph.nt"  # the N-Triples dump: megabytes, more than the kernel buffers of one connection


@pytest.fixture(scope="module")
def limited():
    """One web process, clients told apart by X-Forwarded-For, one large answer at a time per client (two for all
    clients), and a write timeout of 3 s."""
    return server(env={"FWGRAPH_WORKERS": "1", "FWGRAPH_THREADS": "4", "FWGRAPH_BODIES_TOTAL": "2",
                       "FWGRAPH_RATE_LIMIT": "0",
                       "FWGRAPH_CLIENT_ADDRESS_HEADER": "X-Forwarded-For", "FWGRAPH_RATE_LIMIT_LOOPBACK": "1",
                       "FWGRAPH_BODIES_PER_CLIENT": "1", "FWGRAPH_WRITE_TIMEOUT": "3"})


def _port(srv) -> int:
    return int(srv.url.rstrip("/").rsplit(":", 1)[1])


def _ask_without_reading(srv, path: str, client: str) -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a small window: the server's sends stall soon
    sock.connect(("127.0.0.1", _port(srv)))
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: {client}\r\n\r\n".encode())
    return sock


def _status(srv, path: str, client: str) -> tuple[int, int]:
    r = requests.get(srv.url + path.lstrip("/"), headers={"X-Forwarded-For": client}, timeout=30)
    return r.status_code, len(r.content)


def test_a_client_that_does_not_read_holds_only_its_own_slot(limited):
    full = _status(limited, DUMP, "198.51.100.9")
    assert full[0] == 200 and full[1] > 8 * 1024 * 1024
    stuck = [_ask_without_reading(limited, DUMP, "203.0.113.7") for _ in range(3)]
    try:
        time.sleep(1.0)
        # the same client, another large answer: refused at once, nothing of it sent
        r = requests.get(limited.url + DUMP.lstrip("/"), headers={"X-Forwarded-For": "203.0.113.7"}, timeout=10)
        assert r.status_code == 503 and "large answers" in r.json()["message"], r.text[:200]
        assert r.headers["Retry-After"] == "1"
        # of its own three connections one is being sent the dump, the others were refused the same way (small
        # 503 answers, readable at once); which one won the slot is the server's order of arrival
        heads = []
        for sock in stuck:
            sock.settimeout(10)
            heads.append(sock.recv(20))
        assert sorted(h[:12] for h in heads) == [b"HTTP/1.1 200", b"HTTP/1.1 503", b"HTTP/1.1 503"], heads
        # everyone else: the whole dump, and /healthz
        assert _status(limited, DUMP, "198.51.100.10") == full
        start = time.monotonic()
        assert requests.get(limited.url + "healthz", timeout=5).status_code == 200
        assert time.monotonic() - start < 2
    finally:
        for sock in stuck:
            sock.close()


def test_a_connection_that_stops_reading_is_closed_and_its_slot_freed(limited):
    stuck = _ask_without_reading(limited, DUMP, "203.0.113.8")
    try:
        time.sleep(1.0)
        assert _status(limited, DUMP, "203.0.113.8")[0] == 503  # its one slot is taken by the stuck answer
        deadline = time.monotonic() + 30
        status = 503
        while status == 503 and time.monotonic() < deadline:  # the kernel closes it after the 3 s write timeout
            time.sleep(1.0)
            status = _status(limited, DUMP, "203.0.113.8")[0]
        assert status == 200
    finally:
        stuck.close()


def test_small_answers_are_not_counted(limited):
    """Answers up to 256 KiB go out whole without a slot: a client holding its one slot still gets them."""
    stuck = _ask_without_reading(limited, DUMP, "203.0.113.9")
    try:
        time.sleep(1.0)
        r = requests.get(limited.sparql, params={"query": "ASK { ?s ?p ?o }"},
                         headers={"X-Forwarded-For": "203.0.113.9", "Accept": "application/sparql-results+json"},
                         timeout=10)
        assert r.status_code == 200 and r.json()["boolean"] is True
    finally:
        stuck.close()
