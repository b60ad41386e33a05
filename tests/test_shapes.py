"""Every shape in ontology/shapes.ttl accepts its -valid witnesses and flags its -invalid ones as stated.

Witness files live in tests/shapes/ and are named ``<Shape>-valid[-NN].ttl`` or
``<Shape>-<what>-invalid.ttl``. Line 1 says why (``# Valid: …`` / ``# Invalid: …``); an invalid
file's line 2 states the expected result: ``# expect: <Shape> <path CURIE> <Violation|Warning>``,
where an alternative path is written ``fw:a|fw:b`` and a sequence path ``fw:a/fw:b``. Each witness is
validated as a contribution, merged with the ontology and the shipped data (fwgraph.publish.validation.validate), with
the SPARQL-based constraints evaluated by Oxigraph (the default) and by rdflib (the reference): the two reports
must be the same.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest
from rdflib import BNode, Graph, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, SH

from fwgraph.publish.validation import Result, ValidationReport, validate

ROOT = Path(__file__).resolve().parents[1]
SHAPES_FILE = ROOT / "ontology" / "shapes.ttl"
WITNESS_DIR = Path(__file__).resolve().parent / "shapes"
FWSH = "https://w3id.org/fwgraph/shapes#"

WITNESSES = sorted(WITNESS_DIR.glob("*.ttl"))
VALID = [p for p in WITNESSES if re.search(r"-valid(-\d+)?$", p.stem)]
INVALID = [p for p in WITNESSES if p.stem.endswith("-invalid")]

EXPECT = re.compile(r"^# expect: (?P<shape>\S+) (?P<path>\S+) (?P<severity>Violation|Warning)\s*$")


@cache
def shapes_graph() -> Graph:
    return Graph().parse(SHAPES_FILE)


def node_shapes() -> list[URIRef]:
    return sorted(s for s in shapes_graph().subjects(RDF.type, SH.NodeShape) if isinstance(s, URIRef))


def property_shapes() -> list[URIRef]:
    g = shapes_graph()
    return sorted(set(g.subjects(RDF.type, SH.PropertyShape)) | set(g.objects(None, SH.property)))


def local_name(term: object) -> str:
    return str(term).removeprefix(FWSH)


def show_path(path: object) -> str:
    """A property path of the shapes graph as the CURIE written in '# expect:' lines."""
    g = shapes_graph()
    if isinstance(path, URIRef):
        return g.namespace_manager.curie(path, generate=False)
    if isinstance(path, BNode) and (alternatives := g.value(path, SH.alternativePath)) is not None:
        return "|".join(show_path(p) for p in Collection(g, alternatives))
    if isinstance(path, BNode) and g.value(path, RDF.first) is not None:  # a sequence path: doap:release/doap:created
        return "/".join(show_path(p) for p in Collection(g, path))
    return repr(path)


def result_path(result: Result) -> str | None:
    """The result's path as a CURIE; complex paths are read from the source shape's sh:path."""
    if result.path is None:
        return None
    if isinstance(result.path, URIRef):
        return show_path(result.path)
    return show_path(shapes_graph().value(result.source_shape, SH.path))


def from_witness(result: Result, witness: Path) -> bool:
    return result.file is None or Path(result.file).resolve() == witness.resolve()


def describe(results: list[Result]) -> str:
    return "\n".join(
        f"  {r.severity} {local_name(r.node_shape)} {result_path(r)} on {r.focus_node}: {r.message}"
        for r in results) or "  (no results)"


def witness_report(witness: Path) -> ValidationReport:
    """The witness's report, the same (as canonical N-Triples: each validation parses the witness anew, so its
    blank nodes get new labels) whichever evaluates the SPARQL constraints."""
    report, reference = validate([witness]), validate([witness], oxigraph=False)
    assert canonical_report(report) == canonical_report(reference), (
        f"{witness.name}: the report differs when rdflib evaluates the SPARQL constraints; Oxigraph:\n"
        f"{describe(report.results)}\nrdflib:\n{describe(reference.results)}")
    return report


def canonical_report(report: ValidationReport) -> bytes:
    from fwgraph.publish.canonical import canonical_nt, canonical_quads

    return canonical_nt(canonical_quads(report.report_graph))


def header(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()[:2]


@pytest.mark.parametrize("witness", VALID, ids=lambda p: p.stem)
def test_valid_witness_conforms(witness: Path) -> None:
    assert header(witness)[0].startswith("# Valid: "), "line 1 of a -valid witness must be '# Valid: …'"
    report = witness_report(witness)
    violations = [r for r in report.results if r.severity == "Violation" and from_witness(r, witness)]
    assert not violations, f"{witness.name} should conform but has:\n{describe(violations)}"


@pytest.mark.parametrize("witness", INVALID, ids=lambda p: p.stem)
def test_invalid_witness_is_flagged(witness: Path) -> None:
    first, second = header(witness)
    assert first.startswith("# Invalid: "), "line 1 of an -invalid witness must be '# Invalid: …'"
    expect = EXPECT.match(second)
    assert expect, "line 2 of an -invalid witness must be '# expect: <Shape> <path CURIE> <Severity>'"
    shape = URIRef(FWSH + expect["shape"])
    assert (shape, RDF.type, SH.NodeShape) in shapes_graph(), f"no node shape fwsh:{expect['shape']}"
    assert witness.name.startswith(expect["shape"] + "-"), "the file name must start with the expected shape"

    report = witness_report(witness)
    mine = [r for r in report.results if from_witness(r, witness)]
    matching = [r for r in mine if r.node_shape == shape and r.severity == expect["severity"]
                and result_path(r) == expect["path"]]
    assert matching, (f"{witness.name}: expected a {expect['severity']} from fwsh:{expect['shape']} on "
                      f"{expect['path']}, got:\n{describe(mine)}")
    assert all(r.message for r in matching), "every result must carry the shape's sh:message"
    if expect["severity"] == "Warning":
        violations = [r for r in mine if r.severity == "Violation"]
        assert not violations, f"a warning-only witness must still conform, but has:\n{describe(violations)}"


@pytest.mark.parametrize("shape", node_shapes(), ids=local_name)
def test_node_shape_has_valid_and_invalid_witness(shape: URIRef) -> None:
    name = local_name(shape)
    assert any(p.stem.startswith(name + "-") for p in VALID), f"no tests/shapes/{name}-valid.ttl"
    assert any(p.stem.startswith(name + "-") for p in INVALID), f"no tests/shapes/{name}-<what>-invalid.ttl"


@pytest.mark.parametrize("shape", node_shapes() + property_shapes(), ids=local_name)
def test_shape_has_id_label_and_message(shape: URIRef) -> None:
    g = shapes_graph()
    assert isinstance(shape, URIRef) and str(shape).startswith(FWSH), "shapes need a stable fwsh: IRI"
    assert g.value(shape, SH.message) is not None, f"{local_name(shape)} has no sh:message"
    assert any(m.language == "en" for m in g.objects(shape, SH.message)), "sh:message must be @en"
    assert g.value(shape, URIRef("http://www.w3.org/2000/01/rdf-schema#label")) is not None


def test_every_witness_is_named_valid_or_invalid() -> None:
    assert WITNESSES, "tests/shapes/ holds no witnesses"
    stray = [p.name for p in WITNESSES if p not in VALID and p not in INVALID]
    assert not stray, f"witness files must end in -valid[-NN].ttl or -invalid.ttl: {stray}"
