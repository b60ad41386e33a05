"""The finder (/find) and search (/search) in-process: views checked against the graph read with rdflib, facet
counts against the views they lead to, the URL round trip, sorting, JSON search, bounds, errors and caching.

The views and searches are listed in tests/fixtures/finder/ (one per line, each with a readable id).
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import lxml.html
import pytest
from packaging.specifiers import SpecifierSet
from rdflib import RDF, Literal, URIRef
from rdflib.namespace import DOAP, RDFS, SKOS

from fwgraph.core.namespace import BASE, FW

CASES = Path(__file__).parent / "fixtures" / "finder"
HTML = {"Accept": "text/html"}
JSON = {"Accept": "application/json"}


def _lines(name: str) -> list[str]:
    return [line for line in (CASES / name).read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]


VIEWS = [pytest.param(*(line.split(" ", 1) + [""])[1:2], id=line.split(" ", 1)[0]) for line in _lines("views.txt")]
SEARCHES = [pytest.param(*[p.strip() for p in line.split("|")][1:], id=line.split("|")[0].strip())
            for line in _lines("searches.txt")]


def get_page(client, path: str) -> lxml.html.HtmlElement:
    r = client.get(path, headers=HTML)
    assert r.status_code == 200, r.get_data(as_text=True)[:500]
    assert r.content_type.startswith("text/html")
    return lxml.html.fromstring(r.get_data(as_text=True))


def slugs(doc: lxml.html.HtmlElement) -> list[str]:
    return [tr.get("data-slug") for tr in doc.xpath('//table[@id="finder-grid"]/tbody/tr[@data-slug]')]


def options(doc: lxml.html.HtmlElement) -> dict[str, list[tuple[str, str, int, bool]]]:
    """Facet key -> (value, label, count, checked) of every option the form shows."""
    out: dict[str, list[tuple[str, str, int, bool]]] = {}
    for box in doc.xpath('//form[@id="finder-form"]//fieldset//input[@type="checkbox"]'):
        label = box.getparent()
        count = int(label.xpath('.//span[@class="count"]')[0].text_content().strip("()"))
        text = label.xpath('.//span[@class="option-label"]')[0].text_content()
        out.setdefault(box.get("name"), []).append((box.get("value"), text, count, box.get("checked") is not None))
    return out


def form_query(doc: lxml.html.HtmlElement) -> list[tuple[str, str]]:
    """What submitting the finder's form as it stands sends (its successful controls)."""
    pairs = []
    for el in doc.xpath('//form[@id="finder-form"]//input'):
        kind = el.get("type")
        if kind in ("checkbox", "radio") and el.get("checked") is None:
            continue
        pairs.append((el.get("name"), el.get("value") or ""))
    return pairs


# ------------------------------------------------------------------------------------- the graph's own answer

def _with_broader(graph, concept) -> set[str]:
    return {str(c).rstrip("/").rsplit("/", 1)[-1] for c in graph.transitive_objects(concept, SKOS.broader)}


