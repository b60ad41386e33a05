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


@bp.route("/reconcile", methods=["GET", "POST"])
def reconcile() -> Response:
    raw = request.values.get("queries")
    if raw is None:
        etag = page_etag("reconcile-manifest", request.url_root)
        cached = conditional(etag)
        if cached is not None:
            return cached
        return cache_headers(_json(manifest(public_base(), request.url_root)), etag)
    if len(raw.encode()) > int(current_app.config["FWGRAPH_MAX_QUERY_BYTES"]):
        abort(413, "the queries are longer than this service accepts")
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
