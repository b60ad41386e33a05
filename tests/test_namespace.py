"""One home per naming concept: compact names (CURIEs) and English labels come from `fwgraph.core.namespace` alone."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDFS, SKOS

from fwgraph.core.namespace import BASE, FW, PREFIXES, RECORD_KINDS, curie, curie_or_iri, label_of, segment_and_slug

SRC = Path(__file__).resolve().parents[1] / "src" / "fwgraph"
OTHER_MODULES = sorted(p for p in SRC.rglob("*.py") if p.name != "namespace.py")
#: What an IRI-shortening or English-first helper looked like before there was one of each.
_HOMEMADE = re.compile(r"namespace_manager\.(curie|qname|normalizeUri|compute_qname)\(|language in \(None, \"en\"\)"
                       r"|language == \"en\"|for \w+, \w+ in PREFIXES\.items\(\)")


@pytest.mark.parametrize("path", OTHER_MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_no_module_but_namespace_shortens_iris_or_picks_english(path):
    source = path.read_text(encoding="utf-8")
    defined = {n.name for n in ast.walk(ast.parse(source)) if isinstance(n, ast.FunctionDef)}
    assert not defined & {"curie", "_curie", "compact", "qname", "_qname", "prefixed"}, path
    assert not _HOMEMADE.search(source), f"{path}: {_HOMEMADE.search(source).group(0)}"  # type: ignore[union-attr]


@pytest.mark.parametrize(("iri", "expected"), [
    (str(FW.WebFramework), "fw:WebFramework"),
    (BASE + "framework/flask", "framework:flask"),
    (str(DCTERMS.title), "dcterms:title"),
    (BASE + "framework/flask/release/3.0", None),   # a slash in the local name
    ("http://dbpedia.org/resource/Flask_(web_framework)", None),  # parentheses need escapes in Turtle
    (BASE + "tier/", None),                          # the namespace itself
    ("http://purl.org/vocab/vann/preferredNamespaceUri", None),  # rdflib binds vann; fwgraph does not
    ("https://example.org/x", None),
])
def test_curie_uses_the_project_prefixes_and_only_bare_local_names(iri, expected):
    assert curie(iri) == expected


def test_curie_or_iri_falls_back_to_the_iri_bare_or_bracketed():
    assert curie_or_iri("https://example.org/x") == "https://example.org/x"
    assert curie_or_iri("https://example.org/x", brackets=True) == "<https://example.org/x>"
    assert curie_or_iri(str(FW.interface), brackets=True) == "fw:interface"


def test_every_compact_name_expands_to_its_iri():
    g = Graph()
    for iri in (str(FW.WebFramework), BASE + "interface/asgi", str(SKOS.prefLabel)):
        prefix, _, local = (curie(iri) or "").partition(":")
        g.bind(prefix, PREFIXES[prefix])
        assert g.namespace_manager.expand_curie(f"{prefix}:{local}") == URIRef(iri)


def _graph(*literals: Literal, predicate: URIRef = RDFS.label) -> tuple[Graph, URIRef]:
    node = URIRef("urn:x")
    g = Graph()
    for lit in literals:
        g.add((node, predicate, lit))
    return g, node


def test_label_prefers_english_or_untagged_and_is_the_same_in_every_process():
    g, node = _graph(Literal("Flasque", lang="fr"), Literal("Zeta", lang="en"), Literal("Alpha"))
    assert label_of(g, node) == "Alpha"


def test_label_of_another_language_when_there_is_no_english():
    g, node = _graph(Literal("Flasque", lang="fr"))
    assert label_of(g, node) == "Flasque"


def test_label_takes_the_first_predicate_that_has_a_literal():
    g, node = _graph(Literal("Title", lang="en"), predicate=DCTERMS.title)
    g.add((node, RDFS.label, URIRef("urn:not-a-literal")))
    assert label_of(g, node) == "Title"
    assert label_of(g, node, RDFS.label) is None
    g.add((node, SKOS.prefLabel, Literal("Preferred")))
    assert label_of(g, node) == "Preferred"


def _kind_literals(source: str) -> list[str]:
    """Where a module spells the IRI scheme of records itself: ``BASE + "server/"``, ``f"{BASE}framework/…"``, a
    folder-to-kind table, or the record kinds listed out."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and node.value in {f"{k}/" for k in RECORD_KINDS}:
            found.append(node.value)
        elif isinstance(node, ast.JoinedStr) and any(
                isinstance(v, ast.Constant) and str(v.value).startswith(tuple(f"{k}/" for k in RECORD_KINDS))
                for v in node.values):
            found.append(ast.unparse(node))
        elif isinstance(node, (ast.Tuple, ast.List, ast.Dict)):
            items = node.keys if isinstance(node, ast.Dict) else node.elts
            texts = {i.value for i in items if isinstance(i, ast.Constant)}
            if {"framework", "server", "library"} <= texts or {"servers", "libraries"} <= texts:
                found.append(ast.unparse(node))
    return found


@pytest.mark.parametrize("path", OTHER_MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_the_record_kinds_and_their_iri_segments_are_listed_only_in_namespace(path):
    assert not _kind_literals(path.read_text(encoding="utf-8")), path


def test_every_record_kind_has_its_class_folder_and_segment():
    assert [k.folder for k in RECORD_KINDS.values()] == ["frameworks", "servers", "libraries"]
    assert all((SRC.parents[1] / "data" / k.folder).is_dir() for k in RECORD_KINDS.values())
    assert RECORD_KINDS["server"].iri("granian") == URIRef(BASE + "server/granian")
    assert segment_and_slug(BASE + "library/jinja2") == ("library", "jinja2")
    assert segment_and_slug(BASE + "framework/flask/release/1.0") is None
    assert segment_and_slug("https://example.org/framework/flask") is None
