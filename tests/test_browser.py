"""Headless Chromium (Debian's chromium via Playwright) against the real server, used as a person would: the query
editor (completion, running, sharing, views, downloads, curl), the contribution form, and both without scripts.

The screenshots in docs/screenshots/ (shown in the README) are made by these tests (FWGRAPH_SCREENSHOTS=1).
"""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import requests
from rdflib import Graph

from fwgraph.data.graph import parse_file
from tests.graphs import isomorphic
from tests.live import ROOT, live_server

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
PER_INTERFACE = "Number of frameworks per server interface"
#: Screenshots go to docs/screenshots/ (the README's) only when FWGRAPH_SCREENSHOTS=1, so that a test run
#: never dirties the work tree; otherwise to a temporary folder (they are still taken: a failure shows).
SHOTS = ROOT / "docs" / "screenshots" if os.environ.get("FWGRAPH_SCREENSHOTS") == "1" else \
    Path(tempfile.gettempdir()) / "fwgraph-screenshots"
EDITOR = ".cm-content"


@pytest.fixture(scope="module")
def server():
    return live_server()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1100, "height": 1000}, accept_downloads=True)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url.rstrip("/"))
    # Every request must go to the server under test: no CDN, no outside resource; the pages' Content-Security-Policy
    # (no inline code, no eval) must hold for everything the scripts do.
    outside: list[str] = []
    refused: list[str] = []
    context.on("request", lambda req: None if req.url.startswith(server.url) else outside.append(req.url))
    page = context.new_page()
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda exc: refused.append(str(exc)))
    yield page
    context.close()
    assert outside == []
    assert refused == []


def sparql(server, query, fmt):
    response = requests.get(server("sparql"), params={"query": query, "format": fmt}, timeout=30)
    response.raise_for_status()
    return response


def editor_text(page):
    return page.input_value("#query-text")  # the form's textarea follows the editor


def set_query(page, text):
    page.click(EDITOR)
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(text)


def download(page, selector, folder):
    """Click ``selector`` as a person would to download, and save the file under the name the page suggests."""
    with page.expect_download() as info:
        page.click(selector)
    saved = folder / info.value.suggested_filename
    info.value.save_as(saved)
    return saved


def shoot(page, name, locator=None):
    SHOTS.mkdir(parents=True, exist_ok=True)
    (locator or page).screenshot(path=str(SHOTS / name))


def test_type_complete_run_share_and_reload(page, server):
    page.goto(server.url)
    set_query(page, "")
    # typed as a person types: the closing brace comes by itself, the class name by completion
    page.keyboard.type("SELECT ?f ?label WHERE { ?f a fw:WebFr")
    option = page.locator(".cm-tooltip-autocomplete li", has_text="fw:WebFramework").first
    option.wait_for()
    shoot(page, "editor-completion.png", page.locator("#query"))
    page.keyboard.press("Enter")
    page.keyboard.type(" ; rdfs:label ?label")
    page.keyboard.press("Escape")
    text = editor_text(page)
    assert "{ ?f a fw:WebFramework ; rdfs:label ?label}" in text
    assert "PREFIX fw: <https://w3id.org/fwgraph/ns#>" in text  # accepting the name declared its prefix
    page.keyboard.press("Control+End")
    page.keyboard.type(" ORDER BY ?label")
    good = editor_text(page)  # rdfs: is not declared in it: fwgraph declares its prefixes itself
    # an unknown prefix: the server's parse error is marked in the editor, at its line and column, in words
    set_query(page, good.replace("rdfs:label", "nope:label"))
    page.click("#run")
    page.locator(".cm-lintRange-error").wait_for()
    assert "line 2" in page.inner_text("#query-error")
    assert "the prefix 'nope:' is not declared" in page.inner_text("#query-error")
    assert page.locator(".cm-lint-marker-error").count() == 1
    set_query(page, good)
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("#results table.results tbody tr")
    assert page.locator(".cm-lintRange-error").count() == 0
    query = editor_text(page)
    expected = sparql(server, query, "json").json()["results"]["bindings"]
    assert len(expected) >= 25
    assert page.locator("#results tbody tr").count() == len(expected)
    assert page.inner_text("#results tbody tr:first-child td:nth-child(2)") == expected[0]["label"]["value"]
    assert page.inner_text("#query-status").startswith(f"{len(expected)} rows")
    # the address reproduces the run: copy the link, open it in a fresh page, the same query and rows come back
    assert "query=" in page.url and "view=Table" in page.url
    page.click("#copy-link")
    link = page.inner_text("#share")
    assert link == page.url
    assert page.evaluate("navigator.clipboard.readText()") == link
    fresh = page.context.new_page()
    fresh.goto(link)
    fresh.wait_for_selector("#results table.results tbody tr")
    assert fresh.input_value("#query-text") == query
    assert fresh.locator("#results tbody tr").count() == len(expected)
    fresh.reload()
    fresh.wait_for_selector("#results table.results tbody tr")
    assert fresh.locator("#results tbody tr").count() == len(expected)
    fresh.close()


