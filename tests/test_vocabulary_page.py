"""The vocabulary's page (/ns) read as a person reads a pyLODE or Widoco page: metadata, contents, and for each
term its kind, domain, range, hierarchy, where it is used and an example from the data."""

from __future__ import annotations

import lxml.html
import pytest
from rdflib import URIRef
from rdflib.namespace import RDFS

from fwgraph.core.namespace import BASE, FW
from fwgraph.store.engine import run


@pytest.fixture(scope="module")
def page(app):
    r = app.test_client().get("/ns", headers={"Accept": "text/html"})
    assert r.status_code == 200
    return lxml.html.fromstring(r.data)


def _term(page, anchor: str) -> dict[str, list[str]]:
    """A term's section as {label: [texts]} from its definition list."""
    (section,) = page.xpath(f'//section[@class="term"][@id="{anchor}"]')
    out: dict[str, list[str]] = {}
    for dl in section.xpath(".//dl[@class='facts']")[:1]:
        label = None
        for child in dl:
            if child.tag == "dt":
                label = child.text_content().strip()
            elif child.tag == "dd" and label:
                out.setdefault(label, []).append(" ".join(child.text_content().split()))
    out["heading"] = [" ".join(section.xpath("./h3")[0].text_content().split())]
    return out


def test_metadata_shows_version_licence_and_prefix(page):
    (meta,) = page.xpath('//section[@id="metadata"]//dl')
    facts = {dt.text_content().strip(): " ".join(dt.getnext().text_content().split()) for dt in meta.xpath("./dt")}
    assert facts["Licence"] == "https://creativecommons.org/licenses/by/4.0/"
    assert facts["Preferred prefix"] == "fw" and facts["Namespace"] == "https://w3id.org/fwgraph/ns#"
    assert facts["Creator"] == "fwgraph contributors" and facts["Version"]


def test_contents_list_every_term_with_an_anchor(app, page):
    ontology = app.extensions["fwgraph"].ontology
    terms = {str(s) for s in ontology.subjects(RDFS.isDefinedBy, URIRef(BASE + "ns"))}
    listed = {a.get("href")[1:] for a in page.xpath('//nav[@id="contents"]//ul[@class="columns"]//a')}
    assert listed == {t.rsplit("#", 1)[1] for t in terms}
    for anchor in listed:
        assert page.xpath(f'//section[@class="term"][@id="{anchor}"]'), anchor


def test_a_property_shows_domain_range_and_an_example(app, page):
    term = _term(page, "interface")
    assert "object property" in term["heading"][0]
    assert term["Domain"] == ["fw:WebFramework, fw:ChartRow"]  # the members of an owl:unionOf domain
    assert term["Range"] == ["fw:ServerInterface"]
    (example,) = term["Example from the data"]
    engine = app.extensions["fwgraph"].engine
    uses = int(run(engine, f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s <{FW.interface}> ?o FILTER(isIRI(?s)) }}")
               .rows[0][0].value)
    assert "fw:interface" in example and f"used {uses} times" in example


def test_a_class_shows_its_hierarchy_and_where_it_is_used(page):
    term = _term(page, "WebFramework")
    assert "class" in term["heading"][0]
    assert term["Subclass of"] == ["doap:Project, schema:SoftwareSourceCode"]
    assert "fw:interface" in term["In domain of"][0] and "fw:feature" in term["In domain of"][0]
    assert "fw:buildsOn" in term["In range of"][0]
    (example,) = term["Example from the data"]
    assert example.startswith("framework:") and " a fw:WebFramework ." in example
    library = _term(page, "Library")
    assert "fw:TemplateEngine" in library["Superclass of"][0]


def test_the_example_links_to_the_resource_page(page):
    (section,) = page.xpath('//section[@class="term"][@id="interface"]')
    links = [a.get("href") for a in section.xpath(".//dd/a")]
    assert any(h.startswith("/framework/") or h.startswith("/chart-row/") for h in links)
