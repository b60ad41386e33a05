"""Findable by machines: robots.txt, the sitemap (every resource page, lastmod from the data), schema.org JSON-LD
data blocks generated from the graph, signposting Link headers, JSON-LD profiles and charset parameters."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import RDF

from fwgraph.core import formats
from fwgraph.core.namespace import BASE, FW
from fwgraph.store.engine import run
from tests.graphs import isomorphic

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
SDO = "https://schema.org/"
LD_BLOCK = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.S)


def _blocks(html: str) -> list[dict]:
    return [json.loads(b) for b in LD_BLOCK.findall(html)]


def _as_rdf(doc: dict) -> Graph:
    """A schema.org block read as RDF by rdflib, with schema.org's context replaced by its vocabulary (no fetch)."""
    local = dict(doc, **{"@context": {"@vocab": SDO}})
    return Graph().parse(data=json.dumps(local), format="json-ld")


# --------------------------------------------------------------------------- robots.txt and the sitemap


def test_robots_allows_pages_and_keeps_crawlers_out_of_query_spaces(client):
    r = client.get("/robots.txt")
    assert r.status_code == 200 and r.headers["Content-Type"] == formats.TEXT.content_type
    lines = r.data.decode().splitlines()
    assert "User-agent: *" in lines and "Allow: /" in lines
    for path in ("/sparql", "/validate", "/compare?", "/*?"):
        assert f"Disallow: {path}" in lines
    assert "Disallow: /framework" not in lines
    assert lines[-1] == "Sitemap: http://localhost/sitemap.xml"


@pytest.fixture(scope="module")
def sitemap(app) -> dict[str, str | None]:
    r = app.test_client().get("/sitemap.xml")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/xml")
    root = ET.fromstring(r.data)
    assert root.tag == SITEMAP + "urlset"
    entries = {}
    for url in root.iter(SITEMAP + "url"):
        lastmod = url.find(SITEMAP + "lastmod")
        entries[url.findtext(SITEMAP + "loc")] = lastmod.text if lastmod is not None else None
    return entries


def test_sitemap_lists_every_resource_page(app, sitemap):
    engine = app.extensions["fwgraph"].engine
    rows = run(engine, f'SELECT DISTINCT ?s WHERE {{ ?s ?p ?o FILTER(isIRI(?s) && STRSTARTS(STR(?s), "{BASE}") '
                       '&& !CONTAINS(STR(?s), "#")) }', max_rows=100_000).rows
    resources = {"http://localhost/" + r[0].value[len(BASE):] for r in rows if r[0].value != BASE}
    assert resources and resources <= set(sitemap)
    frameworks = run(engine, f"SELECT ?f WHERE {{ ?f a <{FW.WebFramework}> }}", max_rows=1000).rows
    assert len(frameworks) > 20
    for page in ("http://localhost/", "http://localhost/ns", "http://localhost/dataset", "http://localhost/download/"):
        assert page in sitemap


def test_sitemap_lastmod_comes_from_the_data(app, sitemap):
    engine = app.extensions["fwgraph"].engine
    rows = run(engine, f"SELECT ?f ?d WHERE {{ ?f <{FW.lastChecked}> ?d }}", max_rows=10_000).rows
    assert rows
    for f, checked in rows:
        assert sitemap["http://localhost/" + f.value[len(BASE):]] == checked.value
    row = "http://localhost/chart-row/flask"
    assert sitemap[row] == sitemap["http://localhost/framework/flask"]  # a claim changes with its record


def test_every_sitemap_page_answers(client, sitemap):
    for url in sitemap:
        path = url[len("http://localhost"):]
        r = client.get(path, headers={"Accept": "text/turtle"} if path not in ("/", "/download/", "/compare",
                                                                                  "/compare/interfaces") else {})
        assert r.status_code == 200, path


# --------------------------------------------------------------------------- schema.org data blocks


