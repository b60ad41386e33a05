"""Per-client limits: a request rate on the expensive routes (token bucket), queries at once, and request
bodies being received at once.

WSGI middleware, placed inside the front cache (a cached answer costs nothing and is never limited) and
in front of Flask. A client that has spent its burst gets 429 with ``Retry-After`` until its bucket refills.
The buckets are shared by every web process of the server (:mod:`fwgraph.app.buckets`, a fixed-size table:
memory stays bounded whatever the number of clients), so the burst is the burst whichever process a request
reaches; the slots (queries, bodies, deliveries at once) guard each process's own threads and query workers
and are counted per process. Loopback clients are exempt unless
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
import os
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from fwgraph.app.buckets import Buckets
from fwgraph.app.http import CORS_HEADERS
from fwgraph.core import formats
from fwgraph.store.engine import asking

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


#: The networks that count as one group of clients (one organisation, one site): an IPv4 /24, an IPv6 /48.
GROUP_PREFIX = {4: 24, 6: 48}
#: How many clients' allowance one group has: spreading requests over the addresses of one network does not
#: multiply what they may send.
GROUP_SHARE = 2


def client_group(client: str) -> str:
    """The group ``client`` (as :func:`client_address` names it) belongs to, by network.

    >>> client_group("203.0.113.5/32"), client_group("2001:db8:1:2::/64")
    ('group 203.0.113.0/24', 'group 2001:db8:1::/48')
    """
    try:
        network = ipaddress.ip_network(client, strict=False)
    except ValueError:
        return "group " + client
    return "group " + str(network.supernet(new_prefix=min(network.prefixlen, GROUP_PREFIX[network.version])))


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

    def take(self, client: str) -> bool:
        """Take one of ``client``'s slots: False when it has all of them in use (loopback: always True)."""
        if not self.limit_loopback and is_loopback(client):
            return True
        with self._lock:
            running = self._running.get(client, 0)
            if running >= self.per_client:
                return False
            self._running[client] = running + 1
            return True

    def give(self, client: str) -> None:
        """Give back a slot :meth:`take` took."""
        if not self.limit_loopback and is_loopback(client):
            return
        with self._lock:
            left = self._running[client] - 1
            if left:
                self._running[client] = left
            else:
                del self._running[client]  # the table holds running clients only: bounded by threads

    @contextmanager
    def slot(self, client: str) -> Iterator[bool]:
        """Yield True with a slot taken for ``client``, or False when the client has all its slots in use."""
        allowed = self.take(client)
        try:
            yield allowed
        finally:
            if allowed:
                self.give(client)


