"""Issue 22: framework and server pages written for people — a summary read in five seconds (the finder's facts
for the record), properties by their human labels (never a raw CURIE), releases and repositories as values, the
feature matrix as a table, curators' notes with the sources, no download observation listed, and links to
compare it with similar frameworks. In-process (route logic); the RDF views are unchanged (test_linkeddata)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS, RDFS

from fwgraph.core.namespace import FW

ROOT = Path(__file__).resolve().parents[1]
FRAMEWORKS = sorted(p.stem for p in (ROOT / "data" / "frameworks").glob("*.ttl"))
SERVERS = sorted(p.stem for p in (ROOT / "data" / "servers").glob("*.ttl"))
#: A compact name as a label: "doap:license", "schema:codeRepository", "rdf:type".
CURIE = re.compile(r"^[a-z][a-z0-9]*:[A-Za-z_][\w.-]*$")


class _Labels(HTMLParser):
    """The text of every <dt> and <th> (what the page shows as a property or column name)."""

    def __init__(self) -> None:
        super().__init__()
        self.labels: list[str] = []
        self._in = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("dt", "th"):
            self._in = True
            self.labels.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("dt", "th"):
            self._in = False

    def handle_data(self, data: str) -> None:
        if self._in:
            self.labels[-1] += data


def _labels(html: str) -> list[str]:
    parser = _Labels()
    parser.feed(html)
    return [label.strip() for label in parser.labels]


def _page(client, path: str) -> str:
    response = client.get(path, headers={"Accept": "text/html"})
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


@pytest.mark.parametrize("path", [f"framework/{s}" for s in FRAMEWORKS] + [f"server/{s}" for s in SERVERS])
def test_no_property_is_labelled_with_a_compact_name(client, path):
    labels = _labels(_page(client, "/" + path))
    assert labels, path
    raw = [label for label in labels if CURIE.match(label)]
    assert raw == [], f"{path} shows {raw}"


def test_the_flask_summary_reads_as_facts(client):
    html = _page(client, "/framework/flask")
    summary = html[html.index('id="summary"'):html.index("</section>", html.index('id="summary"'))]
    text = re.sub(r"<[^>]+>", " ", summary)
    text = re.sub(r"\s+", " ", text)
    assert "Server interfaces WSGI" in text
    assert "Latest release 3.1.3, released 18 Feb 2026" in text
    assert "Typed yes (py.typed)" in text
    assert re.search(r"PyPI downloads [\d.]+ M in the 30 days to (\d+ )?\w{3} 20\d\d", text), text
    assert re.search(r"Security advisories \d+ known; none affects 3\.1\.3", text), text
    assert 'href="https://pypi.org/project/Flask/"' in summary or 'href="https://pypi.org/project/flask/"' in summary
    assert "/compare?framework=flask&amp;framework=" in summary


def test_curators_notes_are_with_the_sources_not_under_the_title(client):
    record = Graph().parse(ROOT / "data" / "frameworks" / "flask.ttl")
    flask = URIRef("https://w3id.org/fwgraph/framework/flask")
    notes = [str(n) for n in record.objects(flask, RDFS.comment)]
    description = str(record.value(flask, DCTERMS.description))
    html = _page(client, "/framework/flask")
    head = html[:html.index('id="summary"')]
    assert description.split(".")[0] in head
    sources = html[html.index('id="sources"'):]
    for note in notes:
        shown = note.replace("&", "&amp;").replace('"', "&#34;").replace("'", "&#39;")[:60]
        assert shown not in head and shown in sources, note[:60]
    assert "Sources and notes" in sources


def test_the_feature_matrix_is_a_table_in_the_core_order(client):
    record = Graph().parse(ROOT / "data" / "frameworks" / "flask.ttl")
    flask = URIRef("https://w3id.org/fwgraph/framework/flask")
    statements = list(record.objects(flask, FW.featureSupport))
    html = _page(client, "/framework/flask")
    table = html[html.index('id="feature-matrix"'):]
    table = table[:table.index("</table>")]
    assert table.count('<tr class="level-') == len(statements) == 19
    assert table.index("URL routing") < table.index("Middleware") < table.index("Caching")
    assert "<dl class=\"nested\">" not in html  # releases, repositories and statements are values, not boxes


@pytest.mark.parametrize("slug", ["flask", "quart", "fastapi"])
def test_relations_come_right_after_the_summary(client, slug):
    """What a framework builds on, re-implements and runs on places it: read before the feature table, not after
    the benchmarks at the bottom."""
    html = _page(client, f"framework/{slug}")
    order = [html.index(f'id="{section}"') for section in ("summary", "relations", "feature-matrix")]
    assert order == sorted(order), order
    assert "deploys on" in html[order[1]:order[2]]


@pytest.mark.parametrize("slug", ["flask", "cherrypy"])
def test_missing_facts_are_notes_beside_the_sources(client, slug):
    """A record's fw:missingFact (why a fact is not recorded) reads as a note with the sources, naming the
    fact by its label: it was a nested box of "Note" and "on property" among the facts."""
    record = Graph().parse(ROOT / "data" / "frameworks" / f"{slug}.ttl")
    gaps = list(record.objects(URIRef(f"https://w3id.org/fwgraph/framework/{slug}"), FW.missingFact))
    assert gaps
    html = _page(client, f"/framework/{slug}")
    sources = html[html.index('id="sources"'):]
    assert sources.count(": not recorded.") == len(gaps)
    assert '<dl class="nested">' not in html and "on property" not in html


def test_download_observations_are_not_listed(client):
    html = _page(client, "/framework/flask")
    assert "pypi-downloads/" not in html.split('id="referenced-by"')[-1]
    assert len(html) < 200_000


def test_a_framework_page_shows_its_dated_benchmark_figures_with_sources(client):
    html = _page(client, "/framework/fastapi")
    section = html[html.index('id="benchmarks"'):]
    section = section[:section.index("</section>")]
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section))
    assert "py-frameworks-bench results 68 results from 2021-04-28 to 2022-03-14; those of 2022-03-14 below" in text
    assert "JSON API (py-frameworks-bench) 5882 requests/s 8.36 ms 0.75.0 2022-03-14" in text, text
    assert "not current figures" in text
    post = ("https://github.com/klen/py-frameworks-bench/blob/d4cf8c2b1134c653114384b440b3deb1965fe220/"
            "docs/_posts/2022-03-14-results.md")
    assert section.count(f'href="{post}"') == 4  # html, api, upload, composite of that post
    assert 'href="/py-frameworks-bench/method"' in section
    # this project's own run: its server column, and its method node (the run's record) instead of a post
    assert re.search(r"fwgraph benchmark runs \d+ results from 2026-12-07", text), text
    assert re.search(r"JSON serialisation \(fwgraph harness\) uvicorn \d+ requests/s [\d.]+ ms 0\.165\.0", text), text
    assert 'href="/bench-runs/2026-12-07">run</a>' in section
    assert 'id="benchmarks"' not in _page(client, "/framework/cyclone")  # never measured: no section
    assert "py-frameworks-bench/" not in html.split('id="referenced-by"')[-1]  # observations are not listed


def test_a_server_page_has_the_same_summary(client):
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", _page(client, "/server/uvicorn")))
    assert "Interfaces WSGI, ASGI" in text and "Latest release" in text and "Licence" in text
    assert "Interfaces and protocols" in text  # grouped, not one "Facts" heading


def test_reused_terms_have_labels():
    from fwgraph.core.namespace import REUSED_TERM_LABELS

    assert all(isinstance(v, str) and v and not CURIE.match(v) for v in REUSED_TERM_LABELS.values())


def test_the_dataset_page_shows_the_datasets_own_facts(client):
    """Issue 22: /dataset as a page listed the distributions and partitions, never the dataset's own facts."""
    html = _page(client, "/dataset")
    about = html[html.index('id="about"'):]
    about = about[:about.index("</section>")]
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", about))
    assert re.search(r"Triples \d{5,}", text), text[:500]
    assert "Licence" in text and "SPARQL endpoint" in text
    assert not [label for label in _labels(about) if CURIE.match(label)]


