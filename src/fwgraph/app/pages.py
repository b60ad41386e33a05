"""The landing page: what the dataset is, its counts, downloads, and an editor for the example queries."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request

from fwgraph.app.http import (
    cache_headers,
    conditional,
    endpoint_url,
    href,
    local_path,
    page_etag,
    public_iri,
    served,
    service,
    settings,
)
from fwgraph.core import formats

bp = Blueprint("pages", __name__)


@bp.get("/")
def index() -> Response:
    # A shared editor link (/?query=...&view=...) opens with its query in the editor, also without scripts.
    query = request.args.get("query", "")
    if len(query.encode()) > settings().max_query_bytes:
        query = ""
    etag = page_etag("index", query, endpoint_url())
    cached = conditional(etag)
    if cached is not None:
        return cached
    svc = service()
    page = svc.landing_page(local_path, href, public_iri, served(svc.void, dataset=True))
    body = render_template("index.html", query=query, **page)
    return cache_headers(Response(body, content_type=formats.HTML.content_type), etag)
