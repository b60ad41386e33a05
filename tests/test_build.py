"""`fwgraph build`: refuses invalid sources, writes every dump, is deterministic, and its JSON-LD round-trips."""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil

import pytest
from pyld import jsonld
from rdflib import Graph, URIRef
from rdflib.namespace import DCAT, VOID

from fwgraph.core.errors import BuildError
from fwgraph.core.namespace import CONTEXT_IRI, DATASET_IRI, SPDX_TERMS
from fwgraph.publish.build import build
from fwgraph.publish.dist import COMPRESSED, DUMPS
from tests.graphs import isomorphic

from .conftest import ROOT


def test_writes_every_file(dist):
    for name in [*DUMPS, *(n + ".gz" for n in COMPRESSED), "void.ttl"]:
        assert (dist / name).stat().st_size > 0, name


def test_two_builds_are_identical(dist, rebuilt):
    files = [path for path in dist.iterdir() if path.is_file()]  # fwgraph.oxigraph/ is an index, not a dump
    assert len(files) == len(DUMPS) + len(COMPRESSED) + 1  # and void.ttl
    for path in files:
        assert path.read_bytes() == (rebuilt / path.name).read_bytes(), path.name


def test_gzip_copies_match(dist):
    for name in COMPRESSED:
        assert gzip.decompress((dist / (name + ".gz")).read_bytes()) == (dist / name).read_bytes()


def test_turtle_and_ntriples_agree(dist):
    assert isomorphic(Graph().parse(dist / "fwgraph.ttl"), Graph().parse(dist / "fwgraph.nt"))


def _pyld_loader(context_path):
    context = json.loads(context_path.read_text(encoding="utf-8"))

    def load(url, options=None):
        if url != CONTEXT_IRI:
            raise RuntimeError(f"refusing to fetch {url}")
        return {"contentType": "application/ld+json", "contextUrl": None, "documentUrl": url, "document": context}

    return load


def test_jsonld_is_isomorphic_to_turtle_with_pyld_and_rdflib(dist):
    turtle = Graph().parse(dist / "fwgraph.ttl")
    doc = json.loads((dist / "fwgraph.jsonld").read_text(encoding="utf-8"))
    nquads = jsonld.to_rdf(doc, {"format": "application/n-quads",
                                 "documentLoader": _pyld_loader(dist / "fwgraph.context.jsonld")})
    assert isomorphic(Graph().parse(data=nquads, format="nt"), turtle)
    assert isomorphic(Graph().parse(dist / "fwgraph.jsonld", format="json-ld"), turtle)


def test_context_is_readable(dist):
    context = json.loads((dist / "fwgraph.context.jsonld").read_text())["@context"]
    assert context["label"] == "rdfs:label"
    assert context["interface"] == {"@id": "fw:interface", "@type": "@id"}


def test_void_counts_and_checksums(dist):
    void = Graph().parse(dist / "void.ttl")
    triples = int(void.value(DATASET_IRI, VOID.triples))
    assert triples == len(Graph().parse(dist / "fwgraph.nt"))
    dumps = set(void.objects(DATASET_IRI, VOID.dataDump))
    assert URIRef("https://w3id.org/fwgraph/download/fwgraph.ttl.gz") in dumps
    for dist_iri in void.objects(DATASET_IRI, DCAT.distribution):
        name = str(dist_iri).rsplit("/", 1)[1]
        checksum = void.value(void.value(dist_iri, SPDX_TERMS.checksum), SPDX_TERMS.checksumValue)
        assert str(checksum) == hashlib.sha256((dist / name).read_bytes()).hexdigest(), name


