"""Check SPARQL query text before evaluation: its form, and what a read-only public service refuses."""

from __future__ import annotations

import re
from dataclasses import dataclass

from fwgraph.errors import QueryError, RefusedQuery

# Comments, strings and IRIs are blanked out before keywords are looked for, so that a keyword
# inside a literal or an IRI is not mistaken for one. Order matters: long strings first.
_LEXEMES = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""'
    r"|'''(?:[^'\\]|\\.|'(?!''))*'''"
    r'|"(?:[^"\\\n]|\\.)*"'
    r"|'(?:[^'\\\n]|\\.)*'"
    r'|<[^<>"{}|^`\\\x00-\x20]*>'
    r"|#[^\n]*",
)
_WORD = re.compile(r"(?<![\w:?$\-])([A-Za-z_]+)(?![\w:\-])")
# SPARQL lets \uXXXX / \UXXXXXXXX escapes appear anywhere in a query and decodes them before parsing
# (SPARQL 1.1 Query, 19.2), so they are decoded here too: "\u0053ERVICE" is SERVICE.
_CODEPOINT = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_FORMS = {"SELECT": "select", "ASK": "ask", "CONSTRUCT": "construct", "DESCRIBE": "describe"}
_UPDATES = {"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH"}


def _blank(match: re.Match[str]) -> str:
    text = match.group(0)
    if text.startswith("<"):
        return "<" + " " * (len(text) - 2) + ">" if len(text) > 1 else text
    return re.sub(r"[^\n]", " ", text)


def decode_codepoints(text: str) -> str:
    """Decode SPARQL codepoint escapes the way the query parser does before it tokenises."""
    return _CODEPOINT.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), text)


def keywords(text: str) -> list[tuple[str, int]]:
    """Bare words of ``text`` outside comments, strings and IRIs, upper-cased, with their offsets."""
    stripped = _LEXEMES.sub(_blank, decode_codepoints(text))
    return [(m.group(1).upper(), m.start(1)) for m in _WORD.finditer(stripped)]


