"""Headless Chromium (Debian's chromium via Playwright) against the real server: editor and page links."""

from __future__ import annotations

import pytest
import requests

from tests.live import live_server

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
EXAMPLE = "Number of frameworks per server interface"


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
    context = browser.new_context()
    # Every request must go to the server under test: no CDN, no outside resource.
    outside: list[str] = []
    context.on("request", lambda req: None if req.url.startswith(server.url) else outside.append(req.url))
    page = context.new_page()
    yield page
    context.close()
    assert outside == []


def test_editor_runs_an_example_query(page, server):
    page.goto(server.url)
    options = page.locator("#example option")
    assert EXAMPLE in options.all_inner_texts()
    page.select_option("#example", label=EXAMPLE)
    query = page.input_value("#query-text")
    assert "title: " + EXAMPLE in query  # the textarea now holds that example's text
    expected = requests.get(
        server("sparql"),
        params={"query": query},
        headers={"Accept": "application/sparql-results+json"},
        timeout=30,
    ).json()
    rows = expected["results"]["bindings"]
    assert rows
    page.click("#run")
    page.wait_for_selector("#results table.results tbody tr")
    headers = page.locator("#results table.results thead th").all_inner_texts()
    assert headers == expected["head"]["vars"]
    assert page.locator("#results table.results tbody tr").count() == len(rows)
    table_text = page.inner_text("#results table.results")
    first = rows[0]
    for var in expected["head"]["vars"]:
        if var in first:
            assert first[var]["value"] in table_text
    assert page.inner_text("#query-status").startswith(f"{len(rows)} row")


def test_framework_page_links_to_interface(page, server):
    page.goto(server("framework/fastapi"))
    assert page.inner_text("h1") == "FastAPI"
    page.click("section.group >> a[href='/interface/asgi']")
    page.wait_for_url(server("interface/asgi"))
    assert page.inner_text("h1") == "ASGI"
    assert page.locator("#used-by a[href='/framework/fastapi']").count() == 1


def test_query_form_without_javascript(browser, server):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(server.url)
    page.click("#run")
    page.wait_for_load_state()
    assert "/sparql?" in page.url and "format=html" in page.url
    assert page.locator("table tr").count() > 1
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
