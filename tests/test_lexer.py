"""The query checks read a query as the engine does: property tests against pyoxigraph's own parse (issue 20).

Queries are generated with comments (ended by LF, CR or CR LF, holding Unicode breaks that end nothing),
strings, IRIs and less-than comparisons in every position, around a SERVICE call, a FROM clause or a deep
nesting that is either live code or hidden inside one of them. pyoxigraph is the oracle: it runs each query
on a one-triple store (a live SERVICE to port 1 fails before any connection is made: pyoxigraph refuses that
port), and ``prepare`` must refuse exactly what the engine would run.
"""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fwgraph.core.errors import RefusedQuery
from fwgraph.core.settings import Settings
from fwgraph.data.querycheck import bounded, check_structure, mask, prepare

MAX_DEPTH = Settings().query_max_depth

STORE = ox.Store()
STORE.add(ox.Quad(ox.NamedNode("urn:a"), ox.NamedNode("urn:b"), ox.NamedNode("urn:c")))
SERVICE = "SERVICE <http://127.0.0.1:1/x> { ?x ?y ?z }"
PROPS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# What a comment, a string or an IRI may hold: the dangerous words and characters, and line breaks that
# end nothing for SPARQL (U+2028, U+0085, form feed, vertical tab).
_text = st.lists(st.sampled_from(["SERVICE", "FROM", "{", "}", "(", ")", "<", ">", '"', "'", "#", "\\", " ", "x",
                                  "\u2028", "\u0085", "\x0c", "\x0b", "<urn:x>", "LIMIT 1", "\\u0022"]),
                 max_size=8).map("".join)
_end = st.sampled_from(["\n", "\r", "\r\n"])


def _comment(body: str, end: str) -> str:
    return "#" + body.replace("\n", " ").replace("\r", " ") + end


def _string(body: str) -> str:
    inner = body.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return '"' + inner + '"'


@st.composite
def inert(draw) -> str:
    """A fragment of a group pattern that holds no code: a comment, a string, an IRI, or a comparison."""
    kind = draw(st.sampled_from(["comment", "string", "long", "iri", "less"]))
    body = draw(_text)
    if kind == "comment":
        return _comment(body, draw(_end))
    if kind == "string":
        return f"FILTER(?o != {_string(body)})"
    if kind == "long":
        return 'FILTER(?o != """' + body.replace("\\", "\\\\").replace('"', '\\"') + '""")'
    if kind == "iri":
        return "FILTER(?o != <urn:x:" + "".join(c for c in body if c.isalnum()) + ">)"
    return "FILTER(1<2||?o<?s||?o>?s)"


@st.composite
def hidden(draw, code: str) -> str:
    """``code`` where the engine does not see it: in a comment or a string."""
    if draw(st.booleans()):
        return _comment(draw(_text) + " " + code, draw(_end))
    return f"FILTER(?o != {_string(code)})"


def _run(query: str) -> str:
    """What pyoxigraph does with ``query``: "service" (it called SERVICE), "syntax", or the row count."""
    try:
        result = STORE.query(query)
        return str(len(list(result))) if isinstance(result, ox.QuerySolutions) else str(bool(result))
    except SyntaxError:
        return "syntax"
    except OSError:
        return "service"


def _refused(query: str) -> str | None:
    try:
        prepare(query)
    except RefusedQuery as exc:
        return exc.reason
    return None


@PROPS
@given(before=st.lists(inert(), max_size=3), after=st.lists(inert(), max_size=3), live=st.booleans(),
       data=st.data())
def test_a_service_call_is_refused_exactly_when_the_engine_would_make_it(before, after, live, data):
    marker = SERVICE if live else data.draw(hidden(SERVICE))
    query = "SELECT * WHERE { ?s ?p ?o " + " ".join([*before, marker, *after]) + " }"
    engine = _run(query)
    if engine == "syntax":
        return
    assert (engine == "service") == live, f"the generator's belief differs from the engine's: {query!r}"
    reason = _refused(query)
    if live:
        assert reason == "service", query
    elif "\\u" not in query:  # codepoint escapes may be read by another engine as code: refused then
        assert reason is None, query