def test_landing_page_describes_the_dataset(client):
    html = client.get("/", headers={"Accept": "text/html"}).data.decode()
    (doc,) = _blocks(html)
    assert doc["@type"] == "Dataset" and doc["@context"] == "https://schema.org"
    assert doc["name"].startswith("fwgraph") and len(doc["description"]) >= 50
    assert doc["license"] == "https://creativecommons.org/licenses/by/4.0/"
    assert doc["creator"] == [{"@type": "Organization", "name": "fwgraph contributors", "url": BASE}]
    assert doc["version"] and doc["dateModified"]
    downloads = {d["contentUrl"]: d for d in doc["distribution"]}
    assert downloads[BASE + "download/fwgraph.ttl"]["encodingFormat"] == "text/turtle"
    assert downloads[BASE + "download/fwgraph.nt.gz"]["encodingFormat"] == "application/gzip"
    g = _as_rdf(doc)
    dataset = URIRef(BASE + "dataset")
    assert (dataset, RDF.type, URIRef(SDO + "Dataset")) in g
    assert len(list(g.objects(dataset, URIRef(SDO + "distribution")))) == len(doc["distribution"])


def test_dataset_page_carries_the_same_markup(client):
    html = client.get("/dataset", headers={"Accept": "text/html"}).data.decode()
    (doc,) = _blocks(html)
    assert doc["@type"] == "Dataset" and doc["@id"] == BASE + "dataset"


def test_the_dataset_markup_says_how_to_cite_it(client):
    """``citation`` from the dataset's dcterms:bibliographicCitation; served at its canonical base, the page names
    no other IRI for it (``sameAs``), and no data catalogue lists it yet (``includedInDataCatalog``)."""
    (doc,) = _blocks(client.get("/dataset", headers={"Accept": "text/html"}).data.decode())
    assert doc["citation"].startswith("fwgraph contributors. fwgraph: a knowledge graph of Python web frameworks")
    assert doc["citation"].endswith(BASE + "dataset")
    assert "sameAs" not in doc and "includedInDataCatalog" not in doc


def test_a_dataset_served_by_another_host_is_the_same_as_its_w3id_iri():
    """Before w3id.org redirects, a server at its own host names the dataset by that host (``@id``, ``url``) and
    says it is the persistent IRI (``sameAs``); a catalogue listing it and a DOI it states are carried over."""
    from rdflib import Literal
    from rdflib.namespace import DCAT, DCTERMS, OWL

    from fwgraph.publish.schemaorg import dataset

    host = "https://fwgraph.example.test/dataset"
    void = Graph()
    void.add((URIRef(host), DCTERMS.title, Literal("fwgraph")))
    void.add((URIRef(host), OWL.sameAs, URIRef("https://doi.org/10.5281/zenodo.0000000")))
    void.add((URIRef("https://catalogue.example.test/"), DCAT.dataset, URIRef(host)))
    void.add((URIRef("https://catalogue.example.test/"), DCTERMS.title, Literal("A catalogue")))
    doc = dataset(void, host, canonical=BASE + "dataset")
    assert doc["@id"] == host and doc["url"] == host
    assert doc["sameAs"] == [BASE + "dataset", "https://doi.org/10.5281/zenodo.0000000"]
    assert doc["includedInDataCatalog"] == [{"@type": "DataCatalog", "@id": "https://catalogue.example.test/",
                                             "url": "https://catalogue.example.test/", "name": "A catalogue"}]


@pytest.mark.parametrize(("path", "kind"), [("framework/flask", "SoftwareSourceCode"),
                                            ("server/gunicorn", "SoftwareApplication"),
                                            ("library/jinja2", "SoftwareSourceCode"),
                                            ("feature/websockets", "DefinedTerm")])
def test_resource_pages_carry_schema_org_markup(client, path, kind):
    html = client.get(f"/{path}", headers={"Accept": "text/html"}).data.decode()
    (doc,) = _blocks(html)
    assert doc["@type"] == kind and doc["@id"] == BASE + path
    g = _as_rdf(doc)
    assert (URIRef(BASE + path), RDF.type, URIRef(SDO + kind)) in g
    if kind != "DefinedTerm":
        assert doc["codeRepository"].startswith("https://github.com/") and doc["license"].startswith("http://spdx.org")
    else:
        assert doc["inDefinedTermSet"] == BASE + "feature/"


def test_flask_markup_comes_from_its_record(client):
    (doc,) = _blocks(client.get("/framework/flask", headers={"Accept": "text/html"}).data.decode())
    assert doc["name"] == "Flask" and doc["softwareVersion"] == "3.1.3" and doc["dateModified"] == "2026-02-18"
    assert "http://www.wikidata.org/entity/Q289281" in doc["sameAs"]


