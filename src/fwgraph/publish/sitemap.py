"""What crawlers are told: the sitemap (every resource page, with its last change from the data) and robots.txt
(pages allowed; the unbounded query spaces — SPARQL, validation, chart combinations, query strings — kept out).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from xml.sax.saxutils import escape

from fwgraph.core.namespace import BASE, FW
from fwgraph.store.engine import Engine, run

#: URLs in one sitemap file at most (the sitemaps protocol's limit is 50,000).
PER_FILE = 50_000
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
#: Pages that are not resources but belong in the sitemap (paths below the site root).
SITE_PAGES = ("", "ns", "shapes", "dataset", "download/", "compare", "compare/interfaces")
#: Paths crawlers are kept out of: each answer there is a computation over an unbounded space of inputs.
DISALLOWED = ("/sparql", "/validate", "/compare?", "/compare.csv", "/compare.md", "/compare/interfaces.",
              "/*?")


@dataclass(frozen=True)
class Page:
    """One URL of the sitemap and the date it last changed (None: unknown)."""

    path: str
    lastmod: str | None = None


def resource_pages(engine: Engine) -> list[Page]:
    """Every resource the data describes under the base (one page each), with its ``fw:lastChecked`` date, or
    for a chart row or correction the date of the record it is about; sorted by path."""
    checked = f"<{FW.lastChecked}>"
    query = f"""SELECT ?s (MAX(STR(?checked)) AS ?lastmod) WHERE {{
      {{ SELECT DISTINCT ?s WHERE {{ ?s ?p ?o FILTER(isIRI(?s) && STRSTARTS(STR(?s), "{BASE}")
                                                   && !CONTAINS(STR(?s), "#")) }} }}
      OPTIONAL {{ {{ ?s {checked} ?checked }} UNION {{ ?s <{FW.claimAbout}> ?r . ?r {checked} ?checked }} }}
    }} GROUP BY ?s"""
    result = run(engine, query, max_rows=10_000_000)
    pages = []
    for s, lastmod in result.rows:
        if s is None or s.value == BASE:
            continue
        pages.append(Page(s.value[len(BASE):], lastmod.value[:10] if lastmod is not None else None))
    return sorted(pages, key=lambda p: p.path)


def all_pages(engine: Engine) -> list[Page]:
    """The site's own pages, then every resource page (no path twice)."""
    seen: set[str] = set()
    out = []
    for page in (*(Page(p) for p in SITE_PAGES), *resource_pages(engine)):
        if page.path not in seen:
            seen.add(page.path)
            out.append(page)
    return out


def chunks(pages: list[Page], size: int = PER_FILE) -> Iterator[list[Page]]:
    for start in range(0, len(pages), size):
        yield pages[start : start + size]


def urlset(pages: list[Page], url: Callable[[str], str]) -> bytes:
    """A sitemap file: one ``<url>`` per page (``url`` makes a page's absolute URL from its path)."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', f'<urlset xmlns="{SITEMAP_NS}">']
    for page in pages:
        entry = f"<url><loc>{escape(url(page.path))}</loc>"
        if page.lastmod:
            entry += f"<lastmod>{escape(page.lastmod)}</lastmod>"
        lines.append(entry + "</url>")
    lines.append("</urlset>")
    return ("\n".join(lines) + "\n").encode("utf-8")


def index(count: int, url: Callable[[int], str]) -> bytes:
    """A sitemap index naming ``count`` sitemap files (``url`` gives the URL of file n, from 1)."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', f'<sitemapindex xmlns="{SITEMAP_NS}">']
    lines += [f"<sitemap><loc>{escape(url(n))}</loc></sitemap>" for n in range(1, count + 1)]
    lines.append("</sitemapindex>")
    return ("\n".join(lines) + "\n").encode("utf-8")


def robots(sitemap_url: str) -> str:
    """robots.txt: every page allowed, the query spaces disallowed, the sitemap named."""
    lines = ["# fwgraph: every page may be crawled; computed answers over unbounded inputs may not.",
             "User-agent: *", "Allow: /"]
    lines += [f"Disallow: {path}" for path in DISALLOWED]
    lines += ["", f"Sitemap: {sitemap_url}"]
    return "\n".join(lines) + "\n"


__all__ = ["Page", "all_pages", "chunks", "index", "resource_pages", "robots", "urlset"]
