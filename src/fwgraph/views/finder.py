"""The finder's model: one row of hard facts per framework or server, computed once from the graph, with
facets (counted given the other facets), sorting and free-text search done in Python.

The rows reuse the comparison chart's tables (``fwgraph.views.chart``: interfaces, async support, licence,
maintenance status, requires-python, typed) and add what the chart does not show, each from one query over
the whole graph: the core feature matrix (``fw:featureSupport``), the latest monthly PyPI downloads, the
security advisories, the latest release with its date, the declared Python versions and the text a search
looks at (names, ``skos:altLabel``, descriptions, PyPI distributions, repository URLs). Nothing is queried
per row or per request: :func:`catalogue` is called once per process (``Service.catalogue``).

Facet values in URLs are slugs (the last segment of a concept's IRI: ``interface=asgi``, ``status=active``,
``feature=websockets``, ``licence=MIT``, ``python=3.12``, ``typed=yes``); labels come from the graph.

>>> parse_selection({"kind": ["server"], "sort": ["downloads"]}).kind
'server'
>>> month_label("2026-10"), month_label("2026-02-18")
('Oct 2026', '18 Feb 2026')
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any
from urllib.parse import urlencode

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from fwgraph.core.errors import FwgraphError
from fwgraph.core.namespace import RECORD_KINDS
from fwgraph.data.dates import day_span, month_label
from fwgraph.views import chart
from fwgraph.views.chart.tables import sparql_prologue

#: The longest search text accepted (characters); longer is an error, not silently cut.
MAX_QUERY_CHARS = 200
#: At most this many search words are used (the rest is an error too: a search is a few words).
MAX_QUERY_WORDS = 12
KINDS = {name: RECORD_KINDS[name].plural for name in ("framework", "server")}
LEVELS = {"built-in": "built in", "available": "available at all (built in or an extension)"}
#: Support levels that count as "available at all".
AVAILABLE = ("built-in", "official-extension", "third-party")
ORDERS = ("asc", "desc")


class FinderError(FwgraphError, ValueError):
    """An unknown facet value, sort key or kind, or a search text over the bounds."""


@dataclass(frozen=True)
class Value:
    """A concept (or plain value) a row has: its slug (in URLs), its label (from the graph) and its IRI."""

    slug: str
    label: str
    iri: str | None = None


@dataclass
class Row:
    """One framework or server with the facts the finder shows and filters on."""

    iri: str
    slug: str
    kind: str
    label: str
    interfaces: list[Value] = field(default_factory=list)
    asyncs: list[Value] = field(default_factory=list)
    statuses: list[Value] = field(default_factory=list)
    licences: list[Value] = field(default_factory=list)
    release: str | None = None
    released: str | None = None  # xsd:date or xsd:gYearMonth text
    requires_python: str | None = None
    pythons: list[str] = field(default_factory=list)  # declared (classifiers)
    typed: bool | None = None
    features: dict[str, str] = field(default_factory=dict)  # feature slug -> support level slug
    downloads: int | None = None
    downloads_below: bool = False  # not in the month's top list: ``downloads`` is the bound it stays below
    downloads_date: str | None = None
    advisories: int | None = None  # None: the graph has no PyPI name to look advisories up by
    advisories_latest: int = 0
    facets: dict[str, frozenset[str]] = field(default_factory=dict)  # facet key -> slugs (features: per level)

    @property
    def released_label(self) -> str:
        return month_label(self.released) if self.released else ""

    @property
    def downloads_label(self) -> str:
        """The download count, short: "220.2 M", "12.3 k", "950"; "< 4.8 k" below the top list's bound."""
        n = self.downloads
        if n is None:
            return ""
        text = f"{n / 1e6:.1f} M" if n >= 1_000_000 else f"{n / 1e3:.1f} k" if n >= 1_000 else str(n)
        return f"< {text}" if self.downloads_below else text

    def supported(self, level: str) -> list[str]:
        """The feature slugs this row has at ``level`` (``built-in`` or ``available``)."""
        levels = ("built-in",) if level == "built-in" else AVAILABLE
        return [f for f, lv in self.features.items() if lv in levels]


