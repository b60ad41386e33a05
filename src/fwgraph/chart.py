"""The comparison chart, regenerated from the graph: framework and interface tables, and their renderers.

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

from __future__ import annotations

import csv
import html
import io
import json
import re
import textwrap
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote

from fwgraph.namespace import BASE, PREFIXES

#: Interfaces in the order the chart names them ("WSGI/Twisted", "WSGI/ASGI").
INTERFACE_ORDER = ["wsgi", "asgi", "rsgi", "twisted", "cgi", "own-server"]
AS_OF = ("chart", "today")
FORMATS = ("table", "markdown", "csv", "html", "json")
SOURCE_CHART = BASE + "source/chart"


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    property: str | None = None  # the property a Correction's fw:onProperty names for this column
    description: str = ""


_FW = BASE + "ns#"
_DOAP = "http://usefulinc.com/ns/doap#"
FRAMEWORK_COLUMNS: dict[str, Column] = {c.key: c for c in [
    Column("framework", "Framework"),
    Column("interface", "Type", _FW + "interface", "server interfaces the framework targets or runs on"),
    Column("performance", "Performance", _FW + "performanceTier", "the chart's subjective rating"),
    Column("async", "Async Support", _FW + "asyncSupport"),
    Column("features", "Features", _FW + "feature"),
    Column("homepage", "Homepage", _DOAP + "homepage"),
    Column("licence", "Licence", _DOAP + "license"),
    Column("first-release", "First Release", _FW + "firstReleaseYear"),
    Column("maintenance", "Maintenance", _FW + "maintenanceStatus"),
]}
CHART_COLUMNS = ["framework", "interface", "performance", "async", "features", "homepage"]
DEFAULT_COLUMNS = {"chart": CHART_COLUMNS, "today": list(FRAMEWORK_COLUMNS)}
#: Alternative spellings accepted for column keys (CLI and web).
COLUMN_ALIASES = {"type": "interface", "interfaces": "interface", "async-support": "async",
                  "license": "licence", "first_release": "first-release", "release": "first-release",
                  "status": "maintenance", "maintenance-status": "maintenance", "feature": "features",
                  "name": "framework"}

INTERFACE_COLUMNS: dict[str, Column] = {c.key: c for c in [
    Column("interface", "Interface"),
    Column("synchrony", "Synchrony"),
    Column("long-lived", "Long-lived connections"),
    Column("execution", "Execution Model"),
    Column("performance", "Performance"),
    Column("concurrency", "Concurrency"),
    Column("statefulness", "Statefulness"),
    Column("scalability", "Scalability"),
    Column("modern-use", "Modern Use"),
    Column("specification", "Specification"),
    Column("frameworks", "Frameworks"),
]}


def sparql_prologue() -> str:
    """The PREFIX lines the chart's queries use (only those, to keep the queries short)."""
    names = ("fw", "framework", "iface", "rdfs", "skos", "dcterms", "doap", "spdx")
    return "".join(f"PREFIX {p}: <{PREFIXES[p]}>\n" for p in names)


class ChartError(ValueError):
    """An unknown framework slug, column or option."""


# --------------------------------------------------------------------------------------------
# Queries
# --------------------------------------------------------------------------------------------

def _pairs(var: str, label: str) -> str:
    return f'(GROUP_CONCAT(DISTINCT CONCAT(STR(?{var}), " ", STR(?{label})); separator="\\n") AS ?{var}s)'


