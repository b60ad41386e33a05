"""The w3id redirect for real: Debian's Apache httpd with the shipped deploy/w3id/.htaccess in front of a real fwgraph
server, checked with curl, requests, rdflib and SPARQLWrapper — formats, suffix URLs, version IRIs, POST via 307."""

from __future__ import annotations

import json
import re
import subprocess
import urllib.error

import pytest
import requests
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL, RDFS, VOID

from fwgraph.core.namespace import BASE
from fwgraph.publish.dist import Dist
from fwgraph.publish.w3id import PLACEHOLDER
from tests.apache import Apache
from tests.cli import fwgraph
from tests.server import ROOT, dist, free_port, server

CONFIG = """DocumentRoot "{root}/htdocs"
<Directory "{root}/htdocs">
    AllowOverride All
    Require all granted
</Directory>
"""
ASK = "ASK { ?s a <https://w3id.org/fwgraph/ns#WebFramework> }"
CONTRIBUTION = ROOT / "tests" / "fixtures" / "contributions" / "new-framework-valid.ttl"


class W3id(Apache):
    """Apache answering as w3id.org does for /fwgraph/, redirecting to the fwgraph server ``target``."""

    def __init__(self, port: int, target: str) -> None:
        # The folder as `fwgraph w3id --host` prints it for the pull request.
        htaccess = _printed(fwgraph("w3id", "--host", target, check=True).stdout)[".htaccess"]
        super().__init__(port, CONFIG, modules=("rewrite",), files={"htdocs/fwgraph/.htaccess": htaccess})
        self.target = target
        self.base = f"http://127.0.0.1:{port}/fwgraph/"

    def __call__(self, path: str = "") -> str:
        return self.base + path


def _printed(stdout: str) -> dict[str, str]:
    """The files `fwgraph w3id` prints, by name (each after a ``==> fwgraph/NAME <==`` line)."""
    parts = re.split(r"^==> fwgraph/(\S+) <==\n", stdout, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


@pytest.fixture(scope="module")
def w3id():
    """Apache on a free loopback port standing in for https://w3id.org/, in front of a server configured as in
    production (the canonical base): the data names https://w3id.org/fwgraph/… whatever host it came from."""
    proxy = W3id(free_port(), server().url)
    proxy.start("fwgraph/")
    yield proxy
    proxy.stop()


def curl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["curl", "-sS", "--max-time", "30", *args], capture_output=True, text=True, timeout=60)


def _follow(url: str, accept: str) -> tuple[str, str, str, int]:
    """curl -L: (final URL, content type, body, number of redirects)."""
    run = curl("-L", "-H", f"Accept: {accept}", "-w", "\n%{url_effective}\t%{content_type}\t%{num_redirects}", url)
    assert run.returncode == 0, run.stderr
    body, _, meta = run.stdout.rpartition("\n")
    final, content_type, redirects = meta.split("\t")
    return final, content_type, body, int(redirects)


@pytest.mark.parametrize(("accept", "suffix", "media", "fmt"), [
    ("text/turtle", ".ttl", "text/turtle", "turtle"),
    ("application/x-turtle", ".ttl", "text/turtle", "turtle"),
    ("application/ld+json", ".jsonld", "application/ld+json", "json-ld"),
    ("application/n-triples", ".nt", "application/n-triples", "nt"),
    ("application/rdf+xml", ".rdf", "application/rdf+xml", "xml"),
    ("application/rdf+xml, text/n3, text/turtle;q=0.9, */*;q=0.1", ".rdf", "application/rdf+xml", "xml"),
    ("text/turtle;q=0.2, application/rdf+xml", "", "application/rdf+xml", "xml"),  # q-values: the service decides
], ids=["turtle", "x-turtle", "jsonld", "ntriples", "rdfxml", "owl-tool", "q-values"])
def test_curl_gets_each_format(w3id, accept, suffix, media, fmt):
    final, content_type, body, redirects = _follow(w3id("framework/flask"), accept)
    assert redirects == 1 and final == w3id.target + "framework/flask" + suffix
    assert content_type.split(";")[0] == media
    g = Graph().parse(data=body, format=fmt)
    assert (URIRef(BASE + "framework/flask"), RDFS.label, Literal("Flask")) in g


def test_a_browser_gets_the_page(w3id):
    accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    final, content_type, body, _ = _follow(w3id("framework/flask"), accept)
    assert final == w3id.target + "framework/flask" and content_type.startswith("text/html")
    assert "<h1>Flask</h1>" in body


def test_things_are_303_and_documents_302(w3id):
    for path, status in (("framework/flask", 303), ("", 303), ("ns", 303), ("framework/flask.ttl", 302),
                         ("download/fwgraph.nt.gz", 302), (".well-known/void", 302), ("sparql", 307),
                         ("validate", 307)):
        r = requests.get(w3id(path), allow_redirects=False, timeout=10)
        assert r.status_code == status, path
        assert r.headers["Location"].startswith(w3id.target + path)


@pytest.mark.parametrize("path", ["framework/flask.ttl", "framework/flask.jsonld", "framework/flask.nt",
                                  "framework/flask.rdf", "download/fwgraph.nt.gz", "download/", ".well-known/void",
                                  "context.jsonld"])
def test_suffix_urls_and_downloads_keep_their_path(w3id, path):
    r = requests.get(w3id(path), timeout=30)
    assert r.status_code == 200 and r.url == w3id.target + path
    assert len(r.history) == 1