@dataclass(frozen=True)
class Facet:
    """A filter: its GET parameter, title, the kinds it applies to, and how several chosen values combine
    (``any``: a row has one of them; ``all``: a row has every one)."""

    key: str
    title: str
    kinds: tuple[str, ...]
    combine: str = "any"
    note: str = ""


FACETS: dict[str, Facet] = {f.key: f for f in [
    Facet("interface", "Interface", ("framework", "server")),
    Facet("async", "Async handlers", ("framework",)),
    Facet("status", "Maintenance", ("framework", "server")),
    Facet("feature", "Features", ("framework",), "all",
          "the core feature matrix; every chosen feature must be there"),
    Facet("licence", "Licence", ("framework", "server")),
    Facet("python", "Python version", ("framework", "server"), "all",
          "declared in the release's classifiers, or allowed by its requires-python when none are declared"),
    Facet("typed", "Typed", ("framework", "server")),
]}


@dataclass(frozen=True)
class Sort:
    key: str
    title: str
    value: Callable[[Row], Any]  # None sorts last in either order


def _first_day(row: Row) -> date | None:
    span = day_span(row.released) if row.released else None
    return span[0] if span else None


def _min_python(row: Row) -> Version | None:
    versions = [_version(v) for v in row.pythons]
    return min((v for v in versions if v is not None), default=None)


def _labels(values: list[Value]) -> str | None:
    return ", ".join(v.label.casefold() for v in values) or None


SORTS: dict[str, Sort] = {s.key: s for s in [
    Sort("name", "Name", lambda r: r.label.casefold()),
    Sort("interface", "Interfaces", lambda r: _labels(r.interfaces)),
    Sort("async", "Async", lambda r: _labels(r.asyncs)),
    Sort("status", "Maintenance", lambda r: _labels(r.statuses)),
    Sort("release", "Latest release", _first_day),
    Sort("licence", "Licence", lambda r: _labels(r.licences)),
    Sort("python", "Python", _min_python),
    Sort("typed", "Typed", lambda r: r.typed),
    Sort("features", "Features", lambda r: len(r.supported("built-in")) if r.kind == "framework" else None),
    Sort("downloads", "Downloads a month", lambda r: None if r.downloads is None else r.downloads - r.downloads_below),
    Sort("advisories", "Advisories", lambda r: r.advisories),
]}
#: The natural first order of each sort key: numbers and dates biggest first, text A to Z.
DEFAULT_ORDER = {"release": "desc", "features": "desc", "downloads": "desc", "typed": "desc"}


@dataclass(frozen=True)
class Selection:
    """What a finder request asks for: kind, chosen facet values, feature level, search text, sort and order."""

    kind: str = "framework"
    chosen: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    level: str = "built-in"
    q: str = ""
    sort: str = "name"
    order: str = "asc"

    def params(self, **changes: Any) -> list[tuple[str, str]]:
        """The GET parameters that reproduce this selection (defaults left out), with ``changes`` applied."""
        sel = replace(self, **changes) if changes else self
        out: list[tuple[str, str]] = []
        if sel.kind != "framework":
            out.append(("kind", sel.kind))
        if sel.q:
            out.append(("q", sel.q))
        for key in FACETS:
            out += [(key, v) for v in sel.chosen.get(key, ())]
        if sel.chosen.get("feature") and sel.level != "built-in":
            out.append(("level", sel.level))
        if sel.sort != "name":
            out.append(("sort", sel.sort))
        if sel.order != DEFAULT_ORDER.get(sel.sort, "asc"):
            out.append(("order", sel.order))
        return out

    def query_string(self, **changes: Any) -> str:
        return urlencode(self.params(**changes))


def _one(args: Mapping[str, Sequence[str]], name: str, choices: Iterable[str], default: str) -> str:
    values = [v for v in args.get(name, ()) if v.strip()]
    if not values:
        return default
    value = values[-1].strip()
    if value not in choices:
        raise FinderError(f"unknown {name} {value!r}; choose one of: {', '.join(choices)}")
    return value


