"""The reconciliation service's suggest, property-proposal and data-extension services and JSONP, in-process
(Flask's test client on the session's build): every answer validated against the Reconciliation API 0.2 JSON
schemas (tests/fixtures/reconciliation-api-0.2), extension values compared with the graph, and the routes
attacked (huge, deeply nested, non-UTF-8 and malformed input, 10 000 ids, bad callback names): each refused with
a clear 4xx in JSON, never a 500."""

from __future__ import annotations

import json
import re
import urllib.parse

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rdflib import Literal, URIRef
from rdflib.namespace import DOAP, RDFS

from fwgraph.app.http import is_callback_name, json_response
from fwgraph.core.errors import InputError
from fwgraph.core.namespace import BASE, FW
from fwgraph.core.settings import Settings
from fwgraph.views import extension, reconcile, suggest
from tests.reconciliation_api import validate

FRAMEWORK, SERVER, INTERFACE = (str(FW.WebFramework), str(FW.ApplicationServer), str(FW.ServerInterface))


def _get(client, path: str, **params) -> dict:
    r = client.get(path, query_string=params)
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    assert r.content_type.startswith("application/json")
    return r.json


def _extend(client, ids: list[str], pids: list[str], *, method: str = "POST") -> dict:
    query = validate({"ids": ids, "properties": [{"id": p} for p in pids]}, "data-extension-query")
    if method == "POST":  # as 0.2 says: a form element named extend
        r = client.post("/reconcile", data={"extend": json.dumps(query)})
    else:
        r = client.get("/reconcile", query_string={"extend": json.dumps(query)})
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    return validate(r.json, "data-extension-response")


def _form(raw: str, name: str = "extend") -> dict:
    """POST arguments for a form body carrying ``raw`` with JSON's punctuation unencoded (a form decoder takes it
    as it is), so that a large query fits the 64 KiB bound on the bytes received."""
    return {"data": f"{name}=" + urllib.parse.quote(raw, safe='",[]{}:/'),
            "content_type": "application/x-www-form-urlencoded"}


def _error(r, status: int, *words: str) -> str:
    """The JSON error message of a refused request, after checking its status and JSON body."""
    assert r.status_code == status, (r.status_code, r.get_data(as_text=True)[:300])
    assert r.content_type.startswith("application/json"), r.content_type
    message = r.json["message"]
    for word in words:
        assert word in message, message
    return message


# ------------------------------------------------------------------ the schemas are live


@pytest.mark.parametrize(("doc", "name"), [
    ({"meta": [{"id": "p", "name": "p"}], "rows": {"x": {"p": [{"bool": True}]}}}, "data-extension-response"),
    ({"meta": [], "rows": {"x": {"p": [{"date": "2026-11"}]}}}, "data-extension-response"),
    ({"result": [{"name": "no id"}]}, "suggest-entities-response"),
    ({"result": [{"id": "t"}]}, "suggest-types-response"),  # type.json, reached through $ref, wants a name
    ({"type": "t"}, "data-extension-property-proposal"),
    ({"versions": ["0.1"], "name": "n", "identifierSpace": "i", "schemaSpace": "s"}, "manifest"),
], ids=["bool-value", "month-as-date", "suggestion-without-id", "type-without-name", "proposal-without-properties",
        "manifest-without-0.2"])
def test_the_copied_schemas_refuse_what_0_2_refuses(doc, name):
    """The validators used below do reject documents: a broken $ref or a schema that accepts anything fails here."""
    with pytest.raises(jsonschema.ValidationError):
        validate(doc, name)


# ------------------------------------------------------------------ manifest


def test_the_manifest_names_every_service_and_each_answers(client):
    manifest = validate(_get(client, "/reconcile"), "manifest")
    services = {kind: manifest["suggest"][kind] for kind in ("entity", "type", "property")}
    services["propose"] = manifest["extend"]["propose_properties"]
    for kind, service in services.items():
        url = service["service_url"] + service["service_path"]  # 0.2: the two concatenated
        assert url.startswith("http://localhost/reconcile/"), url
        r = client.get(url.removeprefix("http://localhost"), query_string={"prefix": "a", "type": FRAMEWORK})
        assert r.status_code == 200 and r.content_type.startswith("application/json"), (kind, r.status_code)


