"""The comparison chart, regenerated from the graph: framework and interface tables (``tables``) and their
renderers (``render``).

Every table is computed by a SPARQL query kept here as text (``FRAMEWORKS_TODAY_QUERY``,
``FRAMEWORKS_CHART_QUERY``, ``CORRECTIONS_QUERY``, ``INTERFACES_QUERY``) so that the web page can
show the query it ran and link to the query editor. The table queries return one row per framework
(or interface); a multi-valued column comes back as ``GROUP_CONCAT`` of ``"<IRI> <label>"`` lines,
which :func:`_values` splits into (label, IRI) pairs.

Two views of the frameworks (``as_of``):

``chart``
    The seed chart, reproduced from its ``fw:ChartRow`` records only: 13 rows in the chart's order
    (``fw:rowNumber``), columns Framework, Type, Performance, Async Support, Features, Homepage.
``today``
    The current facts of every ``fw:WebFramework`` record (plus licence, first release, maintenance
    status). A cell where a ``fw:Correction`` exists carries the dispute (the chart's claim, today's
    value, the comment and the sources), rendered as a footnote. Performance is not a fact: the column
    shows the chart's subjective rating, attributed to the chart, or "—" where the chart has no row.

Normalisation of the chart's wording (what ``--as-of chart`` prints, and what the tests compare):

* Framework: the framework's ``rdfs:label`` without Markdown emphasis ("**Django**" → "Django").
* Type (interface): interface labels joined with "/" in the fixed order WSGI, ASGI, RSGI, Twisted,
  CGI, own server — the order the chart uses ("WSGI/Twisted", "WSGI/ASGI"); the graph keeps a row's
  interfaces as an unordered set. A chart row that says ``iface:own-server`` shows that interface's
  ``skos:altLabel`` "Custom", the chart's word (today's view says "Own server", its ``rdfs:label``).
* Performance and Async Support: the concept's ``skos:prefLabel`` ("Very High", "Yes (via Twisted)").
* Features: each feature normalised to its concept's ``skos:prefLabel`` ("WebSocket support" →
  "WebSockets", "Automatic OpenAPI" → "OpenAPI generation", "Admin panel" → "Admin UI", "Jinja2
  templating" → "Jinja2"), sorted case-insensitively and joined with ", " (the graph keeps features
  as a set, so the chart's own order is not reproduced).
* Homepage: the URL of the chart's Markdown link ("[Sanic](https://sanic.dev/)" → "https://sanic.dev/").
* Licence (today only): the SPDX identifier for SPDX licence IRIs, else the licence's label.
"""

from fwgraph.views.chart.render import (
    render,
    render_csv,
    render_html,
    render_json,
    render_markdown,
    render_table,
)
from fwgraph.views.chart.tables import (
    AS_OF,
    CHART_COLUMNS,
    FORMATS,
    FRAMEWORK_COLUMNS,
    INTERFACE_COLUMNS,
    SERVER_COLUMNS,
    Cell,
    ChartError,
    Column,
    Dispute,
    Table,
    corrections,
    corrections_query,
    editor_links,
    framework_slugs,
    framework_table,
    interface_table,
    resolve_columns,
    server_table,
)

__all__ = ["AS_OF", "CHART_COLUMNS", "FORMATS", "FRAMEWORK_COLUMNS", "INTERFACE_COLUMNS", "SERVER_COLUMNS", "Cell",
           "ChartError", "Column", "Dispute", "Table", "corrections", "corrections_query", "editor_links",
           "framework_slugs", "framework_table", "interface_table", "resolve_columns", "server_table",
           "render", "render_csv", "render_html", "render_json", "render_markdown", "render_table"]