def parse_selection(args: Mapping[str, Sequence[str]]) -> Selection:
    """The selection a request's GET parameters (name -> values) make; facet values are checked later, against
    the catalogue (:meth:`Catalogue.check`). Raises FinderError for an unknown kind, level, sort or order, or
    a search text over the bounds. Facets that do not apply to the kind are ignored."""
    kind = _one(args, "kind", KINDS, "framework")
    sort = _one(args, "sort", SORTS, "name")
    order = _one(args, "order", ORDERS, DEFAULT_ORDER.get(sort, "asc"))
    level = _one(args, "level", LEVELS, "built-in")
    q = search_text(" ".join(args.get("q", ())))
    chosen = {key: tuple(dict.fromkeys(v.strip() for v in args.get(key, ()) if v.strip()))
              for key, facet in FACETS.items() if kind in facet.kinds}
    return Selection(kind, {k: v for k, v in chosen.items() if v}, level, q, sort, order)


def search_text(q: str) -> str:
    """``q`` with its spaces normalised; FinderError when it is longer than MAX_QUERY_CHARS or has too many words."""
    if len(q) > MAX_QUERY_CHARS:
        raise FinderError(f"the search text has {len(q)} characters; at most {MAX_QUERY_CHARS} are accepted")
    words = q.split()
    if len(words) > MAX_QUERY_WORDS:
        raise FinderError(f"the search text has {len(words)} words; at most {MAX_QUERY_WORDS} are accepted")
    return " ".join(words)


# ---------------------------------------------------------------------------------------------- search

#: Where a search word may match, and what a match there weighs.
WEIGHTS = (("label", 8), ("alias", 6), ("pypi", 6), ("repository", 3), ("description", 1))


@dataclass(frozen=True)
class Entry:
    """What a search looks at for one resource (a framework, a server or a library)."""

    iri: str
    kind: str
    label: str
    fields: Mapping[str, tuple[str, ...]]  # WEIGHTS key -> casefolded texts


@dataclass(frozen=True)
class Hit:
    iri: str
    label: str
    kind: str
    score: int

    def to_json(self, page: str) -> dict[str, Any]:
        return {"iri": self.iri, "label": self.label, "kind": self.kind, "page": page, "score": self.score}


def score(entry: Entry, words: Sequence[str]) -> int:
    """How well ``entry`` matches every one of ``words`` (casefolded): 0 when a word matches nowhere.

    Plain substring matching, no patterns: a word found in a field adds the field's weight, doubled when it
    is the whole of a name, alias or distribution name.

    >>> e = Entry("x", "framework", "Flask", {"label": ("flask",), "description": ("a micro framework",)})
    >>> score(e, ["flask"]), score(e, ["micro"]), score(e, ["flask", "django"])
    (16, 1, 0)
    """
    total = 0
    for word in words:
        best = 0
        for name, weight in WEIGHTS:
            for text in entry.fields.get(name, ()):
                if word in text:
                    best = max(best, weight * (2 if text == word and name != "description" else 1))
        if not best:
            return 0
        total += best
    return total


# ---------------------------------------------------------------------------------------------- the catalogue

@dataclass(frozen=True)
class Option:
    slug: str
    label: str
    count: int
    selected: bool


@dataclass(frozen=True)
class FacetView:
    facet: Facet
    options: list[Option]


@dataclass(frozen=True)
class Found:
    """The answer to a selection: the matching rows in order, and every facet of the kind with its counts."""

    selection: Selection
    rows: list[Row]
    facets: list[FacetView]
    total: int  # rows of the kind before any filter


