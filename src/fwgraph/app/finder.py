"""The finder on the web: /find (a grid of frameworks or servers with facets, sorting and "compare selected")
and /search (free text over names, aliases, descriptions, PyPI names and repositories; HTML or JSON).

Thin: it parses the request, asks the Service's catalogue (``fwgraph.views.finder``, computed once per process) and
renders. Both pages are plain GET forms that work without JavaScript; the URL reproduces the view.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, abort, render_template, request

from fwgraph.app.http import cache_headers, conditional, href, negotiate, page_etag, service
from fwgraph.core import formats
from fwgraph.service import FinderError

bp = Blueprint("finder", __name__)

#: /search answers JSON to programs (and to a missing Accept), an HTML page to browsers.
SEARCH_OFFERS = formats.offers(formats.JSON, formats.HTML)


def _args() -> dict[str, list[str]]:
    return request.args.to_dict(flat=False)


@bp.get("/find")
def find() -> Response:
    etag = page_etag("find", request.query_string.decode("ascii", "replace"))
    cached = conditional(etag)
    if cached is not None:
        return cached
    try:
        page = service().find_page(_args())
    except FinderError as exc:
        abort(400, str(exc))
    body = render_template("find.html", **page)
    return cache_headers(Response(body, content_type=formats.HTML.content_type), etag)


@bp.get("/search")
def search() -> Response:
    chosen = negotiate(SEARCH_OFFERS)
    if chosen is None:
        abort(406, "/search answers JSON (format=json) or HTML (format=html)")
    media, fmt = chosen
    q = " ".join(request.args.getlist("q"))
    etag = page_etag("search", media, q)
    cached = conditional(etag, vary=True)
    if cached is not None:
        return cached
    try:
        found = service().search(q)
    except FinderError as exc:
        abort(400, str(exc))
    if fmt is formats.JSON:
        hits = found["hits"]
        body = json.dumps({"q": found["q"], "count": len(hits), "results": [h.to_json(href(h.iri)) for h in hits]},
                          ensure_ascii=False) + "\n"
    else:
        body = render_template("search.html", **found)
    return cache_headers(Response(body, content_type=fmt.content_type), etag, vary=True)
