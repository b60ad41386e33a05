"""Query engines behind one small interface: Oxigraph in memory (serving), rdflib (reference), a remote store."""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pyoxigraph as ox
from rdflib import Graph
from rdflib.plugins.sparql.processor import SPARQLProcessor

from fwgraph.core.errors import InputError, QueryError
from fwgraph.core.namespace import PREFIXES
from fwgraph.data.convert import from_ox, to_ox
from fwgraph.data.graph import load_store
from fwgraph.data.querycheck import PreparedQuery, lex, prepare, undeclared
from fwgraph.store.results import QueryResult, capped, serialise_within

#: Who the current request asks for: the key waiting requests are served by, set by the web layer around a
#: query (:func:`asking`); requests that set none share one key, and are served first come, first served.
ASKING: ContextVar[str] = ContextVar("fwgraph_pool_asking", default="")


@contextmanager
def asking(client: str) -> Iterator[None]:
    """Queries in this block wait for a worker as ``client``'s (see :class:`fwgraph.store.pool._IdleWorkers`)."""
    token = ASKING.set(client)
    try:
        yield
    finally:
        ASKING.reset(token)


#: The time limit of the queries in a block that has its own (:func:`own_time_limit`): a web process's warm-up,
#: whose whole-graph queries are no request's and must not meet a request's limit on a loaded server. None: the
#: engine's own limit (a request's).
TIME_LIMIT: ContextVar[float | None] = ContextVar("fwgraph_time_limit", default=None)


@contextmanager
def own_time_limit(seconds: float) -> Iterator[None]:
    """Queries in this block wait for a worker and run for at most ``seconds`` each, instead of the engine's
    limit for requests (a worker engine enforces it the same way: the worker is killed past it)."""
    token = TIME_LIMIT.set(seconds)
    try:
        yield
    finally:
        TIME_LIMIT.reset(token)


@dataclass(frozen=True)
class Answer:
    """A serialised query answer: what the web layer sends as is (and caches)."""

    status: int
    content_type: str
    body: bytes
    truncated: bool = False
    message: str | None = None  # for errors (status >= 400)
    cut_bytes: bool = False  # truncated by the byte cap (``truncated`` is then true too)
    line: int | None = None
    column: int | None = None

    @classmethod
    def error(cls, exc: QueryError) -> Answer:
        return cls(400, "", b"", message=exc.message, line=exc.line, column=exc.column)


#: Values for a query's variables, by name without ``?``: one RDF term each (an IRI as a ``pyoxigraph.NamedNode``,
#: which refuses what is no IRI). A query that names a resource takes it here, never spliced into its text.
Bindings = Mapping[str, "ox.NamedNode | ox.Literal"]
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def iri_term(iri: str) -> ox.NamedNode | None:
    """``iri`` as a term to bind, or None when it is no IRI (a space, ``>``, ``{``...: it names nothing here).

    >>> iri_term("https://w3id.org/fwgraph/framework/flask"), iri_term("x> } ?s ?p ?o {")
    (<NamedNode value=https://w3id.org/fwgraph/framework/flask>, None)
    """
    try:
        return ox.NamedNode(iri)
    except ValueError:
        return None


def bound(query: PreparedQuery, bindings: Bindings | None) -> PreparedQuery:
    """``query`` with ``bindings`` as its trailing VALUES clause, for an engine that receives query text (the
    pool's workers, a remote store): each term is written by pyoxigraph, so no value can end its term and change
    the query. The embedded engine substitutes instead (SEP-0007), with the same answers for the queries that
    bind a resource they describe or select."""
    if not bindings:
        return query
    names = list(bindings)
    if not all(_VARIABLE.fullmatch(n) for n in names):
        raise QueryError(f"not a variable name among {names!r}")
    clause = " ".join(f"?{n}" for n in names), " ".join(str(bindings[n]) for n in names)
    return PreparedQuery(f"{query.text}\nVALUES ({clause[0]}) {{ ({clause[1]}) }}", query.form)