def test_pages_without_a_schema_org_type_carry_none(client):
    html = client.get("/correction/flask-async", headers={"Accept": "text/html"}).data.decode()
    assert _blocks(html) == []


def test_data_in_a_block_cannot_close_it():
    from fwgraph.publish.schemaorg import script_json

    text = script_json({"name": "</script><script>alert(1)</script>"})
    assert "</script>" not in text and "<" not in text
    assert json.loads(text)["name"] == "</script><script>alert(1)</script>"


def test_the_page_policy_still_forbids_inline_scripts(client):
    r = client.get("/framework/flask", headers={"Accept": "text/html"})
    policy = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]


# --------------------------------------------------------------------------- signposting, media type parameters


def _links(header: str) -> list[tuple[str, dict[str, str]]]:
    out = []
    for part in re.findall(r'<[^>]*>[^,]*(?:,|$)', header):
        target = part[part.index("<") + 1 : part.index(">")]
        params = dict(re.findall(r'(\w+)="([^"]*)"', part))
        out.append((target, params))
    return out


@pytest.mark.parametrize("accept", ["text/html", "text/turtle", "application/ld+json"])
def test_signposting_on_pages_and_descriptions(client, accept):
    r = client.get("/framework/flask", headers={"Accept": accept})
    links = _links(r.headers["Link"])
    rels = {(target, params["rel"]) for target, params in links}
    assert (BASE + "framework/flask", "cite-as") in rels
    assert ("https://creativecommons.org/licenses/by/4.0/", "license") in rels
    assert (str(FW.WebFramework), "type") in rels
    described = {params["type"]: target for target, params in links if params["rel"] == "describedby"}
    assert set(described) == {f.media_type for f in formats.RDF_FORMATS}
    for media, target in described.items():
        got = client.get(target[len("http://localhost"):])
        assert got.status_code == 200 and got.headers["Content-Type"].split(";")[0] == media


def test_signposting_on_the_vocabulary(client):
    links = _links(client.get("/ns", headers={"Accept": "text/turtle"}).headers["Link"])
    assert (BASE + "ns", "cite-as") in {(t, p["rel"]) for t, p in links}


@pytest.mark.parametrize("form", ["expanded", "flattened"])
def test_jsonld_profiles_are_honoured(client, form):
    from pyld import jsonld

    accept = f'application/ld+json;profile="http://www.w3.org/ns/json-ld#{form}"'
    r = client.get("/framework/flask", headers={"Accept": accept})
    assert r.status_code == 200
    assert r.headers["Content-Type"] == f'application/ld+json; profile="http://www.w3.org/ns/json-ld#{form}"'
    doc = json.loads(r.data)
    assert isinstance(doc, list) and all("@context" not in node and "@id" in node for node in doc)
    assert len(jsonld.flatten(doc)) == len(doc)  # already flat: one top-level node object per node
    turtle = client.get("/framework/flask.ttl").data
    nquads = jsonld.to_rdf(doc, {"format": "application/n-quads"})
    assert isomorphic(Graph().parse(data=nquads, format="nt"), Graph().parse(data=turtle, format="turtle"))


def test_the_most_preferred_jsonld_profile_wins(client):
    accept = ('application/ld+json;profile="http://www.w3.org/ns/json-ld#expanded";q=0.5, '
              'application/ld+json;profile="http://www.w3.org/ns/json-ld#compacted"')
    r = client.get("/framework/flask", headers={"Accept": accept})
    assert r.headers["Content-Type"] == "application/ld+json" and "@context" in json.loads(r.data)


def test_an_unknown_profile_gets_the_compacted_form(client):
    accept = 'application/ld+json;profile="http://example.org/my-profile"'
    r = client.get("/framework/flask", headers={"Accept": accept})
    assert r.status_code == 200 and "@context" in json.loads(r.data)


@pytest.mark.parametrize(("accept", "status"), [("text/turtle;charset=utf-8", 200), ("text/turtle; charset=UTF-8", 200),
                                                ("text/turtle;charset=iso-8859-1", 406),
                                                ("text/turtle;charset=iso-8859-1, application/n-triples;q=0.5", 200)])
def test_charset_parameters_are_matched(client, accept, status):
    r = client.get("/framework/flask", headers={"Accept": accept})
    assert r.status_code == status
    if status == 200 and accept.startswith("text/turtle;charset=utf"):
        assert r.headers["Content-Type"] == "text/turtle; charset=utf-8"
