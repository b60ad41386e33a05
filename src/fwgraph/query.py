"""Run SPARQL queries on the graph (locally with Oxigraph) or on any endpoint, and read example queries."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from rdflib import Graph

from fwgraph.engine import OxigraphEngine, run
from fwgraph.graph import Sources
from fwgraph.results import QueryResult


@dataclass(frozen=True)
class ExampleQuery:
    """A query from queries/: its file stem, title, description, text, group and default result view."""

    name: str
    title: str
    description: str
    text: str
    path: Path
    group: str = ""  # ``# group:`` the editor lists examples under
    view: str = ""  # ``#defaultView:`` (as WDQS): Table, BarChart, Timeline or Graph


#: The result views an example may name with ``#defaultView:``.
VIEWS = ("Table", "BarChart", "Timeline", "Graph")
_HEADER = re.compile(r"^#\s*(title|description|returns|group|defaultView)\s*:\s*(.*)$", re.I)


def read_example(path: Path) -> ExampleQuery:
    """Read a .rq file whose header comment lines carry ``# title:``, ``# description:`` and optionally
    ``# group:`` and ``#defaultView:``; an unknown view is a ValueError naming the file."""
    text = path.read_text(encoding="utf-8")
    meta: dict[str, str] = {}
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        m = _HEADER.match(line)
        if m:
            meta[m.group(1).lower()] = m.group(2).strip()
    view = meta.get("defaultview", "")
    if view and view not in VIEWS:
        raise ValueError(f"{path}: #defaultView:{view} is not one of {', '.join(VIEWS)}")
    return ExampleQuery(name=path.stem, title=meta.get("title", ""), description=meta.get("description", ""),
                        text=text, path=path, group=meta.get("group", ""), view=view)


def examples(root: Path | str | None = None) -> list[ExampleQuery]:
    """Every example query in queries/, in file-name order."""
    return [read_example(p) for p in sorted(Sources.at(root).queries.glob("*.rq"))]


def run_query(query: str, graph: Graph | None = None, *, max_rows: int = 10_000) -> QueryResult:
    """Run ``query`` on ``graph`` (default: the shipped graph) with the Oxigraph engine.

    The query is checked first: updates, SERVICE and FROM are refused (RefusedQuery).

    >>> r = run_query("SELECT (COUNT(*) AS ?n) WHERE { ?f a <https://w3id.org/fwgraph/ns#WebFramework> }")
    >>> int(r.rows[0][0].value) >= 25
    True
    """
    engine = OxigraphEngine.from_graph(graph) if graph is not None else OxigraphEngine.from_sources()
    return run(engine, query, max_rows=max_rows)