def expected(graph, query: str) -> set[str]:
    """The slugs a view must show, read from the graph with rdflib (not through the finder)."""
    params: dict[str, list[str]] = {}
    for key, value in parse_qsl(query):
        params.setdefault(key, []).append(value)
    kind = params.get("kind", ["framework"])[0]
    cls = FW.WebFramework if kind == "framework" else FW.ApplicationServer
    iface = FW.interface if kind == "framework" else FW.implementsInterface
    level = params.get("level", ["built-in"])[0]
    levels = {"built-in"} if level == "built-in" else {"built-in", "official-extension", "third-party"}
    declared_versions = {str(v) for v in graph.objects(None, FW.pythonVersion)}
    out = set()
    for s in set(graph.subjects(RDF.type, cls)):
        have = {
            "interface": {str(o).rsplit("/", 1)[-1] for o in graph.objects(s, iface)},
            "async": set().union(*[_with_broader(graph, o) for o in graph.objects(s, FW.asyncSupport)]),
            "status": set().union(*[_with_broader(graph, o) for o in graph.objects(s, FW.maintenanceStatus)]),
            "licence": {str(o).rsplit("/", 1)[-1] for o in graph.objects(s, DOAP.license)},
            "typed": {"yes" if o.toPython() else "no" for o in graph.objects(s, FW.typed)},
            "feature": {str(graph.value(b, FW.supportedFeature)).rsplit("/", 1)[-1]
                        for b in graph.objects(s, FW.featureSupport)
                        if str(graph.value(b, FW.supportLevel)).rsplit("/", 1)[-1] in levels},
        }
        declared = {str(v) for v in graph.objects(s, FW.pythonVersion)}
        requires = graph.value(s, FW.requiresPython)
        have["python"] = declared or ({v for v in declared_versions if SpecifierSet(str(requires)).contains(v)}
                                      if requires is not None else set())
        ok = all(all(v in have[k] for v in vs) if k in ("feature", "python") else any(v in have[k] for v in vs)
                 for k, vs in params.items() if k in have)
        if ok:
            out.add(str(s).rsplit("/", 1)[-1])
    return out


# ------------------------------------------------------------------------------------- views

@pytest.mark.parametrize("query", VIEWS)
def test_view_shows_exactly_what_the_graph_says(client, graph, query):
    doc = get_page(client, f"/find?{query}")
    want = expected(graph, query)
    assert sorted(slugs(doc)) == sorted(want)
    total = len(set(graph.subjects(RDF.type, FW.ApplicationServer if "kind=server" in query else FW.WebFramework)))
    assert doc.get_element_by_id("found-count").text_content().startswith(f"{len(want)} of {total} ")


def test_the_issue_view_is_not_empty_and_leaves_out_flask(client, graph):
    """The example of issue 22: maintained ASGI frameworks with WebSockets built in."""
    shown = slugs(get_page(client, "/find?interface=asgi&status=active&feature=websockets"))
    assert {"starlette", "fastapi", "litestar"} <= set(shown)
    assert "flask" not in shown and "django" not in shown  # WSGI / WebSockets not built in


@pytest.mark.parametrize("query", VIEWS)
def test_every_option_count_is_the_size_of_the_view_it_leads_to(client, query):
    doc = get_page(client, f"/find?{query}")
    pairs = parse_qsl(query)
    shown = options(doc)
    assert shown, "no facet options"
    for key, opts in shown.items():
        for value, label, count, checked in opts:
            combine_all = key in ("feature", "python")
            if combine_all:
                target = pairs if checked else [*pairs, (key, value)]
            else:
                target = [(k, v) for k, v in pairs if k != key] + [(key, value)]
            rows = slugs(get_page(client, "/find?" + urlencode(target)))
            assert len(rows) == count, f"{key}={value} ({label}) says {count}, leads to {len(rows)}"


def test_options_without_matches_are_left_out_unless_chosen(client):
    shown = options(get_page(client, "/find?interface=cgi&feature=openapi"))
    assert ("cgi", "CGI", 0, True) in shown["interface"]  # chosen: kept, with its count
    assert all(count > 0 or checked for opts in shown.values() for _, _, count, checked in opts)


# ------------------------------------------------------------------------------------- the URL reproduces the view

@pytest.mark.parametrize("query", VIEWS)
def test_submitting_the_form_as_it_stands_reproduces_the_view(client, query):
    doc = get_page(client, f"/find?{query}")
    again = get_page(client, "/find?" + urlencode(form_query(doc)))
    assert slugs(again) == slugs(doc)
    assert options(again) == options(doc)


