"""Per-client rate limiting of the expensive routes (/sparql and /validate): a token bucket per client address.

WSGI middleware, placed inside the front cache (a cached answer costs nothing and is never limited) and
in front of Flask. A client that has spent its burst gets 429 with ``Retry-After`` until its bucket refills.
Buckets are per web process and kept for at most ``max_clients`` addresses (least recently seen dropped
first), so memory stays bounded whatever the number of clients. Loopback clients are exempt unless
``limit_loopback`` is set. Behind a proxy, ``client_header`` (e.g. ``X-Forwarded-For``) names the header
whose last address is the client's — set it only when every request comes through that proxy.
"""

from __future__ import annotations

import ipaddress
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

from fwgraph.app.http import CORS_HEADERS

LIMITED_PATHS = ("/sparql", "/validate")


class RateLimit:
    """Allow ``per_minute`` requests per client on LIMITED_PATHS, with bursts of up to ``burst``."""

    def __init__(self, app: Callable, *, per_minute: float, burst: int, limit_loopback: bool = False,
                 client_header: str | None = None, max_clients: int = 65536) -> None:
        self.app = app
        self.rate = float(per_minute) / 60.0
        self.burst = max(1, int(burst))
        self.limit_loopback = limit_loopback
        self.header = "HTTP_" + client_header.upper().replace("-", "_") if client_header else None
        self.max_clients = max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def client(self, environ: dict[str, Any]) -> str:
        if self.header and environ.get(self.header):
            return environ[self.header].split(",")[-1].strip()
        return str(environ.get("REMOTE_ADDR", ""))

    @staticmethod
    def _loopback(address: str) -> bool:
        try:
            return ipaddress.ip_address(address).is_loopback
        except ValueError:
            return False

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
        path = environ.get("PATH_INFO", "")
        if not path.startswith(LIMITED_PATHS) or environ.get("REQUEST_METHOD") == "OPTIONS":
            return self.app(environ, start_response)
        client = self.client(environ)
        if not self.limit_loopback and self._loopback(client):
            return self.app(environ, start_response)
        wait = self.wait(client)
        if wait <= 0:
            return self.app(environ, start_response)
        retry = max(1, int(wait + 0.999))
        body = json.dumps({"error": "Too Many Requests", "status": 429, "message":
                           f"rate limit: at most {self.rate * 60:g} requests a minute to {path} per client "
                           f"(bursts of {self.burst}); retry in {retry} s"}).encode() + b"\n"
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                   ("Retry-After", str(retry)), ("Cache-Control", "no-store"), *CORS_HEADERS.items()]
        start_response("429 Too Many Requests", headers)
        return [body]
