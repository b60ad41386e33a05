"""Linked Data routes: every IRI under the public base dereferences by content negotiation; downloads; VoID.

The data keeps its canonical IRIs; the server answers for ``base + path`` at ``/path`` for the configured
public base and for the canonical base, so the same data runs on localhost, behind a proxy or at w3id.org.
The views come from ``fwgraph.resource``; this module only maps requests to them and renders.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox
from flask import Blueprint, Response, abort, render_template, request

from fwgraph import formats
from fwgraph.app.http import (
    alternates,
    bases,
    cache_headers,
    conditional,
    error_response,
    local_path,
    negotiate,
    page_etag,
    public_base,
    service,
)
from fwgraph.formats import Format
from fwgraph.graph import rebase
from fwgraph.namespace import BASE
from fwgraph.resource import describe, document_view, resource_view
from fwgraph.results import graph_bytes, rdf_bytes

bp = Blueprint("linkeddata", __name__)

#: A resource is described in these (HTML for browsers); Turtle when the client does not say.
RESOURCE_OFFERS = formats.offers(formats.TURTLE, formats.HTML, formats.JSONLD, formats.NTRIPLES, formats.RDFXML)
VOID_OFFERS = formats.offers(*formats.RDF_FORMATS)
INDEX_OFFERS = formats.offers(formats.JSON, formats.HTML)
#: Suffix URLs (``flask.ttl``) name a format and are not negotiated.
SUFFIXED = (formats.TURTLE, formats.JSONLD, formats.NTRIPLES, formats.RDFXML, formats.HTML)
#: Characters allowed in a path that is turned into an IRI (anything else cannot name a resource here).
# IRI path characters, and % only as the start of a percent-escape (a stray % made DESCRIBE fail: 500).
_SAFE_PATH = re.compile(r"^(?:[A-Za-z0-9._~!$&'()*+,;=:@/-]|%[0-9A-Fa-f]{2})*+$")


# --------------------------------------------------------------------------- downloads, context, VoID


@lru_cache(maxsize=64)
def _file_digest(path: str, mtime_ns: int, size: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _serve_file(name: str) -> Response:
    path = service().dist / name
    stat = path.stat()
    etag = _file_digest(str(path), stat.st_mtime_ns, stat.st_size)
    cached = conditional(etag)
    if cached is not None:
        return cached
    return cache_headers(Response(path.read_bytes(), content_type=formats.content_type_of_file(name)), etag)


@bp.get("/download/")
def downloads_index() -> Response:
    names = service().download_names()
    etag = page_etag("downloads", *names)
    cached = conditional(etag, vary=True)
    if cached is not None:
        return cached
    chosen = negotiate(INDEX_OFFERS)
    if chosen is None:
        abort(406, "the list of downloads is available as " + ", ".join(mt for mt, _ in INDEX_OFFERS))
    if chosen[1] is formats.HTML:
        files = [(n, formats.content_type_of_file(n), (service().dist / n).stat().st_size) for n in names]
        body, fmt = render_template("downloads.html", files=files), formats.HTML
    else:
        body, fmt = json.dumps({"files": names}), formats.JSON
    response = Response(body, content_type=fmt.content_type)
    return cache_headers(response, etag, vary=True)


@bp.get("/download/<name>")
def download(name: str) -> Response:
    if name not in service().download_names():
        abort(404, f"no file {name!r} in the distribution; see {request.script_root}/download/")
    return _serve_file(name)


@bp.get("/context.jsonld")
def jsonld_context() -> Response:
    return _serve_file("fwgraph.context.jsonld")


@bp.get("/.well-known/void")
def void() -> Response:
    chosen = negotiate(VOID_OFFERS)
    if chosen is None:
        abort(406, "the VoID description is available as " + ", ".join(f.media_type for f in formats.RDF_FORMATS))
    media, fmt = chosen
    etag = page_etag("void", media)
    cached = conditional(etag, vary=True)
    if cached is not None:
        return cached
    body = rdf_bytes(rebase(service().void, public_base()), fmt)
    return cache_headers(Response(body, content_type=fmt.content_type_for(media)), etag, vary=True)


# --------------------------------------------------------------------------- resources


def _split_suffix(path: str) -> tuple[str, Format | None]:
    """Split a suffix URL (``flask.ttl``) into the resource path and the format it names."""
    for fmt in SUFFIXED:
        if fmt.suffix and path.endswith(fmt.suffix) and len(path) > len(fmt.suffix):
            return path[: -len(fmt.suffix)], fmt
    return path, None


def _choose(forced: Format | None) -> tuple[str, Format]:
    if forced is not None:
        return forced.media_type, forced
    chosen = negotiate(RESOURCE_OFFERS)
    if chosen is None:
        abort(406, "this resource is available as " + ", ".join(mt for mt, _ in RESOURCE_OFFERS))
    return chosen


def _not_found(iri: str, media: str, fmt: Format) -> Response:
    message = f"{iri} is not described in this dataset"
    if fmt in (formats.TURTLE, formats.NTRIPLES):
        return Response(f"# 404 Not Found: {message}\n", status=404, content_type=fmt.content_type)
    if fmt is formats.HTML:
        return Response(render_template("notfound.html", iri=iri, message=message), status=404,
                        content_type=fmt.content_type)
    response = error_response(404, message)
    if fmt is formats.JSONLD:
        response.headers["Content-Type"] = fmt.content_type_for(media)
    return response


def _answer(key: str, media: str, fmt: Format, rdf: Callable[[], bytes], html: Callable[[], str],
            *, vary: bool) -> Response:
    etag = page_etag(key, media)
    cached = conditional(etag, vary=vary)
    if cached is not None:
        return cached
    if fmt is formats.HTML:
        response = Response(html(), content_type=fmt.content_type)
    else:
        response = Response(rdf(), content_type=fmt.content_type_for(media))
        response.headers["Link"] = f'<{request.base_url}>; rel="describedby"'
    return cache_headers(response, etag, vary=vary)


def _resource(iri: str, triples: list[ox.Triple], media: str, fmt: Format, *, vary: bool) -> Response:
    def page() -> str:
        view = resource_view(service().engine, iri, triples, local_path)
        return render_template("resource.html", **vars(view), alternates=alternates(iri))

    return _answer(iri, media, fmt, lambda: graph_bytes(triples, fmt), page, vary=vary)


@bp.get("/<path:path>")
def resource(path: str) -> Response:
    stem, forced = _split_suffix(path)
    vary = forced is None
    media, fmt = _choose(forced)
    if not _SAFE_PATH.match(stem):
        return _not_found(request.base_url, media, fmt)
    svc = service()
    if stem in ("ns", "shapes"):
        doc = svc.ontology if stem == "ns" else svc.shapes
        iri = BASE + stem
        return _answer(stem, media, fmt, lambda: rdf_bytes(doc, fmt),
                       lambda: render_template("document.html", **vars(document_view(iri, doc, local_path)),
                                               alternates=alternates(iri)), vary=vary)
    for base in bases():
        iri = base + stem
        triples = describe(svc.engine, iri)
        if triples:
            return _resource(iri, triples, media, fmt, vary=vary)
    return cache_headers(_not_found(public_base() + stem, media, fmt), page_etag("404", stem, media), vary=vary)


@bp.after_request
def _vary(response: Response) -> Response:
    """Every negotiated answer, errors included, varies with Accept (suffix URLs do not negotiate)."""
    if request.endpoint in ("linkeddata.resource", "linkeddata.void", "linkeddata.downloads_index") \
            and not _split_suffix(request.path)[1]:
        response.vary.add("Accept")
    return response
