"""Issue 26: the same resource gives the same bytes under the same strong ETag, in every format, from any process
(blank nodes are labelled by their content, not by the load that made them), and served Turtle is grouped by
subject. Two real server processes, each loading the data into its own in-memory store, with different hash
seeds; every RDF format of the format table and the HTML page."""

from __future__ import annotations

import re

import pytest
import requests
from rdflib import Graph

from fwgraph.core import formats
from tests.server import server

JSONLD_PROFILE = 'application/ld+json;profile="http://www.w3.org/ns/json-ld#{}"'
ACCEPTS = [*(f.media_type for f in formats.RDF_FORMATS),
           *(JSONLD_PROFILE.format(form) for form in ("expanded", "flattened")), "text/html"]
#: Resources with blank nodes (releases, feature statements, advisories' ranges) and the served documents.
PATHS = ["framework/flask", "server/uvicorn", "advisory/pysec-2023-62", "ns", "shapes", "dataset"]


@pytest.fixture(scope="module")
def replicas():
    return [server("--engine-store", "memory", env={"PYTHONHASHSEED": seed}) for seed in ("1", "2")]


@pytest.mark.parametrize("accept", ACCEPTS, ids=lambda a: a.split("#")[-1].rstrip('"') if "#" in a else a)
@pytest.mark.parametrize("path", PATHS)
def test_two_processes_give_the_same_bytes_and_etag(replicas, path, accept):
    # behind a load balancer both see the same Host (documents name the endpoint they are served from)
    answers = [requests.get(s.url + path, headers={"Accept": accept, "Host": "fwgraph.test"}, timeout=60)
               for s in replicas]
    assert [a.status_code for a in answers] == [200, 200], answers[0].text[:300]
    assert answers[0].content == answers[1].content, f"{path} as {accept} differs between processes"
    assert answers[0].headers["ETag"] == answers[1].headers["ETag"]
    again = requests.get(replicas[1].url + path, headers={"Accept": accept, "Cache-Control": "no-cache",
                                                          "Host": "fwgraph.test"}, timeout=60)
    assert again.content == answers[0].content


@pytest.mark.parametrize("path", ["ns", "shapes", "framework/flask"])
def test_served_turtle_is_one_block_per_subject(replicas, path):
    """It was one block per triple for the documents (532 blocks for 137 subjects at /ns)."""
    text = requests.get(replicas[0].url + path, headers={"Accept": "text/turtle"}, timeout=60).text
    blocks = [line for line in text.splitlines() if line and not line[0].isspace() and not line.startswith("@")
              and not re.match(r"(?i)^(PREFIX|BASE)\b", line)]
    graph = Graph().parse(data=text, format="turtle")
    subjects = set(graph.subjects())
    assert len(blocks) == len(subjects), (len(blocks), len(subjects))
