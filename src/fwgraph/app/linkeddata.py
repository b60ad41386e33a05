"""Linked Data routes: every IRI under the public base dereferences by content negotiation; the vocabulary, shapes
and dataset description, also as each shipped release had them; downloads, also per release; VoID.

The data keeps its canonical IRIs; the server answers for ``base + path`` at ``/path`` for the configured
public base and for the canonical base, so the same data runs on localhost, behind a proxy or at w3id.org.
The views come from the Service (``fwgraph.views.resource``); this module only maps requests to them and renders.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, Response, abort, render_template, request

from fwgraph.app.http import (
    alternates,
    bases,
    cache_headers,
    canonical_iri,
    conditional,
    endpoint_url,
    error_response,
    local_path,
    negotiate,
    page_etag,
    public_base,
    public_iri,
    served,
    service,
    signposting,
)
from fwgraph.core import formats
from fwgraph.core.formats import Format
from fwgraph.service import Description, Dist, Service

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


def _serve_file(path: Path) -> Response:
    stat = path.stat()
    etag = _file_digest(str(path), stat.st_mtime_ns, stat.st_size)
    cached = conditional(etag)
    if cached is not None:
        return cached
    return cache_headers(Response(path.read_bytes(), content_type=formats.content_type_of_file(path.name)), etag)


def _release(version: str) -> Dist:
    releases = service().releases
    if version not in releases:
        abort(404, f"no release {version!r}; the releases are " + (", ".join(releases) or "none yet")
              + f" (see {request.script_root}/download/)")
    return releases[version]


def _index(dist: Dist, prefix: str, releases: list[str]) -> Response:
    names = dist.download_names()
    etag = page_etag("downloads", prefix, *names, *releases)
    cached = conditional(etag, vary=True)
    if cached is not None:
        return cached
    chosen = negotiate(INDEX_OFFERS)
    if chosen is None:
        abort(406, "the list of downloads is available as " + ", ".join(mt for mt, _ in INDEX_OFFERS))
    if chosen[1] is formats.HTML:
        files = [(n, formats.content_type_of_file(n), (dist / n).stat().st_size) for n in names]
        body = render_template("downloads.html", files=files, prefix=prefix, releases=releases,
                               version=prefix.strip("/") or None)
        fmt = formats.HTML
    else:
        body, fmt = json.dumps({"files": names, "releases": releases}), formats.JSON
    response = Response(body, content_type=fmt.content_type)
    return cache_headers(response, etag, vary=True)


@bp.get("/download/")
def downloads_index() -> Response:
    svc = service()
    return _index(svc.dist_files, "", list(reversed(svc.releases)))


@bp.get("/download/<name>")
def download(name: str) -> Response:
    svc = service()
    if name in svc.releases:
        return Response(status=301, headers={"Location": f"{request.script_root}/download/{name}/"})
    if name not in svc.download_names():
        abort(404, f"no file {name!r} in the distribution; see {request.script_root}/download/")
    return _serve_file(svc.dist / name)


@bp.get("/download/<version>/")
def release_index(version: str) -> Response:
    return _index(_release(version), f"{version}/", [])


@bp.get("/download/<version>/<name>")
def release_download(version: str, name: str) -> Response:
    release = _release(version)
    if name not in release.download_names():
        abort(404, f"no file {name!r} in release {version}; see {request.script_root}/download/{version}/")
    return _serve_file(release / name)


@bp.get("/context.jsonld")
def jsonld_context() -> Response:
    return _serve_file(service().dist / "fwgraph.context.jsonld")


@bp.get("/.well-known/void")
def void() -> Response:
    chosen = negotiate(VOID_OFFERS)
    if chosen is None:
        abort(406, "the VoID description is available as " + ", ".join(f.media_type for f in formats.RDF_FORMATS))
    media, fmt = chosen
    form = _jsonld_form(fmt)
    etag = page_etag("void", media, form, endpoint_url())
    cached = conditional(etag, vary=True)
    if cached is not None:
        return cached
    body = service().graph_bytes(served(service().void, dataset=True), fmt, form)
    response = Response(body, content_type=_content_type(fmt, media, form))
    response.headers["Link"] = signposting(canonical_iri("dataset"), licence=service().licence,
                                           types=(Service.DOCUMENT_TYPES["dataset"],))
    return cache_headers(response, etag, vary=True)


# --------------------------------------------------------------------------- resources and documents


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


def _jsonld_form(fmt: Format) -> str:
    """The JSON-LD form (profile) the client asked for; only JSON-LD answers have one."""
    return formats.jsonld_form(request.headers.get("Accept", "")) if fmt is formats.JSONLD else "compacted"


def _content_type(fmt: Format, media: str, form: str) -> str:
    if fmt is formats.JSONLD and form != "compacted":
        return formats.jsonld_content_type(form, media)
    return fmt.content_type_for(media)


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


def _answer(key: str, media: str, fmt: Format, rdf: Callable[[str], bytes], html: Callable[[], str], *,
            vary: bool, links: str) -> Response:
    form = _jsonld_form(fmt)
    etag = page_etag(key, media, form)
    cached = conditional(etag, vary=vary)
    if cached is not None:
        return cached
    if fmt is formats.HTML:
        response = Response(html(), content_type=fmt.content_type)
    else:
        response = Response(rdf(form), content_type=_content_type(fmt, media, form))
    response.headers["Link"] = links
    return cache_headers(response, etag, vary=vary)


def _resource(found: Description, media: str, fmt: Format, *, vary: bool) -> Response:
    def page() -> str:
        return render_template("resource.html", **service().resource_page(found, local_path, public_iri),
                               alternates=alternates(found.iri))

    links = signposting(found.iri, licence=service().licence, types=found.types)
    return _answer(found.iri, media, fmt, lambda form: service().description_bytes_of(found, fmt, form), page,
                   vary=vary, links=links)


#: The documents served from the distribution, not the store: the vocabulary, the shapes and the dataset
#: description, each also as it was in every shipped release (``ns/0.1.0``).
_DOCUMENT = re.compile(r"^(ns|shapes|dataset)(?:/([0-9]+\.[0-9]+\.[0-9]+))?$")


def _document(stem: str, kind: str, version: str | None, media: str, fmt: Format, *, vary: bool) -> Response:
    graph = service().document(kind, version)
    iri = canonical_iri(stem)
    subject = iri if kind == "dataset" else canonical_iri(kind)  # a version of the vocabulary: by its header
    if graph is None:
        return cache_headers(_not_found(public_base() + stem, media, fmt), page_etag("404", stem, media), vary=vary)

    is_dataset = kind == "dataset"

    def page() -> str:
        template, shown = service().document_page(kind, iri, subject, served(graph, dataset=is_dataset),
                                                  local_path, public_iri)
        extra = {} if kind == "ns" else {"kind": kind}
        return render_template(template, **shown, **extra, alternates=alternates(iri), version=version,
                               releases=list(reversed(service().releases)))

    links = signposting(iri, licence=service().licence, types=(Service.DOCUMENT_TYPES[kind],))
    return _answer(f"{stem}|{endpoint_url()}", media, fmt,
                   lambda form: service().graph_bytes(served(graph, dataset=is_dataset), fmt, form), page,
                   vary=vary, links=links)


@bp.get("/<path:path>")
def resource(path: str) -> Response:
    stem, forced = _split_suffix(path)
    vary = forced is None
    media, fmt = _choose(forced)
    if not _SAFE_PATH.match(stem):
        return _not_found(request.base_url, media, fmt)
    document = _DOCUMENT.match(stem)
    if document:
        return _document(stem, document.group(1), document.group(2), media, fmt, vary=vary)
    for base in bases():
        found = service().description(base + stem)
        if found is not None:
            return _resource(found, media, fmt, vary=vary)
    return cache_headers(_not_found(public_base() + stem, media, fmt), page_etag("404", stem, media), vary=vary)


@bp.after_request
def _vary(response: Response) -> Response:
    """Every negotiated answer, errors included, varies with Accept (suffix URLs do not negotiate)."""
    if request.endpoint in ("linkeddata.resource", "linkeddata.void", "linkeddata.downloads_index",
                            "linkeddata.release_index") and not _split_suffix(request.path)[1]:
        response.vary.add("Accept")
    return response
