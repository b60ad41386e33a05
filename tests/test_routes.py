"""Route behaviour in-process (Flask's test client on create_app): negotiation for every format the table
states, on resources, the vocabulary, VoID and /sparql; errors in the client's format."""

from __future__ import annotations

import json

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDFS

from fwgraph.core import formats

FLASK = URIRef("https://w3id.org/fwgraph/framework/flask")
RDF_CASES = [(mt, fmt) for mt, fmt in formats.offers(*formats.RDF_FORMATS)]


def _parse(body: bytes, fmt: formats.Format) -> Graph:
    return Graph().parse(data=body, format=fmt.rdflib, publicID="https://w3id.org/fwgraph/")


@pytest.mark.parametrize(("media", "fmt"), RDF_CASES, ids=[mt for mt, _ in RDF_CASES])
def test_resource_answers_every_rdf_media_type(client, media, fmt):
    r = client.get("/framework/flask", headers={"Accept": media})
    assert r.status_code == 200
    assert r.headers["Content-Type"].split(";")[0] == (media if media in fmt.served_as else fmt.media_type)
    assert "Accept" in r.headers["Vary"]
    assert (FLASK, RDFS.label, Literal("Flask")) in _parse(r.data, fmt)


@pytest.mark.parametrize("fmt", formats.RDF_FORMATS, ids=lambda f: f.name)
def test_suffix_urls_name_their_format_without_negotiating(client, fmt):
    r = client.get(f"/framework/flask{fmt.suffix}", headers={"Accept": "text/html"})
    assert r.status_code == 200 and r.headers["Content-Type"] == fmt.content_type
    # not negotiated by Accept (it still varies by Accept-Encoding: a client may take it compressed)
    assert "accept" not in [name.strip().lower() for name in r.headers.get("Vary", "").split(",")], r.headers
    assert (FLASK, RDFS.label, Literal("Flask")) in _parse(r.data, fmt)


@pytest.mark.parametrize("path", ["/ns", "/shapes", "/.well-known/void"])
def test_owl_tools_get_rdf_xml(client, path):
    """OWL tools (Protégé) ask for RDF/XML first; before formats.py this was 406."""
    r = client.get(path, headers={"Accept": "application/rdf+xml, text/turtle;q=0.5"})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/rdf+xml")
    assert len(_parse(r.data, formats.RDFXML)) > 10


def test_jsonld_profile_parameter_is_understood(client):
    accept = 'application/ld+json;profile="http://www.w3.org/ns/json-ld#compacted"'
    r = client.get("/framework/flask", headers={"Accept": accept})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/ld+json")
    assert json.loads(r.data)["@context"]


@pytest.mark.parametrize("name", ["ttl", "turtle", "jsonld", "json-ld", "nt", "ntriples", "rdf", "rdfxml"])
def test_format_parameter_aliases(client, name):
    r = client.get(f"/framework/flask?format={name}")
    fmt = formats.by_name(name, formats.RDF_FORMATS)
    assert r.status_code == 200 and r.headers["Content-Type"].split(";")[0] == fmt.media_type


def test_unacceptable_type_is_406_in_the_clients_terms(client):
    r = client.get("/framework/flask", headers={"Accept": "image/png"})
    assert r.status_code == 406
    assert "Accept" in r.headers["Vary"]


@pytest.mark.parametrize(("accept", "media"), [("text/plain", "text/plain"), ("application/json", "application/json"),
                                               ("text/html", "text/html"), ("", "application/json")])
def test_errors_come_in_the_format_asked_for(client, accept, media):
    r = client.get("/sparql?query=SELEC", headers={"Accept": accept} if accept else {})
    assert r.status_code == 400 and r.headers["Content-Type"].split(";")[0] == media


@pytest.mark.parametrize(("media", "fmt"), formats.offers(*formats.RESULT_FORMATS),
                         ids=[mt for mt, _ in formats.offers(*formats.RESULT_FORMATS)])
def test_sparql_select_in_every_results_type(client, media, fmt):
    r = client.get("/sparql", query_string={"query": "SELECT ?s WHERE { ?s a ?t } LIMIT 2"},
                   headers={"Accept": media})
    assert r.status_code == 200 and r.headers["Content-Type"].split(";")[0] == fmt.media_type