FRAMEWORKS_TODAY_QUERY = sparql_prologue() + f"""# fwgraph chart --as-of today: one row per framework, current facts;
# performance is the chart's (subjective) rating from its chart row, if it has one.
SELECT ?framework ?name
  {_pairs("interface", "interfaceLabel")}
  {_pairs("tier", "tierLabel")}
  {_pairs("async", "asyncLabel")}
  {_pairs("feature", "featureLabel")}
  (GROUP_CONCAT(DISTINCT STR(?homepage); separator="\\n") AS ?homepages)
  {_pairs("licence", "licenceLabel")}
  (SAMPLE(STR(?year)) AS ?firstRelease)
  {_pairs("status", "statusLabel")}
WHERE {{
  #VALUES#
  ?framework a fw:WebFramework ; rdfs:label ?name .
  OPTIONAL {{ ?framework fw:interface ?interface . ?interface rdfs:label ?interfaceLabel }}
  OPTIONAL {{ ?row a fw:ChartRow ; fw:claimAbout ?framework ; fw:performanceTier ?tier .
             ?tier skos:prefLabel ?tierLabel }}
  OPTIONAL {{ ?framework fw:asyncSupport ?async . ?async skos:prefLabel ?asyncLabel }}
  OPTIONAL {{ ?framework fw:feature ?feature . ?feature skos:prefLabel ?featureLabel }}
  OPTIONAL {{ ?framework doap:homepage ?homepage }}
  OPTIONAL {{ ?framework doap:license ?licence .
             OPTIONAL {{ ?licence rdfs:label ?licenceName }}
             BIND(IF(STRSTARTS(STR(?licence), STR(spdx:)), STRAFTER(STR(?licence), STR(spdx:)),
                     COALESCE(?licenceName, STR(?licence))) AS ?licenceLabel) }}
  OPTIONAL {{ ?framework fw:firstReleaseYear ?year }}
  OPTIONAL {{ ?framework fw:maintenanceStatus ?status . ?status skos:prefLabel ?statusLabel }}
}}
GROUP BY ?framework ?name
ORDER BY LCASE(?name)
"""

FRAMEWORKS_CHART_QUERY = sparql_prologue() + f"""# fwgraph chart --as-of chart: the seed chart's 13 rows,
# from its fw:ChartRow claims only.
# An own-server interface is shown with its skos:altLabel "Custom", the chart's word.
SELECT ?framework ?name ?rowNumber
  {_pairs("interface", "interfaceLabel")}
  {_pairs("tier", "tierLabel")}
  {_pairs("async", "asyncLabel")}
  {_pairs("feature", "featureLabel")}
  (GROUP_CONCAT(DISTINCT STR(?homepage); separator="\\n") AS ?homepages)
WHERE {{
  #VALUES#
  ?row a fw:ChartRow ; fw:claimAbout ?framework ; fw:rowNumber ?rowNumber .
  ?framework rdfs:label ?name .
  OPTIONAL {{ ?row fw:interface ?interface . ?interface rdfs:label ?plainLabel .
             OPTIONAL {{ ?interface skos:altLabel ?custom FILTER(?interface = iface:own-server) }}
             BIND(COALESCE(?custom, ?plainLabel) AS ?interfaceLabel) }}
  OPTIONAL {{ ?row fw:performanceTier ?tier . ?tier skos:prefLabel ?tierLabel }}
  OPTIONAL {{ ?row fw:asyncSupport ?async . ?async skos:prefLabel ?asyncLabel }}
  OPTIONAL {{ ?row fw:feature ?feature . ?feature skos:prefLabel ?featureLabel }}
  OPTIONAL {{ ?row doap:homepage ?homepage }}
}}
GROUP BY ?framework ?name ?rowNumber
ORDER BY ?rowNumber
"""

CORRECTIONS_QUERY = sparql_prologue() + """# Where the chart differs from today: one row per fw:Correction.
SELECT ?correction ?framework ?property ?chartValue ?chartLabel ?currentValue ?currentLabel
  (SAMPLE(STR(?comment)) AS ?note) (SAMPLE(STR(?title)) AS ?label)
  (GROUP_CONCAT(DISTINCT STR(?source); separator="\\n") AS ?sources)
WHERE {
  #VALUES#
  ?correction a fw:Correction ; fw:claimAbout ?framework ; fw:onProperty ?property .
  OPTIONAL { ?correction fw:chartValue ?chartValue .
             OPTIONAL { ?chartValue skos:prefLabel ?chartPref } OPTIONAL { ?chartValue rdfs:label ?chartPlain }
             BIND(COALESCE(?chartPref, ?chartPlain, STR(?chartValue)) AS ?chartLabel) }
  OPTIONAL { ?correction fw:currentValue ?currentValue .
             OPTIONAL { ?currentValue skos:prefLabel ?curPref } OPTIONAL { ?currentValue rdfs:label ?curPlain }
             BIND(COALESCE(?curPref, ?curPlain, STR(?currentValue)) AS ?currentLabel) }
  OPTIONAL { ?correction rdfs:comment ?comment }
  OPTIONAL { ?correction rdfs:label ?title }
  OPTIONAL { ?correction dcterms:source ?source }
}
GROUP BY ?correction ?framework ?property ?chartValue ?chartLabel ?currentValue ?currentLabel
ORDER BY ?framework ?property ?correction
"""

