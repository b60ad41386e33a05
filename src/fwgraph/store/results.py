"""Serialise query results: SPARQL JSON, XML, CSV, TSV and text tables; RDF formats for graph results."""

from __future__ import annotations

import csv
import io
import itertools
import json
from dataclasses import dataclass, field
from typing import IO, Any
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox
from rdflib import Graph

from fwgraph.core import formats
from fwgraph.core.formats import Format
from fwgraph.core.markup import render
from fwgraph.core.namespace import bind_prefixes

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"

Term = Any  # a pyoxigraph NamedNode, BlankNode or Literal


@dataclass
class QueryResult:
    """A query's result in engine-neutral form (pyoxigraph terms), capped at a row limit."""

    form: str  # select | ask | construct | describe
    variables: list[str] = field(default_factory=list)
    rows: list[tuple[Term | None, ...]] = field(default_factory=list)
    boolean: bool | None = None
    triples: list[ox.Triple] = field(default_factory=list)
    truncated: bool = False

    @property
    def is_graph(self) -> bool:
        return self.form in ("construct", "describe")

    def __len__(self) -> int:
        return len(self.triples) if self.is_graph else len(self.rows)

    def head(self, n: int) -> QueryResult:
        """The first ``n`` rows (or triples), flagged truncated."""
        return QueryResult(form=self.form, variables=self.variables, rows=self.rows[:n], boolean=self.boolean,
                           triples=self.triples[:n], truncated=True)

    def projected(self, variables: list[str], distinct: bool = False) -> QueryResult:
        """The rows on ``variables``, in that order (a column missing here is unbound; one not named is dropped,
        as Virtuoso's ``_star_fake`` for ``SELECT * {}``); with ``distinct``, rows repeated after that dropped.

        >>> r = QueryResult("select", ["_star_fake"], [(ox.Literal("1"),), (ox.Literal("1"),)])
        >>> r.projected([]).rows, r.projected([], distinct=True).rows
        ([(), ()], [()])
        """
        if variables == self.variables:
            return self
        where = [self.variables.index(v) if v in self.variables else None for v in variables]
        rows = [tuple(None if i is None else row[i] for i in where) for row in self.rows]
        if distinct:
            rows = list(dict.fromkeys(rows))
        return QueryResult(form=self.form, variables=list(variables), rows=rows, truncated=self.truncated)



def capped(iterable: Any, max_rows: int, max_bytes: int | None = None) -> tuple[list[Any], bool]:
    """The first ``max_rows`` items, and whether there were more; with ``max_bytes``, only as many as their
    terms' sizes fit in it (a result of long literals stops there, not after 1 GB of rows in memory)."""
    if max_bytes is None:
        items = list(itertools.islice(iterable, max_rows + 1))
    else:
        items, total = [], 0
        for item in itertools.islice(iterable, max_rows + 1):
            total += sum(_term_bytes(t) for t in item) if isinstance(item, tuple) else _term_bytes(item)
            if total > max_bytes:
                return items, True
            items.append(item)
    if len(items) > max_rows:
        return items[:max_rows], True
    return items, False


def result_from_bytes(form: str, body: bytes | IO[bytes], *, max_rows: int | None = None,
                      truncated: bool = False) -> QueryResult:
    """A QueryResult read back from an answer (bytes, or a stream read only as far as the cap): N-Triples for
    graph forms, SPARQL Results JSON otherwise.

    With ``max_rows``, the rows (or triples) beyond it are dropped and the result is flagged truncated.
    """
    cap = max_rows if max_rows is not None else 2 ** 62
    if form in ("construct", "describe"):
        triples, cut = capped((ox.Triple(q.subject, q.predicate, q.object)
                                for q in ox.parse(body, format=ox.RdfFormat.N_TRIPLES)), cap)
        return QueryResult(form=form, triples=triples, truncated=truncated or cut)
    parsed = ox.parse_query_results(io.BytesIO(body) if isinstance(body, bytes) else body,
                                    format=ox.QueryResultsFormat.JSON)
    if isinstance(parsed, ox.QueryBoolean):
        return QueryResult(form="ask", boolean=bool(parsed))
    variables = [v.value for v in parsed.variables]
    rows, cut = capped((tuple(s[i] for i in range(len(variables))) for s in parsed), cap)
    return QueryResult(form="select", variables=variables, rows=rows, truncated=truncated or cut)


