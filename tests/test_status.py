"""Every record's maintenance status agrees with the stated rule, recomputed from the record's own releases.

The rule (data/README.md, "Maintenance status"; README, "Harvest"; fwgraph.publish.harvest.releases.STATUS_RULE):
active when there is a release in the last 365 days; slow when there is none in the last 365 days but one in the
last 730 days, or a commit on the default branch in the last 365 days; unmaintained otherwise. "Limited
maintenance" and "archived" are the maintainers' or the host's word and are never derived (archived is
contradicted only by a release in the last year). The days are counted back from the record's fw:lastChecked.

The releases are the record's release history (doap:release, data/releases/<slug>.ttl, written by `fwgraph
harvest --releases`) and its fw:latestRelease; the newest commit is the history's fw:lastCommit. A release known
only to the month (xsd:gYearMonth) may fall on any day of it, so either status it allows agrees; without
fw:lastCommit a commit may have made an unmaintained record slow, so slow agrees there too. A record whose
status contradicts the rule needs a fw:curatorOverride on fw:maintenanceStatus saying why.
"""

from __future__ import annotations

from datetime import date
from functools import cache

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DOAP, RDF, RDFS

from fwgraph.core.namespace import BASE, FW
from fwgraph.data.dates import day_span
from fwgraph.data.graph import load_files
from fwgraph.publish.harvest.releases import derive_status, status_span

from .conftest import ROOT

STATUS = BASE + "status/"
KINDS = (FW.WebFramework, FW.ApplicationServer, FW.Library, FW.TemplateEngine, FW.ValidationLibrary, FW.ORM)
AS_OF = date(2026, 12, 7)


@cache
def data() -> Graph:
    """Every data file, parsed by the library's reader (pyoxigraph; rdflib's Turtle parser took most of the fast
    test loop's collection time here)."""
    return load_files(sorted((ROOT / "data").rglob("*.ttl"))).graph


def records() -> list[URIRef]:
    g = data()
    found = {s for kind in KINDS for s in g.subjects(RDF.type, kind) if isinstance(s, URIRef)}
    return sorted(s for s in found if g.value(s, FW.maintenanceStatus) is not None)


def release_spans(g: Graph, record: URIRef) -> list[tuple[date, date]]:
    spans = []
    for prop in (DOAP.release, FW.latestRelease):
        for node in g.objects(record, prop):
            created = g.value(node, DOAP.created)
            span = day_span(str(created)) if created is not None else None
            if span is not None:
                spans.append(span)
    return spans


def possible_statuses(g: Graph, record: URIRef) -> set[str]:
    """Every status the rule allows for ``record`` from its releases and newest commit, as of its check day."""
    checked = g.value(record, FW.lastChecked)
    as_of = checked.toPython() if isinstance(checked, Literal) and isinstance(checked.toPython(), date) else AS_OF
    commit = g.value(record, FW.lastCommit)
    last_commit = commit.toPython() if isinstance(commit, Literal) else None
    spans = release_spans(g, record)
    possible = status_span(spans, last_commit, as_of)
    if commit is None and "unmaintained" in possible:
        possible.add("slow")  # no commit date recorded: a recent commit may make it slow
    return possible


def override_reason(g: Graph, record: URIRef, possible: set[str]) -> str | None:
    """The reason of the record's curator override on fw:maintenanceStatus, if it answers what the rule gives here
    (an override naming fw:harvestedValue holds only while one of those statuses is what the rule gives)."""
    for node in g.objects(record, FW.curatorOverride):
        if g.value(node, FW.onProperty) == FW.maintenanceStatus:
            answered = {str(v).removeprefix(STATUS) for v in g.objects(node, FW.harvestedValue)}
            if not answered or answered & possible:
                return str(g.value(node, RDFS.comment) or "") or None
    return None


def contradicts(recorded: str, possible: set[str]) -> bool:
    if recorded == "limited-maintenance":
        return False
    if recorded == "archived":
        return possible == {"active"}
    return recorded not in possible


def test_the_rule_as_coded() -> None:
    as_of = date(2026, 12, 7)
    assert derive_status([date(2026, 1, 1)], None, as_of) == "active"
    assert derive_status([date(2025, 6, 1)], None, as_of) == "slow"
    assert derive_status([date(2020, 1, 1)], date(2026, 6, 1), as_of) == "slow"
    assert derive_status([date(2020, 1, 1)], date(2025, 6, 1), as_of) == "unmaintained"
    assert derive_status([date(2027, 1, 1)], None, as_of) == "unmaintained"  # after the day counted to: not yet
    # a release known to the month: December 2025 straddles the one-year edge of 2026-12-07
    assert status_span([day_span("2025-12")], None, as_of) == {"active", "slow"}
    assert status_span([day_span("2025-11")], None, as_of) == {"slow"}
    assert contradicts("archived", {"active"}) and not contradicts("archived", {"active", "slow"})
    assert not contradicts("limited-maintenance", {"active"})


@pytest.mark.parametrize("record", records(), ids=lambda r: str(r).removeprefix(BASE))
def test_status_follows_the_rule_or_says_why_not(record: URIRef) -> None:
    g = data()
    recorded = str(g.value(record, FW.maintenanceStatus)).removeprefix(STATUS)
    possible = possible_statuses(g, record)
    if contradicts(recorded, possible):
        reason = override_reason(g, record, possible)
        assert reason, (f"{record} says {recorded}; its releases and commits give {' or '.join(sorted(possible))} "
                        "by the rule (active: a release in 365 days; slow: one in 730 days or a commit in 365; "
                        "else unmaintained). Fix the status, or add a fw:curatorOverride on fw:maintenanceStatus "
                        "saying why.")


def test_every_record_with_a_release_history_has_its_newest_commit() -> None:
    g = data()
    lacking = sorted(str(s) for s in set(g.subjects(DOAP.release, None)) if g.value(s, FW.lastCommit) is None)
    assert not lacking, f"release histories without fw:lastCommit: {lacking}"
