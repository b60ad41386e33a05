"""The web layer's one toolkit: CORS and security headers, content negotiation, error bodies, conditional GET,
and where an IRI is served (local paths and links). Every blueprint uses these; no blueprint imports another.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable
from functools import lru_cache
from http import HTTPStatus

from flask import Flask, Response, current_app, request
from rdflib import Graph
from werkzeug.http import parse_etags

from fwgraph.core import formats, markup
from fwgraph.core._version import __version__
from fwgraph.core.formats import Format, Offer
from fwgraph.core.namespace import BASE
from fwgraph.core.settings import Settings
from fwgraph.data.graph import rebase
from fwgraph.publish.description import as_served
from fwgraph.service import Service

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, HEAD, OPTIONS",
    "Access-Control-Allow-Headers": "Accept, Content-Type, If-None-Match",
    "Access-Control-Expose-Headers": "ETag, Link, Location, Vary, X-Fwgraph-Truncated, X-SPARQL-MaxRows",
    "Access-Control-Max-Age": "86400",
}

#: Request headers a preflight may ask for and is told it may send (echoed as asked): read by the service or
#: harmless to it. Any other asked header is simply not allowed.
PREFLIGHT_SAFE = frozenset({"accept", "accept-language", "content-language", "content-type", "if-none-match",
                            "if-modified-since", "cache-control", "range", "x-requested-with"})
#: Static files named with their content hash (``?v=``) never change: a year, immutable.
IMMUTABLE = "public, max-age=31536000, immutable"

#: Pages load only the site's own scripts, styles and images, cannot be framed, and leak no path in Referer.
PAGE_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
               "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
#: Content that anyone can choose (query results as HTML) runs in a sandbox: an opaque origin, no script.
SANDBOX_POLICY = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"
#: A reconciliation preview is shown in a frame of the client's own page (OpenRefine): any site may frame it;
#: it still loads nothing but the site's own style sheet and runs no script.
PREVIEW_POLICY = ("default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; "
                  "frame-ancestors *")
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}
#: Errors are JSON by default, an HTML page for browsers, plain text on request.
ERROR_OFFERS = formats.offers(formats.JSON, formats.HTML, formats.TEXT)


#: The headers every answer carries unless a route set its own.
DEFAULT_HEADERS = tuple({**CORS_HEADERS, **SECURITY_HEADERS}.items())


def missing_headers(headers: list[tuple[str, str]] | Iterable[str], content_type: str) -> list[tuple[str, str]]:
    """The CORS and security headers (and the page CSP for HTML) that ``headers`` (pairs or names) lack."""
    present = {(h[0] if isinstance(h, tuple) else h).lower() for h in headers}
    out = [(k, v) for k, v in DEFAULT_HEADERS if k.lower() not in present]
    if "content-security-policy" not in present and content_type.startswith(formats.HTML.media_type):
        out.append(("Content-Security-Policy", PAGE_POLICY))
    return out


def init_app(app: Flask) -> None:
    @app.after_request
    def _headers(response: Response) -> Response:
        headers = response.headers
        names = list(headers.keys())  # one pass (a missing-key lookup raises inside werkzeug)
        if "Content-Security-Policy" in names and headers["Content-Security-Policy"] == PREVIEW_POLICY:
            names.append("X-Frame-Options")  # framable by any site: its CSP says so, no X-Frame-Options denies it
        headers.extend(missing_headers(names, response.content_type or ""))
        if request.method == "OPTIONS" and "Access-Control-Request-Headers" in request.headers:
            asked = [h.strip() for h in request.headers["Access-Control-Request-Headers"].split(",")]
            allowed = [h.strip() for h in headers.get("Access-Control-Allow-Headers", "").split(",") if h.strip()]
            known = {h.lower() for h in allowed}
            allowed += list(dict.fromkeys(h for h in asked if h.lower() in PREFLIGHT_SAFE - known))
            headers["Access-Control-Allow-Headers"] = ", ".join(allowed)
            headers.add("Vary", "Access-Control-Request-Headers")
        if request.endpoint == "static" and request.args.get("v") and response.status_code == 200 \
                and request.args["v"] == static_version(app, (request.view_args or {}).get("filename", "")):
            headers["Cache-Control"] = IMMUTABLE
        if any(n.lower() == "location" for n in names):
            location = headers["Location"]
            if location.startswith(request.host_url):  # werkzeug's own redirects name the Host the client sent
                headers["Location"] = "/" + location[len(request.host_url):]
        return response

    app.context_processor(lambda: {"href": href, "local_path": local_path, "public_base": public_base})

    @app.url_defaults
    def _versioned_static(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "filename" in values and "v" not in values:
            values["v"] = static_version(app, values["filename"])


def service() -> Service:
    """The Service of the current app (created once by ``create_app``)."""
    return current_app.extensions["fwgraph"]


def settings() -> Settings:
    """The settings the current app serves with."""
    return service().settings


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


def error_body(status: int, message: str, accept: str, *, text: str | None = None,
               **extra: object) -> tuple[str, bytes]:
    """(Content-Type, body) of an error for a client sending ``accept``: JSON by default, HTML for browsers,
    plain text on request. ``extra`` adds (or overrides) JSON members; ``text`` replaces the message in text."""
    chosen = formats.negotiate(ERROR_OFFERS, accept)
    fmt = chosen[1] if chosen else formats.JSON
    reason = reason_phrase(status)
    if fmt is formats.HTML:
        body = markup.render("error.html", status=status, reason=reason, message=message)
    elif fmt is formats.TEXT:
        body = (text or message) + "\n"
    else:
        body = json.dumps({"error": reason, "status": status, "message": message, **extra}, ensure_ascii=False) + "\n"
    return fmt.content_type, body.encode("utf-8")


def error_response(status: int, message: str, *, text: str | None = None, **extra: object) -> Response:
    """:func:`error_body` for the current request, as a Response."""
    ctype, body = error_body(status, message, request.headers.get("Accept", ""), text=text, **extra)
    return Response(body, status=status, content_type=ctype)


def reason_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


# ---------------------------------------------------------------------------------------------- JSON and JSONP

#: A JSONP callback name: a JavaScript identifier, or up to four joined by dots (``jQuery36_1712``, ``a.b.c``),
#: each at most 64 characters. Matched with ``fullmatch``: ``re.match`` with ``$`` also accepts a name followed
#: by a newline, which would reach the body.
CALLBACK = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]{0,63}(\.[A-Za-z_$][A-Za-z0-9_$]{0,63}){0,3}$")


def is_callback_name(name: str) -> bool:
    """True when ``name`` may be echoed as a JSONP callback (``CALLBACK``, the whole string).

    >>> is_callback_name("jQuery3600_17"), is_callback_name("a.b"), is_callback_name("alert(1)//")
    (True, True, False)
    >>> is_callback_name("cb\\n")
    False
    """
    return CALLBACK.fullmatch(name) is not None


def json_response(doc: object, *, status: int = 200, callback: str | None = None) -> Response:
    """``doc`` as JSON, or as JSONP when a callback is named (already checked with :func:`is_callback_name`):
    ``/**/callback(...);`` as application/javascript (the comment keeps the body from starting with bytes the
    client chose; U+2028 and U+2029, line ends to older JavaScript, are escaped). Every answer carries
    ``X-Content-Type-Options: nosniff`` (SECURITY_HEADERS), so JSON is never run as a script."""
    text = json.dumps(doc, ensure_ascii=False)
    if callback is None:
        return Response(text + "\n", status=status, content_type=formats.JSON.content_type)
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return Response(f"/**/{callback}({text});\n", status=status, content_type=formats.JAVASCRIPT.content_type)


# ---------------------------------------------------------------------------------------------- conditional GET

def cache_headers(response: Response, etag: str, *, vary: bool = False, private: bool = False) -> Response:
    """ETag and Cache-Control (public, for the configured max-age); ``Vary: Accept`` for negotiated answers.

    ``private`` for an answer that names the host the client asked for (``request.url_root``): a shared cache
    (or the front cache) must never hand it to another client, whose request may have named another host."""
    response.set_etag(etag)
    scope = "private" if private else "public"
    response.headers["Cache-Control"] = f"{scope}, max-age={settings().cache_max_age}"
    if vary:
        response.vary.add("Accept")
    return response


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """True when an If-None-Match value names ``etag`` (weak comparison) or is ``*``."""
    if not if_none_match:
        return False
    tags = parse_etags(if_none_match)
    return tags.star_tag or tags.contains_weak(etag)


def not_modified(etag: str) -> bool:
    """True when the request's If-None-Match names ``etag`` (weakly) or is ``*``."""
    return etag_matches(request.headers.get("If-None-Match"), etag)