# ------------------------------------------------------------------ suggest


def test_entity_suggest_completes_a_prefix_exact_names_first(client):
    doc = validate(_get(client, "/reconcile/suggest/entity", prefix="fla"), "suggest-entities-response")
    ids = [item["id"] for item in doc["result"]]
    assert ids[:2] == ["framework/flask", "framework/flama"]  # equally good matches: the most downloaded first
    exact = validate(_get(client, "/reconcile/suggest/entity", prefix="Flask"), "suggest-entities-response")
    top = exact["result"][0]
    assert top["id"] == "framework/flask" and top["notable"] == [{"id": FRAMEWORK, "name": "web framework"}]
    assert "Werkzeug" in top["description"]


@pytest.mark.parametrize(("prefix", "expected"), [
    ("framework/fla", "framework/flask"),  # an id (0.2: "supplying an entity identifier as prefix")
    ("gunic", "server/gunicorn"),
    ("ninja", "framework/django-ninja"),  # a later word of a name
    ("python-fasthtml", "framework/fasthtml"),  # a PyPI name
    ("asg", "interface/asgi"),
])
def test_entity_suggest_finds_by_id_word_and_pypi_name(client, prefix, expected):
    doc = validate(_get(client, "/reconcile/suggest/entity", prefix=prefix), "suggest-entities-response")
    assert expected in [item["id"] for item in doc["result"]], doc


def test_entity_suggest_prefers_the_type_asked_for(client):
    """Twisted Web is a framework and a server (two records): the column's type decides which comes first."""
    for type_, first in ((SERVER, "server/twisted-web"), ("framework", "framework/twisted-web")):
        doc = validate(_get(client, "/reconcile/suggest/entity", prefix="twisted", type=type_),
                       "suggest-entities-response")
        ids = [item["id"] for item in doc["result"]]
        assert ids[0] == first and {"server/twisted-web", "framework/twisted-web"} <= set(ids), (type_, ids)


def test_the_cursor_pages_through_suggestions(client):
    everything = _get(client, "/reconcile/suggest/entity", prefix="", limit="25")["result"]
    pages = [_get(client, "/reconcile/suggest/entity", prefix="", cursor=str(c), limit="10")["result"]
             for c in (0, 10, 20)]
    assert [i["id"] for page in pages for i in page][:25] == [i["id"] for i in everything]
    assert len({i["id"] for page in pages for i in page}) == 30
    assert len(everything) == 25
    assert _get(client, "/reconcile/suggest/entity", prefix="", cursor="10000")["result"] == []


def test_type_suggest(client):
    doc = validate(_get(client, "/reconcile/suggest/type", prefix="serv"), "suggest-types-response")
    assert [t["id"] for t in doc["result"]] == [INTERFACE, SERVER]  # "server interface" starts with it
    everything = validate(_get(client, "/reconcile/suggest/type"), "suggest-types-response")
    assert {t["id"] for t in everything["result"]} == {FRAMEWORK, SERVER, INTERFACE}


def test_property_suggest_lists_matching_and_extension_properties(client):
    every = validate(_get(client, "/reconcile/suggest/property", limit="25"), "suggest-properties-response")
    by_id = {p["id"]: p for p in every["result"]}
    assert set(by_id) == {p.id for p in extension.PROPERTIES}
    for pid in reconcile.PROPERTIES:  # the matching properties say so, and match by the same name
        assert "(matching and data extension)" in by_id[pid]["description"]
        assert by_id[pid]["name"] == reconcile.PROPERTIES[pid][0]
    assert "(data extension)" in by_id["licence"]["description"]
    doc = validate(_get(client, "/reconcile/suggest/property", prefix="repo"), "suggest-properties-response")
    assert doc["result"][0]["id"] == "repository"


