"""The contribution form generated from the shapes (fwgraph.views.form, /contribute) and the editor's terms
(/terms.json).

Every shipped framework and server record goes through the form and comes back the same graph; a property
added to a temporary copy of the shapes appears as a field of the served form with no code change.
"""

from __future__ import annotations

import json
import shutil

import pytest
from rdflib import Literal, URIRef
from rdflib.namespace import RDF, XSD

from fwgraph.core.errors import InputError
from fwgraph.data.examples import read_example
from fwgraph.data.graph import parse_bytes, parse_file
from fwgraph.data.querycheck import prepare
from fwgraph.views.form import (
    KINDS,
    advice_map,
    build_model,
    choices_from_rows,
    choices_query,
    read_record,
    record_graph,
    record_turtle,
    record_values,
    stored_record,
    turtle_of,
)
from tests.conftest import ROOT
from tests.graphs import isomorphic

FW = "https://w3id.org/fwgraph/ns#"
RECORDS = sorted(p for kind in KINDS.values() for p in (ROOT / "data" / kind.folder).glob("*.ttl"))


@pytest.fixture(scope="module")
def service():
    from fwgraph.core.settings import Settings
    from fwgraph.service import Service

    return Service.load(Settings(query_workers=0))


@pytest.fixture(scope="module")
def models(service):
    def choices(cls):
        return choices_from_rows(service.engine.query(prepare(choices_query(cls)), max_rows=5000).rows)

    return {name: build_model(kind, service.shapes, service.ontology, choices) for name, kind in KINDS.items()}


def _as_form(values):
    """What the rendered form posts back for ``values`` (node values as key[n]sub, existing types kept)."""
    form: dict[str, list[str]] = {}
    for key, items in values.items():
        for i, item in enumerate(items):
            if isinstance(item, dict):
                for sub, texts in item.items():
                    form.setdefault(f"{key}[{i}]{sub}", []).extend(texts or ([""] if sub == "@type" else []))
            else:
                form.setdefault(key, []).append(item)
    return form


def test_framework_fields_come_from_the_shapes(models):
    fields = models["framework"].by_key()
    assert fields["rdfs:label"].need == "required" and fields["rdfs:label"].max_count == 1
    assert fields["rdfs:label"].label == "Name"
    assert "exactly one rdfs:label" in fields["rdfs:label"].help
    assert fields["fw:asyncSupport"].widget == "select"
    assert {c["value"] for c in fields["fw:asyncSupport"].choices} >= {
        "https://w3id.org/fwgraph/async/yes", "https://w3id.org/fwgraph/async/no"}
    assert fields["fw:interface"].widget == "checkboxes" and fields["fw:interface"].need == "core"
    assert "WSGI" in {c["label"] for c in fields["fw:interface"].choices}
    assert fields["fw:firstReleaseYear"].widget == "year" and fields["fw:firstReleaseYear"].pattern
    assert fields["fw:typed"].widget == "boolean"
    release = fields["fw:latestRelease"]
    assert release.widget == "node" and release.node_type == "http://usefulinc.com/ns/doap#Version"
    assert {s.key: s.widget for s in release.fields} == {"doap:created": "date", "doap:revision": "text"}
    assert [f.key for f in models["framework"].fields][:2] == ["rdfs:label", "dcterms:description"]
    assert fields["fw:nativeCore"].choices and fields["fw:nativeCore"].widget == "checkboxes"
    server = models["server"].by_key()
    assert server["fw:protocol"].choices and server["dcterms:source"].need == "required"