@dataclass
class Catalogue:
    """Every row of every kind, the facet options' labels, and the search entries; immutable once built."""

    rows: dict[str, list[Row]]  # kind -> rows by name
    options: dict[str, dict[str, str]]  # facet key -> slug -> label, in display order
    entries: list[Entry]
    features: dict[str, str]  # core feature slug -> label, in the matrix's order

    def row(self, iri: str) -> Row | None:
        """The row of the framework or server ``iri`` (a profile page's summary), or None."""
        return next((r for rows in self.rows.values() for r in rows if r.iri == iri), None)

    def similar(self, row: Row, n: int = 3) -> list[Row]:
        """Up to ``n`` others of ``row``'s kind sharing an interface with it: most shared first, then the most
        downloaded (a project below the top list counts as none), then by name."""
        mine = {v.slug for v in row.interfaces}

        def key(other: Row) -> tuple[int, int, str]:
            downloads = 0 if other.downloads is None or other.downloads_below else other.downloads
            return (-len(mine & {v.slug for v in other.interfaces}), -downloads, other.label.lower())

        others = [r for r in self.rows.get(row.kind, []) if r.iri != row.iri and mine & {v.slug for v in r.interfaces}]
        return sorted(others, key=key)[:n]

    def check(self, sel: Selection) -> None:
        """FinderError for a chosen facet value the graph does not have."""
        for key, values in sel.chosen.items():
            unknown = [v for v in values if v not in self.options[key]]
            if unknown:
                known = ", ".join(self.options[key])
                raise FinderError(f"unknown {key} {', '.join(map(repr, unknown))}; choose from: {known}")

    def find(self, sel: Selection) -> Found:
        """The rows of ``sel.kind`` matching every chosen facet and the search text, sorted; each facet's options
        counted over the rows that match the other facets (and, for an ``all`` facet, its chosen values too)."""
        self.check(sel)
        rows = self.rows[sel.kind]
        if sel.q:
            words = sel.q.casefold().split()
            matched = {e.iri for e in self.entries if score(e, words)}
            rows = [r for r in rows if r.iri in matched]
        views = []
        for key, facet in FACETS.items():
            if sel.kind not in facet.kinds:
                continue
            others = {k: v for k, v in sel.chosen.items() if k != key or facet.combine == "all"}
            base = [r for r in rows if _matches(r, others, sel.level)]
            counts: dict[str, int] = {}
            for r in base:
                for slug in _values(r, key, sel.level):
                    counts[slug] = counts.get(slug, 0) + 1
            chosen = sel.chosen.get(key, ())
            views.append(FacetView(facet, [Option(slug, label, counts.get(slug, 0), slug in chosen)
                                           for slug, label in self.options[key].items()
                                           if counts.get(slug) or slug in chosen]))
        shown = [r for r in rows if _matches(r, sel.chosen, sel.level)]
        return Found(sel, _sorted(shown, sel.sort, sel.order), views, len(self.rows[sel.kind]))

    def search(self, q: str, limit: int = 50) -> list[Hit]:
        """The frameworks, servers and libraries whose names, aliases, descriptions, PyPI distributions or
        repository URLs contain every word of ``q`` (casefolded), best first."""
        words = search_text(q).casefold().split()
        if not words:
            return []
        hits = [Hit(e.iri, e.label, e.kind, s) for e in self.entries if (s := score(e, words))]
        return sorted(hits, key=lambda h: (-h.score, h.label.casefold(), h.iri))[:limit]


def _values(row: Row, key: str, level: str) -> frozenset[str]:
    return row.facets.get(f"feature:{level}" if key == "feature" else key, frozenset())


def _matches(row: Row, chosen: Mapping[str, Sequence[str]], level: str) -> bool:
    for key, values in chosen.items():
        have = _values(row, key, level)
        if FACETS[key].combine == "all":
            if not all(v in have for v in values):
                return False
        elif not any(v in have for v in values):
            return False
    return True


def _sorted(rows: list[Row], key: str, order: str) -> list[Row]:
    """``rows`` by ``key`` in ``order``; rows without a value last either way, ties by name."""
    value = SORTS[key].value
    known = sorted((r for r in rows if value(r) is not None), key=lambda r: r.label.casefold())
    known.sort(key=value, reverse=order == "desc")
    return known + sorted((r for r in rows if value(r) is None), key=lambda r: r.label.casefold())


# ---------------------------------------------------------------------------------------------- building it

