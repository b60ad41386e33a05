"""Linked Data over real HTTP: conneg on resource IRIs, vocabulary, downloads, JSON-LD dump, VoID, landing."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

import pytest
import requests
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SH, VOID, XSD

from fwgraph.core.namespace import BASE, FW
from tests.graphs import isomorphic
from tests.live import ROOT, live_server
from tests.server import mode_options

FRAMEWORKS = sorted(p.stem for p in (ROOT / "data" / "frameworks").glob("*.ttl"))
FLASK = URIRef(BASE + "framework/flask")
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.fixture(scope="module")
def server():
    """The embedded engine: for what does not come from the engine (downloads, VoID, context)."""
    return live_server()


@pytest.fixture(scope="module", params=["embedded", "oxigraph", "virtuoso"])
def engine_server(request):
    """Resources and pages come from the engine: the same expectations, embedded and in front of each store."""
    return live_server(options=mode_options(request.param))


def parse(response: requests.Response, fmt: str) -> Graph:
    g = Graph()
    g.parse(data=response.content, format=fmt, publicID=BASE)
    return g


# --------------------------------------------------------------------------- content negotiation


@pytest.mark.parametrize(
    "accept, media, fmt",
    [
        ("text/turtle", "text/turtle", "turtle"),
        ("application/ld+json", "application/ld+json", "json-ld"),
        ("application/json", "application/json", "json-ld"),
        ("application/n-triples", "application/n-triples", "nt"),
        ("text/turtle;q=0.5, application/n-triples;q=0.9", "application/n-triples", "nt"),
        ("text/html;q=0.1, application/ld+json", "application/ld+json", "json-ld"),
        ("*/*", "text/turtle", "turtle"),
    ],
    ids=["turtle", "jsonld", "json", "ntriples", "qvalues-nt", "qvalues-jsonld", "any"],
)
def test_resource_conneg_rdf(engine_server, accept, media, fmt):
    r = requests.get(engine_server("framework/flask"), headers={"Accept": accept}, timeout=10)
    assert r.status_code == 200
    assert r.headers["Content-Type"].split(";")[0] == media
    assert "Accept" in r.headers["Vary"]
    g = parse(r, fmt)
    assert (FLASK, RDFS.label, Literal("Flask")) in g
    assert (FLASK, FW.interface, URIRef(BASE + "interface/wsgi")) in g
    # the blank-node closure (CBD) is included: the latest release's revision
    release = g.value(FLASK, FW.latestRelease)
    assert (
        release is not None and g.value(release, URIRef("http://usefulinc.com/ns/doap#revision")) is not None
    )


def test_jsonld_resource_embeds_context(engine_server):
    r = requests.get(engine_server("framework/flask"), headers={"Accept": "application/ld+json"}, timeout=10)
    doc = r.json()
    assert isinstance(doc["@context"], dict) and doc["@context"]["label"] == "rdfs:label"


def test_resource_html(engine_server):
    r = requests.get(engine_server("framework/flask"), headers={"Accept": BROWSER_ACCEPT}, timeout=10)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/html")
    assert "Accept" in r.headers["Vary"]
    html = r.text
    assert "<h1>Flask</h1>" in html
    assert 'href="/interface/wsgi"' in html  # local link, not the w3id.org IRI
    assert 'href="/async/yes"' in html
    assert 'href="/framework/flask.ttl"' in html and 'href="/framework/flask.jsonld"' in html
    assert 'href="/chart-row/flask"' in html and 'href="/correction/flask-async"' in html
    assert "the chart says" in html
    assert "https://github.com/pallets/flask/blob/3.1.3/CHANGES.rst" in html  # a dcterms:source


def test_framework_relations_link_pages(engine_server):
    html = requests.get(engine_server("framework/quart"), headers={"Accept": "text/html"}, timeout=10).text
    assert 'href="/framework/flask"' in html


@pytest.mark.parametrize(
    "suffix, media, fmt",
    [
        (".ttl", "text/turtle", "turtle"),
        (".jsonld", "application/ld+json", "json-ld"),
        (".nt", "application/n-triples", "nt"),
        (".html", "text/html", None),
    ],
)
def test_suffix_urls(engine_server, suffix, media, fmt):
    r = requests.get(engine_server("framework/flask" + suffix), timeout=10)  # no Accept header
    assert r.status_code == 200
    assert r.headers["Content-Type"].split(";")[0] == media
    if fmt:
        assert (FLASK, RDF.type, FW.WebFramework) in parse(r, fmt)
    else:
        assert "<h1>Flask</h1>" in r.text


def test_interface_page_lists_users_and_traits(engine_server):
    r = requests.get(engine_server("interface/asgi"), headers={"Accept": "text/html"}, timeout=10)
    assert r.status_code == 200
    assert "<h1>ASGI</h1>" in r.text
    used_by = r.text.split('id="used-by"', 1)[1].split("</section>", 1)[0]
    assert 'href="/framework/fastapi"' in used_by and 'href="/framework/starlette"' in used_by
    assert 'href="/framework/flask"' not in used_by
    assert 'href="/synchrony/asynchronous"' in r.text


def test_feature_page_lists_frameworks(engine_server):
    r = requests.get(engine_server("feature/websockets"), headers={"Accept": "text/html"}, timeout=10)
    assert r.status_code == 200
    having = r.text.split('id="frameworks"', 1)[1].split("</section>", 1)[0]
    assert 'href="/framework/' in having


@pytest.mark.parametrize(
    "path",
    [
        "async/yes",
        "tier/high",
        "status/active",
        "execution/event-loop",
        "synchrony/synchronous",
        "chart-row/flask",
        "correction/flask-async",
        "source/chart",
        "dataset",
        "feature/",
        "interface/asgi",
    ],
)
def test_other_resources_dereference(engine_server, path):
    r = requests.get(engine_server(path), headers={"Accept": "text/turtle"}, timeout=10)
    assert r.status_code == 200
    g = parse(r, "turtle")
    assert len(list(g.triples((URIRef(BASE + path), None, None)))) >= 1


@pytest.mark.parametrize("slug", FRAMEWORKS, ids=FRAMEWORKS)
def test_every_framework_dereferences(engine_server, slug):
    r = requests.get(engine_server(f"framework/{slug}"), headers={"Accept": "application/n-triples"}, timeout=10)
    assert r.status_code == 200
    g = parse(r, "nt")
    assert (URIRef(BASE + f"framework/{slug}"), RDF.type, FW.WebFramework) in g


@pytest.mark.parametrize(
    "accept, media",
    [
        ("text/turtle", "text/turtle"),
        ("text/html", "text/html"),
        ("application/ld+json", "application/ld+json"),
        ("application/n-triples", "application/n-triples"),
    ],
)
def test_unknown_resource_404_in_client_format(engine_server, accept, media):
    r = requests.get(engine_server("framework/no-such-framework"), headers={"Accept": accept}, timeout=10)
    assert r.status_code == 404
    assert r.headers["Content-Type"].split(";")[0] == media


def test_unknown_suffix_resource_404(engine_server):
    assert requests.get(engine_server("framework/no-such-framework.ttl"), timeout=10).status_code == 404
    assert requests.get(engine_server("nothing-here"), timeout=10).status_code == 404


def test_406_when_nothing_acceptable(engine_server):
    r = requests.get(engine_server("framework/flask"), headers={"Accept": "image/png"}, timeout=10)
    assert r.status_code == 406
    assert "Accept" in r.headers.get("Vary", "")


def test_etag_and_304(engine_server):
    headers = {"Accept": "text/turtle"}
    r = requests.get(engine_server("framework/flask"), headers=headers, timeout=10)
    etag = r.headers["ETag"]
    assert "max-age" in r.headers["Cache-Control"]
    r2 = requests.get(engine_server("framework/flask"), headers={**headers, "If-None-Match": etag}, timeout=10)
    assert r2.status_code == 304 and r2.content == b""
    html = requests.get(engine_server("framework/flask"), headers={"Accept": "text/html"}, timeout=10)
    assert html.headers["ETag"] != etag  # one ETag per representation
    r3 = requests.get(
        engine_server("framework/flask"), headers={"Accept": "text/html", "If-None-Match": etag}, timeout=10
    )
    assert r3.status_code == 200


# --------------------------------------------------------------------------- vocabulary and shapes


def test_vocabulary_dereferences(server):
    r = requests.get(server("ns"), headers={"Accept": "text/turtle"}, timeout=10)
    assert r.status_code == 200
    g = parse(r, "turtle")
    assert (FW.interface, RDF.type, OWL.ObjectProperty) in g
    assert (URIRef(BASE + "ns"), RDF.type, OWL.Ontology) in g
    html = requests.get(server("ns"), headers={"Accept": "text/html"}, timeout=10).text
    assert 'id="interface"' in html and 'id="WebFramework"' in html  # /ns#interface lands on its term


def test_shapes_dereference(server):
    r = requests.get(server("shapes"), headers={"Accept": "application/n-triples"}, timeout=10)
    assert r.status_code == 200
    g = parse(r, "nt")
    assert any(g.subjects(RDF.type, SH.NodeShape))
    assert requests.get(server("shapes.ttl"), timeout=10).headers["Content-Type"].startswith("text/turtle")


# --------------------------------------------------------------------------- downloads

DOWNLOADS = {
    "fwgraph.ttl": "text/turtle",
    "fwgraph.nt": "application/n-triples",
    "fwgraph.jsonld": "application/ld+json",
    "fwgraph.context.jsonld": "application/ld+json",
    "ontology.ttl": "text/turtle",
    "shapes.ttl": "text/turtle",
    "void.ttl": "text/turtle",
    "fwgraph.ttl.gz": "application/gzip",
    "fwgraph.nt.gz": "application/gzip",
    "fwgraph.jsonld.gz": "application/gzip",
}


@pytest.mark.parametrize("name", sorted(DOWNLOADS))
def test_download(server, name):
    r = requests.get(server(f"download/{name}"), headers={"Accept-Encoding": "identity"}, timeout=10)
    assert r.status_code == 200
    assert r.headers["Content-Type"].split(";")[0] == DOWNLOADS[name]
    if DOWNLOADS[name].startswith("text/"):
        assert "charset=utf-8" in r.headers["Content-Type"]
    expected = (server.dist / name).read_bytes()
    assert r.content == expected
    assert r.headers["ETag"].strip('"') == hashlib.sha256(expected).hexdigest()
    assert "max-age" in r.headers["Cache-Control"]
    again = requests.get(server(f"download/{name}"), headers={"If-None-Match": r.headers["ETag"]}, timeout=10)
    assert again.status_code == 304
    if name.endswith(".gz"):
        assert gzip.decompress(r.content) == (server.dist / name.removesuffix(".gz")).read_bytes()


@pytest.mark.parametrize("name", ["nothing.ttl", "..%2Fpyproject.toml", "fwgraph.ttl.tmp", "%2Fetc%2Fpasswd"])
def test_download_unknown_names_404(server, name):
    assert requests.get(server(f"download/{name}"), timeout=10).status_code == 404


def test_context_jsonld(server):
    r = requests.get(server("context.jsonld"), timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/ld+json")
    assert r.json()["@context"]["fw"] == BASE + "ns#"


def _refusing_loader(server):
    context = json.loads((server.dist / "fwgraph.context.jsonld").read_text())

    def load(url, options=None):
        if url in (BASE + "context.jsonld", server("context.jsonld")):
            return {
                "contentType": "application/ld+json",
                "contextUrl": None,
                "documentUrl": url,
                "document": context,
            }
        raise AssertionError(f"the JSON-LD processor tried to fetch {url}")

    return load


def test_jsonld_dump_matches_turtle_dump(server):
    from pyld import jsonld

    doc = requests.get(server("download/fwgraph.jsonld"), timeout=30).json()
    nquads = jsonld.to_rdf(doc, {"format": "application/n-quads", "documentLoader": _refusing_loader(server)})
    from_jsonld = Graph().parse(data=nquads, format="nt")
    from_turtle = Graph().parse(
        data=requests.get(server("download/fwgraph.ttl"), timeout=30).text, format="turtle"
    )
    assert len(from_turtle) > 1000
    assert isomorphic(from_jsonld, from_turtle)


def test_jsonld_with_context_by_reference_uses_local_context(server):
    from pyld import jsonld

    doc = {"@context": BASE + "context.jsonld", "@id": "framework:flask", "label": "Flask"}
    nquads = jsonld.to_rdf(doc, {"format": "application/n-quads", "documentLoader": _refusing_loader(server)})
    assert (FLASK, RDFS.label, Literal("Flask")) in Graph().parse(data=nquads, format="nt")
    with pytest.raises(jsonld.JsonLdError):  # any other context is refused by the loader, never fetched
        jsonld.to_rdf(
            {"@context": "http://example.org/ctx", "@id": "x"},
            {"format": "application/n-quads", "documentLoader": _refusing_loader(server)},
        )


# --------------------------------------------------------------------------- VoID


def _void(server, accept: str | None, fmt: str) -> Graph:
    headers = {"Accept": accept} if accept else {}
    r = requests.get(server(".well-known/void"), headers=headers, timeout=10)
    assert r.status_code == 200
    return parse(r, fmt)


@pytest.mark.parametrize(
    "accept, fmt",
    [(None, "turtle"), ("application/ld+json", "json-ld"), ("application/n-triples", "nt")],
    ids=["default", "jsonld", "nt"],
)
def test_void(server, accept, fmt):
    g = _void(server, accept, fmt)
    dataset = URIRef(BASE + "dataset")
    assert (dataset, RDF.type, VOID.Dataset) in g
    # the endpoint as this server answers it (POST works there), not the canonical IRI that redirects
    assert g.value(dataset, VOID.sparqlEndpoint) == URIRef(server.url + "sparql")
    assert g.value(dataset, VOID.uriSpace) == Literal(BASE)
    dumps = set(g.objects(dataset, VOID.dataDump))
    assert URIRef(BASE + "download/fwgraph.nt") in dumps and URIRef(BASE + "download/fwgraph.ttl") in dumps
    assert URIRef(BASE + "framework/flask") in set(g.objects(dataset, VOID.exampleResource))
    triples = g.value(dataset, VOID.triples)
    assert triples.datatype == XSD.integer
    lines = [line for line in (server.dist / "fwgraph.nt").read_text().splitlines() if line.strip()]
    assert int(triples) == len(lines)


def test_void_default_is_turtle(server):
    r = requests.get(server(".well-known/void"), timeout=10)
    assert r.headers["Content-Type"].startswith("text/turtle")


def test_public_base_is_configurable(tmp_path):
    """With a local public base, VoID names it, and the data's IRIs are still served at the same paths."""
    other = live_server("http://127.0.0.1:{port}/")
    base = other.url
    g = _void(other, "text/turtle", "turtle")
    dataset = URIRef(base + "dataset")
    assert g.value(dataset, VOID.uriSpace) == Literal(base)
    assert g.value(dataset, VOID.sparqlEndpoint) == URIRef(base + "sparql")
    assert URIRef(base + "download/fwgraph.nt") in set(g.objects(dataset, VOID.dataDump))
    assert not any(str(t).startswith(BASE) for triple in g for t in triple if isinstance(t, URIRef))
    r = requests.get(other("framework/flask"), headers={"Accept": "text/turtle"}, timeout=10)
    assert r.status_code == 200 and (FLASK, RDFS.label, Literal("Flask")) in parse(r, "turtle")
    assert Path(other.dist) == Path(live_server().dist)


