"""Property-based tests (Hypothesis) of the pure functions that read hostile input, in-process and bounded: the
query checks, content negotiation, the Turtle and JSON-LD nesting bounds and the harvest's version parsers."""

from __future__ import annotations

import html

import pyoxigraph as ox
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.version import Version

from fwgraph.core import formats
from fwgraph.core.errors import InputError, QueryError, RefusedQuery
from fwgraph.core.settings import active
from fwgraph.data.graph import parse_bytes
from fwgraph.data.querycheck import PreparedQuery, mask, prepare
from fwgraph.publish.harvest.releases import tag_parts, tag_version
from fwgraph.store.results import QueryResult, to_html

MAX_NESTING = active().contribution_max_nesting  # the bound a contribution's nesting is held to
MAX_DEPTH = active().query_max_depth  # the bound a query's brackets are held to

#: Fixed example counts and no deadline: bounded in time, never a timed assertion.
BOUNDED = settings(max_examples=200, deadline=None, derandomize=True)

# ------------------------------------------------------------------------------------------------ query checks

FRAGMENTS = ["SELECT", "ASK", "CONSTRUCT", "DESCRIBE", "WHERE", "PREFIX p: <http://x/>", "BASE <x>", "{", "}", "(",
             ")", "[", "]", "?s", "?p", "UNION", "OPTIONAL", "FILTER", "VALUES", "+", "||", "!", "<", ">", "1",
             '"str"', "'''long'''", "#c\n", "#c\r", "\\u007b", "\\U0000007d", " ", "\n", "\r", ".", ";", "a",
             "<http://x/y>", "p:x", "_:b", "LIMIT", "SERVICE", "FROM", "INSERT", "DELETE", "WITH", "\x00", "é"]
QUERIES = st.lists(st.sampled_from(FRAGMENTS), max_size=40).map(" ".join) | st.text(max_size=300)


@BOUNDED
@given(QUERIES)
def test_prepare_accepts_a_query_or_raises_query_error_and_nothing_else(text):
    try:
        prepared = prepare(text, max_bytes=10_000)
    except QueryError:
        return
    assert isinstance(prepared, PreparedQuery) and prepared.form in ("select", "ask", "construct", "describe")


COMMENT_TEXT = st.text(st.characters(blacklist_characters="\r\n"), max_size=40)
REFUSED = [("SERVICE <http://x/> { ?s ?p ?o }", "service"), ("FROM <http://x/>", "dataset")]


@BOUNDED
@given(COMMENT_TEXT, st.sampled_from(["\n", "\r", "\r\n"]), st.sampled_from(REFUSED))
def test_a_comment_ends_at_cr_or_lf_and_hides_nothing_after_it(comment, end, refused):
    clause, reason = refused
    text = (f"SELECT * #{comment}{end}{clause} WHERE {{ ?s ?p ?o }}" if reason == "dataset"
            else f"ASK {{ #{comment}{end}{clause} }}")
    with pytest.raises(RefusedQuery) as caught:
        prepare(text)
    assert caught.value.reason == reason


@BOUNDED
@given(COMMENT_TEXT, st.sampled_from(["\n", "\r"]))
def test_an_update_after_a_comment_is_refused(comment, end):
    with pytest.raises(RefusedQuery) as caught:
        prepare(f"#{comment}{end}INSERT DATA {{ <x:a> <x:b> <x:c> }}")
    assert caught.value.reason == "update"


@BOUNDED
@given(QUERIES)
def test_mask_keeps_length_and_line_breaks(text):
    masked = mask(text)
    assert len(masked) == len(text)
    assert [i for i, c in enumerate(masked) if c in "\r\n"] == [i for i, c in enumerate(text) if c in "\r\n"]


@BOUNDED
@given(st.integers(1, MAX_DEPTH + 60), st.sampled_from([("{", "}"), ("(", ")"), ("[", "]")]),
       st.sampled_from(['"{(["', "# {([\n", "<http://x/([)]>"]))  # { and } are not IRI characters
def test_nesting_is_refused_exactly_past_the_bound_whatever_strings_and_comments_hold(depth, pair, noise):
    text = "ASK {" + (pair[0] + noise) * depth + "?s" + pair[1] * depth + "}"
    try:
        prepare(text)
        refused = False
    except RefusedQuery as exc:
        refused = exc.reason == "too-complex"
    except QueryError:
        refused = False
    assert refused == (depth + 1 > MAX_DEPTH)


# ---------------------------------------------------------------------------------------- content negotiation

OFFERED = formats.offers(*formats.RESULT_FORMATS, formats.HTML)
RANGES = sorted({mt for mt, _ in OFFERED} | {"*/*", "text/*", "application/*", "image/png", "text/turtle"})
QS = st.sampled_from(["0", "0.1", "0.3", "0.5", "0.7", "0.9", "1"])


