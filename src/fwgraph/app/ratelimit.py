"""Per-client limits: a request rate on the expensive routes (token bucket), queries at once, and request
bodies being received at once.

WSGI middleware, placed inside the front cache (a cached answer costs nothing and is never limited) and
in front of Flask. A client that has spent its burst gets 429 with ``Retry-After`` until its bucket refills.
Buckets are per web process and kept for at most ``max_clients`` addresses (least recently seen dropped
first), so memory stays bounded whatever the number of clients. Loopback clients are exempt unless
``limit_loopback`` is set. Behind a proxy, ``client_header`` (e.g. ``X-Forwarded-For``) names the header
whose last address is the client's — set it only when every request comes through that proxy. A client is
the network it connects from (:func:`client_address`): an IPv4 address, or an IPv6 /64 (what one subscriber
is given); only a peer connected over loopback itself can be exempt, never an address a header names.

A web process reads a request body on one of its few threads, and a client can send a body as slowly as it
likes, and Granian's WSGI interface has no body-read timeout. Two bounds keep the process answering:
``bodies`` per client (a slow sender holds at most that many threads, whatever its number of connections) and
``bodies_total`` for all clients together (loopback included), below the thread count, so that slow senders
from many addresses still leave threads for requests without a body (pages, GET queries, /healthz). Beyond
either bound the request is refused (503 with ``Retry-After`` and ``Connection: close``) before its body is read.
"""

from __future__ import annotations

import ipaddress
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from fwgraph import formats
from fwgraph.app.http import CORS_HEADERS

LIMITED_PATHS = ("/sparql", "/validate", "/contribute", "/reconcile")


#: The prefix one IPv6 client is counted by: a subscriber is given a /64 (or more) and picks any address in it.
IPV6_PREFIX = 64


def client_address(environ: dict[str, Any], header: str | None = None) -> str:
    """The client a request counts against, as a network: ``203.0.113.5/32``, ``2001:db8:1:2::/64``.

    The address is the last entry of ``header`` (a trusted proxy's, e.g. X-Forwarded-For) when the request has
    it, else the peer's. Only a loopback peer without that header is named by its bare address (``127.0.0.1``,
    ``::1``), the one form :func:`is_loopback` (and so an exemption) accepts: an address from the header is
    always a network, so no header can make a client exempt. A header entry that is no address counts as the
    peer's network.

    >>> client_address({"REMOTE_ADDR": "2001:db8:1:2:3:4:5:6"})
    '2001:db8:1:2::/64'
    >>> client_address({"REMOTE_ADDR": "198.51.100.1", "HTTP_X_FORWARDED_FOR": "127.0.0.1"}, "X-Forwarded-For")
    '127.0.0.1/32'
    """
    peer = str(environ.get("REMOTE_ADDR", ""))
    value = environ.get("HTTP_" + header.upper().replace("-", "_")) if header else None
    if value:
        return _network(value.split(",")[-1]) or _network(peer) or "unknown"
    if is_loopback(peer):
        return peer
    return _network(peer) or peer