# --------------------------------------------------------------------------- landing page


def test_landing_page(engine_server):
    r = requests.get(engine_server.url, headers={"Accept": BROWSER_ACCEPT}, timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    html = r.text
    void = _void(engine_server, None, "turtle")
    triples = int(void.value(URIRef(BASE + "dataset"), VOID.triples))
    assert f"<strong>{triples}</strong> triples" in html
    assert f"<strong>{len(FRAMEWORKS)}</strong> frameworks" in html
    for href in (
        'href="/sparql"',
        'href="/.well-known/void"',
        'href="/ns"',
        'href="/shapes"',
        'href="/download/fwgraph.ttl"',
        'href="/download/fwgraph.jsonld"',
        'href="/validate"',
        'href="/contribute"',
    ):
        assert href in html
    for slug in FRAMEWORKS:
        assert f'href="/framework/{slug}"' in html
    titles = [
        line.split(":", 1)[1].strip()
        for p in sorted((ROOT / "queries").glob("*.rq"))
        for line in p.read_text().splitlines()
        if line.startswith("# title:")
    ]
    assert titles and all(t.replace("'", "&#39;") in html for t in titles)
    assert 'action="/sparql"' in html and 'name="format"' in html
    assert '<option value="html" data-kind="select" selected>' in html  # without scripts: an HTML table
    assert "http://" not in html.split("<main", 1)[0] and "https://" not in html.split("<main", 1)[0]
    again = requests.get(engine_server.url, headers={"If-None-Match": r.headers["ETag"]}, timeout=10)
    assert again.status_code == 304
