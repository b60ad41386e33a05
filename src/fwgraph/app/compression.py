"""Response compression (gzip, Brotli) for clients that accept it, with Flask-Compress, around every other layer.

Flask-Compress chooses the encoding from ``Accept-Encoding``, compresses, adds ``Vary: Accept-Encoding``, gives a
compressed answer its own strong ETag (``"<etag>:br"``, ``"<etag>:gzip"``) and answers a conditional request on
it. It runs here as WSGI middleware outside the query fast path and the response cache (neither goes through
Flask's ``after_request``), so every answer is compressed alike and the cache keeps one identity copy. Two things
are added: a request with ``Range`` is answered uncompressed (its ranges count the bytes of the identity
representation, the one whose ETag ``If-Range`` names), and a gzip member carries no timestamp (Python's gzip
writes the current time into its header: two GETs gave different bytes under one strong ETag).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, cast

from flask import Flask, Response
from flask_compress import Compress

from fwgraph.core import formats

#: Offered in this order when a client accepts several equally (Brotli is smaller at the same speed).
ALGORITHMS = ["br", "gzip"]
#: An answer up to this size is compressed whole (with its Content-Length); a larger one (a download of the whole
#: graph) is compressed as it streams, never held in memory.
WHOLE_MAX_BYTES = 16 * 1024 * 1024
_GZIP_MTIME = slice(4, 8)  # RFC 1952: ID1 ID2 CM FLG MTIME(4) ...; zero is "no time stamp"


def init_app(app: Flask) -> None:
    """Wrap ``app.wsgi_app`` (call last: outside every other middleware)."""
    app.config.update(COMPRESS_REGISTER=False, COMPRESS_MIMETYPES=list(formats.COMPRESSIBLE),
                      COMPRESS_ALGORITHM=ALGORITHMS, COMPRESS_ALGORITHM_STREAMING=ALGORITHMS,
                      COMPRESS_MIN_SIZE=500)
    app.wsgi_app = Compression(app.wsgi_app, app, Compress(app))  # type: ignore[method-assign]


class Compression:
    """WSGI middleware: the inner answer, compressed by Flask-Compress when the client accepts an encoding."""

    def __init__(self, inner: Callable, app: Flask, compress: Compress) -> None:
        self.inner = inner
        self.app = app
        self.compress = compress

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        accepted = environ.get("HTTP_ACCEPT_ENCODING", "").lower()
        if environ.get("REQUEST_METHOD") == "HEAD" or not any(name in accepted for name in ("br", "gzip", "*")):
            return self._identity(environ, start_response)
        with self.app.request_context(environ):
            response = cast(Response, Response.from_app(self.inner, environ))  # Flask's class (stubs: werkzeug's)
            if response.content_length is not None and response.content_length <= WHOLE_MAX_BYTES:
                response.get_data()  # read whole: compressed whole, with a Content-Length
            if environ.get("HTTP_RANGE") or response.status_code == 206:
                response.vary.add("Accept-Encoding")
            else:
                response = self.compress.after_request(response)
                if response.headers.get("Content-Encoding") == "gzip" and not response.is_streamed:
                    body = bytearray(response.get_data())
                    body[_GZIP_MTIME] = b"\0\0\0\0"
                    response.set_data(bytes(body))
        return response(environ, start_response)

    def _identity(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        """Uncompressed, as the inner app answers, told that the answer varies with Accept-Encoding."""

        def vary(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable:
            if int(status[:3]) < 300 or status.startswith("304"):
                _add_vary(headers)
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        return self.inner(environ, vary)


def _add_vary(headers: list[tuple[str, str]]) -> None:
    for i, (name, value) in enumerate(headers):
        if name.lower() == "vary":
            if "accept-encoding" not in value.lower():
                headers[i] = (name, f"{value}, Accept-Encoding")
            return
    headers.append(("Vary", "Accept-Encoding"))
