"""The example queries in queries/: read from their header comments, and published in the graph as SHACL
SPARQL executables (the convention of SIB's sparql-examples and the sparql-editor), so that other datasets and
query editors find them with a query.

Each ``queries/<name>.rq`` becomes ``<base>query/<name>``, typed ``sh:SPARQLExecutable`` and by its form
``sh:SPARQLSelectExecutable`` (``…Construct…``, ``…Ask…``, or sparql-examples' ``spex:SPARQLDescribeExecutable``),
with ``rdfs:label`` (its title), ``rdfs:comment`` (its description), ``schema:keywords`` (its group), the query
text with every prefix it uses declared (``sh:select``, ``sh:construct``, ``sh:ask`` or ``spex:describe``) and
``schema:target`` the SPARQL endpoint.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, RDFS, SDO, SH

from fwgraph.core.namespace import BASE, PREFIXES
from fwgraph.data.querycheck import declared, prepare


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
#: SIB's sparql-examples vocabulary: DESCRIBE, which SHACL has no executable for.
SPEX = Namespace("https://purl.expasy.org/sparql-examples/ontology#")
#: Where the examples are published: ``query/<file stem>``.
EXAMPLES_BASE = BASE + "query/"
ENDPOINT = URIRef(BASE + "sparql")
#: The SHACL (or sparql-examples) type and text property of each query form.
FORMS = {"select": (SH.SPARQLSelectExecutable, SH.select), "construct": (SH.SPARQLConstructExecutable, SH.construct),
         "ask": (SH.SPARQLAskExecutable, SH.ask), "describe": (SPEX.SPARQLDescribeExecutable, SPEX.describe)}


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


def read_examples(folder: Path) -> list[ExampleQuery]:
    """Every example query in ``folder``, in file-name order."""
    return [read_example(p) for p in sorted(folder.glob("*.rq"))]


def published_text(example: ExampleQuery) -> str:
    """The query as another tool runs it: its header (title, description, …) dropped, every prefix declared.

    >>> published_text(ExampleQuery("x", "X", "", "# title: X\\nASK { ?s a fw:WebFramework }", Path("x.rq")))
    'PREFIX fw: <https://w3id.org/fwgraph/ns#>\\nASK { ?s a fw:WebFramework }'
    """
    lines = example.text.splitlines(keepends=True)
    while lines and _HEADER.match(lines[0].rstrip("\n")):
        lines.pop(0)
    return declared("".join(lines), PREFIXES)


def executables(folder: Path) -> Graph:
    """The examples in ``folder`` as SHACL SPARQL executables (the triples :func:`fwgraph.data.graph.load` adds)."""
    graph = Graph()
    for example in read_examples(folder):
        node = URIRef(EXAMPLES_BASE + example.name)
        text = published_text(example)
        kind, text_property = FORMS[prepare(text).form]
        graph.add((node, RDF.type, SH.SPARQLExecutable))
        graph.add((node, RDF.type, kind))
        graph.add((node, text_property, Literal(text)))
        graph.add((node, SDO.target, ENDPOINT))
        if example.title:
            graph.add((node, RDFS.label, Literal(example.title, lang="en")))
        if example.description:
            graph.add((node, RDFS.comment, Literal(example.description, lang="en")))
        if example.group:
            graph.add((node, SDO.keywords, Literal(example.group, lang="en")))
    return graph


__all__ = ["ENDPOINT", "EXAMPLES_BASE", "VIEWS", "ExampleQuery", "executables", "published_text", "read_example",
           "read_examples"]