def test_sort_links_keep_the_filters_and_toggle_the_order(client):
    query = "interface=asgi&status=active"
    doc = get_page(client, f"/find?{query}")
    links = {th.get("data-key"): th.xpath(".//a")[0].get("href") for th in doc.xpath("//thead/tr/th[@data-key]")}
    assert set(links) >= {"name", "release", "downloads", "advisories", "licence", "python"}
    for key, href in links.items():
        params = parse_qsl(urlsplit(href).query)
        assert ("sort", key) in params or key == "name"
        assert ("interface", "asgi") in params and ("status", "active") in params
        assert sorted(slugs(get_page(client, "/find" + href))) == sorted(slugs(doc))
    name_desc = get_page(client, "/find" + links["name"])  # sorted by name already: the link reverses
    assert slugs(name_desc) == list(reversed(slugs(doc)))
    th = name_desc.xpath('//thead/tr/th[@data-key="name"]')[0]
    assert th.get("aria-sort") == "descending"


def _latest_downloads(graph) -> dict[str, int | None]:
    """Framework slug -> its latest observation's download count (None: below the top list that month)."""
    latest: dict[str, tuple[str, int | None]] = {}
    for obs in graph.subjects(FW.project, None):
        project = str(graph.value(obs, FW.project))
        if not project.startswith(BASE + "framework/"):
            continue
        date, count = str(graph.value(obs, FW.snapshotDate)), graph.value(obs, FW.downloadCount)
        slug = project.rsplit("/", 1)[-1]
        if date > latest.get(slug, ("", None))[0]:
            latest[slug] = (date, None if count is None else int(count))
    return {slug: count for slug, (_, count) in latest.items()}


def test_sorted_by_downloads_biggest_first_unknown_last(client, graph):
    rows = slugs(get_page(client, "/find?sort=downloads"))
    latest = _latest_downloads(graph)
    counted = {s: c for s, c in latest.items() if c is not None}
    top = sorted(counted, key=lambda s: -counted[s])
    assert rows[:len(top)] == top  # exact counts first, biggest first (no two are equal)
    no_series = {str(s).rsplit("/", 1)[-1] for s in graph.subjects(RDF.type, FW.WebFramework)} - set(latest)
    assert set(rows[len(rows) - len(no_series):]) == no_series  # no figure at all: last
    ascending = slugs(get_page(client, "/find?sort=downloads&order=asc"))
    assert ascending[len(ascending) - len(no_series) - len(top):len(ascending) - len(no_series)] == top[::-1]


def test_advisory_counts_are_the_graphs(client, graph):
    doc = get_page(client, "/find")
    for tr in doc.xpath('//table[@id="finder-grid"]/tbody/tr'):
        s = URIRef(BASE + "framework/" + tr.get("data-slug"))
        advisories = {a for a in graph.subjects(FW.affects, s) if graph.value(a, FW.withdrawn) is None}
        cell = tr.xpath('./td[@data-column="advisories"]')[0].text_content().strip()
        if graph.value(s, FW.pypiDistribution) is None:
            assert cell == "—"
        else:
            assert cell.split()[0] == str(len(advisories)), tr.get("data-slug")
    django = doc.xpath('//tr[@data-slug="django"]/td[@data-column="advisories"]')[0].text_content()
    assert int(django.split()[0]) > 100


def test_release_dates_are_read_as_months_or_days(client):
    servers = get_page(client, "/find?kind=server&sort=release")
    uvicorn = servers.xpath('//tr[@data-slug="uvicorn"]//time')[0]
    assert (uvicorn.get("datetime"), uvicorn.text_content()) == ("2026-09", "Sep 2026")
    flask = get_page(client, "/find").xpath('//tr[@data-slug="flask"]//time')[0]
    assert (flask.get("datetime"), flask.text_content()) == ("2026-02-18", "18 Feb 2026")
    dates = [t.get("datetime") for t in servers.xpath('//table[@id="finder-grid"]//time')]
    assert dates == sorted(dates, reverse=True)  # newest first ("2026-09" and "2026-09-30" compare by prefix)


# ------------------------------------------------------------------------------------- labels, not CURIEs

CURIE = re.compile(r"\b(?:fw|iface|feature|status|support|async|spdx|framework|server|tier|doap|skos|rdfs):[A-Za-z]")