# ------------------------------------------------------------------ matching properties


def test_an_unknown_property_is_ignored_with_a_warning_in_its_query_only(client):
    batch = {"q0": {"query": "Flask", "properties": [{"pid": "colour", "v": "red"}]},
             "q1": {"query": "Quart", "properties": [{"pid": "pypi", "v": "quart"}]},
             "q2": {"properties": [{"pid": "licence", "v": "MIT"}]}}
    validate(batch, "reconciliation-query-batch")
    r = client.post("/reconcile", data={"queries": json.dumps(batch)})
    doc = validate(r.json, "reconciliation-result-batch")
    assert doc["q0"]["result"][0]["id"] == "framework/flask" and doc["q0"]["result"][0]["match"] is True
    assert "'colour' was ignored" in doc["q0"]["warnings"][0] and "pypi, repository, homepage" in doc["q0"][
        "warnings"][0]
    assert "warnings" not in doc["q1"] and doc["q1"]["result"][0]["match"] is True
    assert doc["q2"]["result"] == [] and "'licence' was ignored" in doc["q2"]["warnings"][0]


# ------------------------------------------------------------------ data extension


def test_properties_are_proposed_per_type(client):
    framework = validate(_get(client, "/reconcile/propose_properties", type=FRAMEWORK),
                         "data-extension-property-proposal")
    server = validate(_get(client, "/reconcile/propose_properties", type=SERVER), "data-extension-property-proposal")
    assert framework["type"] == FRAMEWORK and server["type"] == SERVER
    for_frameworks = [p["id"] for p in framework["properties"]]
    for_servers = [p["id"] for p in server["properties"]]
    assert for_frameworks == [p.id for p in extension.PROPERTIES]  # every property, in the table's order
    assert "core-features" not in for_servers and "async" not in for_servers  # no server has either
    assert {"licence", "latest-release", "interfaces", "downloads", "advisories"} <= set(for_servers)
    limited = _get(client, "/reconcile/propose_properties", type="framework", limit="3")
    assert limited["limit"] == 3 and [p["id"] for p in limited["properties"]] == for_frameworks[:3]
    assert _get(client, "/reconcile/propose_properties", type="https://example.org/Nothing")["properties"] == []


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_flask_is_extended_as_the_graph_says(client, graph, method):
    doc = _extend(client, ["framework/flask", "framework/nope"],
                  ["licence", "latest-release", "latest-release-date", "interfaces", "core-features", "advisories"],
                  method=method)
    flask = URIRef(BASE + "framework/flask")
    licence = graph.value(graph.value(flask, DOAP.license), RDFS.label)
    release = graph.value(flask, FW.latestRelease)
    row = doc["rows"]["framework/flask"]
    assert row["licence"] == [{"str": str(licence)}]
    assert row["latest-release"] == [{"str": str(graph.value(release, DOAP.revision))}]
    assert row["latest-release-date"] == [{"date": f"{graph.value(release, DOAP.created)}T00:00:00Z"}]
    assert row["interfaces"] == [{"id": "interface/wsgi", "name": "WSGI"}]
    built_in = {str(graph.value(s, FW.supportedFeature))[len(BASE):] for s in graph.objects(flask, FW.featureSupport)
                if graph.value(s, FW.supportLevel) == URIRef(BASE + "support/built-in")}
    assert {v["id"] for v in row["core-features"]} == built_in and len(built_in) >= 5
    advisories = set(graph.subjects(FW.affects, flask))
    assert row["advisories"] == [{"int": len(advisories)}] and advisories
    assert doc["rows"]["framework/nope"] == {pid: [] for pid in row}  # an unknown id: no values
    assert [m["id"] for m in doc["meta"]] == list(row)
    assert doc["meta"][3]["type"] == {"id": INTERFACE, "name": "server interface"}


