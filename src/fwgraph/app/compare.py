"""The comparison chart on the web: /compare (frameworks) and /compare/interfaces, with CSV and Markdown downloads.

Server-rendered from a GET form (works without JavaScript); the tables come from ``fwgraph.chart``, whose
SPARQL queries the page shows and links to the query editor. Every value links to its resource page on
this server (IRIs under the public or the canonical base map to the same path here).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, abort, render_template, request, url_for

from fwgraph import chart, formats
from fwgraph.app.http import href, service
from fwgraph.namespace import RECORD_KINDS

bp = Blueprint("compare", __name__)


def _view() -> dict[str, Any]:
    """The requested view: as-of, frameworks (slugs; empty = all) and column keys, checked against the graph."""
    as_of = request.args.get("as_of", "today")
    if as_of not in chart.AS_OF:
        abort(400, f"unknown as_of {as_of!r}; choose one of: {', '.join(chart.AS_OF)}")
    frameworks = [s for s in request.args.getlist("framework") if s.strip()]
    columns = [c for c in request.args.getlist("column") if c.strip()]
    try:
        keys = chart.resolve_columns(columns, "today")  # names are checked against every column
    except chart.ChartError as exc:
        abort(400, str(exc))
    if as_of == "chart":
        keys = [k for k in keys if k in chart.CHART_COLUMNS]  # the chart has no licence, release or status
    try:
        table = chart.framework_table(service().engine, frameworks or None, keys if columns else None, as_of)
    except chart.ChartError as exc:
        abort(400, str(exc))
    return {"as_of": as_of, "frameworks": frameworks, "columns": [c.key for c in table.columns], "table": table}


def _download(body: str, fmt: formats.Format, filename: str) -> Response:
    response = Response(body, content_type=fmt.content_type)
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def _queries(table: chart.Table, extra: Sequence[tuple[str, str]] = ()) -> list[dict[str, str]]:
    items = [("The table", table.query), *extra]
    return [{"title": title, "text": text, **chart.editor_links(text)} for title, text in items]


@bp.get("/compare")
def compare() -> str:
    view = _view()
    table: chart.Table = view["table"]
    all_frameworks = chart.framework_slugs(service().engine)
    extra = []
    if view["as_of"] == "today":
        iris = [str(RECORD_KINDS["framework"].iri(s)) for s in view["frameworks"]] if view["frameworks"] else None
        extra.append(("The chart's disputed claims (fw:Correction)",
                      chart.corrections_query(iris)))
    qs = request.query_string.decode("ascii", "replace")
    return render_template(
        "compare.html", table=table, table_html=chart.render_html(table, href, sortable=True),
        as_of=view["as_of"], selected=set(view["frameworks"]) or set(all_frameworks),
        all_frameworks=all_frameworks, columns=chart.FRAMEWORK_COLUMNS, chart_columns=chart.CHART_COLUMNS,
        selected_columns=set(view["columns"]), queries=_queries(table, extra),
        csv_url=url_for("compare.compare_csv") + (f"?{qs}" if qs else ""),
        md_url=url_for("compare.compare_md") + (f"?{qs}" if qs else ""))


@bp.get("/compare.csv")
def compare_csv() -> Response:
    return _download(chart.render_csv(_view()["table"]), formats.CSV, "compare.csv")


@bp.get("/compare.md")
def compare_md() -> Response:
    return _download(chart.render_markdown(_view()["table"]), formats.MARKDOWN, "compare.md")


@dataclass(frozen=True)
class Aspect:
    """A comparison other than the frameworks': its table builder, whether it reads best transposed (aspects as
    rows), and the page's heading and introduction."""

    build: Callable[[Any], chart.Table]
    transposed: bool
    title: str
    intro: str


ASPECTS = {
    "interfaces": Aspect(chart.interface_table, True, "Server interfaces compared",
                         "The chart's WSGI/ASGI/Twisted notes and its CGI-vs-WSGI table, regenerated from the graph: "
                         "one column per interface; the frameworks are those whose record names the interface."),
    "servers": Aspect(chart.server_table, False, "Application servers compared",
                      "The other half of the WSGI/ASGI story: which servers run which interfaces, over which "
                      "protocols, with which worker model — and which frameworks' own documentation names them "
                      "for deployment. Click a column heading to sort."),
}
_ASPECT = "<any(" + ", ".join(ASPECTS) + "):aspect>"


@bp.get(f"/compare/{_ASPECT}")
def compare_aspect(aspect: str) -> str:
    spec = ASPECTS[aspect]
    table = spec.build(service().engine)
    shown = table.transposed() if spec.transposed else table
    return render_template(
        "compare_aspect.html", aspect=aspect, spec=spec, aspects=ASPECTS, table=table, queries=_queries(table),
        table_html=chart.render_html(shown, href, sortable=not spec.transposed),
        csv_url=url_for("compare.compare_aspect_csv", aspect=aspect),
        md_url=url_for("compare.compare_aspect_md", aspect=aspect))


@bp.get(f"/compare/{_ASPECT}.csv")
def compare_aspect_csv(aspect: str) -> Response:
    return _download(chart.render_csv(ASPECTS[aspect].build(service().engine)), formats.CSV, f"{aspect}.csv")


@bp.get(f"/compare/{_ASPECT}.md")
def compare_aspect_md(aspect: str) -> Response:
    spec = ASPECTS[aspect]
    table = spec.build(service().engine)
    return _download(chart.render_markdown(table.transposed() if spec.transposed else table), formats.MARKDOWN,
                     f"{aspect}.md")