class Runaways:
    """Clients whose queries recently ran into the time limit share fewer query workers than the others.

    A query stopped at the time limit held a worker for all of it. For ``seconds`` after that, its client —
    and every client of a group (:func:`client_group`) with GROUP_SHARE such clients — runs queries only in
    one of ``lanes`` (all query workers but one): however many addresses send runaways, a worker stays free
    for everyone else's queries. A marked client beyond the lanes is refused at once (503). Loopback clients
    are exempt unless ``limit_loopback``; at most ``max_clients`` marks are kept (oldest dropped first).
    """

    def __init__(self, lanes: int, *, seconds: float = 60.0, limit_loopback: bool = False,
                 max_clients: int = 65536) -> None:
        self.lanes = max(1, int(lanes))
        self.seconds = seconds
        self.limit_loopback = limit_loopback
        self.max_clients = max_clients
        self._free = threading.BoundedSemaphore(self.lanes)
        self._marks: OrderedDict[str, tuple[float, int]] = OrderedDict()
        self._lock = threading.Lock()

    def mark(self, client: str, now: float | None = None) -> None:
        """``client``'s query ran into the time limit."""
        if not self.limit_loopback and is_loopback(client):
            return
        now = time.monotonic() if now is None else now
        with self._lock:
            for key in (client, client_group(client)):
                until, count = self._marks.pop(key, (0.0, 0))
                self._marks[key] = (now + self.seconds, count + 1 if until > now else 1)
            while len(self._marks) > self.max_clients:
                self._marks.popitem(last=False)

    def marked(self, client: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        with self._lock:
            own = self._marks.get(client)
            group = self._marks.get(client_group(client))
        return bool((own and own[0] > now) or (group and group[0] > now and group[1] >= GROUP_SHARE))

    @contextmanager
    def lane(self, client: str) -> Iterator[bool]:
        """Yield True when ``client`` may run a query now (unmarked, or marked with a lane taken), else False."""
        if not self.marked(client):
            yield True
            return
        taken = self._free.acquire(blocking=False)
        try:
            yield taken
        finally:
            if taken:
                self._free.release()


class RateLimit:
    """Allow ``per_minute`` requests per client on LIMITED_PATHS, with bursts of up to ``burst``."""

    def __init__(self, app: Callable, *, per_minute: float, burst: int, limit_loopback: bool = False,
                 client_header: str | None = None, bodies: int = 2, bodies_total: int = 4,
                 held: threading.BoundedSemaphore | None = None, buckets_file: str | None = None) -> None:
        self.app = app
        self.bodies = ClientSlots(bodies, limit_loopback=limit_loopback)
        self.bodies_total = max(1, int(bodies_total))
        # threads held by slow clients, shared with the delivery of large answers (Deliveries)
        self._receiving = held or threading.BoundedSemaphore(self.bodies_total)
        self.rate = float(per_minute) / 60.0
        self.burst = max(1, int(burst))
        self.limit_loopback = limit_loopback
        self.client_header = client_header
        self.buckets = Buckets(buckets_file)

    def wait(self, client: str, now: float | None = None) -> float:
        """Take one token for ``client`` and one for its group (:func:`client_group`, which has GROUP_SHARE
        clients' allowance), in the buckets every web process shares: 0 when both have one, else the seconds
        until both will."""
        return self.buckets.take([(client, self.burst, self.rate),
                                  (client_group(client), self.burst * GROUP_SHARE, self.rate * GROUP_SHARE)], now)

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        client = client_address(environ, self.client_header)
        with asking(client_group(client)):  # every query this request runs waits for a worker as its network's
            return self._admitted(environ, start_response, client)

    def _admitted(self, environ: dict[str, Any], start_response: Callable, client: str) -> Iterable[bytes]:
        if _has_body(environ):
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
                    return self._limited(environ, start_response, client)
                finally:
                    self._receiving.release()
        return self._limited(environ, start_response, client)

    def _limited(self, environ: dict[str, Any], start_response: Callable, client: str) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if self.rate <= 0 or not path.startswith(LIMITED_PATHS) or environ.get("REQUEST_METHOD") == "OPTIONS":
            return self.app(environ, start_response)
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


# ---------------------------------------------------------------------------------------------- delivery

#: Answers up to this size go to the server in one piece; larger ones in pieces of CHUNK bytes.
WHOLE = 256 * 1024
CHUNK = 64 * 1024


class Deliveries:
    """WSGI middleware, outermost: a large answer is delivered while its client holds one of its delivery slots
    and one of the threads slow clients may hold, so a client that does not read pins a bounded amount.

    Granian copies a body given as one ``bytes`` object to its own side whole and frees the thread at once:
    clients that never read could then pin any number of answers (a 16 MiB query answer, a dump) in memory.
    Given an iterator, it takes a piece at a time and blocks the thread while the client does not read, so
    what a connection pins is one piece and the kernel's buffers. So an answer over ``WHOLE`` bytes (or of
    unknown length) is sent in ``CHUNK``-byte pieces while its client holds a delivery slot (``per_client`` at
    once; loopback exempt unless ``limit_loopback``) and one of ``held`` (shared with request bodies being
    received, below the thread count, so /healthz and small answers keep threads); a client beyond either gets
    503 with ``Retry-After`` before anything is sent. The slot lasts until the server closes the answer: sent
    in full, or the connection gone. A connection whose client stops reading is closed by the kernel after
    ``write_timeout`` seconds (TCP_USER_TIMEOUT on the listening sockets, inherited by every connection):
    Granian has no write timeout of its own.
    """

    def __init__(self, app: Callable, *, per_client: int, held: threading.BoundedSemaphore, total: int,
                 limit_loopback: bool = False, client_header: str | None = None, write_timeout: float = 30.0) -> None:
        self.app = app
        self.slots = ClientSlots(per_client, limit_loopback=limit_loopback)
        self.held = held
        self.total = total
        self.client_header = client_header
        self.write_timeout = write_timeout
        self._sockets_done = False

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        if not self._sockets_done:
            self._sockets_done = True
            limit_stalled_writes(self.write_timeout)
        captured: list[Any] = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable:
            captured[:] = [status, headers, exc_info]
            return start_response(status, headers, exc_info) if environ.get("REQUEST_METHOD") == "HEAD" else _no_write

        result = self.app(environ, capture)
        if environ.get("REQUEST_METHOD") == "HEAD":
            return result
        status, headers, exc_info = captured
        length = next((v for k, v in headers if k.lower() == "content-length"), None)
        if length is not None and length.isdigit() and int(length) <= WHOLE:
            start_response(status, headers, exc_info)
            return result
        client = client_address(environ, self.client_header)
        refusal = None
        if not self.slots.take(client):
            refusal = (f"you are already receiving {self.slots.per_client} large answers from this server; "
                       "read them before asking for the next")
        elif not self.held.acquire(blocking=False):
            self.slots.give(client)
            refusal = f"this server is sending {self.total} large answers or receiving bodies already; retry shortly"
        if refusal is not None:
            close = getattr(result, "close", None)
            if close is not None:
                close()
            return _refuse(start_response, "503 Service Unavailable", 1, refusal)
        start_response(status, headers, exc_info)

        def release() -> None:
            self.held.release()
            self.slots.give(client)

        return _Delivery(result, release)


def _no_write(data: bytes) -> None:
    raise RuntimeError("fwgraph's applications return their bodies; write() is not supported here")


class _Delivery:
    """The answer's pieces, at most CHUNK bytes each; ``release`` called once, when the server closes it."""

    def __init__(self, result: Iterable[bytes], release: Callable[[], object]) -> None:
        self.result = result
        self._release: Callable[[], object] | None = release

    def __iter__(self) -> Iterator[bytes]:
        for piece in self.result:
            if len(piece) <= CHUNK:
                yield piece
                continue
            view = memoryview(piece)
            for start in range(0, len(piece), CHUNK):
                yield bytes(view[start:start + CHUNK])

    def close(self) -> None:
        try:
            close = getattr(self.result, "close", None)
            if close is not None:
                close()
        finally:
            release, self._release = self._release, None
            if release is not None:
                release()


def limit_stalled_writes(seconds: float) -> int:
    """Set TCP_USER_TIMEOUT on this process's listening TCP sockets: a connection whose peer leaves sent data
    unacknowledged (a zero window: it does not read) for ``seconds`` is closed by the kernel. Accepted sockets
    inherit it. Returns the number of listening sockets set (0 where the platform has no such option)."""
    option = getattr(socket, "TCP_USER_TIMEOUT", None)
    if option is None or seconds <= 0 or not os.path.isdir("/proc/self/fd"):
        return 0
    done = 0
    for name in os.listdir("/proc/self/fd"):
        try:
            sock = socket.socket(fileno=os.dup(int(name)))
        except (OSError, ValueError):
            continue
        try:
            if (sock.family in (socket.AF_INET, socket.AF_INET6) and sock.type == socket.SOCK_STREAM
                    and sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)):
                sock.setsockopt(socket.IPPROTO_TCP, option, int(seconds * 1000))
                done += 1
        except OSError:
            pass
        finally:
            sock.close()
    return done
