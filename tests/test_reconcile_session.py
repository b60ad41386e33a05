"""One OpenRefine session, scripted against a real `fwgraph serve` (HTTP on loopback, no mocks): a 50-row CSV of
package names (tests/fixtures/reconcile-session.csv: frameworks by their PyPI names, misspellings, and packages
that are no framework) is reconciled the way OpenRefine does it (the service added by its manifest, the column's
type guessed from its first ten cells, the column sent in batches of ten by POST form against that type, a
misspelt cell resolved by hand through entity suggest), then the matched rows are extended with three properties
found through property suggest and the type's proposals; every answer is validated against the Reconciliation
API 0.2 JSON schemas and every extended value checked against the graph itself (rdflib, not the service)."""

from __future__ import annotations

import csv
import json
from collections import Counter

import pytest
import requests
from rdflib import URIRef
from rdflib.namespace import DOAP, RDFS

from fwgraph.core.namespace import BASE, FW
from tests.conftest import FIXTURES
from tests.live import live_server
from tests.reconciliation_api import validate

FRAMEWORK = str(FW.WebFramework)
ROWS = list(csv.DictReader((FIXTURES / "reconcile-session.csv").open(encoding="utf-8")))
BATCH = 10  # OpenRefine's default batch size for reconciliation and extension


@pytest.fixture(scope="module")
def server():
    return live_server()


def _post(session: requests.Session, url: str, name: str, doc: dict, schema: str, answer: str) -> dict:
    """A query POSTed as OpenRefine sends it (a form field holding JSON), both sides checked against 0.2."""
    validate(doc, schema)
    r = session.post(url, data={name: json.dumps(doc)}, timeout=60)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/json"), r.text[:300]
    return validate(r.json(), answer)


def _get(session: requests.Session, url: str, schema: str, **params: str) -> dict:
    r = session.get(url, params=params, timeout=30)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/json"), r.text[:300]
    return validate(r.json(), schema)


def _latest_downloads(graph, record: URIRef) -> list[dict]:
    """The download count of the record's newest monthly observation, read from the triples: none when that
    snapshot did not list the project (its observation has no count, only an upper bound)."""
    observations = sorted((graph.value(o, FW.snapshotDate).toPython(), o) for o in graph.subjects(FW.project, record))
    if not observations:
        return []
    count = graph.value(observations[-1][1], FW.downloadCount)
    return [] if count is None else [{"int": int(count)}]


def _missing(graph, record: URIRef, prop: URIRef) -> bool:
    """True when the record says why it has no value of ``prop`` (an fw:MissingFact)."""
    return any(graph.value(m, FW.onProperty) == prop for m in graph.objects(record, FW.missingFact))