def test_downloads_outside_the_top_list_are_an_upper_bound(client, graph):
    """aioworkers is in no snapshot's top list: no count, the list's smallest count as the bound."""
    record = URIRef(BASE + "framework/aioworkers")
    latest = max(graph.subjects(FW.project, record), key=lambda o: graph.value(o, FW.snapshotDate).toPython())
    assert graph.value(latest, FW.downloadCount) is None
    row = _extend(client, ["framework/aioworkers"], ["downloads", "downloads-below", "downloads-date"])["rows"][
        "framework/aioworkers"]
    assert row["downloads"] == [] and row["downloads-below"] == [{"int": int(graph.value(latest, FW.downloadsBelow))}]
    assert row["downloads-date"] == [{"date": f"{graph.value(latest, FW.snapshotDate)}T00:00:00Z"}]


@pytest.mark.parametrize(("cid", "name", "type_name"), [
    ("feature/cli", "Command-line interface", "feature"), ("status/active", "Active", "maintenance status"),
    ("async/yes", "Yes", "async support"), ("interface/wsgi", "WSGI", "server interface"),
])
def test_an_entity_given_as_a_value_can_be_previewed(client, cid, name, type_name):
    """OpenRefine previews the entities a data extension gives, by the same preview URL."""
    r = client.get("/reconcile/preview", query_string={"id": cid})
    assert r.status_code == 200 and r.content_type.startswith("text/html")
    page = r.get_data(as_text=True)
    assert f">{name}</a>" in page and type_name in page and BASE + cid in page


def test_a_month_precision_release_date_is_text(client, graph):
    gunicorn = URIRef(BASE + "server/gunicorn")
    created = graph.value(graph.value(gunicorn, FW.latestRelease), DOAP.created)
    assert isinstance(created, Literal) and len(str(created)) == 7  # "2026-11": xsd:gYearMonth
    doc = _extend(client, ["server/gunicorn"], ["latest-release-date"])
    assert doc["rows"]["server/gunicorn"]["latest-release-date"] == [{"str": str(created)}]


def test_every_value_of_every_entity_is_typed_as_0_2_requires(client, app):
    """All candidates, all properties, in queries of 100 ids: the whole table validates against the schema."""
    with app.app_context():
        ids = sorted(app.extensions["fwgraph"].reconcile_index().candidates)
    pids = [p.id for p in extension.PROPERTIES]
    kinds = {p.id: p.kind for p in extension.PROPERTIES}
    seen = set()
    for start in range(0, len(ids), Settings().extend_max_ids):
        doc = _extend(client, ids[start:start + Settings().extend_max_ids], pids)
        for row in doc["rows"].values():
            for pid, values in row.items():
                for value in values:
                    kind = next(iter(value)) if "id" not in value else "entity"
                    assert kind == kinds[pid] or (kinds[pid] == "date" and kind == "str"), (pid, value)
                    seen.add(pid)
            assert not (row["downloads"] and row["downloads-below"]), row  # counted, or only bounded
    assert seen == set(pids)  # every property has a value somewhere


# ------------------------------------------------------------------ JSONP


def test_jsonp_wraps_the_answer_in_the_named_callback(client):
    r = client.get("/reconcile/suggest/entity", query_string={"prefix": "flask", "callback": "jQuery3600_17.cb"})
    assert r.status_code == 200 and r.content_type == "application/javascript; charset=utf-8"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    body = r.get_data(as_text=True)
    match = re.fullmatch(r"/\*\*/jQuery3600_17\.cb\((.*)\);\n", body, re.DOTALL)
    assert match, body[:100]
    validate(json.loads(match.group(1)), "suggest-entities-response")
    manifest = client.get("/reconcile", query_string={"callback": "cb"})
    assert manifest.get_data(as_text=True).startswith("/**/cb({\"versions\"")


def test_jsonp_escapes_the_line_separators_older_javascript_ends_lines_at(app):
    with app.test_request_context():
        body = json_response({"name": "a\u2028b\u2029c"}, callback="cb").get_data(as_text=True)
    assert "\u2028" not in body and "\u2029" not in body and "a\\u2028b\\u2029c" in body


