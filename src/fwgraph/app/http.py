"""The web layer's one toolkit: CORS and security headers, content negotiation, error bodies, conditional GET,
and where an IRI is served (local paths and links). Every blueprint uses these; no blueprint imports another.
"""

from __future__ import annotations

import hashlib
import json
from html import escape
from http import HTTPStatus

from flask import Flask, Response, current_app, request

from fwgraph import formats
from fwgraph._version import __version__
from fwgraph.formats import Format, Offer
from fwgraph.namespace import BASE
from fwgraph.service import Service

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
#: Errors are JSON by default, an HTML page for browsers, plain text on request.
ERROR_OFFERS = formats.offers(formats.JSON, formats.HTML, formats.TEXT)


def init_app(app: Flask) -> None:
    @app.after_request
    def _headers(response: Response) -> Response:
        for key, value in CORS_HEADERS.items():
            response.headers.setdefault(key, value)
        for key, value in SECURITY_HEADERS.items():
            response.headers.setdefault(key, value)
        if response.mimetype == formats.HTML.media_type:
            response.headers.setdefault("Content-Security-Policy", PAGE_POLICY)
        location = response.headers.get("Location", "")
        if location.startswith(request.host_url):  # werkzeug's own redirects name the Host the client sent
            response.headers["Location"] = "/" + location[len(request.host_url):]
        return response

    app.context_processor(lambda: {"href": href, "local_path": local_path, "public_base": public_base})


def service() -> Service:
    """The Service of the current app (created once by ``create_app``)."""
    return current_app.extensions["fwgraph"]


# ---------------------------------------------------------------------------------------------- negotiation

def negotiate(choices: tuple[Offer, ...], format_param: str | None = None) -> Offer | None:
    """The (media type, format) to answer this request with, or None (the caller answers 406).

    ``format_param`` defaults to the request's ``format=`` parameter (query string, or form for POST);
    pass "" where ``format`` means something else.
    """
    if format_param is None:
        format_param = request.args.get("format", "")
        if not format_param and request.method == "POST" and request.mimetype == formats.FORM_URLENCODED:
            format_param = request.form.get("format", "")
    return formats.negotiate(choices, request.headers.get("Accept", ""), format_param)


def wants_html() -> bool:
    """True when the client prefers an HTML page to JSON or text (a browser)."""
    chosen = negotiate(ERROR_OFFERS, format_param="")
    return chosen is not None and chosen[1] is formats.HTML


def error_response(status: int, message: str, *, text: str | None = None, **extra: object) -> Response:
    """An error body in the format the client accepts: JSON by default, HTML for browsers, plain text on request.

    ``extra`` adds (or overrides) JSON members; ``text`` replaces the message in the plain-text body.
    """
    chosen = negotiate(ERROR_OFFERS, format_param="")
    fmt = chosen[1] if chosen else formats.JSON
    reason = _reason(status)
    if fmt is formats.HTML:
        html = (f"<!doctype html><html lang=en><meta charset=utf-8><title>{status} {escape(reason)}"
                f"</title><h1>{status} {escape(reason)}</h1><pre>{escape(message)}</pre></html>")
        return Response(html, status=status, content_type=fmt.content_type)
    if fmt is formats.TEXT:
        return Response((text or message) + "\n", status=status, content_type=fmt.content_type)
    body = {"error": reason, "status": status, "message": message, **extra}
    return Response(json.dumps(body, ensure_ascii=False) + "\n", status=status, content_type=fmt.content_type)


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


# ---------------------------------------------------------------------------------------------- conditional GET

def cache_headers(response: Response, etag: str, *, vary: bool = False) -> Response:
    """ETag and Cache-Control (public, for the configured max-age); ``Vary: Accept`` for negotiated answers."""
    response.set_etag(etag)
    response.headers["Cache-Control"] = f"public, max-age={current_app.config.get('FWGRAPH_CACHE_MAX_AGE', 300)}"
    if vary:
        response.vary.add("Accept")
    return response


def not_modified(etag: str) -> bool:
    """True when the request's If-None-Match names ``etag`` (weakly) or is ``*``."""
    if "If-None-Match" not in request.headers:
        return False
    inm = request.if_none_match
    return bool(inm) and (inm.star_tag or inm.contains_weak(etag))


def conditional(etag: str, *, vary: bool = False) -> Response | None:
    """A 304 when the client already holds ``etag``, else None."""
    if not_modified(etag):
        return cache_headers(Response(status=304), etag, vary=vary)
    return None


def page_etag(*parts: str) -> str:
    """An entity tag for a page: the data version, the code version, the public base and the page's own key."""
    return hashlib.sha256("|".join((service().etag, __version__, public_base(), *parts)).encode()).hexdigest()[:24]


# ---------------------------------------------------------------------------------------------- where IRIs live

def public_base() -> str:
    return str(current_app.config.get("FWGRAPH_BASE_IRI") or BASE)


def bases() -> list[str]:
    """The bases the server answers for: the configured public base first, then the canonical one."""
    return list(dict.fromkeys([public_base(), BASE]))


def local_path(iri: str) -> str | None:
    """The server path (with the script root) where ``iri`` is served, or None if it is not ours."""
    for base in bases():
        if iri.startswith(base):
            return f"{request.script_root}/{iri[len(base):]}"
    return None


def href(iri: str) -> str:
    """A link target for ``iri``: its local page when it is ours, else the IRI itself."""
    return local_path(iri) or iri


def alternates(iri: str, choices: tuple[Format, ...] = formats.RDF_FORMATS) -> list[tuple[str, str, str]]:
    """Links to the resource's descriptions in other formats (suffix URLs): (path, label, media type)."""
    path = local_path(iri) or ""
    return [(f"{path}{f.suffix}", f.label, f.media_type) for f in choices]
