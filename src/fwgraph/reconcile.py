"""Entity reconciliation (W3C Entity Reconciliation Service API 0.2, the protocol OpenRefine speaks): match a
framework, server or interface by its name, another name, its PyPI name or its repository URL to fwgraph IRIs,
with scores and types. Read-only and bounded: queries per batch, text length and candidates are capped.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

from rdflib.namespace import DCTERMS, DOAP, RDFS, SDO, SKOS

from fwgraph.engine import Engine, run
from fwgraph.errors import InputError
from fwgraph.namespace import BASE, FW

VERSION = "0.2"
#: The types one can reconcile against, in the manifest's order: (class IRI, name).
TYPES: tuple[tuple[str, str], ...] = ((str(FW.WebFramework), "web framework"),
                                      (str(FW.ApplicationServer), "application server"),
                                      (str(FW.ServerInterface), "server interface"))
#: Properties a query may add (``pid``): matched against these facts of a candidate.
PROPERTIES: dict[str, tuple[str, str]] = {
    "pypi": ("PyPI distribution", "the name of the distribution on the Python Package Index"),
    "repository": ("source repository", "the URL of the source code repository"),
    "homepage": ("homepage", "the project's homepage URL"),
}
MAX_QUERIES = 50  # queries in one batch
MAX_TEXT = 300  # characters of a query or property value that are compared
MAX_LIMIT = 25  # candidates one query may ask for
DEFAULT_LIMIT = 5
SHORTLIST = 2000  # candidates scored for one query at most
#: Scores: an exact name, PyPI name or repository is certain; everything else is similarity, below MATCH.
MATCH = 100.0


@dataclass
class Candidate:
    """An entity that can be reconciled to, with every text it can be recognised by (normalised)."""

    id: str  # the IRI below the base: "framework/flask"
    name: str
    types: list[str]
    description: str | None = None
    names: set[str] = field(default_factory=set)
    pypi: set[str] = field(default_factory=set)
    urls: set[str] = field(default_factory=set)  # repositories
    homepages: set[str] = field(default_factory=set)


def normalise(text: str) -> str:
    """Lower case, accents and punctuation removed, runs of space collapsed: "Web.py" and "web-py" meet."""
    text = unicodedata.normalize("NFKD", text[:MAX_TEXT]).encode("ascii", "ignore").decode().lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def pypi_name(text: str) -> str:
    """A PyPI project name as the index compares them (PEP 503), from a name or a pypi.org URL."""
    match = re.match(r"^\s*(?:https?://)?(?:www\.)?pypi\.(?:org|python\.org)/(?:project|simple|pypi)/([^/?#]+)",
                     text[:MAX_TEXT], re.IGNORECASE)
    name = match.group(1) if match else text[:MAX_TEXT]
    return re.sub(r"[-_.]+", "-", name.strip()).lower()


def url_key(text: str) -> str:
    """A repository or homepage URL without scheme, ``www.``, ``.git``, trailing slash and case."""
    key = re.sub(r"^\s*(?:git\+)?(?:https?|git|ssh)://(?:git@)?", "", text[:MAX_TEXT].strip(), flags=re.IGNORECASE)
    key = re.sub(r"^git@([^:]+):", r"\1/", key)
    key = re.sub(r"^www\.", "", key, flags=re.IGNORECASE)
    key = re.sub(r"(?:\.git)?/*(?:[?#].*)?$", "", key)
    return key.lower()


def _looks_like_url(text: str) -> bool:
    return bool(re.match(r"^\s*(?:git\+)?(?:https?|git|ssh)://|^\s*git@|^\s*(?:www\.)?[a-z0-9-]+\.[a-z]{2,}/",
                         text, re.IGNORECASE))


class Index:
    """Every candidate of the served data, loaded with one query per kind of fact."""

    def __init__(self, engine: Engine) -> None:
        values = " ".join(f"<{t}>" for t, _ in TYPES)
        rows = run(engine, f"SELECT ?s ?t WHERE {{ VALUES ?t {{ {values} }} ?s a ?t FILTER(isIRI(?s)) }}",
                   max_rows=1_000_000).rows
        self.candidates: dict[str, Candidate] = {}
        for s, t in rows:
            if s is None or t is None or not s.value.startswith(BASE):
                continue
            cid = s.value[len(BASE):]
            self.candidates.setdefault(cid, Candidate(id=cid, name=cid.rsplit("/", 1)[-1], types=[])).types.append(
                t.value)
        facts = {str(p): kind for p, kind in (
            (RDFS.label, "label"), (SKOS.prefLabel, "name"), (SKOS.altLabel, "name"), (SDO.alternateName, "name"),
            (FW.pypiDistribution, "pypi"), (SDO.codeRepository, "url"), (DOAP.homepage, "homepage"),
            (DCTERMS.description, "description"))}
        predicates = " ".join(f"<{p}>" for p in facts)
        query = (f"SELECT ?s ?p ?o WHERE {{ VALUES ?t {{ {values} }} VALUES ?p {{ {predicates} }} ?s a ?t ; ?p ?o }}")
        for s, p, o in run(engine, query, max_rows=1_000_000).rows:
            candidate = self.candidates.get(s.value[len(BASE):]) if s is not None else None
            if candidate is None or p is None or o is None:
                continue
            kind, text = facts[p.value], o.value
            if kind == "label":
                candidate.name = text
                candidate.names.add(normalise(text))
            elif kind == "name":
                candidate.names.add(normalise(text))
            elif kind == "pypi":
                candidate.pypi.add(pypi_name(text))
            elif kind == "url":
                candidate.urls.add(url_key(text))
            elif kind == "homepage":
                candidate.homepages.add(url_key(text))
            elif kind == "description" and getattr(o, "language", None) in (None, "", "en"):
                candidate.description = text
        self.by_token: dict[str, set[str]] = {}
        self.by_key: dict[str, set[str]] = {}
        browse = (f"SELECT ?s ?o WHERE {{ VALUES ?t {{ {values} }} ?s a ?t ; "
                  f"<{DOAP.repository}>/<{DOAP.browse}>|<{DOAP.repository}>/<{DOAP.location}> ?o }}")
        for s, o in run(engine, browse, max_rows=1_000_000).rows:
            candidate = self.candidates.get(s.value[len(BASE):]) if s is not None else None
            if candidate is not None and o is not None:
                candidate.urls.add(url_key(o.value))
        for candidate in self.candidates.values():
            candidate.names.add(normalise(candidate.id.rsplit("/", 1)[-1]))
            candidate.types.sort(key=[t for t, _ in TYPES].index)
            for name in candidate.names:
                for token in name.split():
                    self.by_token.setdefault(token[:3], set()).add(candidate.id)
            for key in (*candidate.names, *candidate.pypi, *candidate.urls, *candidate.homepages):
                self.by_key.setdefault(key, set()).add(candidate.id)

    def __len__(self) -> int:
        return len(self.candidates)

    def shortlist(self, query: Query) -> list[Candidate]:
        """The candidates worth scoring: all of them while there are at most SHORTLIST; past that, those with an
        exact key of the query or a word starting like one of its words (at most SHORTLIST). A query by
        properties only: the candidates with one of its values."""
        text = query.text.strip()
        if text and len(self.candidates) <= SHORTLIST:
            return list(self.candidates.values())
        if not text:
            ids: set[str] = set()
            for _, values in query.properties:
                for v in values:
                    ids |= self.by_key.get(pypi_name(v), set()) | self.by_key.get(url_key(v), set())
            return [self.candidates[i] for i in sorted(ids)]
        ids = set().union(*(self.by_key.get(k, set()) for k in (normalise(text), pypi_name(text), url_key(text))))
        for token in normalise(text).split()[:10]:
            ids |= self.by_token.get(token[:3], set())
            if len(ids) > SHORTLIST:
                break
        return [self.candidates[i] for i in sorted(ids)[:SHORTLIST]]


# ---------------------------------------------------------------------------------------------- queries


@dataclass(frozen=True)
class Query:
    """One reconciliation query, checked."""

    text: str
    types: tuple[str, ...]
    limit: int
    properties: tuple[tuple[str, tuple[str, ...]], ...]  # (pid, values)


def parse_batch(raw: str) -> dict[str, Query]:
    """A query batch (the ``queries`` parameter, JSON) checked against the 0.2 schema; InputError saying what is
    wrong otherwise."""
    try:
        doc = json.loads(raw)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise InputError(f"queries is not JSON: {exc}", source="queries") from None
    if not isinstance(doc, dict):
        raise InputError("queries must be a JSON object of queries by key ({\"q0\": {\"query\": \"flask\"}})",
                         source="queries")
    if len(doc) > MAX_QUERIES:
        raise InputError(f"at most {MAX_QUERIES} queries in one batch; this one has {len(doc)}", source="queries")
    return {str(key)[:100]: _query(str(key)[:100], value) for key, value in doc.items()}


def _query(key: str, value: Any) -> Query:
    where = f"queries.{key}"
    if not isinstance(value, dict):
        raise InputError("a query is an object with a \"query\" string", source=where)
    unknown = set(value) - {"query", "type", "limit", "properties", "type_strict"}
    if unknown:
        raise InputError(f"unknown member(s) {sorted(unknown)}: a query has query, type, limit, properties, "
                         "type_strict", source=where)
    text = value.get("query", "")
    if not isinstance(text, str):
        raise InputError("\"query\" must be a string", source=where)
    types = value.get("type", ())
    if isinstance(types, str):
        types = (types,)
    if not isinstance(types, (list, tuple)) or not all(isinstance(t, str) for t in types):
        raise InputError("\"type\" is a type id or a list of type ids", source=where)
    limit = value.get("limit", DEFAULT_LIMIT)
    if isinstance(limit, bool) or not isinstance(limit, (int, float)) or limit < 1:
        raise InputError("\"limit\" is a positive number", source=where)
    if value.get("type_strict", "any") not in ("any", "should", "all"):
        raise InputError("\"type_strict\" is any, should or all", source=where)
    props = value.get("properties", [])
    if not isinstance(props, list) or len(props) > 10:
        raise InputError("\"properties\" is a list of at most 10 {\"pid\": …, \"v\": …}", source=where)
    properties = []
    for prop in props:
        if not isinstance(prop, dict) or not isinstance(prop.get("pid"), str) or "v" not in prop:
            raise InputError("each property is {\"pid\": string, \"v\": value}", source=where)
        if prop["pid"] not in PROPERTIES:
            raise InputError(f"unknown property {prop['pid'][:50]!r}; the properties are " + ", ".join(PROPERTIES),
                             source=where)
        values = prop["v"] if isinstance(prop["v"], list) else [prop["v"]]
        texts = tuple(str(v.get("id", v.get("name", ""))) if isinstance(v, dict) else str(v) for v in values[:10])
        properties.append((prop["pid"], texts))
    if not text.strip() and not properties:
        raise InputError("a query needs a \"query\" string or at least one property", source=where)
    return Query(text=text[:MAX_TEXT], types=tuple(_type_id(t) for t in types[:10]),
                 limit=min(int(limit), MAX_LIMIT), properties=tuple(properties))


def _type_id(text: str) -> str:
    """A type id as given (a class IRI), or a short name: "framework", "server", "interface"."""
    for iri, name in TYPES:
        if text in (iri, name) or (text and name.endswith(" " + text)):
            return iri
    return text


def _property_hit(candidate: Candidate, pid: str, values: tuple[str, ...]) -> bool:
    if pid == "pypi":
        return any(pypi_name(v) in candidate.pypi for v in values)
    keys = {url_key(v) for v in values}
    return bool(keys & (candidate.urls if pid == "repository" else candidate.homepages))


def _score(candidate: Candidate, query: Query) -> tuple[float, bool]:
    """(score 0..100, certain) of ``candidate`` for ``query``: an exact name, PyPI name or repository URL is
    certain (100); other names score by similarity (at most 90); properties confirm (+10) or weaken (x0.8)."""
    text = query.text.strip()
    best, certain = 0.0, False
    if text:
        if _looks_like_url(text):
            key = url_key(text)
            if key in candidate.urls or key in candidate.homepages or pypi_name(text) in candidate.pypi:
                best, certain = MATCH, True
        else:
            norm = normalise(text)
            if norm in candidate.names or pypi_name(text) in candidate.pypi:
                best, certain = MATCH, True
            elif norm:
                best = max((SequenceMatcher(None, norm, name).ratio() * 90 for name in candidate.names), default=0.0)
    hits = [_property_hit(candidate, pid, values) for pid, values in query.properties]
    if hits and not text:
        best, certain = MATCH * sum(hits) / len(hits), all(hits)
    elif hits and all(hits):
        best = min(MATCH, best + 10)
    elif hits:
        best, certain = best * 0.8, False
    return round(best, 1), certain


def reconcile(index: Index, query: Query) -> list[dict[str, Any]]:
    """The candidates for one query, best first, as the 0.2 result objects."""
    scored = []
    for candidate in index.shortlist(query):
        if query.types and not set(query.types) & set(candidate.types):
            continue
        score, certain = _score(candidate, query)
        if score >= 30:
            scored.append((score, certain, candidate))
    scored.sort(key=lambda item: (-item[0], item[2].name.lower(), item[2].id))
    certain_ids = [c.id for _, certain, c in scored if certain]
    out = []
    for score, certain, candidate in scored[: query.limit]:
        result: dict[str, Any] = {
            "id": candidate.id,
            "name": candidate.name,
            "score": score,
            "match": certain and len(certain_ids) == 1,
            "type": [{"id": t, "name": dict(TYPES)[t]} for t in candidate.types],
        }
        if candidate.description:
            result["description"] = candidate.description
        out.append(result)
    return out


def answer(index: Index, batch: dict[str, Query]) -> dict[str, Any]:
    return {key: {"result": reconcile(index, query)} for key, query in batch.items()}


def manifest(base: str, service_root: str) -> dict[str, Any]:
    """The service manifest: what OpenRefine reads when the service is added."""
    return {
        "versions": [VERSION],
        "name": "fwgraph: Python web frameworks, servers and interfaces",
        "identifierSpace": base,
        "schemaSpace": BASE + "ns#",
        "documentation": service_root,
        "view": {"url": base + "{{id}}"},
        "preview": {"url": f"{service_root}reconcile/preview?id={{{{id}}}}", "width": 400, "height": 120},
        "defaultTypes": [{"id": iri, "name": name} for iri, name in TYPES],
    }


__all__ = ["Index", "Query", "answer", "manifest", "normalise", "parse_batch", "pypi_name", "reconcile", "url_key"]
