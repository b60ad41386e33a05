"""The served dataset description against DCAT-AP 3.0.1's own SHACL shapes (tests/fixtures/dcat-ap-3.0.1),
one test per requirement that applies to it, and VoID's statistics, partitions and linksets against the data."""

from __future__ import annotations

from collections import Counter

import pytest
from pyshacl import validate
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, OWL, RDF, SH, VOID

from fwgraph.core.namespace import BASE, DATASET_IRI, SPDX_TERMS
from fwgraph.publish.dist import COMPRESSED, DUMPS, VOID_FILE, Version, shipped_releases

from .conftest import FIXTURES, ROOT

SHAPES = FIXTURES / "dcat-ap-3.0.1"
LEVELS = {"shapes.ttl": "mandatory", "shapes_recommended.ttl": "recommended", "range.ttl": "range"}
#: Requirements fwgraph does not meet, each with the reason: (level, class, property) -> why.
NOT_APPLICABLE = {
    ("recommended", "dcat:Dataset", "dcterms:spatial"): "a dataset of software has no spatial extent",
}
PREFIXES = {"http://www.w3.org/ns/dcat#": "dcat:", "http://purl.org/dc/terms/": "dcterms:",
            "http://xmlns.com/foaf/0.1/": "foaf:", "http://www.w3.org/2004/02/skos/core#": "skos:",
            "http://www.w3.org/2006/vcard/ns#": "vcard:", "http://spdx.org/rdf/terms#": "spdx:",
            "http://data.europa.eu/r5r/": "dcatap:", "http://www.w3.org/ns/adms#": "adms:",
            "http://www.w3.org/2002/07/owl#": "owl:", "http://www.w3.org/ns/prov#": "prov:",
            "http://www.w3.org/ns/odrl/2/": "odrl:", "http://www.w3.org/ns/locn#": "locn:"}


def _short(iri) -> str:
    text = str(iri)
    for ns, prefix in PREFIXES.items():
        if text.startswith(ns):
            return prefix + text[len(ns):]
    return text


def _path(shapes: Graph, shape) -> str:
    path = shapes.value(shape, SH.path)
    return _short(path) if isinstance(path, URIRef) else "(complex path)"


@pytest.fixture(scope="module")
def shapes() -> Graph:
    g = Graph()
    for name in LEVELS:
        g.parse(SHAPES / name)
    return g


def _requirements() -> list[tuple[str, str, str, str]]:
    """(level, class, property, file) of every property shape in the fixture that targets a class."""
    out = []
    for name, level in LEVELS.items():
        g = Graph().parse(SHAPES / name)
        for node, cls in g.subject_objects(SH.targetClass):
            for prop in g.objects(node, SH.property):
                out.append((level, _short(cls), _path(g, prop), name))
    return sorted(set(out))


REQUIREMENTS = _requirements()


@pytest.fixture(scope="module")
def description(app) -> Graph:
    r = app.test_client().get("/.well-known/void", headers={"Accept": "text/turtle"})
    assert r.status_code == 200
    return Graph().parse(data=r.data, format="turtle")


@pytest.fixture(scope="module")
def results(description, shapes) -> Counter:
    """Every result of the validation, as (level, class, property) -> count."""
    _conforms, report, _text = validate(description, shacl_graph=shapes, advanced=True, allow_warnings=True)
    files = {name: Graph().parse(SHAPES / name) for name in LEVELS}
    found: Counter = Counter()
    for result in report.objects(None, SH.result):
        shape = report.value(result, SH.sourceShape)
        owners = list(shapes.subjects(SH.property, shape)) or [shape]
        for owner in owners:
            for cls in shapes.objects(owner, SH.targetClass):
                for name, level in LEVELS.items():
                    if (owner, SH.targetClass, cls) in files[name]:
                        found[(level, _short(cls), _path(shapes, shape))] += 1
    return found


