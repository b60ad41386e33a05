"""The comparison chart's model and builders: columns, cells, disputes, tables, and the SPARQL queries they run.

The queries are kept as text (``FRAMEWORKS_TODAY_QUERY``, ``FRAMEWORKS_CHART_QUERY``, ``CORRECTIONS_QUERY``,
``INTERFACES_QUERY``) so the web page can show the query it ran and link to the query editor; they name terms
by prefix (the project's PREFIXES), and the columns name properties by the typed namespaces.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote

from rdflib.namespace import DOAP

from fwgraph.core.namespace import BASE, FW, PREFIXES, RECORD_KINDS

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


FRAMEWORK_COLUMNS: dict[str, Column] = {c.key: c for c in [
    Column("framework", "Framework"),
    Column("interface", "Type", str(FW.interface), "server interfaces the framework targets or runs on"),
    Column("performance", "Performance", str(FW.performanceTier), "the chart's subjective rating"),
    Column("measured", "JSON requests/s (measured)", None,
           "the latest published JSON API result of klen/py-frameworks-bench, with its date and version"),
    Column("async", "Async Support", str(FW.asyncSupport)),
    Column("features", "Features", str(FW.feature)),
    Column("homepage", "Homepage", str(DOAP.homepage)),
    Column("licence", "Licence", str(DOAP.license)),
    Column("first-release", "First Release", str(FW.firstReleaseYear)),
    Column("maintenance", "Maintenance", str(FW.maintenanceStatus)),
    Column("latest", "Latest release", str(FW.latestRelease)),
    Column("python", "Python", str(FW.requiresPython), "requires-python of the latest release"),
    Column("typed", "Typed", str(FW.typed), "ships type information (py.typed)"),
    Column("servers", "Servers", str(FW.deploysOn), "servers its own documentation names for deployment"),
]}
CHART_COLUMNS = ["framework", "interface", "performance", "async", "features", "homepage"]
DEFAULT_COLUMNS = {"chart": CHART_COLUMNS,
                   "today": [*CHART_COLUMNS, "licence", "first-release", "maintenance"]}
#: Alternative spellings accepted for column keys (CLI and web).
COLUMN_ALIASES = {"type": "interface", "interfaces": "interface", "async-support": "async",
                  "license": "licence", "first_release": "first-release", "release": "first-release",
                  "status": "maintenance", "maintenance-status": "maintenance", "feature": "features",
                  "name": "framework", "requires-python": "python", "latest-release": "latest",
                  "deploys-on": "servers", "server": "servers", "benchmark": "measured", "rps": "measured"}

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


SERVER_COLUMNS: dict[str, Column] = {c.key: c for c in [
    Column("server", "Server"),
    Column("interfaces", "Interfaces", str(FW.implementsInterface), "the server interfaces it runs applications on"),
    Column("versions", "Interface versions", str(FW.interfaceVersion)),
    Column("protocols", "Protocols", str(FW.protocol)),
    Column("workers", "Worker model", str(FW.workerModel)),
    Column("python", "Python", str(FW.requiresPython), "requires-python of the latest release"),
    Column("licence", "Licence", str(DOAP.license)),
    Column("latest", "Latest release", str(FW.latestRelease)),
    Column("maintenance", "Maintenance", str(FW.maintenanceStatus)),
    Column("frameworks", "Frameworks deployed on it", str(FW.deploysOn),
           "frameworks whose own documentation names the server for deployment"),
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

def _latest_release(subject: str) -> str:
    """A pattern binding ?release to the subject's latest release as "1.2.3 (2026-01-31)"."""
    # Its own variable names: the server query binds ?version to fw:interfaceVersion.
    return (f"OPTIONAL {{ ?{subject} fw:latestRelease ?releaseNode . ?releaseNode doap:revision ?revision .\n"
            "             OPTIONAL { ?releaseNode doap:created ?created }\n"
            '             BIND(CONCAT(STR(?revision), COALESCE(CONCAT(" (", STR(?created), ")"), "")) AS ?release) }')


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
  (SAMPLE(?release) AS ?latest)
  (SAMPLE(STR(?python)) AS ?requiresPython)
  (SAMPLE(STR(?isTyped)) AS ?typedFlag)
  {_pairs("server", "serverLabel")}
  (SAMPLE(?bench) AS ?measured)
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
  {_latest_release("framework")}
  OPTIONAL {{ ?framework fw:requiresPython ?python }}
  OPTIONAL {{ ?framework fw:typed ?isTyped }}
  OPTIONAL {{ ?framework fw:deploysOn ?server . ?server rdfs:label ?serverLabel }}
  # measured: the latest published JSON API result, "<req/s> (<date>, <version>)" and its source on a second line
  OPTIONAL {{ {{ SELECT ?framework (MAX(?d) AS ?benchDate) WHERE {{
                ?b fw:benchmarkedFramework ?framework ; fw:benchmarkScenario <{BASE}benchmark-scenario/pfb-api> ;
                   fw:resultDate ?d }} GROUP BY ?framework }}
             ?bo fw:benchmarkedFramework ?framework ; fw:benchmarkScenario <{BASE}benchmark-scenario/pfb-api> ;
                 fw:resultDate ?benchDate ; fw:requestsPerSecond ?rps ; fw:packageVersion ?benchVersion ;
                 dcterms:source ?benchSource .
             BIND(CONCAT(STR(?rps), " (", STR(?benchDate), ", ", STR(?benchVersion), ")\\n", STR(?benchSource))
                  AS ?bench) }}
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


