"""/compare and /compare/interfaces on the real server: plain HTTP, and a headless Chromium that uses the form."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from urllib.parse import urljoin

import lxml.html
import pytest
import requests

from tests.live import live_server
from tests.test_chart import FIXTURE, gfm_rows

HTML = {"Accept": "text/html"}


@pytest.fixture(scope="module")
def server():
    return live_server()


def page(server, path: str) -> lxml.html.HtmlElement:
    r = requests.get(server(path), headers=HTML, timeout=30)
    assert r.status_code == 200, r.text[:500]
    assert r.headers["Content-Type"].startswith("text/html")
    return lxml.html.fromstring(r.text)


def table_rows(doc: lxml.html.HtmlElement) -> dict[str, dict[str, lxml.html.HtmlElement]]:
    """Framework name → column key → cell element, from table.fwgraph-chart."""
    rows = {}
    for tr in doc.xpath('//table[contains(@class, "fwgraph-chart")]/tbody/tr'):
        cells = {c.get("data-column"): c for c in tr.xpath("th|td")}
        rows[cells["framework"].text_content().strip()] = cells
    return rows


def test_compare_csv_is_the_selected_view(server):
    r = requests.get(server("/compare.csv?framework=klein&framework=flask&column=interface&column=async"), timeout=30)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/csv")
    assert list(csv.reader(io.StringIO(r.text))) == [
        ["Framework", "Type", "Async Support"], ["Flask", "WSGI", "Yes"], ["Klein", "Twisted", "Yes (via Twisted)"]]


def test_compare_md_as_of_chart_is_the_seed_chart(server):
    r = requests.get(server("/compare.md?as_of=chart"), timeout=30)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/markdown")
    header, rows = gfm_rows(r.text)
    with FIXTURE.open(newline="", encoding="utf-8") as fh:
        expected = list(csv.reader(fh))
    assert [header, *rows] == expected


def test_download_links_carry_the_same_query_string(server):
    qs = "as_of=today&framework=django&framework=starlette&column=features"
    doc = page(server, f"/compare?{qs}")
    csv_href = doc.get_element_by_id("download-csv").get("href")
    md_href = doc.get_element_by_id("download-md").get("href")
    assert csv_href == f"/compare.csv?{qs}" and md_href == f"/compare.md?{qs}"
    rows = list(csv.reader(io.StringIO(requests.get(server(csv_href), timeout=30).text)))
    shown = table_rows(doc)
    assert [r[0] for r in rows[1:]] == list(shown) == ["Django", "Starlette"]
    header, md_rows = gfm_rows(requests.get(server(md_href), timeout=30).text)
    assert header == ["Framework", "Features"] and [r[0] for r in md_rows] == ["Django", "Starlette"]


def test_disputed_cells_show_both_claims_and_their_sources(server):
    doc = page(server, "/compare?framework=flask&framework=starlette")
    rows = table_rows(doc)
    flask_async = rows["Flask"]["async"]
    assert "disputed" in flask_async.get("class")
    dispute = flask_async.xpath('.//div[@class="dispute"]')[0].text_content()
    assert "chart: No" in dispute and "today: Yes" in dispute
    hrefs = [a.get("href") for a in flask_async.xpath('.//div[@class="dispute"]//a')]
    assert "https://github.com/pallets/flask/blob/3.1.3/docs/async-await.rst" in hrefs
    assert "/async/no" in hrefs and "/async/yes" in hrefs  # both claims link to their concept pages
    graphql = rows["Starlette"]["features"].xpath('.//div[@class="dispute"]')
    assert any("chart: GraphQL" in d.text_content() and "today: not so" in d.text_content() for d in graphql)
    assert "disputed" not in (rows["Flask"]["interface"].get("class") or "")


def test_every_value_links_to_its_local_resource_page(server):
    doc = page(server, "/compare?as_of=chart")
    rows = table_rows(doc)
    assert len(rows) == 13
    klein = rows["Klein"]
    assert [a.get("href") for a in klein["framework"].xpath(".//a")] == ["/framework/klein"]
    assert [a.get("href") for a in klein["interface"].xpath(".//a")] == ["/interface/wsgi", "/interface/twisted"]
    assert rows["Japronto"]["interface"].text_content().strip() == "Custom"
    href = klein["features"].xpath(".//a")[0].get("href")
    assert href.startswith("/feature/")
    r = requests.get(server(href), headers=HTML, timeout=30)
    assert r.status_code == 200


def test_the_query_is_shown_and_runs_in_the_endpoint(server):
    doc = page(server, "/compare?framework=klein&as_of=chart")
    code = doc.xpath('//section[@class="queries"]//pre/code')[0].text_content()
    assert "fw:ChartRow" in code and "<https://w3id.org/fwgraph/framework/klein>" in code
    link = doc.xpath('//a[@class="sparql-link"]')[0].get("href")
    assert link.startswith("/sparql?query=") and link.endswith("&format=html")
    r = requests.get(server(link), headers=HTML, timeout=30)
    assert r.status_code == 200
    assert "Klein" in r.text and "Yes (via Twisted)" in r.text
    assert doc.xpath('//a[@class="editor-link"]')[0].get("href").startswith("/?query=")


def test_compare_interfaces_page_and_downloads(server):
    doc = page(server, "/compare/interfaces")
    heads = [th.text_content() for th in doc.xpath('//table[contains(@class, "fwgraph-chart")]/thead/tr/th')]
    assert heads[:5] == ["Feature", "WSGI", "ASGI", "RSGI", "Twisted"] and "CGI" in heads
    rows = doc.xpath('//table[contains(@class, "fwgraph-chart")]/tbody/tr')
    body = {tr.xpath("th|td")[0].text_content(): tr for tr in rows}
    assert "/framework/klein" in [a.get("href") for a in body["Frameworks"].xpath(".//a")]
    assert "Process per request" in body["Execution Model"].text_content()
    rows = list(csv.reader(io.StringIO(requests.get(server("/compare/interfaces.csv"), timeout=30).text)))
    assert rows[0][:4] == ["Interface", "Synchrony", "Long-lived connections", "Execution Model"]
    assert ["CGI", "Synchronous", "No", "Process per request"] == rows[[r[0] for r in rows].index("CGI")][:4]
    header, md_rows = gfm_rows(requests.get(server("/compare/interfaces.md"), timeout=30).text)
    assert header[1] == "WSGI" and any(r[0] == "Frameworks" and "Flask" in r[1] for r in md_rows)


@pytest.mark.parametrize("path", ["/compare?framework=no-such-framework", "/compare.csv?column=colour",
                                  "/compare?as_of=yesterday"])
def test_bad_choices_are_400(server, path):
    r = requests.get(server(path), timeout=30)
    assert r.status_code == 400
    assert "unknown" in r.text


# --------------------------------------------------------------------------- the browser

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert Path("/usr/bin/chromium").exists(), "apt-get install -y chromium"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.mark.browser
@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_browser_selects_three_frameworks_and_follows_a_cell_link(server, browser, javascript, graph):
    from rdflib import RDF, URIRef

    frameworks = len(set(graph.subjects(RDF.type, URIRef("https://w3id.org/fwgraph/ns#WebFramework"))))
    context = browser.new_context(java_script_enabled=javascript)
    try:
        pg = context.new_page()
        pg.goto(server("/compare"))
        boxes = pg.locator("input[name=framework]")
        assert boxes.count() == frameworks >= 25
        assert pg.locator("table.fwgraph-chart tbody tr").count() == frameworks  # all by default
        for i in range(boxes.count()):
            boxes.nth(i).uncheck()
        for slug in ("klein", "flask", "django"):
            pg.check(f"input[name=framework][value={slug}]")
        with pg.expect_navigation():
            pg.click("form.compare button[type=submit]")
        assert "framework=klein" in pg.url
        rows = pg.locator("table.fwgraph-chart tbody tr")
        names = [rows.nth(i).locator("[data-column=framework]").inner_text().strip() for i in range(rows.count())]
        assert names == ["Django", "Flask", "Klein"]

        def cell(name: str, key: str):
            subject = f"https://w3id.org/fwgraph/framework/{name.lower()}"
            return pg.locator(f'table.fwgraph-chart tbody tr[data-subject="{subject}"] [data-column={key}]')

        assert cell("Klein", "interface").get_attribute("data-value") == "Twisted"
        assert cell("Flask", "interface").get_attribute("data-value") == "WSGI"
        assert cell("Django", "interface").get_attribute("data-value") == "WSGI/ASGI"
        assert cell("Flask", "async").get_attribute("data-value") == "Yes"
        assert "chart: No" in cell("Flask", "async").inner_text()
        assert cell("Klein", "licence").get_attribute("data-value") == "MIT"

        if javascript:  # the optional enhancement: sorting by a column header
            pg.click("table.fwgraph-chart thead th[data-key=first-release]")
            names = [rows.nth(i).locator("[data-column=framework]").inner_text().strip() for i in range(3)]
            assert names == ["Django", "Flask", "Klein"]  # 2005, 2010, 2013
            pg.click("table.fwgraph-chart thead th[data-key=first-release]")
            names = [rows.nth(i).locator("[data-column=framework]").inner_text().strip() for i in range(3)]
            assert names == ["Klein", "Flask", "Django"]

        link = cell("Klein", "interface").locator("a", has_text="Twisted").first
        with pg.expect_navigation():
            link.click()
        assert pg.url == urljoin(server.url, "/interface/twisted")
        assert pg.locator("h1").inner_text().strip() == "Twisted"
    finally:
        context.close()