BAD_CALLBACKS = ["alert(1)//", "a b", "1abc", "a..b", "a.b.c.d.e", "x" * 65, "cb\n", "", "<script>", "a;b",
                 "ñ", "a.", ".a", "a-b", "cb%0A"]


@pytest.mark.parametrize("callback", BAD_CALLBACKS, ids=range(len(BAD_CALLBACKS)))
@pytest.mark.parametrize("path", ["/reconcile", "/reconcile/suggest/entity", "/reconcile/propose_properties"])
def test_a_bad_callback_name_is_400_json(client, path, callback):
    r = client.get(path + "?callback=" + urllib.parse.quote(callback, safe="%"))
    _error(r, 400, "callback must be a JavaScript name")
    assert not r.get_data(as_text=True).startswith("/**/")  # the name is never echoed


def _oracle(name: str) -> bool:
    """The callback rule written without a regular expression."""
    parts = name.split(".")
    first, rest = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_$"), set("0123456789")
    return 1 <= len(parts) <= 4 and all(
        1 <= len(p) <= 64 and p[0] in first and all(c in first | rest for c in p[1:]) for p in parts)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.one_of(st.text(max_size=80), st.from_regex(r"[A-Za-z_$][A-Za-z0-9_$.]{0,70}\n?", fullmatch=True)))
def test_the_callback_check_agrees_with_a_plain_reading_of_the_rule(name):
    assert is_callback_name(name) == _oracle(name)


# ------------------------------------------------------------------ attacks: bounded, 4xx, JSON, never 500


def test_10000_ids_are_413_before_any_lookup(client):
    raw = json.dumps({"ids": ["a"] * 10_000, "properties": [{"id": "licence"}]}, separators=(",", ":"))
    form = _form(raw)
    assert len(form["data"]) < 64 * 1024  # within the size bound: the count bound refuses it
    _error(client.post("/reconcile", **form), 413, "at most 100 ids", "10000")


def test_101_ids_are_413_and_100_are_answered(client):
    ids = [f"framework/x{i}" for i in range(101)]
    _error(client.post("/reconcile", data={"extend": json.dumps({"ids": ids, "properties": [{"id": "pypi"}]})}),
           413, "at most 100 ids")
    assert len(_extend(client, ids[:100], ["pypi"])["rows"]) == 100


def test_a_huge_extension_query_is_413_unread(client):
    raw = json.dumps({"ids": ["framework/flask"] * 20_000, "properties": [{"id": "licence"}]})
    _error(client.post("/reconcile", data={"extend": raw}), 413, "64 KiB")


@pytest.mark.parametrize(("raw", "words"), [
    ('{"ids":' + "[" * 30_000 + "]" * 30_000 + ',"properties":[{"id":"licence"}]}', ["nested too deeply"]),
    ('{"ids":["framework/flask"],"properties":[{"id":"licence","settings":' + '{"a":' * 10_000 + "1"
     + "}" * 10_000 + "}]}", ["nested too deeply"]),
    ('{"ids":' + "[" * 500 + "]" * 500 + ',"properties":[{"id":"licence"}]}', ["list of entity ids"]),
    ('{"ids":["a"],"properties":[{"id":"licence","settings":' + '{"a":' * 500 + "1" + "}" * 500 + "}]}",
     ["settings", "string, number or boolean"]),
], ids=["ids-30000-deep", "settings-10000-deep", "ids-500-deep", "settings-500-deep"])
def test_deep_nesting_is_400(client, raw, words):
    form = _form(raw)
    assert len(form["data"]) < 64 * 1024
    _error(client.post("/reconcile", **form), 400, *words)