def test_an_openrefine_session_reconciles_and_extends_a_csv(server, graph):
    assert len(ROWS) == 50 and Counter(r["kind"].split(":")[0] for r in ROWS) == {"exact": 30, "misspelt": 8,
                                                                                    "none": 12}
    session = requests.Session()
    endpoint = server("reconcile")

    # Adding the service: OpenRefine reads the manifest.
    manifest = _get(session, endpoint, "manifest")
    assert manifest["identifierSpace"] == BASE

    # Starting reconciliation: the column's type is guessed from its first ten cells, asked with no type.
    guess = _post(session, endpoint, "queries", {f"q{i}": {"query": row["package"]} for i, row in
                                                 enumerate(ROWS[:BATCH])},
                  "reconciliation-query-batch", "reconciliation-result-batch")
    votes = Counter(t["id"] for answer in guess.values() for c in answer["result"] for t in c["type"])
    assert votes.most_common(1)[0][0] == FRAMEWORK

    # Reconciling the column against that type, ten cells a batch; a cell is matched when "match" is true.
    matched: dict[str, str] = {}
    best: dict[str, list[dict]] = {}
    for start in range(0, len(ROWS), BATCH):
        chunk = ROWS[start:start + BATCH]
        queries = {f"q{i}": {"query": row["package"], "type": FRAMEWORK, "type_strict": "should", "limit": 3}
                   for i, row in enumerate(chunk)}
        answers = _post(session, endpoint, "queries", queries, "reconciliation-query-batch",
                        "reconciliation-result-batch")
        for i, row in enumerate(chunk):
            results = answers[f"q{i}"]["result"]
            best[row["package"]] = results
            hits = [c["id"] for c in results if c["match"]]
            assert len(hits) <= 1, (row, results)
            if hits:
                matched[row["package"]] = hits[0]
    exact = {r["package"]: r["expected"] for r in ROWS if r["kind"] == "exact"}
    assert matched == exact  # every framework by its PyPI name, nothing else matched automatically
    for row in ROWS:
        if row["kind"] == "misspelt":  # the right framework is the first candidate, left for a person to accept
            top = best[row["package"]][0]
            assert (top["id"], top["match"]) == (row["expected"], False) and 50 < top["score"] < 100, row
        if row["kind"].startswith("none"):
            assert all(c["score"] < 100 for c in best[row["package"]]), row

    # A person resolves "Falsk" by hand: the search box is the entity suggest service; the preview shows it.
    suggest = manifest["suggest"]["entity"]
    found = _get(session, suggest["service_url"] + suggest["service_path"], "suggest-entities-response",
                 prefix="Fla")
    assert "framework/flask" in [item["id"] for item in found["result"]]
    preview = session.get(manifest["preview"]["url"].replace("{{id}}", "framework/flask"), timeout=30)
    assert preview.status_code == 200 and "Flask" in preview.text
    matched["Falsk"] = "framework/flask"

    # "Add columns from reconciled values": the type's proposals, and property suggest as the user types.
    propose = manifest["extend"]["propose_properties"]
    proposed = _get(session, propose["service_url"] + propose["service_path"], "data-extension-property-proposal",
                    type=FRAMEWORK)
    suggest = manifest["suggest"]["property"]
    chosen = []
    for typed, pid in (("lic", "licence"), ("inter", "interfaces"), ("latest month", "downloads")):
        found = _get(session, suggest["service_url"] + suggest["service_path"], "suggest-properties-response",
                     prefix=typed)
        assert pid in [p["id"] for p in found["result"]], (typed, found)
        assert pid in [p["id"] for p in proposed["properties"]]
        chosen.append(pid)

    # Extending the matched rows, ten ids a query, by POST form.
    ids = sorted(set(matched.values()))
    rows: dict[str, dict] = {}
    for start in range(0, len(ids), BATCH):
        query = {"ids": ids[start:start + BATCH], "properties": [{"id": pid} for pid in chosen]}
        doc = _post(session, endpoint, "extend", query, "data-extension-query", "data-extension-response")
        assert [m["id"] for m in doc["meta"]] == chosen
        assert doc["meta"][1]["type"]["id"] == str(FW.ServerInterface)
        rows.update(doc["rows"])
    assert set(rows) == set(ids) and len(ids) == 30

    # Every value as the graph states it.
    for cid in ids:
        record = URIRef(BASE + cid)
        licences = sorted(str(graph.value(lic, RDFS.label)) for lic in graph.objects(record, DOAP.license))
        assert sorted(v["str"] for v in rows[cid]["licence"]) == licences, cid
        assert licences or _missing(graph, record, DOAP.license), cid
        interfaces = {(str(i)[len(BASE):], str(graph.value(i, RDFS.label)))
                      for i in graph.objects(record, FW.interface)}
        assert {(v["id"], v["name"]) for v in rows[cid]["interfaces"]} == interfaces and interfaces, cid
        assert rows[cid]["downloads"] == _latest_downloads(graph, record), cid
    assert sum(bool(rows[cid]["downloads"]) for cid in ids) >= 20  # most of these frameworks are counted
