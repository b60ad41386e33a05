"""GET /terms.json: what the query editor completes (prefixes, classes, properties, resources): fwgraph.views.terms."""

from __future__ import annotations

from flask import Blueprint, Response

from fwgraph.app.http import cache_headers, conditional, page_etag, service
from fwgraph.core import formats

bp = Blueprint("editor", __name__)


@bp.get("/terms.json")
def terms() -> Response:
    etag = page_etag("terms")
    cached = conditional(etag)
    if cached is not None:
        return cached
    body = service().editor_terms()  # the data never changes while the server runs: computed once
    return cache_headers(Response(body, content_type=formats.JSON.content_type), etag)