def test_chart_view_csv_download_and_curl(page, server, tmp_path):
    page.goto(server.url)
    page.select_option("#example", label=PER_INTERFACE)
    assert "Counts today's frameworks" in page.inner_text("#example-description")
    page.click("#run")
    # the example names its view (#defaultView:BarChart): the chart opens first, the table is a click away
    page.wait_for_selector("#results figure.chart canvas")
    assert page.get_attribute("#views button[data-view=BarChart]", "aria-pressed") == "true"
    assert page.locator("#views button[data-view=Timeline]").is_hidden()
    assert "view=BarChart" in page.url
    shoot(page, "editor-bar-chart.png", page.locator("#query"))
    page.click("#views button[data-view=Table]")
    page.wait_for_selector("#results table.results")
    assert "view=Table" in page.url
    page.click("#views button[data-view=BarChart]")
    page.wait_for_selector("#results figure.chart canvas")
    assert "frameworks by label" in page.inner_text("#results figcaption")
    query = editor_text(page)
    expected = sparql(server, query, "csv").content
    # download CSV
    page.select_option("#format", "csv")
    saved = download(page, "#download", tmp_path)
    assert saved.name == "fwgraph-frameworks-per-interface.csv"
    assert saved.read_bytes() == expected
    rows = list(csv.DictReader(io.StringIO(saved.read_text())))
    assert rows[0]["label"] and int(rows[0]["frameworks"]) >= int(rows[-1]["frameworks"])
    # "copy as curl" gives a command that, run by a shell, answers the same CSV
    page.click("#copy-curl")
    command = page.inner_text("#share")
    assert command.startswith("curl -H 'Accept: text/csv' --data-urlencode 'query=")
    ran = subprocess.run(["bash", "-c", command + " --silent --show-error"], capture_output=True, timeout=60)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout == expected


def test_timeline_and_graph_views(page, server):
    page.goto(server.url)
    page.select_option("#example", label="Frameworks by first release year")
    page.click("#run")
    page.wait_for_selector("#results figure.chart canvas")
    assert page.get_attribute("#views button[data-view=Timeline]", "aria-pressed") == "true"
    assert "label over year" in page.inner_text("#results figcaption")
    page.select_option("#example", label="Everything about Flask")
    page.click("#run")
    page.wait_for_selector("#results figure.graph svg circle")
    assert page.get_attribute("#views button[data-view=Graph]", "aria-pressed") == "true"
    triples = len(Graph().parse(data=sparql(server, editor_text(page), "nt").text, format="nt"))
    assert f"{triples} triples" in page.inner_text("#query-status")
    assert page.locator("#results figure.graph a[href='/framework/flask']").count() == 1
    shoot(page, "editor-graph.png", page.locator("#query"))
    # graph results download as graphs only
    assert page.locator("#format option[value=csv]").is_disabled()
    page.select_option("#format", "turtle")
    assert page.get_attribute("#download", "download") == "fwgraph-describe-flask.ttl"
    page.click("#views button[data-view=Table]")
    assert page.locator("#results tbody tr").count() == min(triples, 100)  # pages of 100 rows
    assert page.inner_text(".table-info").endswith(f"of {triples}")