def _oracle_q(entries: list[tuple[str, float]], media_type: str) -> float:
    """RFC 9110 12.5.1: the q of the most specific range that matches ``media_type`` (0 when none does)."""
    kind = media_type.split("/")[0]
    for candidate in (media_type, kind + "/*", "*/*"):
        for rng, q in entries:
            if rng == candidate:
                return q
    return 0.0


@BOUNDED
@given(st.lists(st.tuples(st.sampled_from(RANGES), QS), unique_by=lambda e: e[0], min_size=1, max_size=6))
def test_negotiation_picks_an_offer_with_the_highest_q_or_none(entries):
    header = ", ".join(f"{rng};q={q}" for rng, q in entries)
    parsed = [(rng, float(q)) for rng, q in entries]
    best = max(_oracle_q(parsed, mt) for mt, _ in OFFERED)
    chosen = formats.negotiate(OFFERED, header)
    if best <= 0:
        assert chosen is None, header
    else:
        assert chosen is not None and chosen in OFFERED, header
        assert _oracle_q(parsed, chosen[0]) == best, header


@BOUNDED
@given(st.text(max_size=200), st.text(max_size=30))
def test_negotiation_never_raises_and_answers_only_with_an_offer(accept, fmt):
    chosen = formats.negotiate(OFFERED, accept, fmt)
    assert chosen is None or chosen in OFFERED


# ---------------------------------------------------------------------------------- Turtle and JSON-LD bounds

#: Objects that hold brackets which are none: strings, a long string, an IRI, a comment after an object.
TURTLE_NOISE = st.sampled_from(['"[("', "'(('", '"""[\n["""', "<urn:x[>", "<urn:x> # [[(\n"])


@BOUNDED
@given(st.integers(1, MAX_NESTING + 20), TURTLE_NOISE)
def test_turtle_nesting_is_refused_exactly_past_the_bound(depth, noise):
    text = "<urn:s> <urn:p> " + f"[ <urn:q> {noise} ; <urn:p> " * depth + "1" + " ]" * depth + " ."
    try:
        parse_bytes(text.encode(), "turtle")
        refused = False
    except InputError as exc:
        refused = "nested too deeply" in exc.message
    assert refused == (depth > MAX_NESTING), text


@BOUNDED
@given(st.integers(1, MAX_NESTING + 20), st.sampled_from(['"[{"', '"x"', '"\\"[["']))
def test_json_ld_nesting_is_refused_exactly_past_the_bound(depth, noise):
    text = '{"@id": "urn:s", "urn:p": ' + ('[{"urn:n": ' + noise + ', "urn:p": ') * depth + "1" + "}]" * depth + "}"
    try:
        parse_bytes(text.encode(), "json-ld")
        refused = False
    except InputError as exc:
        refused = "nested too deeply" in exc.message
    assert refused == (2 * depth + 1 > MAX_NESTING), text


@BOUNDED
@given(st.binary(max_size=300) | st.lists(st.sampled_from(["[", "(", "{", "]", ")", "}", '"', "<", "#", "\n", "@",
                                                           "urn:a", ":", ".", ",", ";", " "]),
                                          max_size=120).map(lambda parts: "".join(parts).encode()),
       st.sampled_from(["turtle", "json-ld"]))
def test_any_bytes_parse_or_raise_input_error(data, fmt):
    try:
        parse_bytes(data, fmt)
    except InputError:
        pass


# ------------------------------------------------------------------------------------ harvest version parsers

VERSIONS = st.builds(lambda release, pre, post, dev: Version(".".join(map(str, release)) + pre + post + dev),
                     st.lists(st.integers(0, 2000), min_size=1, max_size=4),
                     st.sampled_from(["", "a1", "b2", "rc1"]), st.sampled_from(["", ".post1"]),
                     st.sampled_from(["", ".dev3"]))


#: Tag prefixes and the project name each leaves (none for a generic one).
TAG_PREFIXES = {"": "", "v": "", "V": "", "release-": "", "rel-": "", "version-": "", "r": "", "flask-": "flask",
                "my_pkg-": "mypkg", "Django/": "django"}


@BOUNDED
@given(VERSIONS, st.sampled_from(sorted(TAG_PREFIXES)))
def test_a_tag_names_the_version_packaging_reads_and_a_generic_prefix_is_dropped(version, prefix):
    assert tag_parts(prefix + str(version)) == (TAG_PREFIXES[prefix], version)


@BOUNDED
@given(st.text(max_size=250))
def test_any_tag_name_gives_a_version_or_none(name):
    version = tag_version(name)
    assert version is None or isinstance(version, Version)


# ------------------------------------------------------------------------------------------- the results page

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)


@BOUNDED
@given(TEXT, TEXT)
def test_the_results_page_escapes_every_value_and_the_query(value, query):
    page = to_html(QueryResult(form="select", variables=["x"], rows=[(ox.Literal(value),)]), query).decode()
    assert f"<td>{html.escape(value)}</td>" in page
    assert not query.strip() or f"<pre>{html.escape(query)}</pre>" in page