SERVERS_QUERY = sparql_prologue() + f"""# fwgraph chart --servers: one row per application server, with the
# interfaces it implements, the protocols it speaks, its worker model, and the frameworks deployed on it.
SELECT ?server ?name
  {_pairs("interface", "interfaceLabel")}
  (GROUP_CONCAT(DISTINCT STR(?version); separator="\\n") AS ?versions)
  {_pairs("protocol", "protocolLabel")}
  {_pairs("worker", "workerLabel")}
  (SAMPLE(STR(?python)) AS ?requiresPython)
  {_pairs("licence", "licenceLabel")}
  (SAMPLE(?release) AS ?latest)
  {_pairs("status", "statusLabel")}
  {_pairs("framework", "frameworkLabel")}
WHERE {{
  ?server a fw:ApplicationServer ; rdfs:label ?name .
  OPTIONAL {{ ?server fw:implementsInterface ?interface . ?interface rdfs:label ?interfaceLabel }}
  OPTIONAL {{ ?server fw:interfaceVersion ?version }}
  OPTIONAL {{ ?server fw:protocol ?protocol . ?protocol skos:prefLabel ?protocolLabel }}
  OPTIONAL {{ ?server fw:workerModel ?worker . ?worker skos:prefLabel ?workerLabel }}
  OPTIONAL {{ ?server fw:requiresPython ?python }}
  OPTIONAL {{ ?server doap:license ?licence .
             BIND(IF(STRSTARTS(STR(?licence), STR(spdx:)), STRAFTER(STR(?licence), STR(spdx:)), STR(?licence))
                  AS ?licenceLabel) }}
  {_latest_release("server")}
  OPTIONAL {{ ?server fw:maintenanceStatus ?status . ?status skos:prefLabel ?statusLabel }}
  OPTIONAL {{ ?framework a fw:WebFramework ; fw:deploysOn ?server ; rdfs:label ?frameworkLabel }}
}}
GROUP BY ?server ?name
ORDER BY LCASE(?name)
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


def _text(term: Any) -> Cell:
    """A one-value cell from a literal (or a plain string); "—" when there is none."""
    value = term if isinstance(term, str) or term is None else term.value
    return Cell(value, [(value, None)]) if value else Cell("—")


def _slug(iri: str) -> str:
    return iri.rstrip("/").rsplit("/", 1)[-1]


def _query(engine: Any, text: str) -> Any:
    from fwgraph.store.engine import run

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
        iris = [str(RECORD_KINDS["framework"].iri(s)) for s in dict.fromkeys(frameworks)]
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
            cells["latest"] = _text(r[idx["latest"]])
            cells["python"] = _text(r[idx["requiresPython"]])
            typed = r[idx["typedFlag"]]
            cells["typed"] = _text(None if typed is None else ("yes" if typed.value in ("true", "1") else "no"))
            cells["servers"] = _cell(_values(r[idx["servers"]]))
            bench = r[idx["measured"]]
            text, _, source = (bench.value if bench is not None else "").partition("\n")
            cells["measured"] = Cell(text, [(text, source)]) if text else Cell("—")
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
        if "measured" in keys:
            notes.append("JSON requests/s (measured) is klen/py-frameworks-bench's latest published JSON API "
                         "result for the framework (GitHub Actions runners, 2021–2022), dated and linked to its post: "
                         "a figure of that day, not a current one; — where the benchmark never measured it.")
        if "features" in keys:
            notes.append("Features lists what each framework has built in; the chart's descriptive "
                         "characteristics (Fast, Lightweight, Simple, ...) appear only --as-of chart.")
        if any(c.disputes for row in rows for c in row):
            notes.append("[n] marks a cell where the chart's claim differs from today; see the notes below.")
    shown = [FRAMEWORK_COLUMNS[k] for k in keys]
    if as_of == "today":  # the rating is the chart's opinion, not a current fact: say whose it is
        shown = [replace(c, title="Performance (chart)") if c.key == "performance" else c for c in shown]
    return Table(title, shown, rows, subjects, text, as_of, notes)


def server_table(engine: Any) -> Table:
    """The application servers compared: one row per server, by name."""
    res = _query(engine, SERVERS_QUERY)
    idx = {v: i for i, v in enumerate(res.variables)}
    rows, subjects = [], []
    for r in res.rows:
        iri, name = r[idx["server"]].value, r[idx["name"]].value

        def plain(var: str, sep: str = "\n", row: Any = r) -> Cell:
            t = row[idx[var]]
            values = sorted(v for v in (t.value.split(sep) if t is not None and t.value else []) if v)
            return Cell(", ".join(values) if values else "—", [(v, None) for v in values])

        rows.append([
            Cell(name, [(name, iri)]),
            _cell(_values(r[idx["interfaces"]]), sep="/", key=_iface_key),
            plain("versions"),
            _cell(_values(r[idx["protocols"]])),
            _cell(_values(r[idx["workers"]])),
            plain("requiresPython"),
            _cell(_values(r[idx["licences"]])),
            _text(r[idx["latest"]]),
            _cell(_values(r[idx["statuss"]])),
            _cell(_values(r[idx["frameworks"]])),
        ])
        subjects.append(iri)
    return Table("Application servers compared", list(SERVER_COLUMNS.values()), rows, subjects, SERVERS_QUERY,
                 "today", ["Frameworks deployed on it: those whose record names the server (?f fw:deploysOn ?s), "
                           "as their own documentation does."])


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