def _network(text: str) -> str | None:
    """The network that counts as one client for an address (``[v6]:port`` and ``v4:port`` too), or None."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    prefix = IPV6_PREFIX if address.version == 6 else 32
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def limited_client(environ: dict[str, Any], header: str | None, limit_loopback: bool) -> str | None:
    """The client whose share a request counts against, or None when it has none (loopback, unless
    ``limit_loopback``)."""
    client = client_address(environ, header)
    return None if is_loopback(client) and not limit_loopback else client


def is_loopback(client: str) -> bool:
    """True for a loopback client: a bare loopback address, as :func:`client_address` names a loopback peer."""
    try:
        return ipaddress.ip_address(client).is_loopback
    except ValueError:
        return False


class ClientSlots:
    """At most ``per_client`` queries of one client evaluated at once, so one client's runaways cannot take
    every query worker: with N workers per process a client gets at most N-1 by default, and the rest stay
    free for others. A client past its share is refused at once (503), without taking a thread to wait.
    """

    def __init__(self, per_client: int, *, limit_loopback: bool = False) -> None:
        self.per_client = max(1, int(per_client))
        self.limit_loopback = limit_loopback
        self._running: dict[str, int] = {}
        self._lock = threading.Lock()

    @contextmanager
    def slot(self, client: str) -> Iterator[bool]:
        """Yield True with a slot taken for ``client``, or False when the client has all its slots in use."""
        if not self.limit_loopback and is_loopback(client):
            yield True
            return
        with self._lock:
            running = self._running.get(client, 0)
            if running >= self.per_client:
                allowed = False
            else:
                self._running[client] = running + 1
                allowed = True
        try:
            yield allowed
        finally:
            if allowed:
                with self._lock:
                    left = self._running[client] - 1
                    if left:
                        self._running[client] = left
                    else:
                        del self._running[client]  # the table holds running clients only: bounded by threads


class RateLimit:
    """Allow ``per_minute`` requests per client on LIMITED_PATHS, with bursts of up to ``burst``."""

    def __init__(self, app: Callable, *, per_minute: float, burst: int, limit_loopback: bool = False,
                 client_header: str | None = None, max_clients: int = 65536, bodies: int = 2,
                 bodies_total: int = 4) -> None:
        self.app = app
        self.bodies = ClientSlots(bodies, limit_loopback=limit_loopback)
        self.bodies_total = max(1, int(bodies_total))
        self._receiving = threading.BoundedSemaphore(self.bodies_total)
        self.rate = float(per_minute) / 60.0
        self.burst = max(1, int(burst))
        self.limit_loopback = limit_loopback
        self.client_header = client_header
        self.max_clients = max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def wait(self, client: str, now: float | None = None) -> float:
        """Take one token for ``client``: 0 when allowed, else the seconds until one is free."""
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.pop(client, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[client] = (tokens - 1.0, now)
                wait = 0.0
            else:
                self._buckets[client] = (tokens, now)
                wait = (1.0 - tokens) / self.rate if self.rate > 0 else 60.0
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
            return wait

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        if _has_body(environ):
            client = client_address(environ, self.client_header)
            with self.bodies.slot(client) as allowed:  # held while the app reads the body and answers
                if not allowed:
                    return _refuse(start_response, "503 Service Unavailable", 1,
                                   f"you are already sending {self.bodies.per_client} request bodies to this "
                                   "server; send the next one when one of them has been answered",
                                   close=True)
                if not self._receiving.acquire(blocking=False):
                    return _refuse(start_response, "503 Service Unavailable", 1,
                                   f"this server is receiving {self.bodies_total} request bodies already; "
                                   "retry shortly (queries can also be sent with GET)", close=True)
                try:
                    return self._limited(environ, start_response)
                finally:
                    self._receiving.release()
        return self._limited(environ, start_response)

    def _limited(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if self.rate <= 0 or not path.startswith(LIMITED_PATHS) or environ.get("REQUEST_METHOD") == "OPTIONS":
            return self.app(environ, start_response)
        client = client_address(environ, self.client_header)
        if not self.limit_loopback and is_loopback(client):
            return self.app(environ, start_response)
        wait = self.wait(client)
        if wait <= 0:
            return self.app(environ, start_response)
        retry = max(1, int(wait + 0.999))
        return _refuse(start_response, "429 Too Many Requests", retry,
                       f"rate limit: at most {self.rate * 60:g} requests a minute to {path} per client "
                       f"(bursts of {self.burst}); retry in {retry} s")


def _has_body(environ: dict[str, Any]) -> bool:
    length = environ.get("CONTENT_LENGTH") or ""
    return (length not in ("", "0")) or "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()


def _refuse(start_response: Callable, status: str, retry: int, message: str, *, close: bool = False) -> list[bytes]:
    """A JSON refusal with Retry-After (and ``Connection: close`` when the body was left unread)."""
    code = int(status.split()[0])
    body = json.dumps({"error": status.split(" ", 1)[1], "status": code, "message": message}).encode() + b"\n"
    headers = [("Content-Type", formats.JSON.content_type), ("Content-Length", str(len(body))),
               ("Retry-After", str(retry)), ("Cache-Control", "no-store"), *CORS_HEADERS.items()]
    if close:
        headers.append(("Connection", "close"))
    start_response(status, headers)
    return [body]