def row_count(body: bytes, fmt: Format | str) -> int | None:
    """The number of solutions in a SELECT answer serialised in ``fmt``, or None when it cannot be told
    without a full parse (CSV: a quoted value may hold a line break)."""
    fmt = _answer_format(fmt)
    if fmt is formats.SPARQL_JSON:
        return len(json.loads(body)["results"]["bindings"])
    if fmt is formats.SPARQL_XML:
        return body.count(b"<result>")  # values are escaped: "<result>" is only ever the element
    if fmt is formats.TSV:
        return body.count(b"\n") - 1  # a header line, then one line per solution (line breaks are escaped)
    return None


def _json_term(term: Term) -> dict[str, str]:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    out = {"type": "literal", "value": term.value}
    if term.language:
        out["xml:lang"] = term.language
    elif term.datatype.value != XSD_STRING:
        out["datatype"] = term.datatype.value
    return out


def to_json(result: QueryResult) -> bytes:
    """application/sparql-results+json (SPARQL 1.1 Query Results JSON Format)."""
    if result.form == "ask":
        doc: dict[str, Any] = {"head": {}, "boolean": bool(result.boolean)}
    else:
        bindings = [{v: _json_term(t) for v, t in zip(result.variables, row, strict=False) if t is not None}
                    for row in result.rows]
        doc = {"head": {"vars": result.variables}, "results": {"bindings": bindings}}
    if result.truncated:
        doc["head"]["link"] = ["urn:fwgraph:truncated"]
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _xml_term(term: Term) -> str:
    if isinstance(term, ox.NamedNode):
        return f"<uri>{escape(term.value)}</uri>"
    if isinstance(term, ox.BlankNode):
        return f"<bnode>{escape(term.value)}</bnode>"
    if term.language:
        return f"<literal xml:lang={quoteattr(term.language)}>{escape(term.value)}</literal>"
    if term.datatype.value != XSD_STRING:
        return f"<literal datatype={quoteattr(term.datatype.value)}>{escape(term.value)}</literal>"
    return f"<literal>{escape(term.value)}</literal>"


def to_xml(result: QueryResult) -> bytes:
    """application/sparql-results+xml (SPARQL Query Results XML Format)."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">\n<head>']
    for v in result.variables:
        out.append(f"<variable name={quoteattr(v)}/>")
    if result.truncated:
        out.append('<link href="urn:fwgraph:truncated"/>')
    out.append("</head>\n")
    if result.form == "ask":
        out.append(f"<boolean>{'true' if result.boolean else 'false'}</boolean>\n")
    else:
        out.append("<results>\n")
        for row in result.rows:
            out.append("<result>")
            for v, t in zip(result.variables, row, strict=False):
                if t is not None:
                    out.append(f"<binding name={quoteattr(v)}>{_xml_term(t)}</binding>")
            out.append("</result>\n")
        out.append("</results>\n")
    out.append("</sparql>\n")
    return "".join(out).encode("utf-8")


def _plain(term: Term | None) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    return term.value


def to_csv(result: QueryResult) -> bytes:
    """text/csv (SPARQL 1.1 Query Results CSV): plain values, CRLF line ends."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    if result.form == "ask":
        writer.writerow(["_askResult"])
        writer.writerow(["true" if result.boolean else "false"])
    else:
        writer.writerow(result.variables)
        for row in result.rows:
            writer.writerow([_plain(t) for t in row])
    return buf.getvalue().encode("utf-8")


def _tsv_term(term: Term | None) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        return f"<{term.value}>"
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    return str(term)  # pyoxigraph renders literals in N-Triples/Turtle syntax, as TSV requires


def to_tsv(result: QueryResult) -> bytes:
    """text/tab-separated-values (SPARQL 1.1 Query Results TSV): terms in Turtle syntax."""
    if result.form == "ask":
        return b"?_askResult\n" + (b"true\n" if result.boolean else b"false\n")
    lines = ["\t".join(f"?{v}" for v in result.variables)]
    lines += ["\t".join(_tsv_term(t) for t in row) for row in result.rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


SELECT_WRITERS = {formats.SPARQL_JSON: to_json, formats.SPARQL_XML: to_xml, formats.CSV: to_csv, formats.TSV: to_tsv}


def to_rdflib(triples: list[ox.Triple]) -> Graph:
    """The triples as an rdflib graph (for JSON-LD compaction)."""
    graph = bind_prefixes(Graph())
    if triples:
        graph.parse(data=ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES), format="nt")
    return graph