def substituted(query: PreparedQuery, bindings: Bindings | None) -> PreparedQuery:
    """``query`` with each variable token of ``bindings`` replaced by its term as pyoxigraph writes it (found by
    the lexer, so never inside a string, an IRI or a comment): for a DESCRIBE sent to a store that takes no
    trailing VALUES after one (Virtuoso 7). A variable of a SELECT's projection takes :func:`bound` instead.

    >>> substituted(PreparedQuery('DESCRIBE ?r WHERE {} # ?r', "describe"), {"r": ox.NamedNode("http://e/x")}).text
    'DESCRIBE <http://e/x> WHERE {} # ?r'
    """
    if not bindings:
        return query
    text, out, pos = query.text, [], 0
    for kind, start, end in lex(query.text):
        term = bindings.get(text[start + 1:end]) if kind == "var" else None
        if term is not None:
            out += [text[pos:start], str(term)]
            pos = end
    return PreparedQuery("".join(out) + text[pos:], query.form)


class Engine(Protocol):
    """What the server and the CLI need of a query engine.

    ``timeout`` is the time limit the engine enforces (seconds), or None when it cannot stop a query.
    """

    version: str

    @property
    def timeout(self) -> float | None: ...

    def query(self, query: PreparedQuery, *, max_rows: int, bindings: Bindings | None = None) -> QueryResult: ...

    def execute(self, query: PreparedQuery, *, max_rows: int, fmt: str, max_bytes: int | None = None) -> Answer: ...

    def check(self, query: PreparedQuery) -> QueryError | None:
        """The parser's error for ``query`` (line and column), or None when it parses; bounded like a query."""
        ...


class InProcessEngine:
    """An engine that evaluates in the calling process: ``execute`` serialises its own ``query`` result."""

    version: str = ""
    timeout: float | None = None  # nothing can stop a query running in this process

    def query(self, query: PreparedQuery, *, max_rows: int, bindings: Bindings | None = None) -> QueryResult:
        raise NotImplementedError

    def check(self, query: PreparedQuery) -> QueryError | None:
        """The parser's error for the query, or None: in this process, which has no time limit."""
        return parse_error(query.text, getattr(self, "base_iri", None))

    def collect(self, query: PreparedQuery, *, max_rows: int, max_bytes: int | None) -> QueryResult:
        """The result to serialise; an engine that can stop collecting rows at ``max_bytes`` does so."""
        return self.query(query, max_rows=max_rows)

    def execute(self, query: PreparedQuery, *, max_rows: int, fmt: str, max_bytes: int | None = None) -> Answer:
        """The answer in format ``fmt`` (a short name), at most ``max_bytes`` long; errors as a 400 answer."""
        try:
            result = self.collect(query, max_rows=max_rows, max_bytes=max_bytes)
        except QueryError as exc:
            return Answer.error(exc)
        ctype, body, cut = serialise_within(result, fmt, query=query.text, max_rows=max_rows, max_bytes=max_bytes)
        # rows cut while collecting, fewer than the row cap: the byte cap cut them
        cut = cut or (result.truncated and max_bytes is not None and len(result) < max_rows)
        return Answer(200, ctype, body, truncated=result.truncated or cut, cut_bytes=cut)


def parser_error(exc: SyntaxError, text: str | None = None) -> QueryError:
    """Oxigraph's SyntaxError as a QueryError with line and column, its message in words (``text``: the query,
    to name what stands at the error) rather than the parser's grammar dump."""
    import re

    message = str(exc)
    m = re.search(r"error at (\d+):(\d+): (.*)", message, re.S)
    if not m:
        return QueryError(f"syntax error: {message}")
    line, column = int(m.group(1)), int(m.group(2))
    missing = undeclared(text, PREFIXES) if text is not None else []
    if missing:
        name = missing[0]
        detail = (f"the prefix '{name}:' is not declared: add PREFIX {name}: <…> (fwgraph itself declares fw:, "
                  f"rdfs:, doap:, schema: and the {len(PREFIXES) - 4} other prefixes its editor lists)")
    else:
        detail = explain(m.group(3), _at(text, line, column))
    return QueryError(f"syntax error: {detail}", line=line, column=column)


#: At most this many expected tokens are listed (the parser can list dozens of function names).
_EXPECTED_SHOWN = 8


def _at(text: str | None, line: int, column: int) -> str | None:
    """The word at ``line``:``column`` (1-based) of ``text``; "" at its end; None when unknown."""
    import re

    if text is None:
        return None
    lines = text.split("\n")
    if line > len(lines):
        return ""
    rest = lines[line - 1][max(column - 1, 0):]
    word = re.match(r"\s*([^\s{}()]+|.)?", rest)
    return (word.group(1) or "") if word else ""