FACTS_QUERY = sparql_prologue() + """PREFIX schema: <https://schema.org/>
# The finder: per framework, server or library, what the chart's tables do not give.
SELECT ?s ?type ?name (SAMPLE(STR(?revision)) AS ?release) (SAMPLE(STR(?created)) AS ?released)
  (GROUP_CONCAT(DISTINCT STR(?python); separator="\\n") AS ?pythons) (SAMPLE(STR(?isTyped)) AS ?typed)
  (GROUP_CONCAT(DISTINCT STR(?alias); separator="\\n") AS ?aliases)
  (GROUP_CONCAT(DISTINCT STR(?description); separator="\\n") AS ?descriptions)
  (GROUP_CONCAT(DISTINCT STR(?pypi); separator="\\n") AS ?pypis)
  (GROUP_CONCAT(DISTINCT STR(?repo); separator="\\n") AS ?repos)
WHERE {
  VALUES ?type { fw:WebFramework fw:ApplicationServer fw:Library }
  { ?s a ?type } UNION { ?s a/rdfs:subClassOf ?type }  # libraries are typed by their subclass (fw:ORM, ...)
  ?s rdfs:label ?name .
  OPTIONAL { ?s fw:latestRelease ?node . ?node doap:revision ?revision . OPTIONAL { ?node doap:created ?created } }
  OPTIONAL { ?s fw:pythonVersion ?python }
  OPTIONAL { ?s fw:typed ?isTyped }
  OPTIONAL { ?s skos:altLabel ?alias }
  OPTIONAL { ?s dcterms:description ?description }
  OPTIONAL { ?s fw:pypiDistribution ?pypi }
  OPTIONAL { { ?s schema:codeRepository ?repo } UNION { ?s doap:repository/doap:browse ?repo } }
}
GROUP BY ?s ?type ?name
"""

MATRIX_QUERY = sparql_prologue() + """# The core feature matrix: every framework's support level of every core feature.
SELECT ?s ?feature ?level WHERE {
  ?s a fw:WebFramework ; fw:featureSupport ?support .
  ?support fw:supportedFeature ?feature ; fw:supportLevel ?level .
}
"""

CORE_FEATURES_QUERY = sparql_prologue() + """PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
# The core features (the cells of feature:core's skos:memberList, put in order by :func:`_in_order`).
SELECT ?cell ?feature ?label ?next WHERE {
  <https://w3id.org/fwgraph/feature/core> skos:memberList/rdf:rest* ?cell .
  ?cell rdf:first ?feature ; rdf:rest ?next .
  ?feature skos:prefLabel ?label .
}
"""

DOWNLOADS_QUERY = sparql_prologue() + """PREFIX qb: <http://purl.org/linked-data/cube#>
# The latest monthly PyPI downloads of every project: its count, or the bound it stays below
# when it is not in that month's top list.
SELECT ?s ?date ?count ?below WHERE {
  { SELECT ?s (MAX(?d) AS ?date) WHERE { ?o a qb:Observation ; fw:project ?s ; fw:snapshotDate ?d } GROUP BY ?s }
  ?o a qb:Observation ; fw:project ?s ; fw:snapshotDate ?date .
  OPTIONAL { ?o fw:downloadCount ?count }
  OPTIONAL { ?o fw:downloadsBelow ?below }
}
"""

ADVISORIES_QUERY = sparql_prologue() + """# Security advisories per record (withdrawn ones left out),
# and how many affect its latest release.
SELECT ?s (COUNT(DISTINCT ?a) AS ?advisories) (COUNT(DISTINCT ?current) AS ?latest) WHERE {
  ?a a fw:SecurityAdvisory ; fw:affects ?s .
  FILTER NOT EXISTS { ?a fw:withdrawn ?when }
  OPTIONAL { ?a fw:affectsLatestRelease true . BIND(?a AS ?current) }
}
GROUP BY ?s
"""

