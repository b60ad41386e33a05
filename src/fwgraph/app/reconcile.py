"""The reconciliation service at /reconcile (W3C Entity Reconciliation Service API 0.2, as OpenRefine uses it):
the manifest, query batches by GET or POST, and HTML previews. fwgraph.reconcile does the matching."""

from __future__ import annotations

import json
import threading

from flask import Blueprint, Response, abort, current_app, render_template, request

from fwgraph import formats
from fwgraph.app.http import (
    PREVIEW_POLICY,
    cache_headers,
    conditional,
    error_response,
    page_etag,
    public_base,
    service,
)
from fwgraph.errors import InputError
from fwgraph.reconcile import TYPES, Index, answer, manifest, parse_batch

bp = Blueprint("reconcile", __name__)
_lock = threading.Lock()


def _index() -> Index:
    """The candidates of the served data, built on first use (one per app)."""
    index = current_app.extensions.get("fwgraph.reconcile")
    if index is None:
        with _lock:
            index = current_app.extensions.get("fwgraph.reconcile")
            if index is None:
                index = current_app.extensions["fwgraph.reconcile"] = Index(service().engine)
    return index


def _json(doc: object) -> Response:
    return Response(json.dumps(doc, ensure_ascii=False) + "\n", content_type=formats.JSON.content_type)


def _kib(size: int) -> str:
    return f"{size // 1024} KiB" if size % 1024 == 0 else f"{size} bytes"


def _too_large() -> Response | None:
    """413 (body) or 414 (query string) when the request as received, before any decoding, is over the limit:
    a limit on the decoded text let three times as many url-encoded bytes through."""
    limit = int(current_app.config["FWGRAPH_MAX_QUERY_BYTES"])
    if len(request.query_string) > limit:
        return error_response(414, f"the query string is {len(request.query_string)} bytes long; /reconcile "
                                   f"accepts at most {_kib(limit)} (POST a larger batch, up to the same size)")
    if request.method == "POST":
        length = request.content_length
        if length is not None and length > limit:
            return error_response(413, f"the request body is {length} bytes long; /reconcile accepts at most "
                                       f"{_kib(limit)}: send fewer queries per batch")
        request.max_content_length = limit  # a body without Content-Length is cut there too (413)
    return None


def _manifest() -> Response:
    """The manifest names this service by the host the client asked for: cached by that client only."""
    etag = page_etag("reconcile-manifest", request.url_root)
    cached = conditional(etag, private=True)
    if cached is not None:
        return cached
    return cache_headers(_json(manifest(public_base(), request.url_root)), etag, private=True)


@bp.route("/reconcile", methods=["GET", "POST"])
def reconcile() -> Response:
    refused = _too_large()
    if refused is not None:
        return refused
    raw = request.values.get("queries")
    if raw is None:
        return _manifest()
    try:
        batch = parse_batch(raw)
    except InputError as exc:
        return error_response(400, str(exc))
    response = _json(answer(_index(), batch))
    if request.method == "GET":
        return cache_headers(response, page_etag("reconcile", raw))
    return response


@bp.get("/reconcile/preview")
def preview() -> Response:
    cid = request.args.get("id", "")
    candidate = _index().candidates.get(cid)
    if candidate is None:
        abort(404, f"no entity {cid[:100]!r} to preview; ids are paths below {public_base()}")
    etag = page_etag("reconcile-preview", cid)
    cached = conditional(etag)
    if cached is not None:
        return cached
    names = dict(TYPES)
    body = render_template("reconcile_preview.html", candidate=candidate, iri=public_base() + candidate.id,
                           types=[names[t] for t in candidate.types])
    response = Response(body, content_type=formats.HTML.content_type)
    response.headers["Content-Security-Policy"] = PREVIEW_POLICY
    return cache_headers(response, etag)