@pytest.mark.parametrize(("extend", "words"), [
    ("{not json", ["extend is not JSON"]),
    ("[1]", ["JSON object"]),
    ('{"ids": ["a"]}', ["JSON object"]),
    ('{"ids": "framework/flask", "properties": [{"id": "licence"}]}', ["list of entity ids"]),
    ('{"ids": [1], "properties": [{"id": "licence"}]}', ["list of entity ids"]),
    ('{"ids": ["a"], "properties": []}', ["non-empty list"]),
    ('{"ids": ["a"], "properties": [{"id": "colour"}]}', ["unknown property 'colour'", "licence"]),
    ('{"ids": ["a"], "properties": [{"id": "licence", "settings": []}]}', ["settings"]),
    ('{"ids": ["a"], "properties": [{"id": "licence", "x": 1}]}', ["each property"]),
    ('{"ids": ["a"], "properties": [{"id": "licence"}], "limit": 3}', ["unknown member"]),
    ('{"ids": ["' + "a" * 301 + '"], "properties": [{"id": "licence"}]}', ["at most 300"]),
    ('{"ids": ["a"], "properties": ' + json.dumps([{"id": "licence"}] * 21) + "}", ["at most 20 properties"]),
    ('{"ids": ["a"], "properties": [{"id": "licence", "settings": {"n": NaN}}]}', ["number"]),
    ('{"ids": ["a"], "properties": [{"id": "licence", "settings": {"n": 1e999}}]}', ["too large"]),
], ids=["syntax", "array", "no-properties", "ids-string", "ids-numbers", "no-property", "unknown-property",
        "settings-list", "extra-member", "unknown-member", "long-id", "21-properties", "nan", "infinite"])
def test_malformed_extension_queries_are_400_with_a_reason(client, extend, words):
    _error(client.post("/reconcile", data={"extend": extend}), 400, *words)


@pytest.mark.parametrize("body", [b"extend=\xff\xfe\xfd", b"extend=%FF%FE%FD", b"queries=\xc3\x28",
                                  b"queries=%7B%22q0%22%3A%7B%22query%22%3A%22%FF%22%7D", b"\xff=\xfe"])
def test_non_utf8_bodies_are_refused_or_answered_never_500(client, body):
    r = client.post("/reconcile", data=body, content_type="application/x-www-form-urlencoded")
    assert r.status_code in (200, 400) and r.content_type.startswith("application/json"), r.get_data()[:200]


def test_a_non_utf8_byte_in_an_id_is_an_unknown_id(client):
    body = ("extend=" + urllib.parse.quote('{"ids": ["framework/flask", "framework/fl') + "%FF"
            + urllib.parse.quote('ask"], "properties": [{"id": "pypi"}]}'))
    r = client.post("/reconcile", data=body, content_type="application/x-www-form-urlencoded")
    doc = validate(r.json, "data-extension-response")
    assert doc["rows"]["framework/flask"] == {"pypi": [{"str": "Flask"}]}
    assert [row for cid, row in doc["rows"].items() if cid != "framework/flask"] == [{"pypi": []}]


def test_a_non_utf8_prefix_is_answered(client):
    r = client.get("/reconcile/suggest/entity?prefix=%FF%FEfla")
    assert r.status_code == 200
    validate(r.json, "suggest-entities-response")


@pytest.mark.parametrize(("path", "words"), [
    ("/reconcile/suggest/entity?prefix=" + "a" * 101, ["at most 100"]),
    ("/reconcile/suggest/entity?cursor=-1", ["cursor"]),
    ("/reconcile/suggest/entity?cursor=10001", ["at most 10000"]),
    ("/reconcile/suggest/entity?cursor=" + "9" * 5000, ["cursor", "nine digits"]),
    ("/reconcile/suggest/type?limit=0", ["limit"]),
    ("/reconcile/suggest/property?limit=1e3", ["limit"]),
    ("/reconcile/propose_properties?limit=-3", ["limit"]),
    ("/reconcile/propose_properties?type=" + "t" * 301, ["type", "at most 300"]),
    ("/reconcile/suggest/entity?type=" + "t" * 301, ["type", "at most 300"]),
    ("/reconcile?queries=%7B%7D&extend=%7B%7D", ["not both"]),
], ids=["long-prefix", "negative-cursor", "cursor-past-bound", "cursor-5000-digits", "limit-0", "limit-float",
        "negative-limit", "long-type", "long-suggest-type", "both"])