def stable_blank_nodes(triples: list[ox.Triple]) -> list[ox.Triple]:
    """``triples`` with each blank node named by what surrounds it (:mod:`fwgraph.data.bnodes`): a store's own
    labels differ between processes and loads, and the bytes served must not."""
    from fwgraph.data.bnodes import labels

    names = labels(((t.subject, t.predicate, t.object) for t in triples),
                   lambda term: isinstance(term, ox.BlankNode))
    if not names:
        return triples
    nodes = {old: ox.BlankNode(new) for old, new in names.items()}
    return [ox.Triple(nodes.get(t.subject, t.subject), t.predicate, nodes.get(t.object, t.object)) for t in triples]


def graph_bytes(triples: list[ox.Triple], fmt: Format | str, jsonld_form: str = "compacted") -> bytes:
    """Serialise graph results: Turtle, N-Triples (sorted), RDF/XML by Oxigraph; JSON-LD compacted with the
    context, or expanded/flattened (``jsonld_form``, from the client's profile). Blank nodes are labelled by
    their content, so the same triples give the same bytes everywhere."""
    fmt = _answer_format(fmt)
    triples = stable_blank_nodes(triples)
    if fmt is formats.JSONLD:
        from fwgraph.data.jsonld import to_jsonld

        return to_jsonld(to_rdflib(triples), form=jsonld_form)
    if fmt is formats.NTRIPLES:
        return b"".join(sorted(f"{t} .\n".encode() for t in triples))
    from fwgraph.core.namespace import PREFIXES

    # In a fixed order, each subject's statements together: Turtle writes one block per subject, not per triple.
    ordered = sorted(triples, key=lambda t: (str(t.subject), str(t.predicate), str(t.object)))
    return ox.serialize(ordered, format=fmt.ox_rdf(), prefixes=PREFIXES) or b""


def rdf_bytes(graph: Graph, fmt: Format | str, jsonld_form: str = "compacted") -> bytes:
    """An rdflib graph in an RDF format (the same serialisers as :func:`graph_bytes`)."""
    fmt = _answer_format(fmt)
    if fmt is formats.JSONLD:
        from fwgraph.data.jsonld import to_jsonld

        return to_jsonld(graph, form=jsonld_form)
    nt = graph.serialize(format="nt", encoding="utf-8")
    return graph_bytes([ox.Triple(q.subject, q.predicate, q.object)
                        for q in ox.parse(nt, format=ox.RdfFormat.N_TRIPLES)], fmt)


def table(result: QueryResult, width: int | None = None) -> str:
    """A plain-text table for the terminal (graph results print as Turtle)."""
    if result.form == "ask":
        return "yes\n" if result.boolean else "no\n"
    if result.is_graph:
        return graph_bytes(result.triples, "turtle").decode("utf-8")
    cells = [[_plain(t) for t in row] for row in result.rows]
    widths = [max([len(v)] + [len(r[i]) for r in cells]) for i, v in enumerate(result.variables)]
    sep = "  "
    out = [sep.join(v.ljust(w) for v, w in zip(result.variables, widths, strict=False)).rstrip(),
           sep.join("-" * w for w in widths)]
    out += [sep.join(c.ljust(w) for c, w in zip(row, widths, strict=False)).rstrip() for row in cells]
    footer = f"({len(result.rows)} row{'s' if len(result.rows) != 1 else ''}"
    footer += ", truncated)" if result.truncated else ")"
    return "\n".join(out + [footer]) + "\n"


def _html_cell(term: Term | None) -> dict[str, str | bool | None]:
    """What the results page shows of one term (tests and the template read the same keys)."""
    cell: dict[str, str | bool | None] = {"kind": "none", "text": "", "link": False, "language": None,
                                          "datatype": None}
    if isinstance(term, ox.NamedNode):
        cell.update(kind="iri", text=term.value, link=term.value.startswith(("http://", "https://")))
    elif isinstance(term, ox.BlankNode):
        cell.update(kind="blank", text=term.value)
    elif term is not None:
        cell.update(kind="literal", text=term.value, language=term.language or None,
                    datatype=term.datatype.value if not term.language and term.datatype.value != XSD_STRING else None)
    return cell


