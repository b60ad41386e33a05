"""A response cache in front of the Flask app: the served data is immutable, so a public GET answer is reusable.

It behaves like a small reverse proxy inside the process: a GET response that the app marks
``Cache-Control: public`` with status 200 is kept (bounded by entries and bytes) under the request's
path, query string, Accept and Host, and the same request is then answered without entering Flask at
all — no routing, no request context, no content negotiation. ``If-None-Match`` against the stored
ETag gives 304. Everything else (POST, errors, private answers, and the paths in ``passes``, whose answers are
kept behind it already: /sparql's by the Service's answer cache) goes to the app untouched.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.http import unquote_etag

from fwgraph.app.http import etag_matches
from fwgraph.core.settings import active

_KEEP_ON_304 = {"etag", "cache-control", "vary", "content-location", "expires"}


class FrontCache:
    """WSGI middleware: cache public 200 GET answers of ``app`` (bounded LRU); the bounds not given are the active
    settings': CACHE_ENTRIES, half of CACHE_BYTES (the other half is the query results' cache), CACHE_ENTRY_BYTES."""

    def __init__(self, app: Callable, *, entries: int | None = None, max_bytes: int | None = None,
                 max_entry_bytes: int | None = None, passes: frozenset[str] = frozenset()) -> None:
        settings = active()
        self.app = app
        self.passes = passes
        self.entries = settings.cache_entries if entries is None else entries
        self.max_bytes = settings.cache_bytes // 2 if max_bytes is None else max_bytes
        self.max_entry_bytes = settings.cache_entry_bytes if max_entry_bytes is None else max_entry_bytes
        self._data: OrderedDict[tuple, tuple[str, list[tuple[str, str]], bytes, str | None]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self.hits = 0

    @staticmethod
    def _key(environ: dict[str, Any]) -> tuple:
        return (environ.get("SCRIPT_NAME", ""), environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", ""),
                environ.get("HTTP_ACCEPT", ""), environ.get("HTTP_HOST", ""), environ.get("wsgi.url_scheme", ""),
                environ.get("HTTP_X_FORWARDED_HOST", ""), environ.get("HTTP_X_FORWARDED_PROTO", ""))

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD")
        if (method != "GET" and method != "HEAD") or not self.entries or environ.get("PATH_INFO") in self.passes:
            return self.app(environ, start_response)
        key = self._key(environ)
        hit = self._data.get(key)  # a plain dict read: atomic under the GIL, no lock on the hot path
        if hit is not None:
            self.hits += 1
            return self._answer(hit, environ, start_response, method)
        if method == "HEAD" or environ.get("HTTP_RANGE"):
            return self.app(environ, start_response)
        # A conditional request that misses is answered in full by the app, so the answer can be kept;
        # the condition is then applied here (a 200 instead of a 304 is never wrong).
        inner = environ
        if "HTTP_IF_NONE_MATCH" in environ:
            inner = dict(environ)
            del inner["HTTP_IF_NONE_MATCH"]
        captured: list[Any] = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable:
            captured[:] = [status, headers, exc_info]
            return lambda data: None  # the body is returned, not written

        result = self.app(inner, capture)
        status, headers, exc_info = captured
        fields = {k.lower(): v for k, v in headers}
        length = fields.get("content-length")
        if (not status.startswith("200") or "public" not in fields.get("cache-control", "")
                or "set-cookie" in fields or (length is not None and int(length) > self.max_entry_bytes)):
            if inner is not environ and status.startswith("200") and _matches(environ, fields.get("etag")):
                close = getattr(result, "close", None)  # a private answer the client holds: its condition applies
                if close is not None:
                    close()
                return _not_modified(headers, start_response)
            start_response(status, headers, exc_info) if exc_info else start_response(status, headers)
            return result
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        entry = (status, list(headers), body, fields.get("etag"))
        if len(body) <= self.max_entry_bytes:
            self._put(key, entry)
        return self._answer(entry, environ, start_response, method)

    @staticmethod
    def _answer(entry: tuple[str, list[tuple[str, str]], bytes, str | None], environ: dict[str, Any],
                start_response: Callable, method: str) -> Iterable[bytes]:
        status, headers, body, etag = entry
        if _matches(environ, etag):
            return _not_modified(headers, start_response)
        start_response(status, headers)
        return [b""] if method == "HEAD" else [body]

    @staticmethod
    def _not_modified(headers: list[tuple[str, str]], start_response: Callable) -> Iterable[bytes]:
        start_response("304 Not Modified", [h for h in headers if h[0].lower() in _KEEP_ON_304
                                            or h[0].lower().startswith("access-control-")])
        return [b""]

    def _put(self, key: tuple, value: tuple[str, list[tuple[str, str]], bytes, str | None]) -> None:
        with self._lock:
            old = self._data.pop(key, None)
            if old is not None:
                self._size -= len(old[2])
            self._data[key] = value
            self._size += len(value[2])
            while self._data and (len(self._data) > self.entries or self._size > self.max_bytes):
                _, evicted = self._data.popitem(last=False)
                self._size -= len(evicted[2])


def _matches(environ: dict[str, Any], etag: str | None) -> bool:
    """True when the request's If-None-Match names the stored ETag header ``etag``: the app's own matcher."""
    return etag is not None and etag_matches(environ.get("HTTP_IF_NONE_MATCH"), unquote_etag(etag)[0] or "")


def _not_modified(headers: list[tuple[str, str]], start_response: Callable) -> list[bytes]:
    """A 304 with the headers of the answer it stands for that a 304 keeps."""
    start_response("304 Not Modified", [h for h in headers if h[0].lower() in _KEEP_ON_304
                                        or h[0].lower().startswith("access-control-")])
    return [b""]
