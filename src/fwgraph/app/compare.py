"""The comparison chart on the web: /compare (frameworks) and /compare/interfaces, with CSV and Markdown downloads.

Server-rendered from a GET form (works without JavaScript); the tables come from ``fwgraph.views.chart``, whose
SPARQL queries the page shows and links to the query editor. Every value links to its resource page on
this server (IRIs under the public or the canonical base map to the same path here).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, abort, render_template, request, url_for

from fwgraph.app.http import href, service
from fwgraph.core import formats
from fwgraph.service import ChartError, Table

bp = Blueprint("compare", __name__)


def _view() -> dict[str, Any]:
    """The requested view: as-of, frameworks (slugs; empty = all) and column keys, checked against the graph."""
    as_of = request.args.get("as_of", "today")
    frameworks = [s for s in request.args.getlist("framework") if s.strip()]
    columns = [c for c in request.args.getlist("column") if c.strip()]
    try:
        table = service().compare_table(as_of, frameworks, columns)
    except ChartError as exc:
        abort(400, str(exc))
    return {"as_of": as_of, "frameworks": frameworks, "columns": [c.key for c in table.columns], "table": table}


def _download(body: str, fmt: formats.Format, filename: str) -> Response:
    response = Response(body, content_type=fmt.content_type)
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@bp.get("/compare")
def compare() -> str:
    view = _view()
    table: Table = view["table"]
    qs = request.query_string.decode("ascii", "replace")
    return render_template(
        "compare.html", table=table, as_of=view["as_of"], selected_columns=set(view["columns"]),
        **service().compare_page(table, view["as_of"], view["frameworks"], href),
        csv_url=url_for("compare.compare_csv") + (f"?{qs}" if qs else ""),
        md_url=url_for("compare.compare_md") + (f"?{qs}" if qs else ""))


@bp.get("/compare.csv")
def compare_csv() -> Response:
    return _download(service().table_text(_view()["table"], "csv"), formats.CSV, "compare.csv")


@bp.get("/compare.md")
def compare_md() -> Response:
    return _download(service().table_text(_view()["table"], "md"), formats.MARKDOWN, "compare.md")


@dataclass(frozen=True)
class Aspect:
    """A comparison other than the frameworks' (its table: ``Service.aspect_table``): whether it reads best
    transposed (aspects as rows), and the page's heading and introduction."""

    transposed: bool
    title: str
    intro: str


ASPECTS = {
    "interfaces": Aspect(True, "Server interfaces compared",
                         "The chart's WSGI/ASGI/Twisted notes and its CGI-vs-WSGI table, regenerated from the graph: "
                         "one column per interface; the frameworks are those whose record names the interface."),
    "servers": Aspect(False, "Application servers compared",
                      "The other half of the WSGI/ASGI story: which servers run which interfaces, over which "
                      "protocols, with which worker model — and which frameworks' own documentation names them "
                      "for deployment. Click a column heading to sort."),
}
_ASPECT = "<any(" + ", ".join(ASPECTS) + "):aspect>"


def _shown(aspect: str) -> Table:
    table = service().aspect_table(aspect)
    return table.transposed() if ASPECTS[aspect].transposed else table


@bp.get(f"/compare/{_ASPECT}")
def compare_aspect(aspect: str) -> str:
    spec = ASPECTS[aspect]
    table = service().aspect_table(aspect)
    return render_template(
        "compare_aspect.html", aspect=aspect, spec=spec, aspects=ASPECTS, table=table,
        queries=service().table_queries(table),
        table_html=service().table_text(_shown(aspect), "html", href, sortable=not spec.transposed),
        csv_url=url_for("compare.compare_aspect_csv", aspect=aspect),
        md_url=url_for("compare.compare_aspect_md", aspect=aspect))


@bp.get(f"/compare/{_ASPECT}.csv")
def compare_aspect_csv(aspect: str) -> Response:
    return _download(service().table_text(service().aspect_table(aspect), "csv"), formats.CSV, f"{aspect}.csv")


@bp.get(f"/compare/{_ASPECT}.md")
def compare_aspect_md(aspect: str) -> Response:
    return _download(service().table_text(_shown(aspect), "md"), formats.MARKDOWN, f"{aspect}.md")