def test_refuses_to_build_invalid_sources(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(ROOT / "ontology", src / "ontology")
    shutil.copytree(ROOT / "data", src / "data")
    flask = src / "data" / "frameworks" / "flask.ttl"
    flask.write_text(flask.read_text().replace('rdfs:label "Flask" ;', ""), encoding="utf-8")
    with pytest.raises(BuildError, match="rdfs:label"):
        build(tmp_path / "out", root=src)
    assert not (tmp_path / "out" / "fwgraph.ttl").exists()


@pytest.mark.parametrize("turtle", [
    "@prefix ex: <http://example.org/ns#> . ex:a ex:p <https://github.com/a/b>, <https://pypi.org/project/b/> ; "
    "ex:q [ ex:p <https://github.com/a/b> ] . <https://github.com/a/b> ex:p ex:a .",
    # a predicate under no prefix gets a generated one, which names objects looked up (and missed) before
    "<http://example.org/a> <http://example.org/ns2/p> <http://other.example/x/y>, <http://example.org/ns2/z> . "
    "<http://other.example/x/w> <http://other.example/x/p> <http://example.org/ns2/q.> .",
], ids=["unprefixed-iris", "generated-prefix"])
def test_the_build_writes_turtle_as_rdflib_does(turtle):
    """The build's Turtle writer remembers prefixed names (issue 21 item 6); its bytes are rdflib's own."""
    from fwgraph.publish.build import _turtle

    graph = Graph().parse(data=turtle, format="turtle")
    assert _turtle(graph) == graph.serialize(format="turtle", encoding="utf-8")


def test_the_isomorphism_check_tells_graphs_apart():
    """tests.graphs.isomorphic (RDFC-1.0) agrees with rdflib's on relabelled blank nodes and on a changed one."""
    from rdflib.compare import isomorphic as rdflib_isomorphic

    a = Graph().parse(data="<s:a> <p:p> [ <p:q> 1 ; <p:r> [ <p:q> 2 ] ] .", format="turtle")
    b = Graph().parse(data="<s:a> <p:p> _:x . _:x <p:q> 1 ; <p:r> _:y . _:y <p:q> 2 .", format="turtle")
    c = Graph().parse(data="<s:a> <p:p> _:x . _:x <p:q> 2 ; <p:r> _:y . _:y <p:q> 1 .", format="turtle")
    assert isomorphic(a, b) and rdflib_isomorphic(a, b)
    assert not isomorphic(a, c) and not rdflib_isomorphic(a, c)


def _canonical(graph: Graph) -> list[str]:
    """``graph``'s triples with canonical blank-node labels (RDFC-1.0, by pyoxigraph): two graphs are isomorphic
    when these are equal (rdflib's own isomorphism test took 66 s of the 76 this test needed)."""
    import pyoxigraph as ox

    from fwgraph.data.convert import to_ox

    dataset = ox.Dataset([ox.Quad(to_ox(s), to_ox(p), to_ox(o)) for s, p, o in graph])
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return sorted(str(q) for q in dataset)


def test_each_file_parses_like_rdflib_and_keeps_its_blank_nodes_apart(tmp_path):
    """The sources are parsed once, by pyoxigraph: every shipped file gives rdflib's own graph, and ``_:b`` in two
    files (or two parses of one file) are distinct nodes, as the Turtle spec scopes labels to a document."""

    from fwgraph.core.namespace import BASE
    from fwgraph.data.graph import Sources, load_files, parse_file

    sources = Sources.at(None)
    for path in [sources.ontology, sources.shapes, *sources.data]:
        ours, theirs = parse_file(path), Graph().parse(path, format="turtle", publicID=BASE)
        assert _canonical(ours) == _canonical(theirs), path
    text = '_:b <http://example.org/p> "{}" .\n'
    (tmp_path / "a.ttl").write_text(text.format("a"))
    (tmp_path / "b.ttl").write_text(text.format("b"))
    merged = load_files([tmp_path / "a.ttl", tmp_path / "b.ttl", tmp_path / "a.ttl"]).graph
    assert len(set(merged.subjects())) == 3


def test_the_store_straight_from_the_sources_holds_the_graph_load_gives(tmp_path):
    """`fwgraph query` and `chart` load the sources straight into Oxigraph: the same triples as the rdflib graph
    of `load()` (version stamp included), and a broken file is still an error with its line and column."""
    import pyoxigraph as ox

    from fwgraph.core.errors import InputError
    from fwgraph.data.graph import load, load_store
    from fwgraph.store.engine import OxigraphEngine

    def canonical(store: ox.Store) -> list[str]:
        dataset = ox.Dataset(store)
        dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
        return sorted(str(q) for q in dataset)

    direct = canonical(load_store())
    assert direct == canonical(OxigraphEngine.from_graph(load()).store)
    assert any("owl#versionInfo" in q for q in direct)
    for name in ("ontology", "data"):
        shutil.copytree(ROOT / name, tmp_path / name)
    (tmp_path / "data" / "frameworks" / "flask.ttl").write_text("@prefix fw: <x#> .\nfw:a fw:b ;; .\n")
    with pytest.raises(InputError) as caught:
        load_store(tmp_path)
    assert caught.value.line == 2 and caught.value.source.endswith("flask.ttl")


@pytest.mark.parametrize("data, column", [(b'<http://a> <http://p> "\xff" .', 24), (b"<http://a> <http://p> .", 23)],
                         ids=["invalid-utf8", "missing-object"])
def test_a_turtle_error_states_its_position_once(data, column):
    """Both forms of pyoxigraph's position prefix are moved into line and column, not repeated in the message."""
    from fwgraph.core.errors import InputError
    from fwgraph.data.graph import parse_bytes

    with pytest.raises(InputError) as caught:
        parse_bytes(data, "turtle")
    assert (caught.value.line, caught.value.column) == (1, column)
    assert "Parser error" not in caught.value.message
