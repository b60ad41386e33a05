"""HTTP helpers shared by the blueprints: CORS on every answer, content negotiation, error bodies."""

from __future__ import annotations

from flask import Flask, Response, request
from werkzeug.datastructures import MIMEAccept

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, HEAD, OPTIONS",
    "Access-Control-Allow-Headers": "Accept, Content-Type, If-None-Match",
    "Access-Control-Expose-Headers": "ETag, Link, Location, Vary, X-Fwgraph-Truncated, X-SPARQL-MaxRows",
    "Access-Control-Max-Age": "86400",
}


#: Pages load only the site's own scripts, styles and images, cannot be framed, and leak no path in Referer.
PAGE_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
               "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
#: Content that anyone can choose (query results as HTML) runs in a sandbox: an opaque origin, no script.
SANDBOX_POLICY = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def init_app(app: Flask) -> None:
    @app.after_request
    def _headers(response: Response) -> Response:
        for key, value in CORS_HEADERS.items():
            response.headers.setdefault(key, value)
        for key, value in SECURITY_HEADERS.items():
            response.headers.setdefault(key, value)
        if response.mimetype == "text/html":
            response.headers.setdefault("Content-Security-Policy", PAGE_POLICY)
        location = response.headers.get("Location", "")
        if location.startswith(request.host_url):  # werkzeug's own redirects name the Host the client sent
            response.headers["Location"] = "/" + location[len(request.host_url):]
        return response


def negotiate(offers: list[str], default: str | None = None, fmt_map: dict[str, str] | None = None) -> str | None:
    """The best of ``offers`` for the request: ``format=`` first (a short name or a media type), then Accept.

    Returns None when nothing acceptable can be produced (the caller answers 406). A missing or
    empty Accept header means anything is acceptable, so ``default`` (or the first offer) is chosen.
    """
    fmt = request.args.get("format") or request.form.get("format") if request.method == "POST" else request.args.get(
        "format")
    if fmt:
        fmt = fmt.strip()
        if fmt_map and fmt in fmt_map:
            return fmt_map[fmt] if fmt_map[fmt] in offers else None
        return fmt if fmt in offers else None
    header = request.headers.get("Accept", "")
    if not header.strip():
        return default or offers[0]
    accept: MIMEAccept = request.accept_mimetypes
    best = accept.best_match(offers, default=None)
    if best is None:
        return None
    # Prefer the default among equally acceptable offers (e.g. "*/*" alone).
    if default and accept.quality(default) >= accept.quality(best):
        return default
    return best


def wants_html() -> bool:
    """True when the client prefers HTML over JSON (a browser)."""
    accept = request.accept_mimetypes
    return accept.quality("text/html") > accept.quality("application/json") and accept.quality("text/html") > 0


def error_response(status: int, message: str, **extra: object) -> Response:
    """An error body in the format the client accepts: JSON by default, HTML for browsers, plain text on request."""
    import json
    from html import escape

    body = {"error": _reason(status), "status": status, "message": message, **extra}
    if wants_html():
        html = (f"<!doctype html><html lang=en><meta charset=utf-8><title>{status} {escape(_reason(status))}"
                f"</title><h1>{status} {escape(_reason(status))}</h1><pre>{escape(message)}</pre></html>")
        return Response(html, status=status, mimetype="text/html")
    accept = request.accept_mimetypes
    if accept.quality("text/plain") > accept.quality("application/json"):
        return Response(message + "\n", status=status, mimetype="text/plain")
    return Response(json.dumps(body, ensure_ascii=False) + "\n", status=status, mimetype="application/json")


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
