"""Validate the graph or a contribution against the SHACL shapes, with readable, structured reports."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyshacl
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, SH

from fwgraph.graph import LoadedGraph, Sources, load_files, load_shapes, parse_bytes, stamp_version
from fwgraph.namespace import bind_prefixes

SEVERITIES = {SH.Violation: "Violation", SH.Warning: "Warning", SH.Info: "Info"}


@dataclass(frozen=True)
class Result:
    """One SHACL validation result, in the terms a contributor reads."""

    focus_node: Any
    path: Any
    severity: str
    message: str
    source_shape: Any
    node_shape: Any
    value: Any = None
    file: str | None = None

    def as_dict(self, graph: Graph | None = None) -> dict[str, Any]:
        return {
            "file": self.file,
            "focusNode": _show(self.focus_node, graph),
            "path": _show(self.path, graph),
            "severity": self.severity,
            "message": self.message,
            "value": _show(self.value, graph),
            "sourceShape": _show(self.source_shape, graph),
            "nodeShape": _show(self.node_shape, graph),
        }


def _show(term: Any, graph: Graph | None = None) -> str | None:
    if term is None:
        return None
    if isinstance(term, URIRef) and graph is not None:
        try:
            return graph.namespace_manager.curie(term, generate=False)
        except (ValueError, KeyError):
            return str(term)
    if isinstance(term, BNode):
        return f"_:{term}"
    return str(term)


@dataclass
class ValidationReport:
    """The outcome of a validation: conforms unless a Violation exists; warnings are reported too."""

    results: list[Result] = field(default_factory=list)
    report_graph: Graph = field(default_factory=Graph)
    focus_count: int = 0

    @property
    def conforms(self) -> bool:
        return not any(r.severity == "Violation" for r in self.results)

    @property
    def violations(self) -> list[Result]:
        return [r for r in self.results if r.severity == "Violation"]

    @property
    def warnings(self) -> list[Result]:
        return [r for r in self.results if r.severity == "Warning"]

    def as_dict(self) -> dict[str, Any]:
        g = bind_prefixes(Graph())
        return {
            "conforms": self.conforms,
            "violations": len(self.violations),
            "warnings": len(self.warnings),
            "results": [r.as_dict(g) for r in self.results],
        }

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2, ensure_ascii=False)

    def to_turtle(self) -> str:
        return bind_prefixes(self.report_graph).serialize(format="turtle")

    def to_text(self) -> str:
        g = bind_prefixes(Graph())
        lines = []
        for r in self.results:
            d = r.as_dict(g)
            where = d["file"] or "<graph>"
            lines.append(f"{where}: {d['severity']}: {d['focusNode']}")
            lines.append(f"    path:    {d['path'] or '(node)'}")
            if d["value"] is not None:
                lines.append(f"    value:   {d['value']}")
            lines.append(f"    shape:   {d['sourceShape']}")
            lines.append(f"    message: {d['message']}")
        verdict = "Conforms" if self.conforms else "Does not conform"
        lines.append(f"{verdict}: {len(self.violations)} violation(s), {len(self.warnings)} warning(s).")
        return "\n".join(lines) + "\n"


def _owner_shape(shapes: Graph, shape: Any) -> Any:
    owner = shapes.value(predicate=SH.property, object=shape)
    return owner if owner is not None else shape


def _results(report: Graph, shapes: Graph, origin: dict[Any, str]) -> list[Result]:
    out = []
    for node in report.subjects(RDF.type, SH.ValidationResult):
        focus = report.value(node, SH.focusNode)
        shape = report.value(node, SH.sourceShape)
        messages = [str(m) for m in report.objects(node, SH.resultMessage)]
        english = [str(m) for m in report.objects(node, SH.resultMessage)
                   if isinstance(m, Literal) and m.language == "en"]
        out.append(Result(
            focus_node=focus,
            path=report.value(node, SH.resultPath),
            severity=SEVERITIES.get(report.value(node, SH.resultSeverity), "Violation"),
            message=(english or messages or [""])[0],
            source_shape=shape,
            node_shape=_owner_shape(shapes, shape),
            value=report.value(node, SH.value),
            file=origin.get(focus),
        ))
    order = {"Violation": 0, "Warning": 1, "Info": 2}
    out.sort(key=lambda r: (order[r.severity], r.file or "", str(r.focus_node), str(r.path), r.message))
    return out


def validate_graph(data: Graph, *, shapes: Graph | None = None, focus_nodes: list[Any] | None = None,
                   origin: dict[Any, str] | None = None) -> ValidationReport:
    """Validate ``data`` (ontology included) against ``shapes``; restrict to ``focus_nodes`` if given."""
    shapes = shapes if shapes is not None else load_shapes()
    if focus_nodes is not None and not focus_nodes:
        return ValidationReport()
    _conforms, report, _text = pyshacl.validate(
        data, shacl_graph=shapes, inference="none", advanced=True, allow_warnings=True,
        focus_nodes=focus_nodes, do_owl_imports=False, js=False)
    return ValidationReport(results=_results(report, shapes, origin or {}), report_graph=report,
                            focus_count=len(focus_nodes) if focus_nodes is not None else 0)


def contribution_focus(contribution: Graph) -> list[Any]:
    """The nodes a contribution describes: every subject it states something about."""
    return sorted(set(contribution.subjects()), key=str)


def validate_contribution(contribution: Graph, base: LoadedGraph | None = None, *,
                          origin: dict[Any, str] | None = None, root: Path | str | None = None,
                          shapes: Graph | None = None) -> ValidationReport:
    """Validate a contribution merged with the ontology and the existing data.

    Only the contribution's own nodes are validated, so the cost grows with the contribution,
    not with the graph. Neither ``base`` nor any file is modified.
    """
    if base is None:
        src = Sources.at(root)
        base = load_files([src.ontology, *src.data])
    merged = Graph()
    merged += base.graph
    merged += contribution
    return validate_graph(merged, shapes=shapes if shapes is not None else load_shapes(
        str(root) if root else None), focus_nodes=contribution_focus(contribution), origin=origin)


def validate(files: list[Path] | list[str] | None = None, *, root: Path | str | None = None) -> ValidationReport:
    """Validate contribution ``files`` merged with the shipped graph, or the shipped graph itself.

    Raises InputError when a file cannot be read or parsed. Never writes anything.

    >>> validate().conforms
    True
    """
    src = Sources.at(root)
    shapes = load_shapes(str(root) if root else None)
    if not files:
        loaded = load_files([src.ontology, *src.data])
        stamp_version(loaded.graph)
        return validate_graph(loaded.graph, shapes=shapes, origin=loaded.origin)
    contribution = load_files([Path(f) for f in files])
    return validate_contribution(contribution.graph, load_files([src.ontology, *src.data]),
                                 origin=contribution.origin, shapes=shapes)


def validate_bytes(data: bytes, fmt: str, base: LoadedGraph, *, source: str = "<contribution>",
                   shapes: Graph | None = None) -> ValidationReport:
    """Validate one contribution given as bytes (the HTTP service's entry point)."""
    contribution = parse_bytes(data, fmt, source=source)
    origin = {s: source for s in contribution.subjects()}
    return validate_contribution(contribution, base, origin=origin, shapes=shapes)
