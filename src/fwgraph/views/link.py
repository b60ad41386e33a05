"""Identifier-based links to Wikidata, and through its English Wikipedia sitelinks to DBpedia: ``owl:sameAs``
proposals for a curator to review, found by an exact match of an identifier both sides hold (PyPI project P5568,
source code repository P1324, official website P856, each normalised), never by a label.

Wikidata is read in its full statement form (``p:``/``ps:``/``wikibase:rank``, as its query service and its RDF
dumps give it), so every proposal names the statement that matched. A deprecated statement is never matched (it
is reported); a normal-rank one is, as a preferred one (a project's former repository still identifies it).
Conflicts withhold a proposal and are reported: a record matching several items, an item matching several
records, a record already linked to another item, and a PyPI name or repository on both sides that disagree (a
different website is only a note: projects move their sites and Wikidata often names the repository there).
Bounded: our identifiers go to the endpoint in batches of VALUES, every answer is capped in rows and bytes and
every request in time. Nothing is written into data/.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DOAP, OWL, PROV, RDF, RDFS, SDO, XSD, Namespace

from fwgraph.core._version import __version__
from fwgraph.core.namespace import BASE, DBR, FW, WD, bind_prefixes
from fwgraph.store.engine import Engine, OxigraphEngine, run
from fwgraph.store.remote import RemoteEngine
from fwgraph.views.reconcile import pypi_name, url_key

#: Where a curator runs it for real.
WIKIDATA_ENDPOINT = "https://query.wikidata.org/sparql"
P = Namespace("http://www.wikidata.org/prop/")
PS = Namespace("http://www.wikidata.org/prop/statement/")
WIKIBASE = Namespace("http://wikiba.se/ontology#")
#: schema.org as Wikidata writes it (http:, where rdflib's SDO is https:), for sitelinks.
WDSCHEMA = Namespace("http://schema.org/")
ENWIKI = "https://en.wikipedia.org/"
#: Values sent in one query (each identifier in a few spellings: the query stays far below any URL or body limit).
BATCH = 100
MAX_ROWS = 10_000  # rows read from one answer at most
MAX_BYTES = 20_000_000  # bytes read from one answer at most
TIMEOUT = 60.0  # seconds for one request
AGENT = f"fwgraph/{__version__} (fwgraph link wikidata; https://w3id.org/fwgraph/)"


@dataclass(frozen=True)
class Identifier:
    """One kind of identifier both sides hold: the Wikidata property, our predicates (a SPARQL path), how values
    are compared (a key) and written (a literal, or an IRI for Wikidata's URL datatype)."""

    pid: str
    label: str
    path: str
    key: Callable[[str], str]
    iri: bool
    blocking: bool  # a disagreement withholds the proposal


IDENTIFIERS = (
    Identifier("P5568", "PyPI project", f"<{FW.pypiDistribution}>", pypi_name, iri=False, blocking=True),
    Identifier("P1324", "source code repository", f"<{SDO.codeRepository}>|<{DOAP.repository}>/<{DOAP.browse}>",
               url_key, iri=True, blocking=True),
    Identifier("P856", "official website", f"<{DOAP.homepage}>", url_key, iri=True, blocking=False),
)
BY_PID = {i.pid: i for i in IDENTIFIERS}


def spellings(identifier: Identifier, value: str) -> set[str]:
    """The forms of ``value`` Wikidata may hold, all with the same key: for a name its case and PEP 503 forms;
    for a URL http/https, with and without ``www.``, a trailing slash or ``.git``, as given and in lower case.

    >>> sorted(spellings(BY_PID["P5568"], "Flask_Login"))
    ['Flask-Login', 'Flask_Login', 'flask-login', 'flask_login']
    >>> len(spellings(BY_PID["P1324"], "https://github.com/Pylons/pyramid"))
    32
    """
    if not identifier.iri:
        forms = {value, value.lower(), pypi_name(value), value.replace("_", "-"), value.replace("-", "_")}
        return {f for f in (*forms, *(f.lower() for f in forms)) if identifier.key(f) == identifier.key(value)}
    bare = value.strip().split("://", 1)[-1].rstrip("/").removesuffix(".git")
    bare = bare[4:] if bare[:4].lower() == "www." else bare
    out = set()
    for host in (bare, bare.lower()):
        for scheme in ("https://", "http://"):
            for www in ("", "www."):
                for end in ("", "/", ".git", ".git/"):
                    out.add(f"{scheme}{www}{host}{end}")
    return {f for f in out if identifier.key(f) == identifier.key(value)}


def _term(identifier: Identifier, value: str) -> str | None:
    """``value`` as a SPARQL term; None for a form that is no valid IRI."""
    try:
        return str(ox.NamedNode(value)) if identifier.iri else str(ox.Literal(value))
    except ValueError:
        return None


@dataclass
class Record:
    """One of our resources with the identifiers it states and the links it has already."""

    iri: str
    values: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # pid -> values as stated
    same_as: set[str] = field(default_factory=set)

    def keys(self, pid: str) -> set[str]:
        return {BY_PID[pid].key(v) for v in self.values.get(pid, ())}


@dataclass(frozen=True)
class Statement:
    """A Wikidata statement: its item, property, value, rank and IRI (the provenance of a proposal)."""

    item: str
    pid: str
    value: str
    rank: str
    iri: str
    value_is_iri: bool

    @property
    def deprecated(self) -> bool:
        return self.rank == str(WIKIBASE.DeprecatedRank)


def records(engine: Engine) -> dict[str, Record]:
    """Our resources that state at least one of the identifiers, with their values and owl:sameAs links."""
    out: dict[str, Record] = {}
    for identifier in IDENTIFIERS:
        rows = run(engine, f"SELECT ?s ?v WHERE {{ ?s {identifier.path} ?v FILTER(isIRI(?s)) }}",
                   max_rows=1_000_000).rows
        for s, v in rows:
            if s is not None and v is not None and s.value.startswith(BASE):
                out.setdefault(s.value, Record(s.value)).values[identifier.pid].add(v.value)
    for s, o in run(engine, f"SELECT ?s ?o WHERE {{ ?s <{OWL.sameAs}> ?o }}", max_rows=1_000_000).rows:
        if s is not None and o is not None and s.value in out:
            out[s.value].same_as.add(o.value)
    return out


def _batches(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


_PROLOGUE = f"PREFIX p: <{P}>\nPREFIX ps: <{PS}>\nPREFIX wikibase: <{WIKIBASE}>\nPREFIX schema: <{WDSCHEMA}>\n"


def _statements(rows: Iterable[tuple], pid: str | None = None) -> list[Statement]:
    """Rows ``?item ?statement ?value ?rank`` (then ``?pid`` unless ``pid`` is given) as statements."""
    out = []
    for row in rows:
        item, statement, value, rank = row[:4]
        if item is None or statement is None or value is None:
            continue
        out.append(Statement(item.value, pid or row[4].value, value.value, rank.value if rank is not None else "",
                             statement.value, isinstance(value, ox.NamedNode)))
    return out


def matching_statements(wikidata: Engine, ours: dict[str, Record], batch: int = BATCH) -> list[Statement]:
    """Every statement (of any rank) whose value is a spelling of one of our identifiers: VALUES in batches."""
    found: list[Statement] = []
    for identifier in IDENTIFIERS:
        terms = sorted({t for r in ours.values() for v in r.values.get(identifier.pid, ())
                        for s in spellings(identifier, v) if (t := _term(identifier, s)) is not None})
        for chunk in _batches(terms, batch):
            text = (f"{_PROLOGUE}SELECT ?item ?statement ?value ?rank WHERE {{\n"
                    f"  VALUES ?value {{ {' '.join(chunk)} }}\n"
                    f"  ?statement ps:{identifier.pid} ?value .\n  ?item p:{identifier.pid} ?statement .\n"
                    "  OPTIONAL { ?statement wikibase:rank ?rank }\n}")
            found += _statements(_rows(wikidata, text), identifier.pid)
    return found


def item_statements(wikidata: Engine, items: Iterable[str], batch: int = BATCH) -> list[Statement]:
    """Every statement of the three properties on ``items`` (to see where the two sides disagree)."""
    pairs = " ".join(f"(p:{i.pid} ps:{i.pid} \"{i.pid}\")" for i in IDENTIFIERS)
    found: list[Statement] = []
    for chunk in _batches(sorted(items), batch):
        text = (f"{_PROLOGUE}SELECT ?item ?statement ?value ?rank ?pid WHERE {{\n"
                f"  VALUES ?item {{ {' '.join(f'<{i}>' for i in chunk)} }}\n  VALUES (?p ?ps ?pid) {{ {pairs} }}\n"
                "  ?item ?p ?statement . ?statement ?ps ?value .\n  OPTIONAL { ?statement wikibase:rank ?rank }\n}")
        found += _statements(_rows(wikidata, text))
    return found


def articles(wikidata: Engine, items: Iterable[str], batch: int = BATCH) -> dict[str, str]:
    """Each item's English Wikipedia article (its sitelink: ``?article schema:about ?item``), where it has one."""
    out: dict[str, str] = {}
    for chunk in _batches(sorted(items), batch):
        text = (f"{_PROLOGUE}SELECT ?item ?article WHERE {{\n  VALUES ?item {{ {' '.join(f'<{i}>' for i in chunk)} }}\n"
                f"  ?article schema:about ?item ; schema:isPartOf <{ENWIKI}> .\n}}")
        for item, article in _rows(wikidata, text):
            if item is not None and article is not None and article.value.startswith(ENWIKI + "wiki/"):
                out.setdefault(item.value, article.value)
    return out


def _rows(engine: Engine, text: str) -> list[tuple]:
    result = run(engine, text, max_rows=MAX_ROWS)
    if result.truncated:
        raise ValueError(f"an answer reached the cap of {MAX_ROWS} rows: lower the batch size")
    return result.rows


def dbpedia(article: str) -> str:
    """The DBpedia resource of an English Wikipedia article URL.

    >>> dbpedia("https://en.wikipedia.org/wiki/Flask_(web_framework)")
    'http://dbpedia.org/resource/Flask_(web_framework)'
    """
    return str(DBR) + unquote(article.split("/wiki/", 1)[1])


@dataclass
class Proposal:
    """``record owl:sameAs target``, derived from ``statements`` (Wikidata) or ``article`` (DBpedia)."""

    record: str
    target: str
    statements: list[Statement] = field(default_factory=list)
    article: str | None = None
    item: str | None = None  # the Wikidata item a DBpedia link comes through
    notes: list[str] = field(default_factory=list)


@dataclass
class Links:
    """What one run found: proposals, conflicts (each withholding a link), ignored statements, links confirmed."""

    source: str
    retrieved: dt.datetime
    proposals: list[Proposal] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    confirmed: list[tuple[str, str]] = field(default_factory=list)

    def report(self) -> str:
        """A readable summary for the curator (also written at the top of the Turtle)."""
        lines = [f"{len(self.proposals)} proposal(s), {len(self.conflicts)} conflict(s), "
                 f"{len(self.confirmed)} link(s) confirmed, {len(self.ignored)} statement(s) ignored; "
                 f"from {self.source}, retrieved {self.retrieved.isoformat(timespec='seconds')}"]
        lines += [f"conflict: {c}" for c in self.conflicts]
        lines += [f"ignored: {i}" for i in self.ignored]
        lines += [f"note: {_short(p.record)} owl:sameAs <{p.target}>: {n}" for p in self.proposals for n in p.notes]
        return "\n".join(lines) + "\n"

    def turtle(self) -> str:
        """The proposals as Turtle: each link, and as an ``rdf:Statement`` its provenance (the matching Wikidata
        statements or sitelink, the source, the retrieval time), preceded by the report as comments."""
        graph = bind_prefixes(Graph())
        for prefix, ns in (("p", P), ("ps", PS), ("wikibase", WIKIBASE)):
            graph.bind(prefix, ns)
        activity = BNode()
        graph.add((activity, RDF.type, PROV.Activity))
        graph.add((activity, RDFS.label, Literal("fwgraph link wikidata")))
        graph.add((activity, PROV.used, _source_term(self.source)))
        graph.add((activity, PROV.endedAtTime, Literal(self.retrieved.isoformat(timespec="seconds"),
                                                       datatype=XSD.dateTime)))
        for proposal in self.proposals:
            record, target = URIRef(proposal.record), URIRef(proposal.target)
            graph.add((record, OWL.sameAs, target))
            node = BNode()
            for p, o in ((RDF.type, RDF.Statement), (RDF.type, PROV.Entity), (RDF.subject, record),
                         (RDF.predicate, OWL.sameAs), (RDF.object, target), (PROV.wasGeneratedBy, activity)):
                graph.add((node, p, o))
            for st in proposal.statements:
                graph.add((node, PROV.wasDerivedFrom, URIRef(st.iri)))
                graph.add((URIRef(st.item), P[st.pid], URIRef(st.iri)))
                graph.add((URIRef(st.iri), PS[st.pid], URIRef(st.value) if st.value_is_iri else Literal(st.value)))
                if st.rank:
                    graph.add((URIRef(st.iri), WIKIBASE.rank, URIRef(st.rank)))
                graph.add((node, RDFS.comment, Literal(f"{st.pid} ({BY_PID[st.pid].label}) of {st.item} is "
                                                       f"{st.value}, as the record states", lang="en")))
            if proposal.article is not None and proposal.item is not None:
                graph.add((node, PROV.wasDerivedFrom, URIRef(proposal.article)))
                graph.add((URIRef(proposal.article), WDSCHEMA.about, URIRef(proposal.item)))
                graph.add((node, RDFS.comment, Literal(f"DBpedia's resource for {proposal.article}, the English "
                                                       f"Wikipedia article of {proposal.item}", lang="en")))
            for note in proposal.notes:
                graph.add((node, RDFS.comment, Literal(note, lang="en")))
        header = "".join(f"# {line}\n" for line in
                         ["Proposed owl:sameAs links for a curator to review (fwgraph link wikidata); not data.",
                          *self.report().splitlines()])
        return header + graph.serialize(format="turtle")


def _source_term(source: str) -> URIRef:
    return URIRef(source if "://" in source else Path(source).resolve().as_uri())


def _short(iri: str) -> str:
    return iri[len(BASE):] if iri.startswith(BASE) else iri


def link(ours: dict[str, Record], wikidata: Engine, source: str, batch: int = BATCH,
         now: dt.datetime | None = None) -> Links:
    """Match ``ours`` against the Wikidata behind ``wikidata`` and decide what to propose and what to report."""
    result = Links(source, now or dt.datetime.now(dt.UTC))
    by_key: dict[tuple[str, str], set[str]] = defaultdict(set)  # (pid, key) -> our records
    for rec in ours.values():
        for pid in rec.values:
            for key in rec.keys(pid):
                by_key[(pid, key)].add(rec.iri)
    matched: dict[str, dict[str, list[Statement]]] = defaultdict(lambda: defaultdict(list))  # record -> item -> st
    for st in matching_statements(wikidata, ours, batch):
        for record in sorted(by_key.get((st.pid, BY_PID[st.pid].key(st.value)), ())):
            if st.deprecated:
                result.ignored.append(f"{_short(record)}: deprecated {st.pid} statement {st.iri} ({st.value}) of "
                                      f"{st.item} is not matched")
            else:
                matched[record][st.item].append(st)
    records_of: dict[str, set[str]] = defaultdict(set)
    for record, items in matched.items():
        for item in items:
            records_of[item].add(record)
    facts: dict[str, list[Statement]] = defaultdict(list)
    for st in item_statements(wikidata, records_of, batch):
        if not st.deprecated:
            facts[st.item].append(st)
    for record in sorted(matched):
        _decide(ours[record], matched[record], records_of, facts, result)
    _dbpedia(ours, wikidata, batch, result)
    return result


def _decide(record: Record, items: dict[str, list[Statement]], records_of: dict[str, set[str]],
            facts: dict[str, list[Statement]], result: Links) -> None:
    name = _short(record.iri)
    if len(items) > 1:
        result.conflicts.append(f"{name} matches {len(items)} items: " + "; ".join(
            f"{item} by {', '.join(sorted({s.pid for s in sts}))}" for item, sts in sorted(items.items())))
        return
    (item, statements), = items.items()
    if len(records_of[item]) > 1:
        conflict = (f"{item} matches {len(records_of[item])} records: "
                    + ", ".join(sorted(_short(r) for r in records_of[item])))
        if conflict not in result.conflicts:  # once per item, not once per record
            result.conflicts.append(conflict)
        return
    linked = {s for s in record.same_as if s.startswith(str(WD))}
    if item in linked:
        result.confirmed.append((record.iri, item))
        return
    if linked:
        result.conflicts.append(f"{name} is linked to {', '.join(sorted(linked))} already, but matches {item}")
        return
    notes = []
    for identifier in IDENTIFIERS:
        theirs = {s.value for s in facts.get(item, []) if s.pid == identifier.pid}
        ours = record.values.get(identifier.pid, set())
        if theirs and ours and not {identifier.key(v) for v in theirs} & record.keys(identifier.pid):
            text = (f"{identifier.pid} ({identifier.label}) disagrees: {item} has {', '.join(sorted(theirs))}, "
                    f"{name} has {', '.join(sorted(ours))}")
            if identifier.blocking:
                result.conflicts.append(f"{name} matches {item}, but {text}")
                return
            notes.append(text)
    result.proposals.append(Proposal(record.iri, item, sorted(statements, key=lambda s: (s.pid, s.iri)),
                                     notes=notes))


def _dbpedia(ours: dict[str, Record], wikidata: Engine, batch: int, result: Links) -> None:
    """DBpedia proposals for every record resolved to one item (proposed or confirmed) whose English Wikipedia
    article the item names; withheld where the record links another DBpedia resource already."""
    resolved = [(p.record, p.target) for p in result.proposals] + result.confirmed
    pages = articles(wikidata, {item for _, item in resolved}, batch)
    for record, item in resolved:
        article = pages.get(item)
        if article is None:
            continue
        target = dbpedia(article)
        linked = {s for s in ours[record].same_as if s.startswith(str(DBR))}
        if target in linked:
            continue
        if linked:
            result.conflicts.append(f"{_short(record)} is linked to {', '.join(sorted(linked))} already, but "
                                    f"{item}'s article gives {target}")
            continue
        result.proposals.append(Proposal(record, target, article=article, item=item))


def wikidata_endpoint(url: str = WIKIDATA_ENDPOINT, timeout: float = TIMEOUT) -> RemoteEngine:
    """The store client for Wikidata's query service (or any store holding its RDF): URL-encoded POST (the query
    carries up to BATCH spellings), a User-Agent naming fwgraph, ``timeout`` per request, MAX_BYTES per answer.
    Close it after use."""
    engine = RemoteEngine(url, timeout=timeout, post="form", agent=AGENT)
    engine.max_bytes = MAX_BYTES
    return engine


def run_link(wikidata: Engine, source: str, root: Path | str | None = None, batch: int = BATCH) -> Links:
    """Link the records of the sources at ``root`` (default: the shipped ones) against ``wikidata``."""
    return link(records(OxigraphEngine.from_sources(root)), wikidata, source, batch)


__all__ = ["IDENTIFIERS", "WIKIDATA_ENDPOINT", "Links", "Proposal", "Record", "Statement", "dbpedia", "link",
           "records", "run_link", "spellings", "wikidata_endpoint"]
