"""Run SPARQL queries on the graph (locally with Oxigraph) or on any endpoint, and list the example queries."""

from __future__ import annotations

from pathlib import Path

from rdflib import Graph

from fwgraph.data.examples import ExampleQuery, read_examples
from fwgraph.data.graph import Sources
from fwgraph.store.engine import OxigraphEngine, run
from fwgraph.store.results import QueryResult


def examples(root: Path | str | None = None) -> list[ExampleQuery]:
    """Every example query in queries/, in file-name order."""
    return read_examples(Sources.at(root).queries)


def run_query(query: str, graph: Graph | None = None, *, max_rows: int = 10_000) -> QueryResult:
    """Run ``query`` on ``graph`` (default: the shipped graph) with the Oxigraph engine.

    The query is checked first: updates, SERVICE and FROM are refused (RefusedQuery).

    >>> r = run_query("SELECT (COUNT(*) AS ?n) WHERE { ?f a <https://w3id.org/fwgraph/ns#WebFramework> }")
    >>> int(r.rows[0][0].value) >= 25
    True
    """
    engine = OxigraphEngine.from_graph(graph) if graph is not None else OxigraphEngine.from_sources()
    return run(engine, query, max_rows=max_rows)
