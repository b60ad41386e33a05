"""Check SPARQL query text before evaluation: its form, and what a read-only public service refuses."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property

from fwgraph.core.errors import QueryError, RefusedQuery
from fwgraph.core.settings import active

# One lexer for every check: the query is read as the engine (pyoxigraph's SPARQL grammar) reads it, and
# comments, strings and IRIs are blanked out so that a keyword or a bracket inside them is not mistaken for
# code. The terminals are the grammar's: a comment ends at CR or LF (SPARQL 1.1 Query 19.4, and pyoxigraph;
# not at U+2028 or other Unicode breaks, which pyoxigraph does not take as line ends either), short strings
# hold no CR or LF, escapes are only ECHAR and UCHAR, and a local name's "\#" is no comment. A "<" is an IRI
# only where a term may start: inside an expression, after an operand, it is the less-than operator
# (pyoxigraph's PEG parser decides the same way), so "FILTER(?a<((((1>0)" hides no bracket.
_UCHAR = r"\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}"
_ECHAR = r"\\[tbnrf\\\"']"
_TOKEN = re.compile(
    r"(?P<ws>[ \t\r\n]+)"
    r"|(?P<comment>#[^\r\n]*)"
    rf'|(?P<lstr>"""(?:[^"\\]|{_ECHAR}|{_UCHAR}|"(?!""))*"""|\'\'\'(?:[^\'\\]|{_ECHAR}|{_UCHAR}|\'(?!\'\'))*\'\'\')'
    rf'|(?P<str>"(?:[^"\\\r\n]|{_ECHAR}|{_UCHAR})*"|\'(?:[^\'\\\r\n]|{_ECHAR}|{_UCHAR})*\')'
    r"|(?P<var>[?$]\w+)"
    # a prefixed name, blank-node label or keyword, in one possessive run (linear: a long "a.a.a" is one token)
    r"|(?P<name>(?:[^\W\d][\w.\-]*+)?:(?:[\w.\-:%]|\\[_~.\-!$&'()*+,;=/?#@%])*+|_:[\w.\-]++|[^\W\d][\w.\-]*+)"
    r"|(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
    r"|(?P<lang>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)"
    r"|(?P<other>.)", re.S)
_IRI = re.compile(rf"<(?:[^<>\"{{}}|^`\\\x00-\x20]|{_UCHAR})*>")
_OPERAND_END = frozenset(("var", "num", "str", "lstr", "iri", "pname", "lang", "true", "close"))
_BLANKED = frozenset(("comment", "str", "lstr"))
# SPARQL allows \uXXXX / \UXXXXXXXX escapes anywhere (SPARQL 1.1 Query, 19.2); pyoxigraph decodes them only in
# strings and IRIs, other engines (behind --store) may decode them first: both readings are checked.
_CODEPOINT = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_FORMS = {"SELECT": "select", "ASK": "ask", "CONSTRUCT": "construct", "DESCRIBE": "describe"}
_UPDATES = {"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH"}
_WORD = re.compile(r"(?<![\w:?$\-])([A-Za-z_]+)(?![\w:\-])")


def mask(text: str) -> str:
    r"""``text`` with its comments, strings and IRIs blanked out (same length, same line breaks), read as the
    engine reads it: what is left is the query's code, where every check looks for keywords and brackets.

    >>> mask('ASK { # x\rSERVICE <http://a/> {} }')
    'ASK {    \rSERVICE <         > {} }'
    >>> mask('ASK { FILTER(?a<((1>0)) }')
    'ASK { FILTER(?a<((1>0)) }'
    >>> mask('ASK { ?s <p> "#}" }')
    'ASK { ?s < >      }'
    """
    return _read(text)[0]


def _read(text: str) -> tuple[str, str]:
    """:func:`mask` and :func:`shape` of ``text``, from one pass of the lexer."""
    out: list[str] = []
    code: list[str] = []
    for kind, start, end in lex(text):
        token = text[start:end]
        if kind not in ("ws", "comment"):
            code.append(token)
        if kind in _BLANKED:
            out.append(_blank_text(token))
        elif kind == "iri":
            out.append("<" + " " * (len(token) - 2) + ">")
        else:
            out.append(token)
    return "".join(out), " ".join(code)


def lex(text: str) -> Iterator[tuple[str, int, int]]:
    """The tokens of ``text`` as the engine reads them: ``(kind, start, end)``, blanks and comments included.

    Kinds: ws, comment, str, lstr, var, pname (a prefixed name or blank-node label), word (a keyword), num,
    lang, iri, and other (one character: a bracket, an operator, punctuation).

    >>> [(kind, t) for kind, a, b in lex('ASK { _:b <p> "x" }') if kind != "ws" for t in [ 'ASK { _:b <p> "x" }'[a:b]]]
    [('word', 'ASK'), ('other', '{'), ('pname', '_:b'), ('iri', '<p>'), ('str', '"x"'), ('other', '}')]
    """
    stack: list[str] = []  # "e": an expression's brackets; "p": a pattern's or collection's
    prev = ""  # the kind of the last token that is not a blank or a comment
    prev_word = prev2_word = ""  # the last two such tokens, when they are keywords
    pos, end = 0, len(text)
    while pos < end:
        m = None
        if text[pos] == "<" and not (stack and stack[-1] == "e" and prev in _OPERAND_END):
            m = _IRI.match(text, pos)
        if m is not None:
            kind = "iri"
        else:
            m = _TOKEN.match(text, pos)
            assert m is not None  # "other" matches any character
            kind = m.lastgroup or "other"
            if kind == "name":
                kind = "pname" if ":" in m.group(0) else "word"
        token = m.group(0)
        yield kind, pos, m.end()
        pos = m.end()
        if kind in ("ws", "comment"):
            continue
        word = token.rstrip(".").upper() if kind == "word" else ""
        if kind == "word" and word in ("TRUE", "FALSE"):
            kind = "true"
        elif kind == "other":
            if token == "(":
                stack.append(_paren_kind(stack, prev, prev_word, prev2_word))
            elif token in "{[":
                stack.append("p")
            elif token in ")]}":
                if stack:
                    stack.pop()
                kind = "close" if token != "}" or (stack and stack[-1] == "e") else "other"
        prev, prev2_word, prev_word = kind, prev_word, word


_DECLARED = re.compile(r"(?i)\bPREFIX\s+([A-Za-z][\w.-]*)?:")
_PNAME_PREFIX = re.compile(r"(?<![\w.:?$<-])([A-Za-z][\w.-]*)?:(?=[\w%\\]|\s|$)")


def undeclared(text: str, prefixes: dict[str, str]) -> list[str]:
    """The prefixes ``text`` uses that it does not declare and that are not among ``prefixes``.

    >>> undeclared("PREFIX a: <x:> ASK { ?s a:p nope:X ; fw:q '{x:y}' }", {"fw": "f:"})
    ['nope']
    """
    code = mask(text)
    own = {m.group(1) or "" for m in _DECLARED.finditer(code)} | set(prefixes)
    return sorted({m.group(1) or "" for m in _PNAME_PREFIX.finditer(code)} - own)


def declared(text: str, prefixes: dict[str, str]) -> str:
    """``text`` with PREFIX lines for the names of ``prefixes`` it uses but does not declare itself, ahead of it:
    what an engine that knows no default prefixes (a store behind --store, another endpoint) must be sent.

    >>> declared("ASK { ?s a fw:WebFramework }", {"fw": "https://w3id.org/fwgraph/ns#", "rdf": "r:"})
    'PREFIX fw: <https://w3id.org/fwgraph/ns#>\\nASK { ?s a fw:WebFramework }'
    >>> declared("PREFIX fw: <x:> ASK { ?s a fw:A }", {"fw": "y:"})
    'PREFIX fw: <x:> ASK { ?s a fw:A }'
    """
    code = mask(text)
    own = {m.group(1) or "" for m in _DECLARED.finditer(code)}
    used = {m.group(1) or "" for m in _PNAME_PREFIX.finditer(code)}
    lines = "".join(f"PREFIX {name}: <{iri}>\n" for name, iri in prefixes.items() if name in used - own)
    return lines + text


def _paren_kind(stack: list[str], prev: str, prev_word: str, prev2_word: str) -> str:
    """Whether a "(" opens an expression ("e") or a collection, VALUES row or path group ("p")."""
    if stack and stack[-1] == "e":
        return "e"  # a nested expression or a function's arguments
    if prev == "word":
        return "p" if prev_word in ("VALUES", "A") else "e"  # FILTER(, BIND(, STR(, ... ; VALUES (?a ?b)
    if not stack:
        return "e"  # SELECT (... AS ?x), GROUP BY (...), ORDER BY (...), HAVING (...)
    if prev in ("iri", "pname") and prev2_word == "FILTER":
        return "e"  # FILTER <fn>(...)
    return "p"  # a collection, or a group in a property path


def _blank_text(text: str) -> str:
    return re.sub(r"[^\r\n]", " ", text)


def decode_codepoints(text: str) -> str:
    """Decode SPARQL codepoint escapes everywhere, as an engine may do before it tokenises."""
    return _CODEPOINT.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), text)


def readings(text: str, code: str | None = None) -> list[tuple[str, str]]:
    """``(text, code)`` for every way an engine may read the query: as pyoxigraph does, and, when it holds
    codepoint escapes, with them decoded first; ``code`` is the text masked by :func:`mask` (given: the first
    reading's, already masked)."""
    first = (text, mask(text) if code is None else code)
    if "\\u" in text or "\\U" in text:
        decoded = decode_codepoints(text)
        return [first, (decoded, mask(decoded))]
    return [first]


def shape(text: str) -> str:
    """``text`` as the engine evaluates it: its tokens without blanks and comments, one space apart (texts of
    one shape ask the same of the engine, so they cost the same).

    >>> shape('ASK {  ?s ?p ?o } # probe 1') == shape('ASK { ?s ?p ?o }# probe 2\\r')
    True
    """
    return _read(text)[1]


def keywords(text: str) -> list[tuple[str, int]]:
    """Bare words of ``text`` outside comments, strings and IRIs, upper-cased, with their offsets."""
    return [(m.group(1).upper(), m.start(1)) for m in _WORD.finditer(mask(text))]


def _line_col(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, col


@dataclass(frozen=True)
class PreparedQuery:
    """A query that passed the checks: its text and its form (select, ask, construct, describe), and its
    :func:`shape` (what a query worker pool knows its cost by): the checks' when they lexed the text, else read
    on first use, once (a memoised query is never lexed again)."""

    text: str
    form: str
    lexed_shape: str | None = field(default=None, compare=False, repr=False)

    @property
    def is_graph(self) -> bool:
        return self.form in ("construct", "describe")

    @cached_property
    def shape(self) -> str:
        return self.lexed_shape if self.lexed_shape is not None else shape(self.text)


def prepare(text: str, *, max_bytes: int | None = None, allow_dataset: bool = False) -> PreparedQuery:
    """Check ``text``: one SPARQL query, not an update, no SERVICE, no FROM (unless allowed).

    Raises RefusedQuery for what the service refuses and QueryError for what is not a query;
    the engine's own parser reports syntax errors with line and column afterwards.
    """
    if max_bytes is not None and len(text.encode("utf-8")) > max_bytes:
        raise RefusedQuery(f"query is longer than the limit of {max_bytes} bytes", reason="too-long")
    if not text.strip():
        raise QueryError("empty query")
    quick = _quick_form(text)
    if quick is not None:
        check_structure(text)
        return PreparedQuery(text=text, form=quick)
    code, text_shape = _read(text)  # one pass of the lexer for every check, and the shape
    read = readings(text, code)
    check_structure(text, read)
    form = None
    for n, (source, code) in enumerate(read):
        words = [(m.group(1).upper(), m.start(1)) for m in _WORD.finditer(code)]
        if n == 0:  # the engine's reading decides the form
            form = _form(words, source)
        _refuse(words, source, allow_dataset)
    assert form is not None
    return PreparedQuery(text=text, form=form, lexed_shape=text_shape)


def _form(words: list[tuple[str, int]], source: str) -> str:
    for word, offset in words:
        if word in ("PREFIX", "BASE"):
            continue
        if word in _UPDATES:
            line, col = _line_col(source, offset)
            raise RefusedQuery(
                f"SPARQL Update ({word}) is not allowed: this is a read-only endpoint", line=line, column=col,
                reason="update")
        if word in _FORMS:
            return _FORMS[word]
        break
    raise QueryError("not a SPARQL query: expected SELECT, ASK, CONSTRUCT or DESCRIBE after the prologue")


def _refuse(words: list[tuple[str, int]], source: str, allow_dataset: bool) -> None:
    for word, offset in words:
        if word == "SERVICE":
            line, col = _line_col(source, offset)
            raise RefusedQuery("SERVICE (federated query) is disabled: this endpoint never contacts other "
                               "services", line=line, column=col, reason="service")
        if word == "FROM" and not allow_dataset:
            line, col = _line_col(source, offset)
            raise RefusedQuery("FROM / FROM NAMED are not supported: the dataset has one default graph and "
                               "remote graphs are never loaded", line=line, column=col, reason="dataset")
        if word in _UPDATES and _looks_like_update(word):
            line, col = _line_col(source, offset)
            raise RefusedQuery(f"SPARQL Update ({word}) is not allowed: this is a read-only endpoint",
                               line=line, column=col, reason="update")


# Deepest nesting of (), {} and [] accepted, and most chained operators or UNIONs in one group: the settings
# QUERY_MAX_DEPTH and QUERY_MAX_CHAIN. Parsers and evaluators recurse on both (pyoxigraph overflows a 2 MiB
# thread stack at about 1,000 nested braces or 3,000 chained "+" or UNIONs, killing the process); the defaults
# keep a wide margin below that.
_STRUCTURE = re.compile(
    r"[?$]\w+"  # a variable
    r"|[A-Za-z_][\w.\-]*(?::[\w.\-:%]*)?"  # a keyword or prefixed name (its hyphens are not operators)
    r"|:[\w.\-:%]*"  # a name in the default prefix
    r"|\d[\w.]*"  # a number
    r"|([(){}\[\]])"  # group 1: a bracket
    r"|(\|\||&&|[-+*/!=])")  # group 2: an operator
_OPERATOR_CHARS = "+-*/!=|&"


def check_structure(text: str, read: list[tuple[str, str]] | None = None) -> None:
    """Refuse a query nested deeper than QUERY_MAX_DEPTH or chaining more than QUERY_MAX_CHAIN terms in one group.

    One linear pass over the text with comments, strings and IRIs blanked out; skipped (C-speed counts)
    when the text holds too few brackets and operators to break either bound.

    >>> check_structure("ASK {" + "{" * 200 + "}" * 200 + "}")
    Traceback (most recent call last):
      ...
    fwgraph.core.errors.RefusedQuery: <input>:1:105: the query nests brackets deeper than 100 levels
    """
    limits = active()
    if ("\\u" not in text and "\\U" not in text
            and text.count("(") + text.count("{") + text.count("[") <= limits.query_max_depth
            and sum(text.count(c) for c in _OPERATOR_CHARS) + text.upper().count("UNION") <= limits.query_max_chain):
        return
    for _, code in read if read is not None else readings(text):
        _check_code(code, limits.query_max_depth, limits.query_max_chain)


def _check_code(stripped: str, max_depth: int, max_chain: int) -> None:
    counts = [0]
    for m in _STRUCTURE.finditer(stripped):
        bracket, operator = m.group(1), m.group(2)
        if bracket:
            if bracket in "({[":
                counts.append(0)
                if len(counts) > max_depth + 1:
                    line, col = _line_col(stripped, m.start())
                    raise RefusedQuery(f"the query nests brackets deeper than {max_depth} levels", line=line,
                                       column=col, reason="too-complex")
            elif len(counts) > 1:
                counts.pop()
            continue
        if operator or m.group(0).upper() == "UNION":
            counts[-1] += 1
            if counts[-1] > max_chain:
                line, col = _line_col(stripped, m.start())
                raise RefusedQuery(f"the query chains more than {max_chain} operators or UNIONs in one group",
                                   line=line, column=col, reason="too-complex")


# The fast path: when no refused keyword occurs anywhere in the text (a plain substring test, a
# superset of the lexical check), only the prologue needs reading to find the query form.
_REFUSED_WORDS = ("SERVICE", "FROM", "\\U", *sorted(_UPDATES))
# Possessive quantifiers (``*+``): no backtracking, so matching is linear in the text's length whatever it
# holds (a plain ``(?:\s+|...)*`` backtracks exponentially on a run of blanks that does not end in a query).
_PROLOGUE = re.compile(
    r"(?:\s++|#[^\r\n]*+|PREFIX\s*+[A-Za-z0-9_.\-]*+:\s*+<[^<>\"{}|^`\\\x00-\x20]*+>"
    r"|BASE\s*+<[^<>\"{}|^`\\\x00-\x20]*+>)*+"
    r"(SELECT|ASK|CONSTRUCT|DESCRIBE)(?![A-Za-z0-9_:\-])", re.I)


def _quick_form(text: str) -> str | None:
    upper = text.upper()
    if any(word in upper for word in _REFUSED_WORDS):
        return None
    m = _PROLOGUE.match(text)
    return _FORMS[m.group(1).upper()] if m else None


def _looks_like_update(word: str) -> bool:
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
    trailing VALUES block, a LIMIT past 64 bits) or has no place for a LIMIT.

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
    # Comments, strings and IRIs blanked out as the engine reads them: "# } LIMIT 5" is no limit, a "{" in a
    # string no group (this runs in the worker, on pyoxigraph: its reading is the one that counts).
    stripped = mask(text)
    m = _FINAL_LIMIT.search(stripped)
    group = (1 if m.group(1) else 2) if m else 0
    if m and len(m.group(group)) > 18:  # past a 64-bit count: the engine's own answer (and no huge int to convert)
        return None
    if m and int(m.group(group)) <= cap:
        return text, True
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


#: The largest LIMIT or OFFSET a store behind --store is sent. Virtuoso adds OFFSET and LIMIT in 32 bits ("SR350:
#: TOP parameter < 0" past 2^31 - 1); no store reads a billion rows within a time limit, so a larger count
#: answers the same.
STORE_COUNT_MAX = 1_000_000_000
_BNODE_VAR = "fwbnode"


@dataclass(frozen=True)
class StoreQuery:
    """A query as a store behind --store is sent it (:func:`for_store`), and how its SELECT answer is read back."""

    text: str
    distinct: bool = False  # a DISTINCT * answer whose extra columns are dropped: drop the rows repeated then


def for_store(text: str, *, base_iri: str | None = None, variables: list[str] | None = None,
              cap: int | None = None) -> StoreQuery:
    """``text`` rewritten so that a store answers what the embedded engine does (token by token, with :func:`lex`):

    * relative IRIs resolve against ``base_iri``, the endpoint's IRI, as in the embedded engine (a BASE line ahead
      of the query; a BASE of the query's own, resolved against it, still applies after it);
    * a LIMIT or OFFSET past STORE_COUNT_MAX is lowered to it, and an OFFSET without a LIMIT is given one of
      STORE_COUNT_MAX (Virtuoso 7 adds OFFSET to an implicit LIMIT of 2^31 - 1: "TOP parameter < 0"); a SELECT
      answer's own LIMIT is at most one more than the row cap ``cap`` (all that is read of the answer);
    * blank nodes in the query pattern (``_:b``, ``[]``) become fresh variables, which is what they mean there
      (Virtuoso refuses a blank node as the subject of a property path); in a CONSTRUCT template they stay blank
      nodes, and a ``SELECT *`` is written out with ``variables`` (the embedded engine's), so that the fresh
      variables are not projected (in a subquery projecting ``*`` they stay blank nodes).

    >>> for_store("SELECT * WHERE { _:b <p> ?o } OFFSET 99999999999", variables=["o"]).text
    'SELECT ?o WHERE { ?fwbnode0 <p> ?o } OFFSET 1000000000 LIMIT 1000000000'
    >>> for_store("CONSTRUCT { _:x <p> [] } WHERE { [] <q> ?fwbnode0 }", base_iri="http://e/sparql").text
    'BASE <http://e/sparql>\\nCONSTRUCT { _:x <p> [] } WHERE { ?fwbnode_0 <q> ?fwbnode0 }'
    >>> for_store("SELECT * { { SELECT * { ?s ?p ?o } LIMIT 9223372036854775807 } } OFFSET 5", cap=10).text
    'SELECT * { { SELECT * { ?s ?p ?o } LIMIT 1000000000 } } OFFSET 5 LIMIT 11'
    >>> for_store("SELECT ?o { { SELECT DISTINCT * { _:b <p> ?o } } _:c <q> ?o }", variables=["o"]).text
    'SELECT ?o { { SELECT DISTINCT * { _:b <p> ?o } } ?fwbnode0 <q> ?o }'
    >>> for_store("CONSTRUCT WHERE { _:x <p> ?o } LIMIT 10000000000").text
    'CONSTRUCT WHERE { _:x <p> ?o } LIMIT 1000000000'
    """
    code = [(kind, start, end) for kind, start, end in lex(text) if kind not in ("ws", "comment")]
    used = {text[start + 1:end] for kind, start, end in code if kind == "var"}
    prefix = _BNODE_VAR
    while any(name.startswith(prefix) for name in used):
        prefix += "_"
    edits: list[tuple[int, int, str]] = []
    fresh: dict[str, str] = {}
    depth = 0
    template = -1  # the depth of a CONSTRUCT template's "{" while inside it
    star_scopes: list[int] = []  # the depths of the subqueries projecting * around this token
    star = None  # the top-level SELECT's "*": (start, end)
    form = ""
    distinct = False
    i = 0
    while i < len(code):
        kind, start, end = code[i]
        token = text[start:end]
        upper = token.upper() if kind == "word" else ""
        if not form and upper in _FORMS:
            form = upper
            j = i + 1
            if upper == "SELECT" and j < len(code) and text[code[j][1]:code[j][2]].upper() in ("DISTINCT", "REDUCED"):
                distinct = text[code[j][1]:code[j][2]].upper() == "DISTINCT"
                j += 1
            if upper == "SELECT" and j < len(code) and text[code[j][1]:code[j][2]] == "*":
                star = code[j][1], code[j][2]
            if upper == "CONSTRUCT" and j < len(code) and text[code[j][1]:code[j][2]] == "{":
                template = depth + 1
        elif upper == "SELECT" and _word_at(text, code, i + 1) in ("DISTINCT", "REDUCED", "") and "*" in (
                text[code[j][1]:code[j][2]] for j in (i + 1, i + 2) if j < len(code)):
            # a subquery projecting *: a fresh variable would be one of its columns (and DISTINCT would count it),
            # so its blank nodes stay as they are
            star_scopes.append(depth)
        elif upper == "WHERE" and text[code[i - 1][1]:code[i - 1][2]].upper() == "CONSTRUCT":
            template = 0  # CONSTRUCT WHERE: its pattern is its template, whose blank nodes stay
        elif upper in ("LIMIT", "OFFSET") and i + 1 < len(code) and code[i + 1][0] == "num":
            # the answer's own rows (the top-level SELECT's): one more than the row cap is all that is read
            most = cap + 1 if cap is not None and depth == 0 and form == "SELECT" else STORE_COUNT_MAX
            _, n_start, n_end = code[i + 1]
            digits = text[n_start:n_end]
            ceiling = most if upper == "LIMIT" else STORE_COUNT_MAX
            if digits.isdigit() and (len(digits) > 10 or int(digits) > ceiling):
                edits.append((n_start, n_end, str(ceiling)))
            if upper == "OFFSET" and not (_word_at(text, code, i - 2) == "LIMIT"
                                          or _word_at(text, code, i + 2) == "LIMIT"):
                edits.append((n_end, n_end, f" LIMIT {most}"))  # Virtuoso: OFFSET alone overflows
        elif token == "{":
            depth += 1
        elif token == "}":
            if depth == template and template > 0:
                template = -1
            depth -= 1
            while star_scopes and star_scopes[-1] > depth:
                star_scopes.pop()
        elif template < 0 and not star_scopes and kind == "pname" and token.startswith("_:"):
            label = token.rstrip(".")
            name = fresh.setdefault(label, f"?{prefix}{len(fresh)}")
            edits.append((start, start + len(label), name))
        elif template < 0 and not star_scopes and token == "[" and i + 1 < len(code) and (
                text[code[i + 1][1]:code[i + 1][2]] == "]"):
            name = f"?{prefix}{len(fresh)}"
            fresh[f"[{start}"] = name
            edits.append((start, code[i + 1][2], name))
            i += 1
        i += 1
    unexpanded = False
    if fresh and star is not None:
        if variables:
            edits.append((star[0], star[1], " ".join(f"?{v}" for v in variables)))
        else:  # nothing to project: the answer's columns are dropped when it is read back
            unexpanded = True
    return StoreQuery(_based(text, edits, base_iri), distinct=distinct and unexpanded)


def _word_at(text: str, code: list[tuple[str, int, int]], i: int) -> str:
    """The keyword at ``code[i]``, upper-cased ("" for another token or none)."""
    return text[code[i][1]:code[i][2]].upper() if 0 <= i < len(code) and code[i][0] == "word" else ""


def _based(text: str, edits: list[tuple[int, int, str]], base_iri: str | None) -> str:
    """``text`` with ``edits`` (start, end, replacement) applied, after a BASE line for ``base_iri``."""
    out, pos = [], 0
    for start, end, new in sorted(edits):
        out.append(text[pos:start])
        out.append(new)
        pos = end
    out.append(text[pos:])
    return (f"BASE <{base_iri}>\n" if base_iri else "") + "".join(out)
