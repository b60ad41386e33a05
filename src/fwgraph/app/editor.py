"""GET /terms.json: what the query editor completes (prefixes, classes, properties, resources), from fwgraph.terms."""

from __future__ import annotations

import json

from flask import Blueprint, Response, current_app

from fwgraph import formats
from fwgraph.app.http import cache_headers, conditional, page_etag, service
from fwgraph.terms import editor_terms

bp = Blueprint("editor", __name__)


@bp.get("/terms.json")
def terms() -> Response:
    etag = page_etag("terms")
    cached = conditional(etag)
    if cached is not None:
        return cached
    body = current_app.extensions.get("fwgraph.terms")
    if body is None:  # the data never changes while the server runs: computed once
        svc = service()
        body = current_app.extensions["fwgraph.terms"] = json.dumps(editor_terms(svc.engine, svc.ontology),
                                                                    ensure_ascii=False)
    return cache_headers(Response(body, content_type=formats.JSON.content_type), etag)