def _release() -> str:
    releases = Dist(dist()).releases
    assert releases, "the repository ships at least one release (releases/)"
    return list(releases)[-1]


@pytest.mark.parametrize("kind", ["ns", "shapes", "dataset"])
def test_version_iris_resolve_through_the_redirect(w3id, kind):
    version = _release()
    iri = w3id(f"{kind}/{version}")
    g = Graph().parse(iri)  # rdflib: its own Accept header, following the 303
    if kind == "dataset":
        assert (URIRef(f"{BASE}dataset/{version}"), VOID.triples, None) in g
    else:
        assert g.value(URIRef(BASE + kind), OWL.versionIRI) == URIRef(f"{BASE}{kind}/{version}")
    final, content_type, _, _ = _follow(iri, "text/turtle")
    assert final == w3id.target + f"{kind}/{version}.ttl" and content_type.startswith("text/turtle")
    r = requests.get(w3id(f"download/{version}/fwgraph.nt"), timeout=30)
    assert r.status_code == 200 and r.url == w3id.target + f"download/{version}/fwgraph.nt"


def test_rdflib_dereferences_a_resource(w3id):
    g = Graph().parse(w3id("interface/asgi"))
    assert (URIRef(BASE + "interface/asgi"), RDFS.label, None) in g


def test_curl_posts_a_query_through_the_307(w3id):
    run = curl("-L", "-H", "Accept: application/sparql-results+json", "--data-urlencode", f"query={ASK}",
               "-w", "\n%{num_redirects} %{url_effective}", w3id("sparql"))
    body, _, meta = run.stdout.rpartition("\n")
    assert meta == f"1 {w3id.target}sparql"
    assert json.loads(body)["boolean"] is True


def test_curl_posts_a_contribution_through_the_307(w3id):
    run = curl("-L", "-H", "Content-Type: text/turtle", "-H", "Accept: application/json", "--data-binary",
               f"@{CONTRIBUTION}", w3id("validate"))
    assert json.loads(run.stdout)["conforms"] is True


def test_requests_keeps_the_post_body(w3id):
    r = requests.post(w3id("sparql"), data=ASK, headers={"Content-Type": "application/sparql-query",
                                                         "Accept": "application/sparql-results+json"}, timeout=30)
    assert r.status_code == 200 and r.json()["boolean"] is True
    assert [h.status_code for h in r.history] == [307] and r.request.method == "POST"


def test_sparqlwrapper_uses_the_endpoint_the_void_names(w3id):
    """SPARQLWrapper (urllib) follows the 307 for GET but refuses it for POST; the VoID, fetched through the
    redirect, names the service's own endpoint, where POST works."""
    from SPARQLWrapper import JSON, POST, SPARQLWrapper

    get = SPARQLWrapper(w3id("sparql"))
    get.setQuery(ASK)
    get.setReturnFormat(JSON)
    assert get.query().convert()["boolean"] is True

    post = SPARQLWrapper(w3id("sparql"))
    post.setQuery(ASK)
    post.setMethod(POST)
    post.setReturnFormat(JSON)
    with pytest.raises(urllib.error.HTTPError) as refused:
        post.query()
    assert refused.value.code == 307

    void = Graph().parse(w3id(".well-known/void"), format="turtle")
    endpoint = void.value(URIRef(BASE + "dataset"), VOID.sparqlEndpoint)
    assert str(endpoint) == w3id.target + "sparql"
    direct = SPARQLWrapper(str(endpoint))
    direct.setQuery(ASK)
    direct.setMethod(POST)
    direct.setReturnFormat(JSON)
    assert direct.query().convert()["boolean"] is True


def test_the_service_description_names_the_working_endpoint(w3id):
    g = Graph().parse(data=requests.get(w3id("sparql"), headers={"Accept": "text/turtle"}, timeout=30).content,
                      format="turtle")
    sd = URIRef("http://www.w3.org/ns/sparql-service-description#endpoint")
    assert {str(o) for o in g.objects(None, sd)} == {w3id.target + "sparql"}


def test_the_folder_names_the_host_everywhere(tmp_path):
    run = fwgraph("w3id", "--host", "https://fwgraph.example.net/", "--out", tmp_path, check=True)
    htaccess = (tmp_path / "fwgraph" / ".htaccess").read_text()
    readme = (tmp_path / "fwgraph" / "README.md").read_text()
    assert run.stdout.splitlines() == [f"wrote {tmp_path / 'fwgraph' / name}" for name in (".htaccess", "README.md")]
    assert PLACEHOLDER not in htaccess and "fwgraph.example.org" not in readme
    rules = [line for line in htaccess.splitlines() if line.startswith("RewriteRule")]
    assert len(rules) == 8 and all(" https://fwgraph.example.net/$1" in r for r in rules)
    assert "The service runs at <https://fwgraph.example.net/>" in readme and "## Contact" in readme
    assert (ROOT / "deploy" / "w3id" / ".htaccess").read_text().count(PLACEHOLDER) == 8  # the source is unchanged


@pytest.mark.parametrize("host", ["fwgraph.example.net", "ftp://fwgraph.example.net", "https://a b.example",
                                  "https://example.net/$1", "https://example.net/?q=1", "https://example.net/a b",
                                  'https://example.net/"x'])
def test_a_host_that_would_break_the_rules_is_refused(host):
    run = fwgraph("w3id", "--host", host)
    assert run.returncode == 2 and run.stderr.startswith("error:") and not run.stdout