def _line_col(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, col


@dataclass(frozen=True)
class PreparedQuery:
    """A query that passed the checks: its text and its form (select, ask, construct, describe)."""

    text: str
    form: str

    @property
    def is_graph(self) -> bool:
        return self.form in ("construct", "describe")


def prepare(text: str, *, max_bytes: int | None = None, allow_dataset: bool = False) -> PreparedQuery:
    """Check ``text``: one SPARQL query, not an update, no SERVICE, no FROM (unless allowed).

    Raises RefusedQuery for what the service refuses and QueryError for what is not a query;
    the engine's own parser reports syntax errors with line and column afterwards.
    """
    if max_bytes is not None and len(text.encode("utf-8")) > max_bytes:
        raise RefusedQuery(f"query is longer than the limit of {max_bytes} bytes", reason="too-long")
    if not text.strip():
        raise QueryError("empty query")
    check_structure(text)
    quick = _quick_form(text)
    if quick is not None:
        return PreparedQuery(text=text, form=quick)
    words = keywords(text)
    form = None
    for word, offset in words:
        if word in ("PREFIX", "BASE"):
            continue
        if word in _UPDATES:
            line, col = _line_col(text, offset)
            raise RefusedQuery(
                f"SPARQL Update ({word}) is not allowed: this is a read-only endpoint", line=line, column=col,
                reason="update")
        if word in _FORMS:
            form = _FORMS[word]
        break
    if form is None:
        raise QueryError("not a SPARQL query: expected SELECT, ASK, CONSTRUCT or DESCRIBE after the prologue")
    for word, offset in words:
        if word == "SERVICE":
            line, col = _line_col(text, offset)
            raise RefusedQuery("SERVICE (federated query) is disabled: this endpoint never contacts other "
                               "services", line=line, column=col, reason="service")
        if word == "FROM" and not allow_dataset:
            line, col = _line_col(text, offset)
            raise RefusedQuery("FROM / FROM NAMED are not supported: the dataset has one default graph and "
                               "remote graphs are never loaded", line=line, column=col, reason="dataset")
        if word in _UPDATES and word not in ("WITH",) and _looks_like_update(words, word):
            line, col = _line_col(text, offset)
            raise RefusedQuery(f"SPARQL Update ({word}) is not allowed: this is a read-only endpoint",
                               line=line, column=col, reason="update")
    return PreparedQuery(text=text, form=form)


#: Deepest nesting of (), {} and [] accepted, and most chained operators or UNIONs in one group. Parsers
#: and evaluators recurse on both (pyoxigraph overflows a 2 MiB thread stack at about 1,000 nested braces
#: or 3,000 chained "+" or UNIONs, killing the process); these bounds keep a wide margin below that.
MAX_DEPTH = 100
MAX_CHAIN = 500
_STRUCTURE = re.compile(
    r"[?$]\w+"  # a variable
    r"|[A-Za-z_][\w.\-]*(?::[\w.\-:%]*)?"  # a keyword or prefixed name (its hyphens are not operators)
    r"|:[\w.\-:%]*"  # a name in the default prefix
    r"|\d[\w.]*"  # a number
    r"|([(){}\[\]])"  # group 1: a bracket
    r"|(\|\||&&|[-+*/!=])")  # group 2: an operator
_OPERATOR_CHARS = "+-*/!=|&"


def check_structure(text: str) -> None:
    """Refuse a query nested deeper than MAX_DEPTH or chaining more than MAX_CHAIN terms in one group.

    One linear pass over the text with comments, strings and IRIs blanked out; skipped (C-speed counts)
    when the text holds too few brackets and operators to break either bound.

    >>> check_structure("ASK {" + "{" * 200 + "}" * 200 + "}")
    Traceback (most recent call last):
      ...
    fwgraph.errors.RefusedQuery: <input>:1:105: the query nests brackets deeper than 100 levels
    """
    if ("\\u" not in text and "\\U" not in text
            and text.count("(") + text.count("{") + text.count("[") <= MAX_DEPTH
            and sum(text.count(c) for c in _OPERATOR_CHARS) + text.upper().count("UNION") <= MAX_CHAIN):
        return
    stripped = _LEXEMES.sub(_blank, decode_codepoints(text))
    counts = [0]
    for m in _STRUCTURE.finditer(stripped):
        bracket, operator = m.group(1), m.group(2)
        if bracket:
            if bracket in "({[":
                counts.append(0)
                if len(counts) > MAX_DEPTH + 1:
                    line, col = _line_col(stripped, m.start())
                    raise RefusedQuery(f"the query nests brackets deeper than {MAX_DEPTH} levels", line=line,
                                       column=col, reason="too-complex")
            elif len(counts) > 1:
                counts.pop()
            continue
        if operator or m.group(0).upper() == "UNION":
            counts[-1] += 1
            if counts[-1] > MAX_CHAIN:
                line, col = _line_col(stripped, m.start())
                raise RefusedQuery(f"the query chains more than {MAX_CHAIN} operators or UNIONs in one group",
                                   line=line, column=col, reason="too-complex")


# The fast path: when no refused keyword occurs anywhere in the text (a plain substring test, a
# superset of the lexical check), only the prologue needs reading to find the query form.
_REFUSED_WORDS = ("SERVICE", "FROM", "\\U", *sorted(_UPDATES))
# Possessive quantifiers (``*+``): no backtracking, so matching is linear in the text's length whatever it
# holds (a plain ``(?:\s+|...)*`` backtracks exponentially on a run of blanks that does not end in a query).
_PROLOGUE = re.compile(
    r"(?:\s++|#[^\n]*+|PREFIX\s*+[A-Za-z0-9_.\-]*+:\s*+<[^<>\"{}|^`\\\x00-\x20]*+>"
    r"|BASE\s*+<[^<>\"{}|^`\\\x00-\x20]*+>)*+"
    r"(SELECT|ASK|CONSTRUCT|DESCRIBE)(?![A-Za-z0-9_:\-])", re.I)


def _quick_form(text: str) -> str | None:
    upper = text.upper()
    if any(word in upper for word in _REFUSED_WORDS):
        return None
    m = _PROLOGUE.match(text)
    return _FORMS[m.group(1).upper()] if m else None


def _looks_like_update(words: list[tuple[str, int]], word: str) -> bool:
    # A second operation after ';' (e.g. "SELECT ... ; INSERT DATA") is rejected by the parser anyway;
    # only LOAD/CLEAR/DROP/CREATE as bare words are unambiguous update keywords in query text.
    return word in ("LOAD", "CLEAR", "DROP", "CREATE")


# A query whose text ends with "} [modifiers] LIMIT n" cannot return more than n rows: no row cap
# has to be enforced while its results are written, so the engine's own serialiser can write them.
_FINAL_LIMIT = re.compile(
    r"\}\s*(?:(?:GROUP\s+BY|HAVING|ORDER\s+BY)[^{}\"'#<>]*)?"
    r"(?:LIMIT\s+(\d+)(?:\s+OFFSET\s+\d+)?|OFFSET\s+\d+\s+LIMIT\s+(\d+))\s*$", re.I)


_BRACE_OR_VALUES = re.compile(r"[{}]|(?<![A-Za-z0-9_:?$])VALUES(?![A-Za-z0-9_:\-])", re.I)
# The end of a query without a final LIMIT: "} [modifiers] [OFFSET n]", where "LIMIT m" may be added.
_OPEN_END = re.compile(r"\}\s*(?:(?:GROUP\s+BY|HAVING|ORDER\s+BY)[^{}\"'#<>]*)?(?:OFFSET\s+\d+\s*)?$", re.I)


def bounded(text: str, cap: int) -> tuple[str, bool] | None:
    r"""What to evaluate so that the answer can be written by the engine's own serialiser, with one pass over
    ``text``: ``(text, True)`` when its final LIMIT already keeps the result within ``cap`` rows; else
    ``(text', False)`` with the final LIMIT lowered or added to ``cap + 1`` (the first rows are the original's,
    and more than ``cap`` of them means the cap was reached); None when the text cannot be rewritten safely (a
    trailing VALUES block, codepoint escapes, a LIMIT past 64 bits) or has no place for a LIMIT.

    >>> bounded("SELECT * WHERE { ?s ?p ?o } ORDER BY ?s LIMIT 10", 10)
    ('SELECT * WHERE { ?s ?p ?o } ORDER BY ?s LIMIT 10', True)
    >>> bounded("SELECT * WHERE { ?s ?p ?o } ORDER BY ?s LIMIT 100000", 10)
    ('SELECT * WHERE { ?s ?p ?o } ORDER BY ?s LIMIT 11', False)
    >>> bounded("SELECT * WHERE { ?s ?p ?o } OFFSET 5", 10)
    ('SELECT * WHERE { ?s ?p ?o } OFFSET 5\nLIMIT 11', False)
    >>> bounded("SELECT * WHERE { { SELECT * WHERE { ?s ?p ?o } LIMIT 5 } }", 10)
    ('SELECT * WHERE { { SELECT * WHERE { ?s ?p ?o } LIMIT 5 } }\nLIMIT 11', False)
    >>> bounded("SELECT * WHERE { ?s ?p ?o } # } LIMIT 5", 10)
    ('SELECT * WHERE { ?s ?p ?o } # } LIMIT 5\nLIMIT 11', False)
    >>> bounded("SELECT * WHERE { ?s ?p ?o } VALUES ?s { <a:b> }", 10) is None
    True
    >>> bounded("SELECT * WHERE { ?s ?p ?o } LIMIT " + "9" * 5000, 10) is None
    True
    >>> bounded("SELECT * WHERE { VALUES ?s { <a:b> } ?s ?p ?o }", 10)
    ('SELECT * WHERE { VALUES ?s { <a:b> } ?s ?p ?o }\nLIMIT 11', False)
    """
    decoded = decode_codepoints(text)
    # Comments, strings and IRIs blanked out: "# } LIMIT 5" is no limit, a "{" in a string no group.
    stripped = _LEXEMES.sub(_blank, decoded)
    m = _FINAL_LIMIT.search(stripped)
    group = (1 if m.group(1) else 2) if m else 0
    if m and len(m.group(group)) > 18:  # past a 64-bit count: the engine's own answer (and no huge int to convert)
        return None
    if m and int(m.group(group)) <= cap:
        return text, True
    if decoded != text:  # positions in the decoded text are not positions in ``text``
        return None
    depth = 0
    for token in _BRACE_OR_VALUES.finditer(stripped):  # VALUES outside every group: the trailing block
        brace = token.group(0)
        if brace in "{}":
            depth += 1 if brace == "{" else -1
        elif depth == 0:
            return None
    if m:
        return text[:m.start(group)] + str(cap + 1) + text[m.end(group):], False
    if _OPEN_END.search(stripped):
        return text + f"\nLIMIT {cap + 1}", False
    return None