INTERFACES_QUERY = sparql_prologue() + f"""# fwgraph chart --interfaces: one row per server interface,
# with the frameworks that use it.
SELECT ?interface ?name
  {_pairs("synchrony", "synchronyLabel")}
  (SAMPLE(STR(?longLived)) AS ?longLivedConnections)
  {_pairs("execution", "executionLabel")}
  (SAMPLE(STR(?perf)) AS ?performance) (SAMPLE(STR(?conc)) AS ?concurrency)
  (SAMPLE(STR(?state)) AS ?statefulness) (SAMPLE(STR(?scale)) AS ?scalability)
  (SAMPLE(STR(?modern)) AS ?modernUse)
  {_pairs("spec", "specLabel")}
  {_pairs("framework", "frameworkLabel")}
WHERE {{
  ?interface a fw:ServerInterface ; rdfs:label ?name .
  OPTIONAL {{ ?interface fw:synchrony ?synchrony . ?synchrony skos:prefLabel ?synchronyLabel }}
  OPTIONAL {{ ?interface fw:supportsLongLivedConnections ?longLived }}
  OPTIONAL {{ ?interface fw:executionModel ?execution . ?execution skos:prefLabel ?executionLabel }}
  OPTIONAL {{ ?interface fw:performanceNote ?perf }}
  OPTIONAL {{ ?interface fw:concurrency ?conc }}
  OPTIONAL {{ ?interface fw:statefulness ?state }}
  OPTIONAL {{ ?interface fw:scalability ?scale }}
  OPTIONAL {{ ?interface fw:modernUse ?modern }}
  OPTIONAL {{ {{ ?interface fw:specification ?spec }} UNION {{ ?interface fw:providedBy ?spec }}
             ?spec rdfs:label ?specLabel }}
  OPTIONAL {{ ?framework a fw:WebFramework ; fw:interface ?interface ; rdfs:label ?frameworkLabel }}
}}
GROUP BY ?interface ?name
ORDER BY ?name
"""


def editor_links(query_text: str) -> dict[str, str]:
    """Links that open ``query_text`` in the SPARQL endpoint's HTML view and in the landing page editor."""
    q = quote(query_text, safe="")
    return {"sparql": f"/sparql?query={q}&format=html", "editor": f"/?query={q}"}


# --------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------

@dataclass
class Dispute:
    """Where the chart's claim differs from today (one fw:Correction)."""

    correction: str
    chart: tuple[str, str] | None  # (label, IRI) the chart claims; None when the chart omits a value
    today: tuple[str, str] | None  # (label, IRI) that holds today; None when nothing replaces the claim
    comment: str
    sources: list[str]
    label: str = ""

    def summary(self) -> str:
        chart = self.chart[0] if self.chart else "(not listed)"
        today = self.today[0] if self.today else "(not so)"
        return f"the chart says {chart}; today: {today}"

    def to_json(self) -> dict[str, Any]:
        def pair(p):
            return ({"label": p[0], "iri": p[1]} if p else None)
        return {"correction": self.correction, "label": self.label, "chart": pair(self.chart),
                "today": pair(self.today), "comment": self.comment, "sources": self.sources}


@dataclass
class Cell:
    text: str
    values: list[tuple[str, str | None]] = field(default_factory=list)  # (label, IRI or None)
    disputes: list[Dispute] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "values": [{"label": label, "iri": iri} for label, iri in self.values],
                "disputes": [d.to_json() for d in self.disputes]}