@pytest.mark.parametrize("path", RECORDS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_record_goes_through_the_form_unchanged(models, path):
    kind = next(k for k in KINDS.values() if k.folder == path.parent.name)
    model = models[kind.name]
    stored = parse_file(path)
    values, rest = record_values(model, stored, kind.iri(path.stem))
    assert values.get("rdfs:label"), "the record's name is a field value"
    written = record_graph(model, _as_form(values), path.stem, turtle_of(rest))
    assert isomorphic(written, stored)
    again = parse_bytes(record_turtle(model, written, path.stem).encode(), "turtle")
    assert isomorphic(again, stored)


def test_a_filled_form_is_typed_turtle(models):
    model = models["framework"]
    form = {"rdfs:label": ["Tiny"], "fw:firstReleaseYear": ["2020"], "fw:interface":
            ["https://w3id.org/fwgraph/interface/asgi"], "fw:typed": ["true"], "doap:homepage": ["not a url"],
            "dcterms:description": ["A tiny framework."], "fw:latestRelease[0]doap:revision": ["1.0"],
            "fw:latestRelease[0]doap:created": ["2024-05-01"], "fw:unknown": ["ignored"], "fw:asyncSupport": [""]}
    g = record_graph(model, form, "tiny")
    s = URIRef("https://w3id.org/fwgraph/framework/tiny")
    assert (s, RDF.type, URIRef(FW + "WebFramework")) in g
    assert (s, URIRef(FW + "firstReleaseYear"), Literal("2020", datatype=XSD.gYear)) in g
    assert (s, URIRef(FW + "typed"), Literal(True)) in g
    assert g.value(s, URIRef("http://purl.org/dc/terms/description")).language == "en"
    # text that is no IRI stays text, so that validation reports it beside the homepage field
    assert g.value(s, URIRef("http://usefulinc.com/ns/doap#homepage")) == Literal("not a url")
    release = g.value(s, URIRef(FW + "latestRelease"))
    assert g.value(release, RDF.type) == URIRef("http://usefulinc.com/ns/doap#Version")
    assert g.value(release, URIRef("http://usefulinc.com/ns/doap#created")) == Literal("2024-05-01", datatype=XSD.date)
    assert not any(str(p).endswith("unknown") for p in g.predicates())
    assert record_turtle(model, g, "tiny").startswith("# Tiny: a framework record written with the fwgraph")


@pytest.mark.parametrize("slug", ["", "Flask", "../etc/passwd", "a b", "-x", "x-"])
def test_a_bad_identifier_is_refused(models, slug):
    with pytest.raises(InputError) as info:
        record_graph(models["framework"], {"rdfs:label": ["X"]}, slug)
    assert info.value.source == "slug"


def test_unreadable_extra_turtle_says_where(models):
    with pytest.raises(InputError) as info:
        record_graph(models["framework"], {}, "x", "framework:x rdfs:comment \"fine\"@en .\nframework:x fw:nope ;;; .")
    assert info.value.source == "extra"
    assert info.value.line == 2


def test_oversized_extra_turtle_is_refused(models):
    huge = "".join(f"framework:x rdfs:comment \"{i}\"@en .\n" for i in range(3000))
    with pytest.raises(InputError, match="exceed 64 KiB"):
        record_graph(models["framework"], {}, "x", huge)
    many = "framework:x fw:pythonVersion " + ", ".join(f'"{i}"' for i in range(5001)) + " ."
    with pytest.raises(InputError, match="at most 5000"):
        record_graph(models["framework"], {}, "x", many)
    with pytest.raises(InputError, match="more than 5000 values"):
        record_graph(models["framework"], {"fw:pythonVersion": ["3.1"] * 5001}, "x")


def _chain(links: int) -> str:
    """Other statements chaining ``links`` blank nodes, each the object of one triple: labelled blank nodes 64
    levels of ``[ ]`` apart (within the text's nesting bound, and the size bound up to 5,000 links)."""
    blocks = []
    for start in range(0, links, 64):
        depth = min(64, links - start)
        blocks.append(f"_:c{start} a " + "[a " * (depth - 1) + f"_:c{start + 64}" + "]" * (depth - 1) + " .")
    return "framework:x rdfs:seeAlso _:c0 .\n" + "\n".join(blocks) + "\n"


@pytest.mark.parametrize("links", [900, 5000])
def test_a_long_blank_node_chain_is_refused_before_writing(models, links):
    """A chain of 900 blank nodes made writing the record (rdflib's Turtle serialiser recurses on each) raise
    RecursionError in the web process: a 500. The chain is bounded like the text's nesting."""
    extra = _chain(links)
    assert len(extra.encode()) < 64 * 1024
    with pytest.raises(InputError, match="blank nodes nest more than 64 deep") as info:
        record_graph(models["framework"], {"rdfs:label": ["X"]}, "x", extra)
    assert info.value.source == "extra"


@pytest.mark.parametrize("links", [900, 5000])
def test_a_long_blank_node_chain_is_400(client, links):
    form = {"kind": "framework", "slug": "x", "rdfs:label": "X", "extra": _chain(links)}
    page = client.post("/contribute", data=form)
    assert page.status_code == 400 and "blank nodes nest more than 64 deep" in page.get_data(as_text=True)
    answer = client.post("/contribute", data=form, headers={"Accept": "application/json"})
    assert answer.status_code == 400 and answer.get_json()["field"] == "extra"
    assert "blank nodes nest more than 64 deep" in answer.get_json()["message"]


def test_blank_node_nesting_within_the_bound_is_written(models):
    graph = record_graph(models["framework"], {"rdfs:label": ["X"]}, "x", _chain(60))
    assert "rdfs:seeAlso [ a [ a [" in record_turtle(models["framework"], graph, "x")


def test_an_unknown_record_is_none(service):
    kind = KINDS["framework"]
    assert stored_record(kind, "no-such-framework", service.root, service.describe) is None
    assert stored_record(kind, "../../ontology/fwgraph", service.root, service.describe) is None
    assert (kind.iri("flask"), None, None) in stored_record(kind, "flask", service.root, service.describe)


def test_default_view_header_is_read_and_checked(tmp_path):
    good = tmp_path / "q.rq"
    good.write_text("# title: T\n# description: D\n# group: G\n#defaultView:BarChart\nSELECT * {}\n")
    example = read_example(good)
    assert (example.group, example.view) == ("G", "BarChart")
    bad = tmp_path / "bad.rq"
    bad.write_text("# title: T\n#defaultView:PieChart\nSELECT * {}\n")
    with pytest.raises(ValueError, match="PieChart"):
        read_example(bad)


MASCOT = """
fwsh:WebFrameworkShape sh:property fwsh:WebFrameworkShape-mascot .
fwsh:WebFrameworkShape-mascot a sh:PropertyShape ;
    rdfs:label "framework mascot"@en ;
    sh:path fw:mascot ;
    sh:maxCount 1 ;
    sh:datatype xsd:string ;
    sh:message "fw:mascot is at most one plain string: the name of the framework's mascot."@en .
"""


def test_a_property_added_to_the_shapes_is_a_new_field_of_the_model(service):
    """In-process, on the loaded shapes plus one property: the field, its label and help, and its Turtle (the
    served form of such a copy of the sources: the ``system`` test below, which builds them)."""
    shapes = parse_bytes(service.shapes.serialize(format="turtle").encode() + MASCOT.encode(), "turtle")
    model = build_model(KINDS["framework"], shapes, service.ontology, lambda cls: [])
    mascot = model.by_key()["fw:mascot"]
    assert mascot.label == "Mascot" and "the name of the framework's mascot" in mascot.help
    assert mascot.max_count == 1
    written = record_graph(model, {"rdfs:label": ["Penguin"], "fw:mascot": ["Tux"]}, "penguin")
    assert 'fw:mascot "Tux"' in record_turtle(model, written, "penguin")
    assert "fw:mascot" not in service.shapes.serialize(format="turtle")  # the loaded shapes are unchanged


@pytest.mark.system  # builds a copy of the sources (a minute of CPU); the model's logic is checked in-process above
def test_a_property_added_to_a_shape_is_a_new_field(tmp_path, monkeypatch):
    from fwgraph.app import create_app

    for name in ("ontology", "data", "queries"):
        shutil.copytree(ROOT / name, tmp_path / "src" / name)
    shapes = tmp_path / "src" / "ontology" / "shapes.ttl"
    shapes.write_text(shapes.read_text() + MASCOT)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    app = create_app({"data_dir": str(tmp_path / "src"), "query_workers": 0, "network_guard": False,
                      "cache_entries": 0})
    client = app.test_client()
    page = client.get("/contribute?kind=framework").get_data(as_text=True)
    assert 'data-key="fw:mascot"' in page
    assert "Mascot" in page and "the name of the framework&#39;s mascot" in page
    answer = client.post("/contribute", headers={"Accept": "application/json"},
                         data={"kind": "framework", "slug": "penguin", "rdfs:label": "Penguin", "fw:mascot": "Tux"})
    assert answer.status_code == 200
    assert 'fw:mascot "Tux"' in answer.get_json()["turtle"]
    # the shipped shapes have no such field
    assert "fw:mascot" not in (ROOT / "ontology" / "shapes.ttl").read_text()


@pytest.fixture(scope="module")
def client(dist):
    from fwgraph.app import create_app

    return create_app({"dist_dir": str(dist), "query_workers": 0, "network_guard": False,
                       "cache_entries": 0}).test_client()


def test_contribute_pages(client):
    start = client.get("/contribute")
    assert start.status_code == 200 and 'href="/contribute?kind=server"' in start.get_data(as_text=True)
    edit = client.get("/contribute?kind=server&edit=gunicorn")
    assert edit.status_code == 200
    assert 'value="Gunicorn"' in edit.get_data(as_text=True)
    assert client.get("/contribute?kind=spaceship").status_code == 404
    assert client.get("/contribute?kind=framework&edit=no-such-thing").status_code == 404
    assert client.get("/contribute?kind=framework&edit=../x").status_code == 404


def test_contribute_post_answers(client):
    form = {"kind": "framework", "slug": "tiny", "rdfs:label": "Tiny"}
    download = client.post("/contribute", data=dict(form, action="download"))
    assert download.headers["Content-Disposition"] == 'attachment; filename="tiny.ttl"'
    assert download.mimetype == "text/turtle"
    preview = client.post("/contribute", data=form)
    assert "data/frameworks/tiny.ttl" in preview.get_data(as_text=True)
    assert 'action="/validate"' in preview.get_data(as_text=True)
    broken = client.post("/contribute", headers={"Accept": "application/json"},
                         data=dict(form, extra="framework:tiny rdfs:comment ."))
    assert broken.status_code == 422
    assert [(p["field"], p["line"]) for p in broken.get_json()["problems"]] == [("extra", 1)]
    assert client.post("/contribute", data=dict(form, slug="Not OK")).status_code == 400  # no file to write
    assert client.post("/contribute", data={"kind": "nothing"}).status_code == 404


def test_terms_for_completion(client):
    answer = client.get("/terms.json")
    assert answer.status_code == 200 and answer.headers.get("ETag")
    doc = json.loads(answer.get_data(as_text=True))
    assert doc["prefixes"]["fw"] == FW
    classes = {c["name"]: c for c in doc["classes"]}
    assert classes["fw:WebFramework"]["count"] >= 25
    assert "fw:interface" in {p["name"] for p in doc["properties"]}
    assert {"iri": "https://w3id.org/fwgraph/framework/flask", "name": "framework:flask",
            "label": "Flask"} in doc["resources"]
    again = client.get("/terms.json", headers={"If-None-Match": answer.headers["ETag"]})
    assert again.status_code == 304


def test_every_field_gets_a_labelled_control(client):
    page = client.get("/contribute?kind=framework&edit=flask").get_data(as_text=True)
    from lxml import html

    doc = html.fromstring(page)
    labelled = {el.get("for") for el in doc.iter("label") if el.get("for")}
    controls = [el for el in doc.iter("input", "select", "textarea") if el.get("type") not in ("hidden", "checkbox")]
    assert controls
    for el in controls:
        assert el.get("id") in labelled or el.get("aria-label"), f"unlabelled control {el.get('name')}"
    assert len(set(el.get("id") for el in doc.iter() if el.get("id"))) == len(
        [el for el in doc.iter() if el.get("id")]), "ids are unique"


def test_graph_is_unchanged_by_reading(service):
    # reading a record for the form never writes into data/
    before = {p: p.stat().st_mtime_ns for p in (ROOT / "data").rglob("*.ttl")}
    stored_record(KINDS["framework"], "flask", service.root, service.describe)
    assert before == {p: p.stat().st_mtime_ns for p in (ROOT / "data").rglob("*.ttl")}



def test_a_release_date_may_be_a_month(models):
    """doap:created takes a day (xsd:date) or, known only from the package index, a month (xsd:gYearMonth)."""
    model = models["framework"]
    [release] = [f for f in model.fields if f.key == "fw:latestRelease"]
    [created] = [f for f in release.fields if f.key == "doap:created"]
    assert created.datatype == str(XSD.date) and created.other_datatypes == [str(XSD.gYearMonth)]
    form = {"rdfs:label": ["Tiny"], "fw:latestRelease[0]doap:revision": ["1.1"],
            "fw:latestRelease[0]doap:created": ["2026-10"]}
    g = record_graph(model, form, "tiny")
    release_node = g.value(URIRef("https://w3id.org/fwgraph/framework/tiny"), URIRef(FW + "latestRelease"))
    assert g.value(release_node, URIRef("http://usefulinc.com/ns/doap#created")) == Literal("2026-10",
                                                                                          datatype=XSD.gYearMonth)


@pytest.mark.parametrize("kind", ["framework", "server"])
def test_every_problem_of_a_form_is_reported_at_once(client, kind):
    """Issue 22: an unusable identifier no longer hides the other problems: the record is still written (under
    a placeholder identifier) for the page to validate, with both the identifier's and the Turtle's problem."""
    answer = client.post("/contribute", headers={"Accept": "application/json"}, data={
        "kind": kind, "slug": "Not OK", "rdfs:label": "Tiny", "extra": "x:y ;;; ."})
    assert answer.status_code == 422
    doc = answer.get_json()
    assert [p["field"] for p in doc["problems"]] == ["slug", "extra"]
    assert doc["problems"][0]["message"].startswith("Identifier: use lowercase letters")
    assert doc["subject"] == f"https://w3id.org/fwgraph/{kind}/your-{kind}"
    assert f'{kind}:your-{kind} a ' in doc["turtle"] and '"Tiny"' in doc["turtle"]


def test_read_record_keeps_the_fields_when_the_identifier_is_unusable(models):
    graph, problems = read_record(models["framework"], {"rdfs:label": ["X"]}, "a b", "broken ;;;")
    assert [p.source for p in problems] == ["slug", "extra"]
    assert (URIRef("https://w3id.org/fwgraph/framework/your-framework"), None, Literal("X")) in graph


@pytest.mark.parametrize("kind", ["framework", "server"])
def test_the_licence_is_chosen_by_name_from_the_known_licences(models, kind):
    licence = models[kind].by_key()["doap:license"]
    assert licence.label == "Licence" and licence.widget in ("select", "checkboxes", "multiselect")
    names = {c["label"]: c["value"] for c in licence.choices}
    assert names["MIT License"] == "http://spdx.org/licenses/MIT"  # labelled by name, the value stays the IRI
    assert names["Apache License 2.0"] == "http://spdx.org/licenses/Apache-2.0"
    assert all(v.startswith("http://spdx.org/licenses/") for v in names.values())


CURIE_OR_TURTLE = r"\b(?:fw|doap|dcterms|rdfs|xsd|schema|owl|skos):\w|\^\^|@en\b|<https?://|\[ *a "


@pytest.mark.parametrize("kind", ["framework", "server"])
def test_messages_are_in_plain_words_for_every_shape_of_the_form(models, kind):
    """Each property shape of a record's fields has a message without Turtle or IRIs, led by the field's label;
    the ones a contributor meets first say what to do."""
    import re

    advice = advice_map(models[kind])
    node_shape = {"framework": "WebFrameworkShape", "server": "ApplicationServerShape"}[kind]
    mine = {k: v for k, v in advice.items() if k.startswith(f"fwsh:{node_shape}-")}
    assert len(mine) >= 20
    for shape, entry in mine.items():
        assert not re.search(CURIE_OR_TURTLE, entry["text"]), f"{shape}: {entry['text']}"
    assert mine[f"fwsh:{node_shape}-license-missing"]["text"].startswith("Licence: choose one licence from the list")
    assert mine[f"fwsh:{node_shape}-license-missing"]["field"] == "f-doap-license"
    assert mine[f"fwsh:{node_shape}-source"]["field"] == "f-dcterms-source"  # a server's too (issue 22)
    assert mine[f"fwsh:{node_shape}-firstReleaseYear"]["text"] == (
        "First release year: give the year in four digits, e.g. 2010; only one value")
    assert advice[str(next(iter(models[kind].by_key()["doap:license"].advice)))]["field"] == "f-doap-license"


def test_the_form_page_carries_the_plain_messages(client):
    from lxml import html

    doc = html.fromstring(client.get("/contribute?kind=server").get_data(as_text=True))
    [block] = doc.xpath('//script[@id="form-advice"]')
    advice = json.loads(block.text)
    assert advice["fwsh:ApplicationServerShape-source"]["field"] == "f-dcterms-source"
    assert doc.xpath('//fieldset[@id="f-dcterms-source"]')


def test_the_validation_report_page_says_it_in_plain_words_too(client):
    """Without scripts the form hands the record to /validate: its report leads with the same plain messages."""
    record = (b"@prefix fw: <https://w3id.org/fwgraph/ns#> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
              b"<https://w3id.org/fwgraph/server/tiny> a fw:ApplicationServer ; rdfs:label \"Tiny\" .\n")
    page = client.post("/validate", data=record, headers={"Content-Type": "text/turtle", "Accept": "text/html"})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Source: give a web address starting with https://" in text
    assert "Licence: choose one licence from the list" in text
