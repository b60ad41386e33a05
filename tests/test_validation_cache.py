"""The caches that make building and validating the grown graph fast (issue 21): a report is reused only for the
same canonical data and shapes, the version stamp on canonical quads is the canonicalised stamped graph, and the
on-disk store of the sources is remade when a file changes."""

from __future__ import annotations

import pytest
from rdflib import Graph, URIRef

from fwgraph.core.settings import Settings
from fwgraph.data.graph import Sources, parse_file
from fwgraph.publish import validation
from fwgraph.publish.canonical import canonical_nt, canonical_quads, load_sources, stamp_quads, stamped
from fwgraph.publish.dist import Version

SHAPES = """@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .
ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:p ; sh:minCount 1 ; sh:message "needs p"@en ] .
"""
INVALID = "@prefix ex: <http://example.org/> . ex:a a ex:C . _:b a ex:C ; ex:p 1 ."
VALID = "@prefix ex: <http://example.org/> . ex:a a ex:C ; ex:p 1 ."


def _cached(data: str, shapes_text: str = SHAPES) -> validation.ValidationReport:
    shapes = Graph().parse(data=shapes_text, format="turtle")  # pySHACL adds axioms to the shapes it is given
    graph = Graph().parse(data=data, format="turtle")
    quads = canonical_quads(graph)
    from fwgraph.publish.canonical import canonical_graph

    return validation.validate_graph_cached(lambda: canonical_graph(quads, "Memory"), canonical_nt(quads),
                                            shapes=shapes, shapes_nt=canonical_nt(canonical_quads(shapes)))


def test_a_report_is_reused_for_the_same_data_and_shapes_only(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    first = _cached(INVALID)
    assert not first.conforms and [r.message for r in first.results] == ["needs p"]
    assert len(list((tmp_path / "fwgraph" / "validation").iterdir())) == 1

    def never(*args, **kwargs):
        raise AssertionError("validated again")

    with monkeypatch.context() as m:
        m.setattr(validation, "validate_graph", never)
        again = _cached(INVALID)
    assert [(r.focus_node, r.path, r.severity, r.message, r.source_shape) for r in again.results] == [
        (r.focus_node, r.path, r.severity, r.message, r.source_shape) for r in first.results]
    assert _cached(VALID).conforms  # other data: validated
    assert _cached(INVALID, SHAPES.replace("sh:minCount 1", "sh:minCount 0")).conforms  # other shapes: validated
    assert len(list((tmp_path / "fwgraph" / "validation").iterdir())) == 3


@pytest.mark.parametrize("stamp", [Version(name="0.3.0", release=True, prior="0.2.0", issued="2026-12-07"),
                                   Version(name="0.2.0+dev", release=False, prior="0.2.0")])
def test_stamping_canonical_quads_is_canonicalising_the_stamped_graph(stamp):
    ontology = Sources.at(None).ontology
    assert canonical_nt(stamp_quads(load_sources([ontology]).quads, stamp)) == canonical_nt(
        canonical_quads(stamped(parse_file(ontology), stamp)))


def test_the_store_of_the_sources_is_remade_when_a_file_changes(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    record = tmp_path / "a.ttl"
    record.write_text('<http://example.org/a> <http://example.org/p> "1" .\n')
    first = validation.sources_store([record])
    assert len(first) == 1
    del first
    assert len(validation.sources_store([record])) == 1
    record.write_text('<http://example.org/a> <http://example.org/p> "1", "2" .\n')
    assert len(validation.sources_store([record])) == 2
    stores = tmp_path / "cache" / "fwgraph" / "stores"
    assert len([p for p in stores.iterdir() if not p.name.startswith(".")]) == 2
    described = validation.describe_in_files([record])([URIRef("http://example.org/a")])
    assert len(described) == 2


def test_a_report_validated_beside_is_the_report_validated_here(tmp_path, monkeypatch):
    """`fwgraph build` validates a large graph in another process (validate_beside): the report it reads back names
    the same nodes, paths, shapes and messages as a validation in this process, and is kept in the cache."""
    monkeypatch.setattr(validation, "BESIDE_BYTES", 0)  # any graph is "large"
    monkeypatch.setattr(validation, "_cores", lambda: 4)  # and a core is spare
    monkeypatch.setattr(validation, "active", lambda: Settings(validate_beside=True))  # whatever the session set
    shapes = Graph().parse(data=SHAPES, format="turtle")
    quads = canonical_quads(Graph().parse(data=INVALID, format="turtle"))
    from fwgraph.publish.canonical import canonical_graph

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "here"))
    here = _cached(INVALID)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "beside"))
    with validation.validate_beside(lambda: canonical_graph(quads, "Memory"), canonical_nt(quads), shapes=shapes,
                                    shapes_nt=canonical_nt(canonical_quads(shapes))) as pending:
        assert not pending.done  # validating elsewhere
        beside = pending.report()
    assert not beside.conforms
    assert [(r.focus_node, r.path, r.severity, r.message) for r in beside.results] == [
        (r.focus_node, r.path, r.severity, r.message) for r in here.results] != []
    assert [p.name for p in (tmp_path / "beside" / "fwgraph" / "validation").iterdir()] == [
        p.name for p in (tmp_path / "here" / "fwgraph" / "validation").iterdir()]
    with validation.validate_beside(lambda: canonical_graph(quads, "Memory"), canonical_nt(quads), shapes=shapes,
                                    shapes_nt=canonical_nt(canonical_quads(shapes))) as pending:
        assert pending.done and not pending.report().conforms  # read from the cache, no process


def test_a_validating_process_that_fails_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(validation, "BESIDE_BYTES", 0)
    monkeypatch.setattr(validation, "_cores", lambda: 4)
    monkeypatch.setattr(validation, "active", lambda: Settings(validate_beside=True))
    shapes = Graph().parse(data=SHAPES, format="turtle")
    with validation.validate_beside(Graph, b"this is no N-Triples\n", shapes=shapes,
                                    shapes_nt=canonical_nt(canonical_quads(shapes))) as pending:
        with pytest.raises(RuntimeError, match="(?s)validation failed: .*SyntaxError"):
            pending.report()
    assert not (tmp_path / "fwgraph" / "validation").exists()


@pytest.mark.parametrize("cores", [2, 4])
def test_validating_beside_can_be_turned_off(tmp_path, monkeypatch, cores):
    """``VALIDATE_BESIDE=0``: validated in the building process (done before the dumps are written), on two
    cores as on more; on, a second process validates on two cores too (a core is free while this one writes)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(validation, "BESIDE_BYTES", 0)
    monkeypatch.setattr(validation, "_cores", lambda: cores)
    shapes = Graph().parse(data=SHAPES, format="turtle")
    quads = canonical_quads(Graph().parse(data=INVALID, format="turtle"))
    from fwgraph.publish.canonical import canonical_graph

    for beside in (False, True):
        monkeypatch.setattr(validation, "active", lambda beside=beside: Settings(validate_beside=beside))
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / str(beside)))
        with validation.validate_beside(lambda: canonical_graph(quads, "Memory"), canonical_nt(quads),
                                        shapes=shapes, shapes_nt=canonical_nt(canonical_quads(shapes))) as pending:
            assert pending.done is not beside
            assert not pending.report().conforms