def to_html(result: QueryResult, query: str = "", max_rows: int | None = None) -> bytes:
    """A standalone HTML page with the result table (every value escaped): templates/results.html."""
    rows = [[_html_cell(t) for t in row] for row in result.rows] if result.form != "ask" else []
    return render("results.html", query=query, truncated=result.truncated, count=len(result), max_rows=max_rows,
                  form=result.form, boolean=result.boolean, variables=result.variables, rows=rows).encode("utf-8")


def _answer_format(fmt: Format | str) -> Format:
    if isinstance(fmt, Format):
        return fmt
    found = formats.by_name(fmt, formats.ANSWER_FORMATS)
    if found is None:
        raise ValueError(f"unknown answer format {fmt!r}")
    return found


def _term_bytes(term: Any) -> int:
    """About how many bytes ``term`` takes in any answer format (its value, datatype or language)."""
    if term is None:
        return 0
    if isinstance(term, ox.Triple):
        return _term_bytes(term.subject) + _term_bytes(term.predicate) + _term_bytes(term.object)
    size = len(term.value) + 8
    if isinstance(term, ox.Literal):
        size += len(term.datatype.value) + len(term.language or "")
    return size


def _within(items: list[Any], budget: int) -> int:
    """How many of the first ``items`` (rows or triples) fit in ``budget`` bytes, by their terms' sizes."""
    total = 0
    for n, item in enumerate(items):
        total += sum(_term_bytes(t) for t in item) if isinstance(item, tuple) else _term_bytes(item)
        if total > budget:
            return n
    return len(items)


def serialise_within(result: QueryResult, fmt: Format | str, *, query: str = "", max_rows: int | None = None,
                     max_bytes: int | None = None) -> tuple[str, bytes, bool]:
    """:func:`serialise`, cut to the first rows (or triples) whose answer fits in ``max_bytes``:
    (Content-Type, body, whether the byte cap cut it). A 2 KB query can make a 1 GB answer (REPLACE, long
    literals) within the row cap; the sizes of the terms tell, before anything is written, how many rows fit,
    and halving while the written answer is still over (escapes, markup) ends in a few rounds.

    >>> r = QueryResult(form="select", variables=["x"], rows=[(ox.Literal("a" * 1000),)] * 100)
    >>> ctype, body, cut = serialise_within(r, "json", max_bytes=10_000)
    >>> cut, len(body) <= 10_000, body.count(b'"value"')
    (True, True, 9)
    """
    keep = len(result) if max_bytes is None else _within(result.triples if result.is_graph else result.rows,
                                                            max_bytes)
    cut = keep < len(result)
    while True:
        ctype, body = serialise(result.head(keep) if cut else result, fmt, query=query, max_rows=max_rows)
        if max_bytes is None or len(body) <= max_bytes or keep == 0:
            return ctype, body, cut
        keep, cut = keep // 2, True


def serialise(result: QueryResult, fmt: Format | str, *, query: str = "",
              max_rows: int | None = None) -> tuple[str, bytes]:
    """``result`` in output format ``fmt`` (a Format or its short name): (Content-Type, body).

    Graph results that were truncated say so in a comment (Turtle, N-Triples); every format also
    gets the truncation headers from the web layer.
    """
    fmt = _answer_format(fmt)
    if result.is_graph:
        if fmt not in formats.RDF_FORMATS:
            raise ValueError(f"format {fmt.name!r} is not available for {result.form.upper()} results")
        body = graph_bytes(result.triples, fmt)
        if result.truncated and fmt in (formats.TURTLE, formats.NTRIPLES):
            body = (f"# truncated: only the first {len(result.triples)} triples (answer limit)\n").encode() + body
        return fmt.content_type, body
    if fmt is formats.HTML:
        return fmt.content_type, to_html(result, query, max_rows)
    if fmt not in SELECT_WRITERS:
        raise ValueError(f"format {fmt.name!r} is not available for {result.form.upper()} results")
    return fmt.content_type, SELECT_WRITERS[fmt](result)