@dataclass
class Table:
    title: str
    columns: list[Column]
    rows: list[list[Cell]]
    subjects: list[str]  # the IRI each row is about
    query: str
    as_of: str = "today"
    notes: list[str] = field(default_factory=list)

    def footnotes(self) -> list[tuple[int, str, str, Dispute]]:
        """(number, row name, column title, dispute) in reading order, numbered from 1."""
        out: list[tuple[int, str, str, Dispute]] = []
        for row in self.rows:
            for col, cell in zip(self.columns, row, strict=True):
                for d in cell.disputes:
                    out.append((len(out) + 1, row[0].text, col.title, d))
        return out

    def transposed(self) -> Table:
        """Aspects as rows, one column per subject (the layout of the chart's CGI-vs-WSGI table)."""
        cols = [Column("aspect", "Feature")] + [Column(f"s{i}", r[0].text) for i, r in enumerate(self.rows)]
        rows = [[Cell(c.title)] + [r[j] for r in self.rows] for j, c in enumerate(self.columns) if j > 0]
        return Table(self.title, cols, rows, [c.key for c in self.columns[1:]], self.query, self.as_of, self.notes)

    def to_json(self) -> dict[str, Any]:
        return {"title": self.title, "as_of": self.as_of,
                "columns": [{"key": c.key, "title": c.title} for c in self.columns],
                "rows": [{"subject": s, "cells": [c.to_json() for c in row]}
                         for s, row in zip(self.subjects, self.rows, strict=True)],
                "notes": self.notes, "query": self.query}


def _values(term: Any) -> list[tuple[str, str]]:
    """Split a GROUP_CONCAT of "<IRI> <label>" lines into (label, IRI) pairs."""
    if term is None or not term.value:
        return []
    out = []
    for line in term.value.split("\n"):
        iri, _, label = line.partition(" ")
        out.append((label or iri, iri))
    return out


def _iface_key(pair: tuple[str, str | None]) -> tuple[int, str]:
    slug = (pair[1] or "").rsplit("/", 1)[-1]
    return (INTERFACE_ORDER.index(slug) if slug in INTERFACE_ORDER else len(INTERFACE_ORDER), pair[0])


def _cell(values: Sequence[tuple[str, str | None]], *, sep: str = ", ", key: Callable | None = None) -> Cell:
    values = sorted(values, key=key or (lambda p: (p[0].casefold(), p[0])))
    return Cell(sep.join(label for label, _ in values) if values else "—", values)


def _slug(iri: str) -> str:
    return iri.rstrip("/").rsplit("/", 1)[-1]


def _query(engine: Any, text: str) -> Any:
    from fwgraph.engine import run

    return run(engine, text, max_rows=100_000)


def framework_slugs(engine: Any) -> dict[str, str]:
    """Every framework's slug → its label."""
    q = sparql_prologue() + "SELECT ?f ?l WHERE { ?f a fw:WebFramework ; rdfs:label ?l } ORDER BY LCASE(?l)"
    return {_slug(r[0].value): r[1].value for r in _query(engine, q).rows}


def resolve_columns(columns: Iterable[str] | None, as_of: str) -> list[str]:
    """Column keys for ``columns`` (names or aliases, comma lists allowed); Framework always comes first."""
    if as_of not in AS_OF:
        raise ChartError(f"unknown --as-of {as_of!r}; choose one of: {', '.join(AS_OF)}")
    if not columns:
        return list(DEFAULT_COLUMNS[as_of])
    keys: list[str] = []
    for raw in columns:
        for name in str(raw).split(","):
            name = name.strip().lower().replace(" ", "-")
            if not name:
                continue
            key = COLUMN_ALIASES.get(name, name)
            if key not in FRAMEWORK_COLUMNS:
                raise ChartError(f"unknown column {name!r}; choose from: {', '.join(FRAMEWORK_COLUMNS)}")
            if as_of == "chart" and key not in CHART_COLUMNS:
                raise ChartError(f"column {name!r} is not in the chart; --as-of chart has: {', '.join(CHART_COLUMNS)}")
            if key not in keys:
                keys.append(key)
    if "framework" in keys:
        keys.remove("framework")
    return ["framework", *keys]


def _values_clause(iris: list[str] | None, var: str = "framework") -> str:
    if iris is None:
        return ""
    return f"VALUES ?{var} {{ {' '.join(f'<{i}>' for i in iris)} }}"


def corrections_query(frameworks: list[str] | None = None) -> str:
    """CORRECTIONS_QUERY restricted to the frameworks with these IRIs (None = all)."""
    return CORRECTIONS_QUERY.replace("#VALUES#", _values_clause(frameworks))