@pytest.mark.parametrize("query", ["", "kind=server", "feature=websockets&level=available"], ids=["frameworks",
                                                                                                "servers", "level"])
def test_no_curie_is_shown_and_options_carry_the_graph_labels(client, graph, query):
    doc = get_page(client, f"/find?{query}")
    text = doc.xpath('//main')[0].text_content()
    assert not CURIE.findall(text)
    for value, label, _, _ in options(doc)["status"]:
        assert label == str(graph.value(URIRef(BASE + "status/" + value), SKOS.prefLabel))
    for value, label, _, _ in options(doc)["licence"]:
        assert label == str(graph.value(URIRef("http://spdx.org/licenses/" + value), RDFS.label))
    cells = [td.text_content() for td in doc.xpath('//td[@data-column="licence"]')]
    assert "MIT License" in cells


# ------------------------------------------------------------------------------------- compare selected

def test_compare_selected_submits_the_ticked_frameworks_to_compare(client):
    doc = get_page(client, "/find?interface=asgi")
    form = doc.get_element_by_id("compare-form")
    assert form.get("action") == "/compare" and form.get("method") == "get"
    boxes = doc.xpath('//input[@form="compare-form"]')
    assert [b.get("name") for b in boxes] == ["framework"] * len(slugs(doc))
    assert [b.get("value") for b in boxes] == slugs(doc)
    compared = get_page(client, "/compare?framework=starlette&framework=litestar")
    names = [tr.get("data-subject") for tr in compared.xpath('//table[contains(@class, "fwgraph-chart")]/tbody/tr')]
    assert names == [BASE + "framework/litestar", BASE + "framework/starlette"]


# ------------------------------------------------------------------------------------- search

@pytest.mark.parametrize(("q", "first"), SEARCHES)
def test_search_json_finds_it_first(client, q, first):
    r = client.get("/search", query_string={"q": q}, headers=JSON)
    assert r.status_code == 200 and r.content_type.startswith("application/json")
    body = r.get_json()
    assert body["q"] == q and body["count"] == len(body["results"]) >= 1
    top = body["results"][0]
    assert list(top) == ["iri", "label", "kind", "page", "score"]
    assert top["iri"] == first
    assert top["page"] == first.removeprefix(BASE[:-1])
    assert top["kind"] == first.removeprefix(BASE).split("/")[0]
    scores = [h["score"] for h in body["results"]]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize(("q", "first"), [p for p in SEARCHES if "/framework/" in p.values[1]])
def test_the_finder_takes_the_same_search(client, q, first):
    assert first.rsplit("/", 1)[-1] in slugs(get_page(client, "/find?" + urlencode({"q": q})))


def test_search_format_parameter_and_html(client):
    r = client.get("/search?q=flask&format=json", headers=HTML)
    assert r.content_type.startswith("application/json")
    doc = get_page(client, "/search?q=flask")
    assert doc.xpath('//ol[@class="hits"]/li/a')[0].get("href") == "/framework/flask"
    assert "Vary" in r.headers and "Accept" in r.headers["Vary"]


@pytest.mark.parametrize("q", ["(a+)+$", ".*", "[", "\\d", "flask|django"], ids=["nested", "dot-star", "bracket",
                                                                                  "class", "alternation"])
def test_search_text_is_text_not_a_pattern(client, q):
    r = client.get("/search", query_string={"q": q, "format": "json"})
    assert r.status_code == 200
    assert r.get_json()["results"] == []  # as a pattern, ".*" would match everything


@pytest.mark.parametrize("path", ["/search", "/find"])
def test_search_text_is_bounded(client, path):
    ok = client.get(path, query_string={"q": "a" * 200, "format": "json"}, headers=JSON)
    assert ok.status_code == 200
    long = client.get(path, query_string={"q": "a" * 201}, headers=JSON)
    assert long.status_code == 400
    assert "at most 200" in long.get_json()["message"]
    many = client.get(path, query_string={"q": " ".join("ab" for _ in range(13))}, headers=JSON)
    assert many.status_code == 400 and "words" in many.get_json()["message"]