LABELS_QUERY = sparql_prologue() + """# Labels of the licences and concepts the finder offers,
# and the concepts' broader ones.
SELECT ?c (SAMPLE(?l) AS ?label) (GROUP_CONCAT(DISTINCT STR(?b); separator="\\n") AS ?broader) WHERE {
  { ?x doap:license ?c } UNION { ?x fw:asyncSupport ?c } UNION { ?x fw:maintenanceStatus ?c }
  UNION { ?c a fw:MaintenanceStatus } UNION { ?c a fw:AsyncSupport } UNION { ?c a fw:SupportLevel }
  OPTIONAL { ?c skos:prefLabel ?pref } OPTIONAL { ?c rdfs:label ?plain }
  BIND(COALESCE(?pref, ?plain) AS ?l)
  OPTIONAL { ?c skos:broader ?b }
}
GROUP BY ?c
"""

KIND_OF_TYPE = {"WebFramework": "framework", "ApplicationServer": "server", "Library": "library"}
TYPED = {"yes": "Typed (ships py.typed)", "no": "Not typed"}


def slug(iri: str) -> str:
    return iri.rstrip("/").rsplit("/", 1)[-1]


def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def _lines(term: Any) -> list[str]:
    return [v for v in term.value.split("\n") if v] if term is not None and term.value else []


def _table(engine: Any, text: str) -> list[dict[str, Any]]:
    from fwgraph.store.engine import run

    res = run(engine, text, max_rows=1_000_000)
    return [dict(zip(res.variables, row, strict=True)) for row in res.rows]


def _concepts(cell: chart.Cell, labels: Mapping[str, str]) -> list[Value]:
    return [Value(slug(iri), labels.get(iri, label), iri) for label, iri in cell.values if iri]


def _row(kind: str, cells: Mapping[str, chart.Cell], iri: str, labels: Mapping[str, str]) -> Row:
    """A row from the chart's cells (interfaces, async, licence, maintenance, requires-python, typed)."""
    python = cells["python"].values
    typed = cells["typed"].text if "typed" in cells else None
    return Row(iri, slug(iri), kind, cells["name"].text,
               interfaces=_concepts(cells["interface"], {}),
               asyncs=_concepts(cells["async"], labels) if "async" in cells else [],
               statuses=_concepts(cells["maintenance"], labels),
               licences=_concepts(cells["licence"], labels),
               requires_python=python[0][0] if python else None,
               typed={"yes": True, "no": False}.get(typed or ""))


def _chart_rows(engine: Any, labels: Mapping[str, str]) -> dict[str, list[Row]]:
    """The rows the comparison chart already computes: frameworks (today's facts) and servers."""
    keys = ["interface", "async", "licence", "maintenance", "python", "typed"]
    frameworks = chart.framework_table(engine, None, keys, "today")
    servers = chart.server_table(engine)
    out: dict[str, list[Row]] = {"framework": [], "server": []}
    for kind, table in (("framework", frameworks), ("server", servers)):
        columns = ["name" if c.key in ("framework", "server") else "interface" if c.key == "interfaces" else c.key
                   for c in table.columns]
        for iri, cells in zip(table.subjects, table.rows, strict=True):
            out[kind].append(_row(kind, dict(zip(columns, cells, strict=True)), iri, labels))
    return out


def _python_matches(row: Row, versions: Iterable[str]) -> frozenset[str]:
    """The Python versions (of ``versions``) a row runs on: its declared ones, else those its requires-python
    allows."""
    if row.pythons:
        return frozenset(row.pythons)
    try:
        spec = SpecifierSet(row.requires_python or "")
    except InvalidSpecifier:
        return frozenset()
    if not row.requires_python:
        return frozenset()
    return frozenset(v for v in versions if spec.contains(v))


def _in_order(cells: list[dict[str, Any]]) -> dict[str, str]:
    """Feature slug -> label along an RDF list given as its cells (``cell``, ``feature``, ``label``, ``next``)."""
    by_cell = {r["cell"].value: r for r in cells}
    heads = set(by_cell) - {r["next"].value for r in cells}
    out: dict[str, str] = {}
    cell = next(iter(heads), None)
    while cell in by_cell and slug(by_cell[cell]["feature"].value) not in out:
        r = by_cell[cell]
        out[slug(r["feature"].value)] = r["label"].value
        cell = r["next"].value
    return out