def corrections(engine: Any, frameworks: list[str] | None = None) -> dict[tuple[str, str], list[Dispute]]:
    """(framework IRI, property IRI) → the disputes about it."""
    text = corrections_query(frameworks)
    res = _query(engine, text)
    idx = {v: i for i, v in enumerate(res.variables)}
    out: dict[tuple[str, str], list[Dispute]] = {}
    for r in res.rows:
        def get(name, row=r):
            return (row[idx[name]].value if row[idx[name]] is not None else None)
        chart = (get("chartLabel"), get("chartValue")) if get("chartValue") else None
        today = (get("currentLabel"), get("currentValue")) if get("currentValue") else None
        d = Dispute(get("correction"), chart, today, get("note") or "",
                    sorted((get("sources") or "").split("\n")) if get("sources") else [], get("label") or "")
        out.setdefault((get("framework"), get("property")), []).append(d)
    return out


def framework_table(engine: Any, frameworks: Sequence[str] | None = None, columns: Iterable[str] | None = None,
                    as_of: str = "today") -> Table:
    """The framework comparison. ``frameworks``: slugs (None = all); ``columns``: keys (None = defaults).

    Raises ChartError for an unknown slug, column or ``as_of``.
    """
    keys = resolve_columns(columns, as_of)
    iris: list[str] | None = None
    notes: list[str] = []
    if frameworks:
        known = framework_slugs(engine)
        unknown = [s for s in frameworks if s not in known]
        if unknown:
            raise ChartError(f"unknown framework slug(s): {', '.join(unknown)}; known: {', '.join(known)}")
        iris = [f"{BASE}framework/{s}" for s in dict.fromkeys(frameworks)]
    text = (FRAMEWORKS_CHART_QUERY if as_of == "chart" else FRAMEWORKS_TODAY_QUERY).replace(
        "#VALUES#", _values_clause(iris))
    res = _query(engine, text)
    idx = {v: i for i, v in enumerate(res.variables)}
    disputes = corrections(engine, iris) if as_of == "today" else {}
    rows: list[list[Cell]] = []
    subjects: list[str] = []
    for r in res.rows:
        fw_iri, name = r[idx["framework"]].value, r[idx["name"]].value
        hp = r[idx["homepages"]]
        homepages = [(h, h) for h in (hp.value.split("\n") if hp is not None and hp.value else [])]
        cells = {
            "framework": Cell(name, [(name, fw_iri)]),
            "interface": _cell(_values(r[idx["interfaces"]]), sep="/", key=_iface_key),
            "performance": _cell(_values(r[idx["tiers"]])),
            "async": _cell(_values(r[idx["asyncs"]])),
            "features": _cell(_values(r[idx["features"]])),
            "homepage": _cell(homepages, sep=" "),
        }
        if as_of == "today":
            year = r[idx["firstRelease"]].value if r[idx["firstRelease"]] is not None else None
            cells["licence"] = _cell(_values(r[idx["licences"]]))
            cells["first-release"] = Cell(year or "—", [(year, None)] if year else [])
            cells["maintenance"] = _cell(_values(r[idx["statuss"]]))
            for key in keys:
                col = FRAMEWORK_COLUMNS[key]
                if col.property:
                    cells[key].disputes = disputes.get((fw_iri, col.property), [])
        rows.append([cells[k] for k in keys])
        subjects.append(fw_iri)
    if as_of == "chart":
        title = "Python web framework comparison chart (as the chart states it)"
        if iris is not None:
            missing = sorted(set(iris) - set(subjects))
            if missing:
                notes.append("Not in the chart: " + ", ".join(_slug(m) for m in missing) + ".")
        notes.append("Values as the chart states them (possibly outdated); names normalised to the graph's "
                     "labels. Source: " + SOURCE_CHART)
    else:
        title = "Python web framework comparison (current facts)"
        if "performance" in keys:
            notes.append("Performance is the chart's subjective rating (an opinion, not a benchmark), "
                         "attributed to the chart; — where the chart has no row.")
        if "features" in keys:
            notes.append("Features lists what each framework has built in; the chart's descriptive "
                         "characteristics (Fast, Lightweight, Simple, ...) appear only --as-of chart.")
        if any(c.disputes for row in rows for c in row):
            notes.append("[n] marks a cell where the chart's claim differs from today; see the notes below.")
    shown = [FRAMEWORK_COLUMNS[k] for k in keys]
    if as_of == "today":  # the rating is the chart's opinion, not a current fact: say whose it is
        shown = [replace(c, title="Performance (chart)") if c.key == "performance" else c for c in shown]
    return Table(title, shown, rows, subjects, text, as_of, notes)