def _expected(item: str) -> str:
    """One thing the parser expected, in words: a keyword or a quoted character as written; a class of
    characters (a grammar detail, not what a person types) left out."""
    if item.startswith("['") and item.endswith("']") and len(item) == 5:
        return f'"{item[2]}"'
    if item == "['0'..='9']":
        return "a number"
    if item.startswith("[") or item in ("IRI parsing failed", "Prefix not found"):
        return ""
    return item


def explain(detail: str, found: str | None = None) -> str:
    """The parser's ``expected one of …`` as a sentence: an IRI that cannot be read named as such, classes of
    characters in words or left out, long lists cut.

    >>> explain("expected one of HAVING, OFFSET, ['0'..='9']", "x")
    "unexpected 'x': expected HAVING, OFFSET or a number"
    >>> explain("expected one of ['%'], [':'], [_]", "")
    'unexpected end of the query: expected "%" or ":"'
    """
    if "IRI parsing failed" in detail:
        return "an IRI that cannot be read (an IRI in <…> holds no spaces, quotes or braces)"
    items = detail.removeprefix("expected one of ").removeprefix("expected ").split(", ")
    words: list[str] = []
    for item in items:
        word = _expected(item)
        if word and word not in words:
            words.append(word)
    if len(words) > _EXPECTED_SHOWN:
        words = [*words[:_EXPECTED_SHOWN], f"{len(words) - _EXPECTED_SHOWN} more"]
    head = "unexpected end of the query" if found == "" else f"unexpected {found!r}" if found else "cannot read on"
    if not words:
        return head
    expected = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]
    return f"{head}: expected {expected}"


def parse_error(text: str, base_iri: str | None = None) -> QueryError | None:
    """The parser's error for ``text`` (with line and column), or None when it parses, decided in this process.

    pyoxigraph parses, plans and (for ASK) evaluates at ``query()``, with no time limit: only for the caller's
    own queries (the CLI, an engine without workers); the server decides it in a killable worker
    (``WorkerPool.check``).

    >>> parse_error("SELECT * WHERE { ?s ?p }").line
    1
    >>> parse_error("ASK {}") is None
    True
    """
    try:
        ox.Store().query(text, base_iri=base_iri, prefixes=PREFIXES)
    except SyntaxError as exc:
        return parser_error(exc, text)
    except Exception:  # noqa: BLE001  (evaluation errors are not syntax errors)
        return None
    return None


class OxigraphEngine(InProcessEngine):
    """pyoxigraph's store (in memory, or on disk read-only): the engine the query workers run."""

    def __init__(self, store: ox.Store, version: str = "", base_iri: str | None = None) -> None:
        self.store = store
        self.version = version
        self.base_iri = base_iri or None  # relative IRIs in a query resolve against it (the endpoint's IRI)

    @classmethod
    def from_file(cls, path: Path | str, version: str = "", base_iri: str | None = None) -> OxigraphEngine:
        """An engine over a dump loaded into memory, or over an on-disk Oxigraph store opened read-only."""
        path = Path(path)
        if path.is_dir():
            return cls(ox.Store.read_only(str(path)), version, base_iri)
        store = ox.Store()
        fmt = ox.RdfFormat.N_TRIPLES if path.suffix == ".nt" else ox.RdfFormat.TURTLE
        # bulk_extend keeps the dump's blank-node labels (bulk_load draws new random ones per load): every
        # process that loads the same dump then orders and labels blank nodes alike, as the dump does.
        store.bulk_extend(ox.parse(path=str(path), format=fmt))
        return cls(store, version, base_iri)

    @classmethod
    def from_graph(cls, graph: Graph, version: str = "") -> OxigraphEngine:
        store = ox.Store()
        store.bulk_load(graph.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES)
        return cls(store, version)

    @classmethod
    def from_sources(cls, root: Path | str | None = None, version: str = "") -> OxigraphEngine:
        """The ontology and data of ``root`` (default: the shipped sources), parsed straight into the store."""
        return cls(load_store(root), version)

    def query(self, query: PreparedQuery, *, max_rows: int, max_bytes: int | None = None,
              bindings: Bindings | None = None) -> QueryResult:
        """The result, at most ``max_rows`` rows and (by its terms' sizes) ``max_bytes`` bytes; ``bindings``
        substituted for their variables (pyoxigraph's substitutions)."""
        substitutions: dict[ox.Variable, Any] | None = ({ox.Variable(k): v for k, v in bindings.items()}
                                                          if bindings else None)
        try:
            result = self.store.query(query.text, base_iri=self.base_iri, prefixes=PREFIXES,
                                      substitutions=substitutions)
        except SyntaxError as exc:
            raise parser_error(exc, query.text) from None
        if isinstance(result, ox.QueryBoolean):
            return QueryResult(form="ask", boolean=bool(result))
        if isinstance(result, ox.QuerySolutions):
            variables = [v.value for v in result.variables]
            rows, truncated = capped((tuple(s[i] for i in range(len(variables))) for s in result), max_rows,
                                     max_bytes)
            return QueryResult(form="select", variables=variables, rows=rows, truncated=truncated)
        triples, truncated = capped(result, max_rows, max_bytes)
        return QueryResult(form=query.form, triples=triples, truncated=truncated)

    def collect(self, query: PreparedQuery, *, max_rows: int, max_bytes: int | None) -> QueryResult:
        """Rows past the byte cap are never held (a 1 GB result of long literals stops at the cap)."""
        return self.query(query, max_rows=max_rows, max_bytes=max_bytes)