def test_truncation_is_shown(browser):
    from tests.server import server as serve

    small = serve("--max-rows", "3")
    context = browser.new_context()
    page = context.new_page()
    page.goto(small.url + "?query=" + requests.utils.quote("SELECT ?s WHERE { ?s ?p ?o }"))
    page.wait_for_selector("#results table.results tbody tr")
    assert page.locator("#results tbody tr").count() == 3
    assert page.inner_text("#query-status").startswith("3 rows (truncated at 3")
    context.close()


#: IRIs a permalink can make the result view show: only the http(s) ones may become links.
UNSAFE_IRIS = ["javascript:alert(document.domain)", "JavaScript:alert(1)", "data:text/html,x",
               "vbscript:msgbox(1)", "mailto:someone@example.org"]


def test_only_http_iris_become_links(page, server):
    """The result view set ``a.href`` to any IRI: a permalink rendered ``javascript:`` links (only the page's
    Content-Security-Policy kept them from running). Other IRIs are shown as text, in the table and the graph."""
    iris = [*UNSAFE_IRIS, "https://example.org/ok", "http://example.org/ok"]
    values = " ".join(f"<{iri}>" for iri in iris)
    query = f"SELECT ?x WHERE {{ VALUES ?x {{ {values} }} }}"
    page.goto(server.url + "?view=Table&query=" + requests.utils.quote(query))
    page.wait_for_selector("#results table.results tbody tr")
    assert page.locator("#results tbody td").all_inner_texts() == iris
    hrefs = page.eval_on_selector_all("#results a", "links => links.map(a => a.getAttribute('href'))")
    assert hrefs == ["https://example.org/ok", "http://example.org/ok"]
    triples = " ".join(f"<{iri}> <http://example.org/p> <https://example.org/o> ." for iri in UNSAFE_IRIS)
    page.goto(server.url + "?view=Graph&query=" + requests.utils.quote(f"CONSTRUCT {{ {triples} }} WHERE {{}}"))
    page.wait_for_selector("#results figure.graph svg circle")
    hrefs = page.eval_on_selector_all("#results figure.graph a", "links => links.map(a => a.getAttribute('href'))")
    assert hrefs == ["https://example.org/o"]


def test_framework_page_links_to_interface(page, server):
    page.goto(server("framework/fastapi"))
    assert page.inner_text("h1") == "FastAPI"
    page.click("section.group >> a[href='/interface/asgi']")
    page.wait_for_url(server("interface/asgi"))
    assert page.inner_text("h1") == "ASGI"
    assert page.locator("#used-by a[href='/framework/fastapi']").count() == 1


def test_contribution_form_broken_then_fixed(page, server, tmp_path):
    page.goto(server("contribute"))
    page.click("#new-framework")
    page.fill("#slug", "tiny-framework")
    page.get_by_label("Name").first.fill("Tiny Framework")
    page.get_by_label("Async support").select_option(label="Yes")
    page.locator("#f-fw-interface").get_by_label("ASGI").check()
    page.get_by_label("First release year").fill("20x4")  # broken: not a year
    year = page.locator("#f-fw-firstReleaseYear")
    page.wait_for_selector("#f-fw-firstReleaseYear.has-violation")
    assert year.locator(".feedback").inner_text() == (
        "To fix: First release year: give the year in four digits, e.g. 2010; only one value (you gave: 20x4)")
    assert "Not ready yet" in page.inner_text("#verdict")
    assert page.get_attribute("#f-fw-firstReleaseYear-0", "aria-invalid") == "true"
    shoot(page, "contribute-violation.png", year)
    page.get_by_label("First release year").fill("2024")
    page.wait_for_selector("#verdict.conforms")
    assert year.locator(".feedback").inner_text() == ""
    assert page.locator("#f-dcterms-description .feedback li.warning").count() == 1  # no description: a warning
    saved = download(page, "#download-record", tmp_path)
    assert saved.name == "tiny-framework.ttl"
    assert 'fw:firstReleaseYear "2024"^^xsd:gYear' in saved.read_text()
    checked = subprocess.run([sys.executable, "-m", "fwgraph", "validate", str(saved)], capture_output=True,
                             text=True, cwd=ROOT, timeout=300)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    shoot(page, "contribute-form.png")