def conditional(etag: str, *, vary: bool = False, private: bool = False) -> Response | None:
    """A 304 when the client already holds ``etag``, else None."""
    if not_modified(etag):
        return cache_headers(Response(status=304), etag, vary=vary, private=private)
    return None


def page_etag(*parts: str) -> str:
    """An entity tag for a page: the data version, the code version, the public base and the page's own key."""
    return hashlib.sha256("|".join((service().etag, __version__, public_base(), *parts)).encode()).hexdigest()[:24]


# ---------------------------------------------------------------------------------------------- where IRIs live

def public_base() -> str:
    return settings().base_iri


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


def canonical_iri(path: str) -> str:
    """The canonical IRI of a path below the base (``framework/flask``), whatever base the server answers for."""
    return BASE + path


def public_iri(iri: str) -> str:
    """``iri`` with the canonical base replaced by the public base the server is configured with."""
    return public_base() + iri[len(BASE):] if iri.startswith(BASE) else iri


def endpoint_url() -> str:
    """The URL of this service's SPARQL endpoint, as the client reached the service (accepts POST directly)."""
    return f"{request.url_root}sparql"


def served(graph: Graph, *, dataset: bool = False) -> Graph:
    """A document as this server serves it. The vocabulary and the shapes keep their canonical IRIs (as every
    resource does); a dataset description names the public base as its URI space and the endpoint URL of this
    service (which takes POST) rather than the redirecting canonical one."""
    return as_served(rebase(graph, public_base()), endpoint_url()) if dataset else graph