def _applies(description: Graph, cls: str) -> bool:
    full = next((ns + cls.split(":", 1)[1] for ns, p in PREFIXES.items() if cls.startswith(p)), cls)
    return any(description.subjects(RDF.type, URIRef(full)))


@pytest.mark.parametrize(("level", "cls", "prop", "source"), REQUIREMENTS,
                         ids=[f"{level}:{cls}:{prop}" for level, cls, prop, _ in REQUIREMENTS])
def test_dcat_ap_requirement(description, results, level, cls, prop, source):
    if not _applies(description, cls):
        assert results[(level, cls, prop)] == 0
        return
    key = (level, cls, prop)
    if key in NOT_APPLICABLE:
        assert results[key] == 1, f"{NOT_APPLICABLE[key]}: the only exception, reported once"
    else:
        assert results[key] == 0, f"{cls} {prop} fails DCAT-AP 3.0.1 ({level}, {source})"


def test_the_requirements_reach_the_description(description):
    """Most requirements have something to check: the description has every class DCAT-AP constrains here."""
    for cls in ("dcat:Dataset", "dcat:Distribution", "dcat:DataService", "foaf:Agent", "vcard:Kind",
                "dcterms:LicenseDocument", "dcterms:PeriodOfTime", "spdx:Checksum", "skos:Concept"):
        assert _applies(description, cls), cls
    applicable = [r for r in REQUIREMENTS if _applies(description, r[1])]
    assert len(applicable) >= 80


def test_only_the_stated_exceptions_remain(results):
    assert {k for k, n in results.items() if n} == set(NOT_APPLICABLE)


def _conforms_as_release(g: Graph, shapes: Graph) -> None:
    """``g`` describes release 99.0.0 (its files under ``download/99.0.0/``) and conforms to DCAT-AP."""
    conforms, _report, text = validate(g, shacl_graph=shapes, advanced=True, allow_warnings=True)
    assert conforms, text
    dataset = URIRef(BASE + "dataset/99.0.0")
    assert (dataset, RDF.type, DCAT.Dataset) in g
    for dist in g.objects(dataset, DCAT.distribution):
        assert str(dist).startswith(BASE + "download/99.0.0/")
        assert g.value(dist, URIRef("http://data.europa.eu/r5r/availability")) == URIRef(
            "http://publications.europa.eu/resource/authority/planned-availability/STABLE")


def test_a_release_description_conforms_too(shapes, graph, dist):
    """The description of a release, made in-process from the session's graph and files (what `fwgraph build
    --version` writes; the build itself: the ``system`` test below)."""
    from fwgraph.publish.description import void_description

    prior = shipped_releases(ROOT / "releases")[-1].version
    files = {p.name: p.read_bytes() for p in sorted(dist.iterdir()) if p.is_file() and p.name != VOID_FILE}
    version = Version(name="99.0.0", release=True, prior=prior, issued="2026-12-24", releases=(prior, "99.0.0"))
    _conforms_as_release(void_description(graph, files, version=version, versioned_dataset=True), shapes)


@pytest.mark.system  # a whole second build (a minute of CPU); the description it writes is checked in-process above
def test_a_release_build_describes_the_release(shapes, tmp_path):
    from fwgraph.publish.build import build

    out = build(tmp_path / "release", version="99.0.0", issued="2026-12-24").out
    _conforms_as_release(Graph().parse(out / VOID_FILE), shapes)


# --------------------------------------------------------------------------- checksums, VoID


def test_checksums_use_spdx_terms(description, dist):
    import hashlib

    checked = 0
    for distribution, checksum in description.subject_objects(SPDX_TERMS.checksum):
        assert (checksum, RDF.type, SPDX_TERMS.Checksum) in description
        assert description.value(checksum, SPDX_TERMS.algorithm) == SPDX_TERMS.checksumAlgorithm_sha256
        name = str(distribution).rsplit("/", 1)[-1]
        expected = hashlib.sha256((dist / name).read_bytes()).hexdigest()
        assert str(description.value(checksum, SPDX_TERMS.checksumValue)) == expected
        checked += 1
    assert checked == len(DUMPS) + len(COMPRESSED)
    assert not any(str(p).startswith("http://spdx.org/licenses/") for p in description.predicates())