def interface_table(engine: Any) -> Table:
    """The interface comparison: one row per server interface, in the chart's order."""
    res = _query(engine, INTERFACES_QUERY)
    idx = {v: i for i, v in enumerate(res.variables)}
    items = []
    for r in res.rows:
        iri, name = r[idx["interface"]].value, r[idx["name"]].value

        def text(var: str, row: Any = r) -> Cell:
            t = row[idx[var]]
            return Cell(t.value, [(t.value, None)]) if t is not None and t.value else Cell("—")

        long_lived = r[idx["longLivedConnections"]]
        ll = {"true": "Yes", "1": "Yes", "false": "No", "0": "No"}.get(long_lived.value) if long_lived else None
        cells = [
            Cell(name, [(name, iri)]),
            _cell(_values(r[idx["synchronys"]])),
            Cell(ll or "—", [(ll, None)] if ll else []),
            _cell(_values(r[idx["executions"]])),
            text("performance"), text("concurrency"), text("statefulness"), text("scalability"),
            text("modernUse"),
            _cell(_values(r[idx["specs"]]), sep="; "),
            _cell(_values(r[idx["frameworks"]])),
        ]
        items.append((_iface_key((name, iri)), iri, cells))
    items.sort(key=lambda t: t[0])
    return Table("Server interfaces compared", list(INTERFACE_COLUMNS.values()), [c for _, _, c in items],
                 [i for _, i, _ in items], INTERFACES_QUERY, "today",
                 ["Frameworks: those in the graph whose record names the interface (?f fw:interface ?i)."])


# --------------------------------------------------------------------------------------------
# Renderers
# --------------------------------------------------------------------------------------------

def _marked(table: Table) -> list[list[str]]:
    """Cell texts with footnote markers "[n]" appended to disputed cells."""
    n = 0
    out = []
    for row in table.rows:
        texts = []
        for cell in row:
            marks = []
            for _ in cell.disputes:
                n += 1
                marks.append(str(n))
            texts.append(cell.text + (f" [{','.join(marks)}]" if marks else ""))
        out.append(texts)
    return out


def _footnote_lines(table: Table) -> list[str]:
    lines = []
    for n, row, col, d in table.footnotes():
        text = f"[{n}] {row}, {col}: {d.summary()}."
        if d.comment:
            text += " " + d.comment
        lines.append(text)
        lines.extend(f"    {s}" for s in d.sources)
    return lines


_BREAK = re.compile(r"\S+?(?:[/,-](?=\S)|(?=\s)|$)")


def _wrap(text: str, width: int) -> list[str]:
    """Greedy wrap that may break after "/", "," and "-" and hard-breaks words longer than ``width``."""
    lines: list[str] = []
    for para in text.split("\n"):
        line = ""
        for m in re.finditer(r"(\s*)(\S+)", para):
            space, word = m.group(1), m.group(2)
            for k, piece in enumerate(_BREAK.findall(word)):
                glue = " " if (k == 0 and space and line) else ""
                if len(line) + len(glue) + len(piece) <= width:
                    line += glue + piece
                    continue
                if line:
                    lines.append(line)
                line = ""
                while len(piece) > width:
                    lines.append(piece[:width])
                    piece = piece[width:]
                line = piece
        lines.append(line)
    return lines or [""]


def _wrap_block(text: str, width: int, indent: str = "") -> list[str]:
    return textwrap.wrap(text, width, subsequent_indent=indent, break_long_words=True,
                         break_on_hyphens=False) or [""]