def _ancestors(iri: str, broader: Mapping[str, list[str]]) -> list[str]:
    out, todo = [], [iri]
    while todo:
        for b in broader.get(todo.pop(), ()):
            if b not in out:
                out.append(b)
                todo.append(b)
    return out


def catalogue(engine: Any) -> Catalogue:
    """Build the catalogue from ``engine``: the chart's tables plus six whole-graph queries."""
    labels: dict[str, str] = {}
    broader: dict[str, list[str]] = {}
    for r in _table(engine, LABELS_QUERY):
        iri = r["c"].value
        if r["label"] is not None:
            labels[iri] = r["label"].value
        broader[iri] = _lines(r["broader"])
    rows = _chart_rows(engine, labels)
    by_iri = {row.iri: row for kind in rows.values() for row in kind}

    entries = []
    for r in _table(engine, FACTS_QUERY):
        iri, kind = r["s"].value, KIND_OF_TYPE[slug(r["type"].value).rsplit("#", 1)[-1]]
        repos = _lines(r["repos"])
        fields = {"label": (r["name"].value,), "alias": tuple(_lines(r["aliases"])), "pypi": tuple(_lines(r["pypis"])),
                  "repository": tuple(repos), "description": tuple(_lines(r["descriptions"]))}
        entries.append(Entry(iri, kind, r["name"].value,
                             {k: tuple(v.casefold() for v in vs) for k, vs in fields.items()}))
        row = by_iri.get(iri)
        if row is None:
            continue
        row.release = r["release"].value if r["release"] is not None else None
        row.released = r["released"].value if r["released"] is not None else None
        row.pythons = sorted(_lines(r["pythons"]), key=lambda v: (_version(v) or Version("0"), v))
        if r["typed"] is not None:
            row.typed = r["typed"].value in ("true", "1")
        if fields["pypi"]:
            row.advisories = 0  # the advisory database was read for every PyPI distribution in the graph
    entries.sort(key=lambda e: (e.label.casefold(), e.iri))

    features = _in_order(_table(engine, CORE_FEATURES_QUERY))
    for r in _table(engine, MATRIX_QUERY):
        row = by_iri.get(r["s"].value)
        if row is not None:
            row.features[slug(r["feature"].value)] = slug(r["level"].value)
    for r in _table(engine, DOWNLOADS_QUERY):
        row = by_iri.get(r["s"].value)
        if row is not None and (r["count"] is not None or r["below"] is not None):
            row.downloads_below = r["count"] is None
            row.downloads = int((r["below"] if row.downloads_below else r["count"]).value)
            row.downloads_date = r["date"].value
    for r in _table(engine, ADVISORIES_QUERY):
        row = by_iri.get(r["s"].value)
        if row is not None:
            row.advisories, row.advisories_latest = int(r["advisories"].value), int(r["latest"].value)

    versions = sorted({v for row in by_iri.values() for v in row.pythons if _version(v) is not None},
                      key=lambda v: Version(v), reverse=True)
    options: dict[str, dict[str, str]] = {key: {} for key in FACETS}
    options["feature"] = dict(features)
    options["python"] = {v: v for v in versions}
    options["typed"] = dict(TYPED)
    for row in by_iri.values():
        for key, values in (("interface", row.interfaces), ("async", row.asyncs), ("status", row.statuses),
                            ("licence", row.licences)):
            expanded = [*values]
            for v in values:
                expanded += [Value(slug(b), labels.get(b, slug(b)), b) for b in _ancestors(v.iri or "", broader)]
            row.facets[key] = frozenset(v.slug for v in expanded)
            for v in expanded:
                options[key].setdefault(v.slug, v.label)
        row.facets["python"] = _python_matches(row, versions)
        row.facets["typed"] = frozenset() if row.typed is None else frozenset(["yes" if row.typed else "no"])
        for level in LEVELS:
            row.facets[f"feature:{level}"] = frozenset(row.supported(level))
    for key in ("interface", "async", "status", "licence"):
        options[key] = dict(sorted(options[key].items(), key=lambda kv: kv[1].casefold()))
    return Catalogue(rows, options, entries, features)
