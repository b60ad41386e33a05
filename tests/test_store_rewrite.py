"""What a store behind --store is sent (fwgraph.data.querycheck.for_store) answers what the query answers: property
tests with pyoxigraph as the oracle, which runs both on one small graph (issue 26).

Queries are generated with blank nodes in every position of a pattern (labelled, anonymous, starting and ending
property paths), the same text inside strings, IRIs and comments (where it is no blank node), CONSTRUCT templates
(where blank nodes stay), `SELECT *` and `SELECT DISTINCT *` (whose columns must not grow), and LIMIT and OFFSET past
any count. The rewritten query's answer, read back as the store's is (QueryResult.projected), must equal the
original's: the same variables, the same rows as a multiset, the same number of triples.
"""

from __future__ import annotations

from collections import Counter

import pyoxigraph as ox
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fwgraph.data.querycheck import for_store
from fwgraph.store.results import QueryResult

STORE = ox.Store()
for s, o in [("a", "b"), ("b", "c"), ("c", "a"), ("a", "d")]:
    STORE.add(ox.Quad(ox.NamedNode(f"urn:{s}"), ox.NamedNode("urn:p"), ox.NamedNode(f"urn:{o}")))
STORE.add(ox.Quad(ox.NamedNode("urn:a"), ox.NamedNode("urn:label"), ox.Literal("_:x [] <y>")))
PROPS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_subject = st.sampled_from(["?s", "_:b", "_:b2", "[]", "[ ]", "<urn:a>"])
_predicate = st.sampled_from(["<urn:p>", "<urn:p>+", "<urn:p>*", "<urn:p>/<urn:p>"])
_object = st.sampled_from(["?o", "_:c", "_:b", "[]", "<urn:b>"])
_noise = st.sampled_from(["", " # _:z [] LIMIT 5 OFFSET 9\n", ' FILTER(?v != "_:q [ ]")', " FILTER(STR(?v) != '[]')"])
_modifier = st.sampled_from(["", " LIMIT 9223372036854775807", " OFFSET 99999999999",
                             " OFFSET 99999999999 LIMIT 99999999999", " LIMIT 100000000000 OFFSET 0"])
_projection = st.sampled_from(["*", "DISTINCT *", "(COUNT(*) AS ?n)", "?s ?o"])


@st.composite
def patterns(draw) -> str:
    triples = [f"{draw(_subject)} {draw(_predicate)} {draw(_object)}" for _ in range(draw(st.integers(1, 2)))]
    noise = draw(_noise)
    bind = " BIND(<urn:a> AS ?v)" if "?v" in noise else ""
    return " . ".join(triples) + bind + noise


def _select(query: str, cap: int | None = None) -> tuple[list[str], Counter]:
    original = STORE.query(query)
    assert isinstance(original, ox.QuerySolutions)
    variables = [v.value for v in original.variables]
    expected = Counter(tuple(row) for row in original)
    sent = for_store(query, variables=variables, cap=cap)
    answer = STORE.query(sent.text)
    store_variables = [v.value for v in answer.variables]
    rows = [tuple(solution[v] for v in store_variables) for solution in answer]
    read = QueryResult("select", store_variables, rows).projected(variables, sent.distinct)
    assert read.variables == variables, (sent.text, read.variables, variables)
    return expected, Counter(read.rows)


@PROPS
@given(_projection, patterns(), _modifier)
def test_a_select_sent_to_a_store_answers_the_same(projection, pattern, modifier):
    expected, got = _select(f"SELECT {projection} WHERE {{ {pattern} }}{modifier}")
    assert got == expected


@PROPS
@given(_projection.filter(lambda p: "COUNT" not in p), patterns(), _modifier, patterns())
def test_a_select_in_a_subquery_sent_to_a_store_answers_the_same(projection, pattern, modifier, outer):
    subquery = f"{{ SELECT {projection} WHERE {{ {pattern} }}{modifier} }}"
    expected, got = _select(f"SELECT (COUNT(*) AS ?n) WHERE {{ {subquery} OPTIONAL {{ {_other(outer)} }} }}")
    assert got == expected


def _other(pattern: str) -> str:
    """``pattern`` with its own variables and blank-node labels (a label may not be shared between two groups)."""
    return pattern.replace("?s", "?t").replace("?o", "?u").replace("?v", "?w").replace("_:", "_:other")


@PROPS
@given(st.sampled_from(["{ ?s <urn:q> [] }", "{ _:t <urn:q> ?s }", "{ ?s <urn:q> ?s }"]), patterns(), _modifier)
def test_a_construct_sent_to_a_store_answers_the_same(template, pattern, modifier):
    """Blank nodes in the template stay blank nodes (one per solution), those in the pattern become variables."""
    if "?s" not in pattern:
        pattern += " . ?s <urn:p> ?any"
    query = f"CONSTRUCT {template} WHERE {{ {pattern} }}{modifier}"
    sent = for_store(query)
    expected = list(STORE.query(query))
    got = list(STORE.query(sent.text))
    assert len(got) == len(expected), (sent.text, len(got), len(expected))
    assert Counter(t.subject.value for t in got if isinstance(t.subject, ox.NamedNode)) == Counter(
        t.subject.value for t in expected if isinstance(t.subject, ox.NamedNode))


def test_a_relative_iri_resolves_against_the_endpoint():
    sent = for_store("ASK { <a> <p> <b> }", base_iri="urn:")
    assert STORE.query(sent.text) and not STORE.query("ASK { <a> <p> <b> }", base_iri="urn:other/")