@pytest.mark.parametrize("fmt", formats.RDF_FORMATS, ids=lambda f: f.name)
def test_service_description_in_every_rdf_format_states_the_time_limit(client, fmt):
    r = client.get("/sparql", headers={"Accept": fmt.media_type})
    assert r.status_code == 200
    g = _parse(r.data, fmt)
    assert any(str(p).endswith("#queryTimeout") for p in g.predicates())


def test_without_workers_the_description_says_no_time_limit(dist):
    """QUERY_WORKERS=0 evaluates in the web process, where nothing can stop a query: say so, never promise."""
    from fwgraph.app import create_app

    app = create_app({"dist_dir": str(dist), "query_workers": 0, "network_guard": False, "rate_limit": 0})
    body = app.test_client().get("/sparql", headers={"Accept": "text/turtle"}).data.decode()
    assert "queryTimeout" not in body and "No time limit is enforced" in body


def test_cli_query_writes_rdf_xml(runner):
    result = runner("query", "CONSTRUCT WHERE { ?s a <https://w3id.org/fwgraph/ns#ServerInterface> }",
                    "--format", "rdfxml")
    assert result.exit_code == 0, result.output
    assert len(_parse(result.output.encode(), formats.RDFXML)) > 3


@pytest.mark.parametrize("fmt", ["json", "csv", "bogus"])
def test_relative_iris_resolve_against_the_endpoint(client, fmt):
    """A relative IRI in a query resolves against the endpoint's public IRI (https://w3id.org/fwgraph/sparql), so
    <framework/flask> is Flask; before, every such query was a 400 (no base IRI), whatever it asked."""
    r = client.get("/sparql", query_string={"query": "ASK { <framework/flask> a ?type }", "format": fmt})
    if fmt == "bogus":  # no acceptable format: 406, not a syntax error
        assert r.status_code == 406
        return
    assert r.status_code == 200
    assert (r.get_json()["boolean"] is True) if fmt == "json" else r.data.splitlines()[1] == b"true"


def test_a_base_declared_in_the_query_wins(client):
    r = client.get("/sparql", query_string={"query": "BASE <http://example.org/> ASK { <framework/flask> ?p ?o }"})
    assert r.status_code == 200 and r.get_json()["boolean"] is False


def test_an_unexpected_error_on_the_fast_path_is_a_500_like_the_views(dist):
    """GET /sparql?query= skips Flask; an error nobody expected must still be a 500 in the client's format, with
    CORS, as the Flask view's error handler gives (fault injected: an engine whose evaluation raises)."""
    from fwgraph.app import create_app
    from fwgraph.store.engine import OxigraphEngine

    class Broken(OxigraphEngine):
        def execute(self, query, *, max_rows, fmt):
            raise RuntimeError("injected")

    app = create_app({"dist_dir": str(dist), "query_workers": 0, "network_guard": False, "cache_entries": 0})
    service = app.extensions["fwgraph"]
    service.engine = Broken(service.engine.store, service.engine.version)
    accept = "application/sparql-results+json, text/plain;q=0.5"  # results as JSON, errors as text
    r = app.test_client().get("/sparql", query_string={"query": "ASK {}"}, headers={"Accept": accept})
    assert r.status_code == 500 and r.headers["Content-Type"].startswith("text/plain")
    assert r.headers["Access-Control-Allow-Origin"] == "*" and b"internal error" in r.data


def test_healthz_lists_the_limits_in_force(client):
    """/healthz as JSON states the limits this process enforces (the app fixture: rate limit off, 8 threads,
    a 30 s time limit)."""
    r = client.get("/healthz", headers={"Accept": "application/json"})
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    limits = r.get_json()["limits"]
    assert limits["query_timeout"] == 30.0 and limits["max_rows"] == 10_000
    assert limits["rate_limit"] == 0 and limits["bodies_per_client"] == 2
    assert limits["bodies_total"] == 2  # a quarter of the threads
    assert client.get("/healthz").data == b"ok\n"