def test_every_problem_of_a_server_beside_its_own_field_in_plain_words(page, server):
    """Issue 22: a wrong identifier hides nothing; a server's missing source shows under "Source" (it showed
    under "Curator overrides"); the licence is chosen by its SPDX name; no message is written in Turtle."""
    page.goto(server("contribute?kind=server"))
    page.fill("#slug", "Not OK")
    page.get_by_label("Name").first.fill("Tiny Server")
    page.locator("#f-slug .feedback li", has_text="not 'Not OK'").wait_for()  # the check of what was typed
    page.locator("#f-rdfs-label .feedback li").wait_for(state="detached")  # named now
    assert page.inner_text("#f-slug .feedback").startswith("To fix: Identifier: use lowercase letters")
    assert page.inner_text("#f-dcterms-source .feedback") == (
        "To fix: Source: give a web address starting with https://")
    assert page.inner_text("#f-fw-curatorOverride .feedback") == ""
    licence = page.locator("#f-doap-license")
    assert licence.locator(".feedback").inner_text().startswith("To fix: Licence: choose one licence from the list")
    texts = page.locator("fieldset.form-field .feedback li").all_inner_texts()
    assert len(texts) >= 10
    assert not [t for t in texts if re.search(r"\b(?:fw|doap|dcterms|xsd):\w|\^\^|<https?://", t)], texts
    shoot(page, "contribute-server-problems.png")
    licence.get_by_label("MIT License").check()
    page.fill("#slug", "tiny-server")
    page.locator("#f-doap-license .feedback li").wait_for(state="detached")
    page.locator("#f-slug .feedback li").wait_for(state="detached")
    assert "doap:license spdx:MIT" in page.text_content("#turtle")  # the folded preview: the SPDX IRI


def test_editing_an_existing_framework_starts_from_its_record(page, server, tmp_path):
    page.goto(server("contribute"))
    page.select_option("#edit-framework", label="Flask")
    page.click("form:has(#edit-framework) button")
    page.wait_for_selector("#verdict.conforms")
    assert page.input_value("#slug") == "flask"
    assert page.get_by_label("Name").first.input_value() == "Flask"
    assert page.locator("#f-fw-interface").get_by_label("WSGI").is_checked()
    assert "chart-row:flask a fw:ChartRow" in page.input_value("#extra")  # the file's other resources are kept
    saved = download(page, "#download-record", tmp_path)
    assert saved.name == "flask.ttl"
    assert isomorphic(parse_file(saved), parse_file(ROOT / "data" / "frameworks" / "flask.ttl"))


def test_query_form_without_javascript(browser, server):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(server.url)
    page.click("#run")
    page.wait_for_load_state()
    assert "/sparql?" in page.url and "format=html" in page.url
    assert page.locator("table tr").count() > 1
    # a shared editor address opens with its query, ready to run
    page.goto(server.url + "?query=ASK+%7B%7D&view=Table")
    assert page.input_value("#query-text") == "ASK {}"
    context.close()


def test_contribution_form_without_javascript(browser, server):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(server("contribute?kind=framework"))
    page.fill("#slug", "plain")
    page.get_by_label("Name").first.fill("Plain")
    page.get_by_label("First release year").fill("19x9")
    page.click("#check")
    page.wait_for_selector("textarea#data")
    assert "data/frameworks/plain.ttl" in page.inner_text("#target-file")
    page.click("button[type=submit]")
    page.wait_for_selector("#verdict")
    assert "Does not conform" in page.inner_text("#verdict")
    assert "four-digit year" in page.inner_text("table.results")
    context.close()