def render_table(table: Table, width: int = 80) -> str:
    """A plain-text table that fits ``width`` columns: cells wrap; URLs are abbreviated with a legend."""
    texts = _marked(table)
    legend: list[str] = []
    short: dict[str, str] = {}
    for row in texts:
        for j, t in enumerate(row):
            if re.fullmatch(r"https?://\S+(?: \[[\d,]+\])?", t):
                url, _, mark = t.partition(" ")
                if url not in short:
                    short[url] = f"~{len(short) + 1}"
                    legend.append(f"{short[url]:<4} {url}")
                row[j] = short[url] + (f" {mark}" if mark else "")
    headers = [c.title for c in table.columns]
    out = [table.title if len(table.title) <= width else table.title[: width - 1] + "…", ""]
    for k, group in enumerate(_column_groups(headers, texts, width)):
        if k:
            out.append("")
        out += _block([headers[j] for j in group], [[r[j] for j in group] for r in texts], width)
    if legend:
        out += ["", "Links:"] + [ln for item in legend for ln in _wrap_block(item, width, " " * 5)]
    if table.notes:
        out.append("")
        out += [ln for note in table.notes for ln in _wrap_block(note, width, "  ")]
    foot = _footnote_lines(table)
    if foot:
        out += ["", "Where the chart differs from today:"]
        for f in foot:
            if f.startswith("    "):  # a source URL: on its own line, indented as far as it fits
                url = f.strip()
                pad = max(0, min(4, width - len(url)))
                out += [" " * pad + url[i:i + width - pad] for i in range(0, len(url), width - pad)]
            else:
                out += _wrap_block(f, width, "    ")
    return "\n".join(out) + "\n"


_GAP = 2
_COMFORT = 28  # a column wider than this wraps rather than push other columns into another block


def _column_groups(headers: list[str], texts: list[list[str]], width: int) -> list[list[int]]:
    """Split the columns into blocks that fit ``width``, each block led by the first column."""
    natural = [max(len(x) for x in [headers[j]] + [r[j] for r in texts]) for j in range(len(headers))]
    cap = [min(n, _COMFORT) for n in natural]
    groups: list[list[int]] = []
    cur = [0]
    for j in range(1, len(headers)):
        if len(cur) > 1 and sum(cap[k] for k in cur + [j]) + _GAP * len(cur) > width:
            groups.append(cur)
            cur = [0]
        cur.append(j)
    groups.append(cur)
    return groups


def _block(headers: list[str], texts: list[list[str]], width: int) -> list[str]:
    """One block of columns, wrapped to fit ``width``."""
    ncol = len(headers)
    avail = width - _GAP * (ncol - 1)
    natural = [max(len(x) for x in [headers[j]] + [r[j] for r in texts]) for j in range(ncol)]

    def longest_word(s: str) -> int:
        return max((len(p) for p in _BREAK.findall(s)), default=0)

    minimum = [max(3, min(14, max(longest_word(x) for x in [headers[j]] + [r[j] for r in texts])))
               for j in range(ncol)]
    while sum(minimum) > avail and max(minimum) > 3:
        minimum[minimum.index(max(minimum))] -= 1
    widths = list(minimum)
    spare = avail - sum(widths)
    while spare > 0:
        grow = [j for j in range(ncol) if widths[j] < natural[j]]
        if not grow:
            break
        j = max(grow, key=lambda j: (natural[j] - widths[j]) / natural[j])  # the most squeezed column
        widths[j] += 1
        spare -= 1

    def line(cells: list[list[str]]) -> list[str]:
        height = max(len(c) for c in cells)
        return [(" " * _GAP).join((c[i] if i < len(c) else "").ljust(widths[j])
                                  for j, c in enumerate(cells)).rstrip() for i in range(height)]

    out = line([_wrap(h, widths[j]) for j, h in enumerate(headers)])
    out.append((" " * _GAP).join("-" * w for w in widths))
    for row in texts:
        out += line([_wrap(t, widths[j]) for j, t in enumerate(row)])
    return out


def _md_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def render_markdown(table: Table) -> str:
    """A GitHub-flavoured Markdown table; "|" in cells is escaped; notes and footnotes follow as a list."""
    texts = _marked(table)
    lines = ["| " + " | ".join(_md_escape(c.title) for c in table.columns) + " |",
             "| " + " | ".join("---" for _ in table.columns) + " |"]
    lines += ["| " + " | ".join(_md_escape(t) for t in row) + " |" for row in texts]
    extra = [f"- {_md_escape(n)}" for n in table.notes]
    for n, row, col, d in table.footnotes():
        srcs = ", ".join(f"<{s}>" for s in d.sources)
        extra.append(f"- \\[{n}\\] {_md_escape(row)}, {_md_escape(col)}: {_md_escape(d.summary())}. "
                     f"{_md_escape(d.comment)} Sources: {srcs}".rstrip())
    if extra:
        lines += [""] + extra
    return "\n".join(lines) + "\n"


