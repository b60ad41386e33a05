"""Check SPARQL query text before evaluation: its form, and what a read-only public service refuses."""

from __future__ import annotations

import re
from dataclasses import dataclass

from fwgraph.errors import QueryError, RefusedQuery

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
    out: list[str] = []
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
        if kind in _BLANKED:
            out.append(_blank_text(token))
        elif kind == "iri":
            out.append("<" + " " * (len(token) - 2) + ">")
        else:
            out.append(token)
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
    return "".join(out)


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


def readings(text: str) -> list[tuple[str, str]]:
    """``(text, code)`` for every way an engine may read the query: as pyoxigraph does, and, when it holds
    codepoint escapes, with them decoded first; ``code`` is the text masked by :func:`mask`."""
    if "\\u" in text or "\\U" in text:
        decoded = decode_codepoints(text)
        return [(text, mask(text)), (decoded, mask(decoded))]
    return [(text, mask(text))]


def keywords(text: str) -> list[tuple[str, int]]:
    """Bare words of ``text`` outside comments, strings and IRIs, upper-cased, with their offsets."""
    return [(m.group(1).upper(), m.start(1)) for m in _WORD.finditer(mask(text))]


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
    form = None
    for n, (source, code) in enumerate(readings(text)):
        words = [(m.group(1).upper(), m.start(1)) for m in _WORD.finditer(code)]
        if n == 0:  # the engine's reading decides the form
            form = _form(words, source)
        _refuse(words, source, allow_dataset)
    assert form is not None
    return PreparedQuery(text=text, form=form)


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
        if word in _UPDATES and _looks_like_update(words, word):
            line, col = _line_col(source, offset)
            raise RefusedQuery(f"SPARQL Update ({word}) is not allowed: this is a read-only endpoint",
                               line=line, column=col, reason="update")


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
    for _, code in readings(text):
        _check_code(code)


def _check_code(stripped: str) -> None:
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
    r"(?:\s++|#[^\r\n]*+|PREFIX\s*+[A-Za-z0-9_.\-]*+:\s*+<[^<>\"{}|^`\\\x00-\x20]*+>"
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