def signposting(iri: str, *, licence: str | None = None, types: tuple[str, ...] = (),
                described_by: tuple[Format, ...] = formats.RDF_FORMATS) -> str:
    """A FAIR Signposting ``Link`` header value for the page or description of ``iri``: the persistent IRI to
    cite (``cite-as``), the descriptions in every RDF format (``describedby``), the licence and the types."""
    links = [f'<{public_iri(iri)}>; rel="cite-as"']
    host = request.host_url.rstrip("/")
    links += [f'<{host}{path}>; rel="describedby"; type="{media}"' for path, _, media in
              alternates(iri, described_by)]
    if licence:
        links.append(f'<{licence}>; rel="license"')
    links += [f'<{t}>; rel="type"' for t in types]
    return ", ".join(links)


def alternates(iri: str, choices: tuple[Format, ...] = formats.RDF_FORMATS) -> list[tuple[str, str, str]]:
    """Links to the resource's descriptions in other formats (suffix URLs): (path, label, media type)."""
    path = local_path(iri) or ""
    return [(f"{path}{f.suffix}", f.label, f.media_type) for f in choices]


@lru_cache(maxsize=256)
def _file_hash(path: str) -> str:
    try:
        with open(path, "rb") as fh:
            return hashlib.sha256(fh.read()).hexdigest()[:16]
    except OSError:
        return ""


def static_version(app: Flask, filename: str) -> str:
    """The content hash of a static file (its ``?v=``): a new file is a new address, so the old one may be
    cached for a year. "" for a file that is not there."""
    folder = app.static_folder or ""
    path = os.path.normpath(os.path.join(folder, filename))
    if not path.startswith(os.path.normpath(folder) + os.sep):
        return ""
    return _file_hash(path)