def test_every_distribution_has_access_and_format(description):
    for dist in description.objects(DATASET_IRI, DCAT.distribution):
        assert description.value(dist, DCAT.accessURL) == dist
        assert description.value(dist, DCAT.downloadURL) == dist
        assert (description.value(dist, DCAT.mediaType), RDF.type, DCTERMS.MediaType) in description
        assert description.value(dist, DCTERMS.license) == URIRef("https://creativecommons.org/licenses/by/4.0/")
        assert isinstance(description.value(dist, DCTERMS.description), Literal)


def test_agents_are_resources(description):
    for prop in (DCTERMS.creator, DCTERMS.publisher):
        agent = description.value(DATASET_IRI, prop)
        assert isinstance(agent, URIRef) and (agent, RDF.type, URIRef("http://xmlns.com/foaf/0.1/Agent")) in description
    service = description.value(DATASET_IRI, DCAT.accessService)
    assert description.value(service, DCTERMS.title) is not None


def _count(engine, query: str) -> int:
    from fwgraph.store.engine import run

    return int(run(engine, query).rows[0][0].value)


def test_class_and_property_partitions_match_the_data(app, description):
    engine = app.extensions["fwgraph"].engine
    classes = {description.value(p, VOID["class"]): int(description.value(p, VOID.entities))
               for p in description.objects(DATASET_IRI, VOID.classPartition)}
    properties = {description.value(p, VOID.property): int(description.value(p, VOID.triples))
                  for p in description.objects(DATASET_IRI, VOID.propertyPartition)}
    assert len(classes) == int(description.value(DATASET_IRI, VOID.classes))
    assert len(properties) == int(description.value(DATASET_IRI, VOID.properties))
    assert sum(properties.values()) == int(description.value(DATASET_IRI, VOID.triples))
    web = URIRef(BASE + "ns#WebFramework")
    assert classes[web] == _count(engine, f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s a <{web}> }}")
    assert properties[OWL.sameAs] == _count(engine, f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s <{OWL.sameAs}> ?o }}")


@pytest.mark.parametrize(("target", "space", "predicate"), [
    ("wikidata", "http://www.wikidata.org/entity/", OWL.sameAs),
    ("dbpedia", "http://dbpedia.org/resource/", OWL.sameAs),
    ("pypi", "https://pypi.org/project/", URIRef("http://usefulinc.com/ns/doap#download-page")),
    ("github", "https://github.com/", URIRef("https://schema.org/codeRepository")),
])
def test_linksets_count_the_links(app, description, target, space, predicate):
    engine = app.extensions["fwgraph"].engine
    linksets = [s for s in description.objects(DATASET_IRI, VOID.subset)
                if description.value(s, VOID.linkPredicate) == predicate
                and description.value(s, VOID.objectsTarget) == URIRef(f"{DATASET_IRI}#{target}")]
    assert len(linksets) == 1
    linkset = linksets[0]
    assert (linkset, RDF.type, VOID.Linkset) in description
    assert description.value(linkset, VOID.subjectsTarget) == DATASET_IRI
    assert description.value(URIRef(f"{DATASET_IRI}#{target}"), VOID.uriSpace) == Literal(space)
    expected = _count(engine, f'SELECT (COUNT(*) AS ?n) WHERE {{ ?s <{predicate}> ?o '
                              f'FILTER(isIRI(?o) && STRSTARTS(STR(?o), "{space}")) }}')
    assert expected > 0 and int(description.value(linkset, VOID.triples)) == expected
    assert not isinstance(linkset, BNode)
