"""What search engines read: /robots.txt and /sitemap.xml (built by fwgraph.publish.sitemap; served here)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, request

from fwgraph.app.http import cache_headers, conditional, page_etag, service
from fwgraph.core import formats

bp = Blueprint("crawlers", __name__)


def _url(path: str) -> str:
    """The absolute URL of a page of this site (sitemaps name pages on their own host)."""
    return f"{request.url_root}{path}"


@bp.get("/robots.txt")
def robots() -> Response:
    etag = page_etag("robots", request.url_root)
    cached = conditional(etag)
    if cached is not None:
        return cached
    body = service().robots(_url("sitemap.xml"))
    return cache_headers(Response(body, content_type=formats.TEXT.content_type), etag)


@bp.get("/sitemap.xml")
def sitemap_xml() -> Response:
    """The sitemap; past 50,000 pages a sitemap index naming ``/sitemap.xml?page=N`` files."""
    page = request.args.get("page", "")
    etag = page_etag("sitemap", request.url_root, page)
    cached = conditional(etag)
    if cached is not None:
        return cached
    count = service().sitemap_files()
    if page and (not page.isdigit() or not 1 <= int(page) <= count):
        abort(404, f"no sitemap page {page!r}; there are {count}")
    body = service().sitemap_xml(int(page) if page else 0, _url)
    return cache_headers(Response(body, content_type=formats.XML_DOCUMENT.content_type), etag)