READ_JSON_LD = """() => [...document.querySelectorAll('script[type="application/ld+json"]')]
    .map(s => JSON.parse(s.textContent))"""


@pytest.mark.parametrize(("path", "kind"), [("", "Dataset"), ("dataset", "Dataset"),
                                            ("framework/flask", "SoftwareSourceCode"),
                                            ("server/uvicorn", "SoftwareApplication")])
def test_chromium_reads_the_embedded_json_ld(page, server, path, kind):
    """What a crawler reads: one schema.org data block, parsed by the browser, and no CSP violation for it."""
    violations: list[str] = []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.goto(server(path))
    docs = page.evaluate(READ_JSON_LD)
    assert [d["@type"] for d in docs] == [kind]
    assert docs[0]["@context"] == "https://schema.org" and docs[0]["name"]
    if kind == "Dataset":
        assert {d["@type"] for d in docs[0]["distribution"]} == {"DataDownload"}
    assert violations == []


def test_the_result_table_sorts_filters_and_pages_by_keyboard_and_keeps_history(page, server):
    """Issue 22: a query with no PREFIX line runs; dataset IRIs link to this server's pages; the table sorts from
    its headers by keyboard, filters, pages by 100; the query is kept in this browser and reopens from the list;
    "Copy as curl" writes the prefixes out, so the command works against any endpoint."""
    page.goto(server.url)
    set_query(page, "SELECT ?f ?label WHERE { ?f a fw:WebFramework ; rdfs:label ?label }")
    page.click("#run")
    page.wait_for_selector("#results table.results tbody tr")
    rows = page.locator("#results tbody tr").count()
    assert rows >= 25
    href = page.locator("#results tbody tr td a").first.get_attribute("href")
    assert href.startswith("/framework/"), href  # this server's page, not the w3id address
    header = page.locator("#results th button.sort", has_text="label")
    header.focus()
    page.keyboard.press("Enter")
    column = page.locator("#results tbody td:nth-child(2)").all_inner_texts()
    assert column == sorted(column, key=str.casefold) and len(set(column)) > 1
    assert page.get_attribute("#results th:nth-child(2)", "aria-sort") == "ascending"
    page.keyboard.press("Enter")
    assert page.locator("#results tbody td:nth-child(2)").all_inner_texts() == column[::-1]
    page.fill(".table-filter", "flask")
    shown = page.locator("#results tbody td:nth-child(2)").all_inner_texts()
    assert shown and all("flask" in t.lower() for t in shown) and len(shown) < rows
    assert f"(filtered from {rows})" in page.inner_text(".table-info")
    page.click("#copy-curl")
    curl = page.inner_text("#share")
    assert "PREFIX fw: <https://w3id.org/fwgraph/ns#>" in curl and "PREFIX rdfs:" in curl
    set_query(page, "SELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 250")
    page.click("#run")
    page.wait_for_selector("#results table.results tbody tr")
    assert page.locator("#results tbody tr").count() == 100
    assert page.inner_text(".table-info") == "rows 1–100 of 250"
    page.click(".table-next")
    page.click(".table-next")
    assert page.inner_text(".table-info") == "rows 201–250 of 250" and page.is_disabled(".table-next")
    page.goto(server.url)
    page.click("#history summary")
    items = page.locator("#history-list button.history-item")
    assert items.count() == 2
    items.nth(1).click()  # the older one
    page.wait_for_selector("#results table.results tbody tr")
    assert editor_text(page) == "SELECT ?f ?label WHERE { ?f a fw:WebFramework ; rdfs:label ?label }"


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_pages_follow_the_colour_scheme_and_skip_to_content(browser, server, scheme):
    """Issue 22: dark mode by prefers-color-scheme; a skip link is the first Tab stop and lands on the content."""
    context = browser.new_context(color_scheme=scheme)
    page = context.new_page()
    page.goto(server("framework/flask"))
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert (background == "rgb(255, 255, 255)") == (scheme == "light"), background
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"
    context.close()
