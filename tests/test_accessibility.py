"""Every page type in headless Chromium checked as assistive technology and small screens meet it: axe-core (the
vendored copy, injected by the test: no page loads it) reports no violation in light or dark mode, and no page
scrolls sideways at 390, 768 or 1,280 px.

The fixtures (server, browser, page: no outside request, no CSP violation) are those of tests/test_browser.py.
Screenshots: docs/screenshots/profile.png and profile-mobile.png (the top of the Flask page) with FWGRAPH_SCREENSHOTS=1.
"""

from __future__ import annotations

import pytest

from fwgraph.app import __file__ as app_file
from tests import test_browser

# The fixtures of tests/test_browser.py, under their names (pytest finds fixtures by the module's globals).
server, browser, page = test_browser.server, test_browser.browser, test_browser.page

pytestmark = pytest.mark.browser

AXE = (test_browser.Path(app_file).parent / "static" / "vendor" / "axe.min.js").read_text(encoding="utf-8")

#: One address per page type.
PAGES = {
    "landing": "/",
    "finder": "/find?interface=asgi&status=active&feature=websockets",
    "finder-servers": "/find?kind=server",
    "search": "/search?q=flask",
    "compare": "/compare",
    "compare-servers": "/compare/servers",
    "framework": "/framework/flask",
    "server": "/server/uvicorn",
    "interface": "/interface/asgi",
    "feature": "/feature/websockets",
    "dataset": "/dataset",
    "vocabulary": "/ns",
    "sparql": "/sparql",
    "downloads": "/download/",
    "contribute": "/contribute",
    "contribute-framework": "/contribute?kind=framework",
    "contribute-server": "/contribute?kind=server",
    "validate": "/validate",
    "not-found": "/framework/no-such-framework",
}


def _describe(violations: list[dict]) -> str:
    return "\n".join(f"{v['id']} ({v['impact']}): {v['help']} — " + "; ".join(
        n["target"][0] if isinstance(n["target"][0], str) else str(n["target"]) for n in v["nodes"][:6])
        for v in violations)


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("path", PAGES.values(), ids=PAGES.keys())
def test_axe_finds_no_violation(browser, server, path, scheme):
    context = browser.new_context(color_scheme=scheme, viewport={"width": 1280, "height": 900})
    try:
        pg = context.new_page()
        pg.goto(server(path))
        pg.wait_for_load_state("networkidle")
        if path.startswith("/contribute?"):  # checked with the form's messages shown beside their fields
            pg.wait_for_selector("#verdict.violation, #verdict.conforms")
        assert pg.evaluate("typeof window.axe") == "undefined"  # no page ships the checker
        pg.evaluate(AXE)
        violations = pg.evaluate("axe.run(document, {resultTypes: ['violations']}).then(r => r.violations)")
        assert violations == [], f"{path} ({scheme}):\n" + _describe(violations)
    finally:
        context.close()


@pytest.mark.parametrize("width", [390, 768, 1280])
@pytest.mark.parametrize("path", PAGES.values(), ids=PAGES.keys())
def test_no_page_scrolls_sideways(page, server, path, width):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(server(path))
    page.wait_for_load_state("networkidle")
    scroll, inner = page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
    assert scroll <= inner, f"{path} at {width} px is {scroll} px wide"
    if path == PAGES["framework"] and width != 768:  # the page's top: the whole page (8,000 px) reads too small
        test_browser.SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(test_browser.SHOTS / ("profile.png" if width > 1000 else "profile-mobile.png")),
                        full_page=True, clip={"x": 0, "y": 0, "width": width, "height": 1500 if width > 1000 else 1800})