def test_a_preflight_is_told_the_safe_headers_it_asks_for(client):
    """Issue 26: the preflight listed a fixed set; a client asking for X-Requested-With or Cache-Control was
    refused by the browser. Safe headers asked for are echoed; anything else is not allowed."""
    asked = "X-Requested-With, cache-control, X-Evil"
    r = client.options("/sparql", headers={"Origin": "https://example.org", "Access-Control-Request-Method": "POST",
                                            "Access-Control-Request-Headers": asked})
    allowed = {h.strip().lower() for h in r.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"x-requested-with", "cache-control", "content-type", "accept"} <= allowed
    assert "x-evil" not in allowed


def test_static_files_are_versioned_and_immutable(client):
    """Issue 26: style sheets and scripts are named with their content hash and cached for a year, immutable;
    an address with another hash (an old page) is served but not promised immutable."""
    html = _page(client, "/framework/flask")
    css = re.search(r'href="(/static/fwgraph\.css\?v=([0-9a-f]{16}))"', html)
    assert css, "the style sheet has no version"
    r = client.get(css.group(1))
    assert r.status_code == 200 and r.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    stale = client.get("/static/fwgraph.css?v=0000000000000000")
    assert stale.status_code == 200 and "immutable" not in stale.headers.get("Cache-Control", "")


def test_a_long_list_of_values_is_folded(client):
    """A fact with many values (CherryPy's release history: over a hundred) is one folded list that says how
    many, not a page of rows before the relations and sources; a short one stays as it is."""
    html = _page(client, "/framework/cherrypy")
    folded = re.findall(r'<details class="many"><summary>(\d+) values</summary>', html)
    assert folded and all(int(n) > 12 for n in folded)
    assert "released 22 Dec 2006" in html.split('<details class="many">', 1)[1]  # inside a folded list
    flask = _page(client, "/framework/flask")
    assert "Server interfaces" in flask and 'class="many"' not in flask.split("Server interfaces", 1)[1][:400]