@PROPS
@given(comments=st.lists(st.tuples(_text, _end), max_size=3), live=st.booleans(), data=st.data())
def test_a_from_clause_is_refused_exactly_when_the_engine_would_read_it(comments, live, data):
    marker = "FROM <urn:g>" if live else _comment(data.draw(_text) + " FROM <urn:g>", data.draw(_end))
    query = "SELECT * " + " ".join([*(_comment(b, e) for b, e in comments), marker]) + " WHERE { ?s ?p ?o }"
    engine = _run(query)
    if engine == "syntax":
        return
    assert (engine == "0") == live, query  # FROM <urn:g> (an empty graph) leaves no row
    reason = _refused(query)
    assert (reason == "dataset") == live or ("\\u" in query and reason), query


@PROPS
@given(depth=st.sampled_from([MAX_DEPTH - 3, MAX_DEPTH + 1, MAX_DEPTH + 40]), hide=st.integers(0, 300),
       where=st.sampled_from(["comment", "string", "less"]), data=st.data())
def test_nesting_is_counted_as_the_engine_reads_it(depth, hide, where, data):
    """Live brackets are counted wherever they stand, hidden ones never: beside a comment or a string full of
    brackets, and after a less-than that an IRI-minded lexer would take for the start of an IRI."""
    live = "(" * depth + "1" + ")" * depth
    if where == "comment":
        decoy = _comment("(" * hide + data.draw(_text), data.draw(_end))
        query = "ASK { ?s ?p ?o " + decoy + " FILTER(" + live + " = 1) }"
    elif where == "string":
        query = "ASK { ?s ?p ?o FILTER(" + _string("(" * hide) + " != " + live + ") }"
    else:  # "1<(((...1)))&&2>1": no IRI, a comparison whose brackets are code
        query = "ASK { ?s ?p ?o FILTER(1<" + live + "&&2>1) }"
    assert _run(query) in ("True", "False"), query  # the engine parses it as the generator means it
    refused = True
    try:
        check_structure(query)
    except RefusedQuery:
        pass
    else:
        refused = False
    # The group and FILTER's own brackets count too: two levels above the live ones.
    assert refused == (depth + 2 > MAX_DEPTH), query


# Regressions of the second attack, each refused by the code before this lexer (the first three got through).
@pytest.mark.parametrize("query", [
    "ASK { # x\rSERVICE <http://127.0.0.1:9/internal> { ?s ?p ?o } }",
    "SELECT * # x\rFROM <file:///etc/passwd> WHERE { ?s ?p ?o }",
    'ASK { FILTER("\\u0022" != "") SERVICE <http://127.0.0.1:9/> {} } # """',
    "ASK { ?s <urn:p\\u003E\\u0020SERVICE> ?o }",
], ids=["cr-ends-a-comment", "cr-before-from", "escaped-quote-opens-no-long-string", "escape-in-an-iri"])
def test_code_after_a_comment_or_string_is_checked(query):
    engine = _run(query)
    reason = _refused(query)
    if engine in ("service", "0"):  # the engine would call SERVICE or read FROM: refused
        assert reason in ("service", "dataset")
    else:  # what another engine may read after decoding the escapes is refused too
        assert reason is not None


def test_a_carriage_return_ends_a_comment_in_every_check():
    assert mask("ASK {} # x\rLIMIT 5") == "ASK {}    \rLIMIT 5"
    assert bounded("SELECT * WHERE { ?s ?p ?o } # x\rLIMIT 5", 10) == (
        "SELECT * WHERE { ?s ?p ?o } # x\rLIMIT 5", True)
    with pytest.raises(RefusedQuery):
        check_structure("ASK { # x\r" + "{" * (MAX_DEPTH + 1) + "}" * (MAX_DEPTH + 1) + " }")


def test_masking_is_linear_on_long_names():
    """A run of "a.a.a…" is one token (a per-token rescan made it quadratic): 200,000 characters mask at once."""
    text = "ASK { " + "a." * 100_000 + " }"
    assert len(mask(text)) == len(text)