def render_csv(table: Table) -> str:
    """CSV: a header row of column titles, then one row of cell texts per subject (no footnote markers)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([c.title for c in table.columns])
    for row in table.rows:
        writer.writerow([cell.text for cell in row])
    return buf.getvalue()


def render_json(table: Table) -> str:
    return json.dumps(table.to_json(), ensure_ascii=False, indent=2) + "\n"


def local_link(base: str = BASE, prefix: str = "") -> Callable[[str], str]:
    """Map IRIs under ``base`` to the same path on this server (``prefix`` + path); others stay as they are."""
    def link(iri: str) -> str:
        if iri.startswith(base):
            return prefix + "/" + iri[len(base):]
        return iri
    return link


def render_html(table: Table, link: Callable[[str], str] | None = None, *, sortable: bool = False) -> str:
    """An HTML fragment: a <table> whose values link (through ``link``) and whose disputes are shown inline."""
    link = link or (lambda iri: iri)
    e = html.escape
    notes = {id(d): n for n, _, _, d in table.footnotes()}
    out = [f'<table class="fwgraph-chart" data-as-of="{e(table.as_of)}">',
           f"<caption>{e(table.title)}</caption>", "<thead><tr>"]
    for c in table.columns:
        attrs = f' data-key="{e(c.key)}"' + (' aria-sort="none"' if sortable else "")
        out.append(f'<th scope="col"{attrs}>{e(c.title)}</th>')
    out.append("</tr></thead><tbody>")
    for subject, row in zip(table.subjects, table.rows, strict=True):
        out.append(f'<tr data-subject="{e(subject)}">')
        for j, (col, cell) in enumerate(zip(table.columns, row, strict=True)):
            tag = "th scope=\"row\"" if j == 0 else "td"
            cls = ' class="disputed"' if cell.disputes else ""
            parts = []
            for label, iri in cell.values:
                if iri:
                    parts.append(f'<a href="{e(link(iri))}">{e(label)}</a>')
                else:
                    parts.append(e(label))
            sep = "/" if col.key == "interface" else ", "
            body = sep.join(parts) if parts else e(cell.text)
            for d in cell.disputes:
                n = notes[id(d)]
                chart = _html_value(d.chart, link, "not listed")
                today = _html_value(d.today, link, "not so")
                srcs = " ".join(f'<a href="{e(s)}" rel="external">[{i}]</a>' for i, s in
                                enumerate(d.sources, 1))
                body += (f'<div class="dispute" id="note-{n}"><sup>{n}</sup> chart: {chart} · today: {today}'
                         f' <span class="sources">sources: {srcs}</span>'
                         + (f'<div class="comment">{e(d.comment)}</div>' if d.comment else "") + "</div>")
            out.append(f'<{tag} data-column="{e(col.key)}"{cls} data-value="{e(cell.text)}">{body}</{tag.split()[0]}>')
        out.append("</tr>")
    out.append("</tbody></table>")
    if table.notes:
        out.append('<ul class="chart-notes">' + "".join(f"<li>{e(n)}</li>" for n in table.notes) + "</ul>")
    return "\n".join(out) + "\n"


def _html_value(pair: tuple[str, str] | None, link: Callable[[str], str], missing: str) -> str:
    if pair is None:
        return f"<em>{html.escape(missing)}</em>"
    return f'<a href="{html.escape(link(pair[1]))}">{html.escape(pair[0])}</a>'


def render(table: Table, fmt: str, **kwargs: Any) -> str:
    """Render ``table`` as table, markdown, csv, html or json."""
    if fmt == "table":
        return render_table(table, **kwargs)
    if fmt == "markdown":
        return render_markdown(table)
    if fmt == "csv":
        return render_csv(table)
    if fmt == "html":
        return render_html(table, **kwargs)
    if fmt == "json":
        return render_json(table)
    raise ChartError(f"unknown format {fmt!r}; choose one of: {', '.join(FORMATS)}")