class RdflibEngine(InProcessEngine):
    """rdflib's SPARQL engine over an rdflib graph: slow, kept as the reference the tests compare with.

    SERVICE and FROM are refused by ``prepare`` before rdflib sees the query; rdflib would follow both.
    """

    def __init__(self, graph: Graph, version: str = "") -> None:
        self.graph = graph
        self.version = version

    def query(self, query: PreparedQuery, *, max_rows: int, bindings: Bindings | None = None) -> QueryResult:
        initial = {k: from_ox(v) for k, v in bindings.items()} if bindings else None
        try:
            # rdflib's own processor, named: the "sparql" plugin may be fwgraph's validation processor, which
            # validation registers for the whole process (pySHACL looks the plugin up by name).
            result = self.graph.query(query.text, processor=SPARQLProcessor(self.graph), initNs=PREFIXES,
                                      initBindings=initial)
        except Exception as exc:  # rdflib raises pyparsing errors and plain exceptions
            raise QueryError(f"syntax error: {exc}") from None
        if result.type == "ASK":
            return QueryResult(form="ask", boolean=bool(result.askAnswer))
        if result.type == "SELECT":
            variables = [str(v) for v in result.vars or ()]
            rows, truncated = capped((tuple(to_ox(t) for t in row) for row in result), max_rows)  # type: ignore[union-attr]
            return QueryResult(form="select", variables=variables, rows=rows, truncated=truncated)
        triples, truncated = capped(
            (ox.Triple(to_ox(s), to_ox(p), to_ox(o)) for s, p, o in result.graph or ()), max_rows)
        return QueryResult(form=query.form, triples=triples, truncated=truncated)


def run(engine: Engine, text: str, *, max_rows: int = 10_000, max_bytes: int | None = None,
        bindings: Bindings | None = None) -> QueryResult:
    """Check ``text`` and run it on ``engine`` with ``bindings`` for its variables."""
    return engine.query(prepare(text, max_bytes=max_bytes), max_rows=max_rows, bindings=bindings)


def store_triples(path: Path) -> int:
    """The number of triples in the on-disk store at ``path``, opened read-only; InputError when it cannot be read.

    Opening checks the store's files (their sizes, the manifest) and counting reads a whole index, so a
    truncated, missing or altered file shows here, not as a failing query later.
    """
    try:
        return len(ox.Store.read_only(str(path)))
    except (OSError, RuntimeError, ValueError) as exc:
        raise InputError(f"cannot be read ({str(exc).strip().splitlines()[0]})", source=str(path)) from None


def write_store(dump: Path, target: Path) -> None:
    """Load ``dump`` into a fresh on-disk Oxigraph store at ``target`` (replacing an older one)."""
    tmp = Path(tempfile.mkdtemp(prefix=".store-", dir=target.parent))
    store = ox.Store(str(tmp))
    store.bulk_extend(ox.parse(path=str(dump), format=ox.RdfFormat.N_TRIPLES))  # the dump's own blank-node labels
    store.optimize()
    store.flush()
    del store
    if target.exists():
        shutil.rmtree(target)
    tmp.rename(target)
