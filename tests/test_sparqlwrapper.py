"""SPARQLWrapper against the real server: SELECT, ASK, CONSTRUCT, DESCRIBE in JSON, XML, CSV and Turtle."""

from __future__ import annotations

import csv
import io

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDFS
from SPARQLWrapper import CSV, JSON, JSONLD, POST, TURTLE, XML, SPARQLWrapper

from tests.server import MODES, mode_options, server

FLASK = "https://w3id.org/fwgraph/framework/flask"
PREFIXES = "PREFIX fw: <https://w3id.org/fwgraph/ns#>\nPREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
LABEL = PREFIXES + f"SELECT ?label WHERE {{ <{FLASK}> rdfs:label ?label }}"
CHART_ROWS = PREFIXES + "SELECT (COUNT(?row) AS ?n) WHERE { ?row a fw:ChartRow }"


@pytest.fixture(scope="module", params=MODES)
def endpoint(request) -> str:
    """SPARQLWrapper against the embedded engine and against fwgraph in front of Oxigraph's server and Virtuoso."""
    return server(*mode_options(request.param)).sparql


def wrapper(endpoint: str, query: str, fmt: str, method: str | None = None) -> SPARQLWrapper:
    sw = SPARQLWrapper(endpoint)
    sw.setQuery(query)
    sw.setReturnFormat(fmt)
    if method:
        sw.setMethod(method)
    return sw


@pytest.mark.parametrize("method", [None, POST])
def test_select_json(endpoint, method):
    result = wrapper(endpoint, LABEL, JSON, method).queryAndConvert()
    assert result["head"]["vars"] == ["label"]
    assert [b["label"]["value"] for b in result["results"]["bindings"]] == ["Flask"]


def test_select_json_count_of_chart_rows(endpoint):
    result = wrapper(endpoint, CHART_ROWS, JSON).queryAndConvert()
    binding = result["results"]["bindings"][0]["n"]
    assert int(binding["value"]) == 13
    assert binding["datatype"] == "http://www.w3.org/2001/XMLSchema#integer"


def test_select_xml(endpoint):
    doc = wrapper(endpoint, LABEL, XML).queryAndConvert()
    ns = "http://www.w3.org/2005/sparql-results#"
    literals = [n.firstChild.data for n in doc.getElementsByTagNameNS(ns, "literal")]
    assert literals == ["Flask"]


def test_select_csv(endpoint):
    raw = wrapper(endpoint, CHART_ROWS, CSV).queryAndConvert()
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8"))))
    assert rows == [["n"], ["13"]]


def test_ask_json_and_xml(endpoint):
    yes = PREFIXES + f"ASK {{ <{FLASK}> fw:interface <https://w3id.org/fwgraph/interface/wsgi> }}"
    no = PREFIXES + f"ASK {{ <{FLASK}> rdfs:label \"Django\" }}"
    assert wrapper(endpoint, yes, JSON).queryAndConvert()["boolean"] is True
    assert wrapper(endpoint, no, JSON).queryAndConvert()["boolean"] is False
    doc = wrapper(endpoint, yes, XML).queryAndConvert()
    assert doc.getElementsByTagName("boolean")[0].firstChild.data == "true"


def test_construct_turtle(endpoint):
    query = PREFIXES + f"CONSTRUCT {{ <{FLASK}> rdfs:label ?l }} WHERE {{ <{FLASK}> rdfs:label ?l }}"
    raw = wrapper(endpoint, query, TURTLE).queryAndConvert()
    graph = Graph().parse(data=raw.decode("utf-8") if isinstance(raw, bytes) else raw, format="turtle")
    assert set(graph) == {(URIRef(FLASK), RDFS.label, Literal("Flask"))}


def test_construct_xml_and_jsonld(endpoint):
    query = PREFIXES + f"CONSTRUCT {{ <{FLASK}> rdfs:label ?l }} WHERE {{ <{FLASK}> rdfs:label ?l }}"
    graph = wrapper(endpoint, query, XML).queryAndConvert()  # RDF/XML, parsed by SPARQLWrapper into rdflib
    assert (URIRef(FLASK), RDFS.label, Literal("Flask")) in graph
    graph = wrapper(endpoint, query, JSONLD).queryAndConvert()
    assert isinstance(graph, Graph)
    assert (URIRef(FLASK), RDFS.label, Literal("Flask")) in graph


def test_describe_turtle(endpoint):
    raw = wrapper(endpoint, f"DESCRIBE <{FLASK}>", TURTLE).queryAndConvert()
    graph = Graph().parse(data=raw.decode("utf-8") if isinstance(raw, bytes) else raw, format="turtle")
    assert (URIRef(FLASK), RDFS.label, Literal("Flask")) in graph
    assert (URIRef(FLASK), URIRef("https://w3id.org/fwgraph/ns#interface"),
            URIRef("https://w3id.org/fwgraph/interface/wsgi")) in graph
    assert all(s == URIRef(FLASK) or not isinstance(s, URIRef) for s in graph.subjects())


def test_malformed_query_raises_query_bad_formed(endpoint):
    from SPARQLWrapper.SPARQLExceptions import QueryBadFormed

    with pytest.raises(QueryBadFormed) as info:
        wrapper(endpoint, "SELECT * WHERE { ?s ?p }", JSON).queryAndConvert()
    assert "line 1" in str(info.value) and "column" in str(info.value)


def test_cli_query_against_the_endpoint(endpoint):
    """`fwgraph query --endpoint URL` sends the query over HTTP with SPARQLWrapper and prints the rows."""
    import subprocess
    import sys

    from tests.server import ROOT

    run = subprocess.run([sys.executable, "-m", "fwgraph", "query", str(ROOT / "queries" / "chart.rq"),
                          "--endpoint", endpoint, "--format", "csv"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith("row,framework,type")
    assert len(lines) == 14 and lines[13].startswith("13,Flask,WSGI,Moderate,No,")
