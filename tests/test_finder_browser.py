"""The finder in headless Chromium, used as a person choosing a framework would: from the landing page to the
finder in one click, a filter in three clicks (with and without scripts), a link that reproduces it, sorting
by keyboard, comparing two ticked frameworks, and no sideways scrolling of the page on a phone or a laptop.

The fixtures (server, browser, page: no outside request, no CSP violation) are those of tests/test_browser.py.
Screenshots: docs/screenshots/finder.png and finder-mobile.png with FWGRAPH_SCREENSHOTS=1.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests import test_browser

# The fixtures of tests/test_browser.py, under their names (pytest finds fixtures by the module's globals).
server, browser, page, shoot = test_browser.server, test_browser.browser, test_browser.page, test_browser.shoot

pytestmark = pytest.mark.browser

ISSUE_VIEW = {("interface", "asgi"), ("status", "active"), ("feature", "websockets")}


def shown(pg) -> list[str]:
    return pg.locator("#finder-grid tbody tr[data-slug]").evaluate_all("rows => rows.map(r => r.dataset.slug)")


def params(url: str) -> set[tuple[str, str]]:
    return set(parse_qsl(urlsplit(url).query))


def test_landing_page_reaches_the_finder_in_one_click(page, server):
    page.goto(server.url)
    assert page.locator("header nav a").first.get_attribute("href") == "/find"
    with page.expect_navigation():
        page.click("#open-finder")
    assert urlsplit(page.url).path == "/find"
    assert page.locator("h1").inner_text() == "Find a Python web framework"
    assert len(shown(page)) >= 25


def test_maintained_asgi_frameworks_with_websockets_in_three_clicks(page, server):
    page.goto(server("/find"))
    everything = shown(page)
    for name, value in (("interface", "asgi"), ("status", "active"), ("feature", "websockets")):
        with page.expect_navigation():  # a ticked box applies at once
            page.check(f"#finder-form input[name={name}][value={value}]")
    assert ISSUE_VIEW <= params(page.url)
    found = shown(page)
    assert {"starlette", "fastapi", "litestar"} <= set(found) and "flask" not in found
    assert len(found) < len(everything)
    count = page.locator("#found-count").inner_text()
    assert count.startswith(f"{len(found)} of {len(everything)} ")
    # the URL reproduces the view, boxes ticked, in a fresh page
    link = page.url
    other = page.context.new_page()
    other.goto(link)
    assert shown(other) == found
    for name, value in ISSUE_VIEW:
        assert other.is_checked(f"#finder-form input[name={name}][value={value}]")
    other.close()


def test_the_same_filter_without_scripts(browser, server):
    context = browser.new_context(java_script_enabled=False)
    try:
        pg = context.new_page()
        pg.goto(server("/find"))
        for name, value in ISSUE_VIEW:
            pg.check(f"#finder-form input[name={name}][value={value}]")
        assert urlsplit(pg.url).query == ""  # nothing applies before the form is sent
        with pg.expect_navigation():
            pg.click("#apply")
        assert ISSUE_VIEW <= params(pg.url)
        assert {"starlette", "fastapi", "litestar"} <= set(shown(pg)) and "flask" not in shown(pg)
    finally:
        context.close()


def _downloads(pg) -> list[float]:
    """The downloads column as numbers ("416.7 M" -> 416.7e6; "< 57.5 k" -> 57.5e3), "—" left out."""
    out = []
    for text in pg.locator('#finder-grid td[data-column="downloads"]').all_inner_texts():
        m = re.fullmatch(r"<?\s*([\d.]+)\s*([kM]?)", text.strip())
        if m:
            out.append(float(m.group(1)) * {"": 1, "k": 1e3, "M": 1e6}[m.group(2)])
    return out


def test_sort_a_column_by_keyboard(page, server):
    page.goto(server("/find?interface=asgi"))
    before = set(shown(page))
    page.locator('#finder-grid th[data-key="downloads"] a').focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert ("sort", "downloads") in params(page.url) and ("interface", "asgi") in params(page.url)
    assert page.get_attribute('#finder-grid th[data-key="downloads"]', "aria-sort") == "descending"
    numbers = _downloads(page)
    assert len(numbers) >= 5 and numbers == sorted(numbers, reverse=True)
    assert set(shown(page)) == before
    page.locator('#finder-grid th[data-key="downloads"] a').focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert ("order", "asc") in params(page.url)
    assert _downloads(page) == sorted(numbers)


def test_tick_two_frameworks_and_compare_them(page, server):
    page.goto(server("/find?interface=asgi"))
    page.check("#pick-starlette")
    page.check("#pick-litestar")
    with page.expect_navigation():
        page.click("#compare-selected")
    assert urlsplit(page.url).path == "/compare"
    assert sorted(v for k, v in parse_qsl(urlsplit(page.url).query) if k == "framework") == ["litestar", "starlette"]
    rows = page.locator("table.fwgraph-chart tbody tr")
    assert rows.count() == 2
    names = sorted(rows.nth(i).locator("[data-column=framework]").inner_text().strip() for i in range(2))
    assert names == ["Litestar", "Starlette"]


@pytest.mark.parametrize("width", [390, 1280], ids=["phone-390", "laptop-1280"])
@pytest.mark.parametrize("path", ["/find?interface=asgi&status=active&feature=websockets", "/find?kind=server", "/",
                                  "/search?q=flask"], ids=["finder", "servers", "landing", "search"])
def test_the_page_never_scrolls_sideways(page, server, width, path):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(server(path))
    scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll <= inner, f"{path} at {width} px is {scroll} px wide"
    if path.startswith("/find?interface"):
        box = page.locator(".table-scroll").bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= inner
        if width < 1000:  # the phone's picture shows the grid, below the filters
            page.locator("#found-count").scroll_into_view_if_needed()
        shoot(page, "finder.png" if width > 1000 else "finder-mobile.png")