def test_empty_search(client):
    assert client.get("/search?format=json").get_json() == {"q": "", "count": 0, "results": []}
    assert get_page(client, "/search").xpath('//input[@name="q"]')


# ------------------------------------------------------------------------------------- errors

@pytest.mark.parametrize("query", ["interface=nope", "feature=flying", "licence=WTFPL", "python=4.0", "typed=maybe",
                                   "status=asleep", "async=sometimes", "sort=colour", "order=up", "kind=library",
                                   "level=some"])
def test_unknown_values_are_400_naming_the_choices(client, query):
    r = client.get(f"/find?{query}", headers=JSON)
    assert r.status_code == 400
    message = r.get_json()["message"]
    key, value = query.split("=")
    assert "unknown" in message and repr(value) in message and "choose" in message


def test_facets_of_another_kind_are_ignored(client):
    """A feature chosen for frameworks stays in the URL when switching to servers; servers have none."""
    assert sorted(slugs(get_page(client, "/find?kind=server&feature=orm&async=yes"))) == \
        sorted(slugs(get_page(client, "/find?kind=server")))


# ------------------------------------------------------------------------------------- navigation, caching, speed

def test_navigation_names_the_finder_first_and_the_landing_page_links_it(client):
    doc = get_page(client, "/")
    assert doc.xpath("//header//nav/a")[0].get("href") == "/find"
    assert doc.get_element_by_id("open-finder").get("href") == "/find"
    assert doc.xpath('//form[@action="/search"]//input[@name="q"]')


def test_conditional_get_and_cache_headers(client):
    r = client.get("/find?interface=asgi", headers=HTML)
    assert r.headers["Cache-Control"].startswith("public, max-age=")
    etag = r.headers["ETag"]
    assert client.get("/find?interface=asgi", headers={**HTML, "If-None-Match": etag}).status_code == 304
    assert client.get("/find?interface=wsgi", headers={**HTML, "If-None-Match": etag}).status_code == 200
    s = client.get("/search?q=flask", headers=JSON)
    assert client.get("/search?q=flask", headers={**JSON, "If-None-Match": s.headers["ETag"]}).status_code == 304
    assert s.headers["ETag"] != client.get("/search?q=flask", headers=HTML).headers["ETag"]


def test_no_query_runs_per_request_once_warm(app, client, monkeypatch):
    """The grid is computed once per process: filtering, counting, sorting and searching ask the engine nothing."""
    assert client.get("/find", headers=HTML).status_code == 200
    engine = app.extensions["fwgraph"].engine
    monkeypatch.setattr(engine, "query", lambda *a, **k: pytest.fail("a query ran for a finder request"))
    for path in ("/find?interface=asgi&feature=orm&level=available&sort=downloads", "/find?kind=server&q=wsgi",
                 "/search?q=flask&format=json", "/search?q=starlette"):
        assert client.get(path, headers=HTML).status_code == 200, path


def test_month_labels():
    from fwgraph.views.finder import month_label

    assert [month_label(t) for t in ("2026-10", "2026-01", "2025-12-05", "2026-13", "soon")] == \
        ["Oct 2026", "Jan 2026", "5 Dec 2025", "2026-13", "soon"]


def test_python_facet_falls_back_on_requires_python_only_without_declared_versions(client, graph):
    """Flask declares no Python version (its classifiers name none): its requires-python >=3.9 decides."""
    flask = URIRef(BASE + "framework/flask")
    assert graph.value(flask, FW.pythonVersion) is None
    assert graph.value(flask, FW.requiresPython) == Literal(">=3.9")
    assert "flask" in slugs(get_page(client, "/find?python=3.12"))
    assert "flask" not in slugs(get_page(client, "/find?python=3.8"))