def test_bad_parameters_are_400_with_a_reason(client, path, words):
    _error(client.get(path), 400, *words)


@pytest.mark.parametrize("accept", ["*/*", "text/turtle", "application/json, text/turtle;q=0.9"])
@pytest.mark.parametrize("path", ["/reconcile/suggest/entities", "/reconcile/nope/deeper", "/reconcile/extend"])
def test_unknown_paths_below_reconcile_are_json_404s(client, path, accept):
    r = client.get(path, headers={"Accept": accept})
    _error(r, 404, "/reconcile/suggest/entity")


def test_the_service_answers_with_a_trailing_slash_too(client):
    assert validate(_get(client, "/reconcile/"), "manifest")["versions"] == ["0.2"]
    doc = client.post("/reconcile/", data={"queries": json.dumps({"q0": {"query": "Flask"}})}).json
    assert validate(doc, "reconciliation-result-batch")["q0"]["result"][0]["id"] == "framework/flask"


@pytest.mark.parametrize("path", ["/reconcile/suggest/entity", "/reconcile/propose_properties", "/reconcile/nope"])
def test_another_method_is_a_json_405(client, path):
    _error(client.post(path, headers={"Accept": "*/*"}), 405)


# ------------------------------------------------------------------ the parsers, fuzzed

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-10**30, 10**30) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=30)
EXTENSION_QUERIES = st.fixed_dictionaries(
    {"ids": st.lists(st.text(max_size=40) | JSON_VALUES, max_size=120),
     "properties": st.lists(st.fixed_dictionaries({"id": st.sampled_from([p.id for p in extension.PROPERTIES])
                                                   | st.text(max_size=10)},
                                                  optional={"settings": JSON_VALUES}) | JSON_VALUES, max_size=25)},
    optional={"limit": JSON_VALUES})


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.one_of(EXTENSION_QUERIES.map(json.dumps), JSON_VALUES.map(json.dumps), st.text(max_size=200)))
def test_an_extension_query_is_accepted_within_the_bounds_or_refused_with_a_reason(raw):
    try:
        query = extension.parse_extension(raw)
    except extension.TooManyIds as exc:
        assert len(json.loads(raw)["ids"]) > Settings().extend_max_ids and "send fewer" in str(exc)
        return
    except InputError as exc:
        assert str(exc).startswith("extend")
        return
    doc = json.loads(raw)
    assert set(query.ids) == set(doc["ids"]) and len(query.ids) <= Settings().extend_max_ids
    assert all(len(i) <= extension.MAX_ID for i in query.ids)
    assert 1 <= len(query.properties) <= extension.MAX_PROPERTIES
    assert set(query.properties) <= set(extension.BY_ID)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.none() | st.text(max_size=150), st.none() | st.text(max_size=12), st.none() | st.text(max_size=12))
def test_a_suggest_request_is_accepted_within_the_bounds_or_refused_with_a_reason(prefix, cursor, limit):
    try:
        checked, skip, size = suggest.parse_request(prefix, cursor, limit)
    except InputError as exc:
        assert exc.source in ("prefix", "cursor", "limit")
        return
    assert checked == (prefix or "") and len(checked) <= suggest.MAX_PREFIX
    assert 0 <= skip <= suggest.MAX_CURSOR and 1 <= size <= suggest.MAX_LIMIT


@pytest.mark.parametrize("path", [
    "/reconcile/suggest/entity?prefix=fla&callback=cb",
    "/reconcile/propose_properties?type=framework",
    "/reconcile?extend=" + urllib.parse.quote(json.dumps({"ids": ["framework/flask"], "properties": [{"id": "pypi"}]})),
])
def test_get_answers_are_conditional_and_the_callback_is_part_of_the_key(client, path):
    first = client.get(path)
    assert first.status_code == 200 and first.headers["ETag"] and "public" in first.headers["Cache-Control"]
    assert client.get(path, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    other = client.get(path + "&callback=other")
    assert other.status_code == 200 and other.headers["ETag"] != first.headers["ETag"]
