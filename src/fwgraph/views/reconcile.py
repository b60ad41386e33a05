"""Entity reconciliation (W3C Entity Reconciliation Service API 0.2, the protocol OpenRefine speaks): match a
framework, server or interface by its name, another name, its PyPI name or its repository URL to fwgraph IRIs,
with scores and types, and the service manifest naming every service (suggest, preview, data extension). A
property a query names that is not a matching property is ignored with a warning in that query's result.
Read-only and bounded: queries per batch, properties, values, text length, digits of a number and candidates
are capped; past a bound a batch is refused (InputError) before any matching. Matching is linear in the batch:
every query's text and values are keyed once (never once per candidate), the candidates' keys once per index,
and no pattern here backtracks.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

from rdflib.namespace import DCTERMS, DOAP, RDFS, SDO, SKOS

from fwgraph.core.errors import InputError
from fwgraph.core.namespace import BASE, FW
from fwgraph.core.settings import active
from fwgraph.store.engine import Engine, run

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
MAX_PROPERTIES = 10  # properties of one query
MAX_VALUES = 10  # values of one property
MAX_TEXT = 300  # characters of a query text or a property value (longer: refused)
MAX_DIGITS = 20  # digits of a number in a batch (a limit is at most MAX_LIMIT anyway)
MAX_LIMIT = 25  # candidates one query may ask for (more: capped)
DEFAULT_LIMIT = 5
#: Scores: an exact name, PyPI name or repository is certain; everything else is similarity, below MATCH.
MATCH = 100.0
SIMILAR = 30.0  # the least score a candidate is answered with
CONFIRMED = 10.0  # what properties that all hit add to a similarity


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


_SCHEME = re.compile(r"(?:git\+)?(?:https?|git|ssh)://(?:git@)?", re.IGNORECASE)
_SCP_HOST = re.compile(r"git@([^:]+):")


def url_key(text: str) -> str:
    """A repository or homepage URL without scheme, ``www.``, ``.git``, trailing slash, query, fragment and case.

    Linear time: the patterns are anchored at the start and the end is cut with string operations (an unanchored
    ``(?:\\.git)?/*(?:[?#].*)?$`` was tried at every position, quadratic on a run of slashes).

    >>> url_key("git+https://www.GitHub.com/pallets/flask.git/?tab=readme")
    'github.com/pallets/flask'
    >>> url_key("git@github.com:pallets/flask.git")
    'github.com/pallets/flask'
    """
    key = text[:MAX_TEXT].strip()
    scheme = _SCHEME.match(key)
    if scheme:
        key = key[scheme.end():]
    scp = _SCP_HOST.match(key)
    if scp:
        key = scp.group(1) + "/" + key[scp.end():]
    if key[:4].lower() == "www.":
        key = key[4:]
    cut = min((i for i in (key.find("?"), key.find("#")) if i >= 0), default=len(key))
    key = key[:cut].rstrip("/")
    return key.removesuffix(".git").lower()


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
        self.letters: dict[str, Counter[str]] = {}  # each name's characters, for Keys.similarity
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
                self.letters.setdefault(name, Counter(name))
                for token in name.split():
                    self.by_token.setdefault(token[:3], set()).add(candidate.id)
            for key in (*candidate.names, *candidate.pypi, *candidate.urls, *candidate.homepages):
                self.by_key.setdefault(key, set()).add(candidate.id)

    def __len__(self) -> int:
        return len(self.candidates)

    def shortlist(self, keys: Keys) -> list[Candidate]:
        """The candidates worth scoring: all of them while there are at most RECONCILE_SHORTLIST; past that,
        those with an exact key of the query or a word starting like one of its words (at most that many). A
        query by properties only: the candidates with one of its values."""
        shortlist = active().reconcile_shortlist
        if keys.text and len(self.candidates) <= shortlist:
            return list(self.candidates.values())
        if not keys.text:
            ids: set[str] = set()
            for _, values in keys.properties:
                for key in values:
                    ids |= self.by_key.get(key, set())
            return [self.candidates[i] for i in sorted(ids)]
        ids = set().union(*(self.by_key.get(k, set()) for k in (keys.norm, keys.pypi, keys.url)))
        for token in keys.norm.split()[:10]:
            ids |= self.by_token.get(token[:3], set())
            if len(ids) > shortlist:
                break
        return [self.candidates[i] for i in sorted(ids)[:shortlist]]


# ---------------------------------------------------------------------------------------------- queries


@dataclass(frozen=True)
class Query:
    """One reconciliation query, checked."""

    text: str
    types: tuple[str, ...]
    limit: int
    properties: tuple[tuple[str, tuple[str, ...]], ...]  # (pid, values) of the matching properties
    warnings: tuple[str, ...] = ()  # properties ignored (not matching properties), said in the result


@dataclass
class Keys:
    """A query as the index knows its candidates, computed once per query (never once per candidate): its text
    normalised, as a PyPI name and as a URL, and each property's values keyed as that property's facts are."""

    text: str
    norm: str
    pypi: str
    url: str
    is_url: bool
    properties: tuple[tuple[str, frozenset[str]], ...]
    letters: Counter[str] = field(init=False, repr=False, compare=False)  # of ``norm``
    matcher: SequenceMatcher[str] = field(init=False, repr=False, compare=False)  # ``norm`` against a name

    def __post_init__(self) -> None:
        self.letters = Counter(self.norm)
        self.matcher = SequenceMatcher(None, self.norm, "")

    @classmethod
    def of(cls, query: Query) -> Keys:
        text = query.text.strip()
        properties = tuple((pid, frozenset(pypi_name(v) if pid == "pypi" else url_key(v) for v in values))
                           for pid, values in query.properties)
        return cls(text=text, norm=normalise(text), pypi=pypi_name(text), url=url_key(text),
                   is_url=_looks_like_url(text), properties=properties)

    def similarity(self, names: set[str], letters: dict[str, Counter[str]], floor: float) -> float:
        """The best similarity (0..90, difflib's ratio) of the text to one of ``names``. A name is compared
        character by character only when the characters it shares with the text (``letters``: each name's,
        counted once per index) could beat both ``floor`` and the best so far: a long text is never similar to
        a short name, and costs one pass over each name's few distinct characters."""
        best = 0.0
        for name in names:
            common = sum(min(n, self.letters[c]) for c, n in letters[name].items())
            bound = 180 * common / (len(self.norm) + len(name))  # difflib's quick_ratio, x 90
            if bound <= best or bound < floor:
                continue
            self.matcher.set_seq2(name)
            best = max(best, self.matcher.ratio() * 90)
        return best


def _number(text: str) -> float:
    """A JSON number of the batch, refused past MAX_DIGITS digits or when not finite (``1e400``)."""
    if sum(c.isdigit() for c in text) > MAX_DIGITS:
        raise InputError(f"a number in the batch has more than {MAX_DIGITS} digits", source="queries")
    value = float(text)
    if not math.isfinite(value):
        raise InputError(f"the number {text[:30]} is too large", source="queries")
    return value


def _integer(text: str) -> int:
    _number(text)
    return int(text)


def _constant(name: str) -> None:
    raise InputError(f"{name} is not a JSON number: every number must be finite", source="queries")


def load_json(raw: str, source: str) -> Any:
    """A JSON document sent by a client, with every number bounded (NaN, Infinity and numbers of more than
    MAX_DIGITS digits refused before Python converts them) and any nesting depth refused cleanly (InputError
    naming ``source``; the request's size bounds the depth anyway)."""
    try:
        return json.loads(raw, parse_constant=_constant, parse_float=_number, parse_int=_integer)
    except InputError as exc:  # a number refused by the hooks: said of this document
        raise InputError(exc.message, source=source) from None
    except (ValueError, RecursionError) as exc:
        reason = "it is nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise InputError(f"{source} is not JSON: {reason}", source=source) from None


def parse_batch(raw: str) -> dict[str, Query]:
    """A query batch (the ``queries`` parameter, JSON) checked against the 0.2 schema; InputError saying what is
    wrong otherwise (also for NaN, Infinity and numbers too long to be a limit, before Python converts them)."""
    doc = load_json(raw, "queries")
    if not isinstance(doc, dict):
        raise InputError("queries must be a JSON object of queries by key ({\"q0\": {\"query\": \"flask\"}})",
                         source="queries")
    most = active().reconcile_max_queries
    if len(doc) > most:
        raise InputError(f"at most {most} queries in one batch; this one has {len(doc)}", source="queries")
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
    if len(text) > MAX_TEXT:
        raise InputError(f"\"query\" is {len(text)} characters long; at most {MAX_TEXT} characters", source=where)
    limit = value.get("limit", DEFAULT_LIMIT)
    if isinstance(limit, bool) or not isinstance(limit, (int, float)) or not limit >= 1:
        raise InputError("\"limit\" is a positive number", source=where)
    if value.get("type_strict", "any") not in ("any", "should", "all"):
        raise InputError("\"type_strict\" is any, should or all", source=where)
    props = value.get("properties", [])
    if not isinstance(props, list) or len(props) > MAX_PROPERTIES:
        raise InputError(f"\"properties\" is a list of at most {MAX_PROPERTIES} {{\"pid\": …, \"v\": …}}",
                         source=where)
    checked = [_property(prop, where) for prop in props]
    if not text.strip() and not checked:
        raise InputError("a query needs a \"query\" string or at least one property", source=where)
    properties = tuple((pid, values) for pid, values in checked if pid in PROPERTIES)
    warnings = tuple(dict.fromkeys(_ignored(pid) for pid, _ in checked if pid not in PROPERTIES))
    return Query(text=text, types=tuple(type_id(t) for t in types[:10]),
                 limit=min(int(limit), MAX_LIMIT), properties=properties, warnings=warnings)


def _ignored(pid: str) -> str:
    return (f"property {pid[:50]!r} was ignored: it is not a matching property; the matching properties are "
            + ", ".join(PROPERTIES))


def _property(prop: Any, where: str) -> tuple[str, tuple[str, ...]]:
    """(pid, value texts) of one property of a query, each value at most MAX_TEXT characters."""
    if not isinstance(prop, dict) or not isinstance(prop.get("pid"), str) or "v" not in prop:
        raise InputError("each property is {\"pid\": string, \"v\": value}", source=where)
    if len(prop["pid"]) > MAX_TEXT:
        raise InputError(f"a property id is {len(prop['pid'])} characters long; at most {MAX_TEXT} characters",
                         source=where)
    values = prop["v"] if isinstance(prop["v"], list) else [prop["v"]]
    if len(values) > MAX_VALUES:
        raise InputError(f"property {prop['pid']!r} has {len(values)} values; at most {MAX_VALUES}", source=where)
    texts = tuple(str(v.get("id", v.get("name", ""))) if isinstance(v, dict) else str(v) for v in values)
    for text in texts:
        if len(text) > MAX_TEXT:
            raise InputError(f"a value of property {prop['pid']!r} is {len(text)} characters long; at most "
                             f"{MAX_TEXT} characters", source=where)
    return prop["pid"], texts


def type_id(text: str) -> str:
    """A type id as given (a class IRI), or a short name: "framework", "server", "interface"."""
    for iri, name in TYPES:
        if text in (iri, name) or (text and name.endswith(" " + text)):
            return iri
    return text


def _property_hit(candidate: Candidate, pid: str, keys: frozenset[str]) -> bool:
    facts = candidate.pypi if pid == "pypi" else candidate.urls if pid == "repository" else candidate.homepages
    return not keys.isdisjoint(facts)


def _score(candidate: Candidate, keys: Keys, letters: dict[str, Counter[str]]) -> tuple[float, bool]:
    """(score 0..100, certain) of ``candidate`` for a query's ``keys``: an exact name, PyPI name or repository
    URL is certain (100); other names score by similarity (at most 90); properties confirm (+10) or weaken
    (x0.8). Set lookups and at most one similarity per name: no text is keyed here."""
    best, certain = 0.0, False
    if keys.text:
        if keys.is_url:
            if keys.url in candidate.urls or keys.url in candidate.homepages or keys.pypi in candidate.pypi:
                best, certain = MATCH, True
        elif keys.norm in candidate.names or keys.pypi in candidate.pypi:
            best, certain = MATCH, True
        elif keys.norm:
            # a similarity that cannot reach SIMILAR even confirmed by properties is not worth computing (one
            # point of margin: scores are rounded)
            best = keys.similarity(candidate.names, letters, SIMILAR - CONFIRMED - 1)
    hits = [_property_hit(candidate, pid, values) for pid, values in keys.properties]
    if hits and not keys.text:
        best, certain = MATCH * sum(hits) / len(hits), all(hits)
    elif hits and all(hits):
        best = min(MATCH, best + CONFIRMED)
    elif hits:
        best, certain = best * 0.8, False
    return round(best, 1), certain


def reconcile(index: Index, query: Query) -> list[dict[str, Any]]:
    """The candidates for one query, best first, as the 0.2 result objects."""
    keys = Keys.of(query)
    scored = []
    for candidate in index.shortlist(keys):
        if query.types and not set(query.types) & set(candidate.types):
            continue
        score, certain = _score(candidate, keys, index.letters)
        if score >= SIMILAR:
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
    """The result batch: each query's candidates, and its warnings when it named properties that were ignored."""
    out: dict[str, Any] = {}
    for key, query in batch.items():
        out[key] = {"result": reconcile(index, query)}
        if query.warnings:
            out[key]["warnings"] = list(query.warnings)
    return out


#: Where each service answers, below the service root (the manifest names them; the web layer routes them).
SUGGEST_PATHS = {kind: f"/reconcile/suggest/{kind}" for kind in ("entity", "type", "property")}
PROPOSE_PATH = "/reconcile/propose_properties"
PREVIEW_PATH = "/reconcile/preview"


def manifest(base: str, service_root: str) -> dict[str, Any]:
    """The service manifest: what OpenRefine reads when the service is added. ``service_root`` ends in "/".

    Every service is named as 0.2 says, by a ``service_url`` and a ``service_path`` that concatenate to its URL;
    data extension answers at the reconciliation URL itself (``extend=``), its property proposals apart."""
    root = service_root.rstrip("/")
    return {
        "versions": [VERSION],
        "name": "fwgraph: Python web frameworks, servers and interfaces",
        "identifierSpace": base,
        "schemaSpace": BASE + "ns#",
        "documentation": service_root,
        "view": {"url": base + "{{id}}"},
        "preview": {"url": f"{root}{PREVIEW_PATH}?id={{{{id}}}}", "width": 400, "height": 120},
        "defaultTypes": [{"id": iri, "name": name} for iri, name in TYPES],
        "suggest": {kind: {"service_url": root, "service_path": path} for kind, path in SUGGEST_PATHS.items()},
        "extend": {"propose_properties": {"service_url": root, "service_path": PROPOSE_PATH},
                   "property_settings": []},
    }


__all__ = ["Index", "Keys", "Query", "answer", "load_json", "manifest", "normalise", "parse_batch", "pypi_name",
           "reconcile", "type_id", "url_key"]
