"""Data extension (W3C Reconciliation Service API 0.2, as OpenRefine's "Add columns from reconciled values" uses
it): the properties a reconciled framework, server or interface can be extended with, their values read once from
the served data, the properties proposed per type, and extension queries checked and answered.

Values are typed as 0.2 says: a resource the graph describes under the service's identifier space (an interface,
a feature, a maintenance status, an async-support concept) is an entity ``{"id", "name"}`` with its id below that
space; everything else is ``str``, ``int`` or ``date``. A licence is given by its name (``str``): its IRI is
SPDX's, outside the identifier space, and 0.2 lets an entity value name another space only through another
reconciliation service. 0.2's response schema has no ``bool`` and wants a ``date`` to be a full date-time: a day
is sent as ``2026-02-18T00:00:00Z``, a release known only to the month (``xsd:gYearMonth``) as ``str``.
Bounded: ids and properties per query, characters per id; past a bound a query is refused before any lookup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from rdflib.namespace import DOAP, RDFS, SDO, SKOS, XSD

from fwgraph.core.errors import InputError, TooManyIds
from fwgraph.core.namespace import BASE, FW
from fwgraph.core.settings import active
from fwgraph.store.engine import Engine, run
from fwgraph.views.reconcile import TYPES, load_json, type_id

Kind = Literal["entity", "str", "int", "date"]
MAX_PROPERTIES = 20  # properties in one extension query (there are fewer than that); more: 400
MAX_ID = 300  # characters of one id
MAX_SETTINGS = 10  # members of one property's settings object (no setting is offered; they are ignored)
MAX_PROPOSALS = 100  # a propose_properties limit beyond this is capped


@dataclass(frozen=True)
class Property:
    """A property an entity can be extended with: its id and name as OpenRefine shows them, what it is, the
    kind of its values, and the graph pattern binding ``?s`` (a candidate) to ``?o`` (a value) and, for entity
    values and licences, ``?n`` (the value's name)."""

    id: str
    name: str
    description: str
    kind: Kind
    pattern: str
    type: tuple[str, str] | None = None  # (class IRI, name) of entity values, announced in the response's meta
    matching: bool = False  # also a matching property of reconciliation queries (fwgraph.views.reconcile.PROPERTIES)


def _label(var: str) -> str:
    return (f"OPTIONAL {{ ?o <{SKOS.prefLabel}> ?{var}p FILTER(lang(?{var}p) IN (\"\", \"en\")) }} "
            f"OPTIONAL {{ ?o <{RDFS.label}> ?{var}l FILTER(lang(?{var}l) IN (\"\", \"en\")) }} "
            f"BIND(COALESCE(?{var}p, ?{var}l) AS ?n)")


#: Binds ``?obs`` to the record's observation in the latest snapshot of the PyPI downloads data set (a Data Cube
#: observation per project and monthly snapshot), ready for its measure or attributes.
_LATEST = (f"{{ SELECT ?s (MAX(?day) AS ?latest) WHERE {{ ?x <{FW.project}> ?s ; <{FW.snapshotDate}> ?day }} "
           f"GROUP BY ?s }} ?obs <{FW.project}> ?s ; <{FW.snapshotDate}> ?latest ; ")

#: Every property offered, in the order they are proposed.
PROPERTIES: tuple[Property, ...] = (
    Property("licence", "licence", "the licence the project is released under, by its SPDX name", "str",
             f"?s <{DOAP.license}> ?o . {_label('n')}"),
    Property("maintenance-status", "maintenance status",
             "how actively the project is maintained (active, slow, limited maintenance, unmaintained, archived)",
             "entity", f"?s <{FW.maintenanceStatus}> ?o . {_label('n')}",
             type=(str(FW.MaintenanceStatus), "maintenance status")),
    Property("latest-release", "latest release", "the version number of the latest release", "str",
             f"?s <{FW.latestRelease}>/<{DOAP.revision}> ?o"),
    Property("latest-release-date", "latest release date",
             "the day of the latest release (a date), or its month when only the month is known (text)", "date",
             f"?s <{FW.latestRelease}>/<{DOAP.created}> ?o"),
    Property("interfaces", "interfaces", "the server interfaces (WSGI, ASGI, ...) the project speaks", "entity",
             f"?s <{FW.interface}>|<{FW.implementsInterface}> ?o . {_label('n')}",
             type=(str(FW.ServerInterface), "server interface")),
    Property("async", "async support", "whether request handlers can be asynchronous, and how", "entity",
             f"?s <{FW.asyncSupport}> ?o . {_label('n')}", type=(str(FW.AsyncSupport), "async support")),
    Property("python-versions", "Python versions", "the Python versions the latest release declares", "str",
             f"?s <{FW.pythonVersion}> ?o"),
    Property("core-features", "core features built in",
             "the features of the core feature matrix the framework has built in", "entity",
             f"?s <{FW.featureSupport}> ?support . ?support <{FW.supportLevel}> <{BASE}support/built-in> ; "
             f"<{FW.supportedFeature}> ?o . {_label('n')}", type=(str(FW.Feature), "feature")),
    Property("repository", "source repository", "the URL of the source code repository", "str",
             f"?s <{SDO.codeRepository}> ?o", matching=True),
    Property("pypi", "PyPI distribution", "the name of the distribution on the Python Package Index", "str",
             f"?s <{FW.pypiDistribution}> ?o", matching=True),
    Property("homepage", "homepage", "the project's homepage URL", "str", f"?s <{DOAP.homepage}> ?o",
             matching=True),
    Property("downloads", "latest monthly downloads",
             "downloads from PyPI in the 30 days before the latest snapshot of hugovk/top-pypi-packages; none when "
             "that snapshot's list of the most-downloaded projects does not include the project (see "
             "downloads-below)", "int", _LATEST + f"<{FW.downloadCount}> ?o"),
    Property("downloads-below", "latest monthly downloads, at most",
             "when the latest snapshot's list does not include the project: the smallest count in that list, which "
             "the project did not reach", "int", _LATEST + f"<{FW.inTopList}> false ; <{FW.downloadsBelow}> ?o"),
    Property("downloads-date", "latest downloads snapshot",
             "the day of the snapshot the latest monthly downloads were counted on", "date",
             f"{{ SELECT ?s (MAX(?day) AS ?o) WHERE {{ ?x <{FW.project}> ?s ; <{FW.snapshotDate}> ?day }} "
             f"GROUP BY ?s }}"),
    Property("advisories", "security advisories",
             "how many advisories of the PyPA advisory database concern the project's PyPI distribution (any "
             "version; projects without a PyPI distribution have no value)", "int",
             f"{{ SELECT ?s (COUNT(DISTINCT ?a) AS ?o) WHERE {{ ?s <{FW.pypiDistribution}> ?dist . "
             f"OPTIONAL {{ ?a a <{FW.SecurityAdvisory}> ; <{FW.affects}> ?s }} }} GROUP BY ?s }}"),
)
BY_ID: dict[str, Property] = {p.id: p for p in PROPERTIES}


def _version_key(text: str) -> tuple[tuple[int, str], ...]:
    """"3.9" before "3.10": numbers compared as numbers."""
    return tuple((int(part), "") if part.isdigit() else (-1, part) for part in re.split(r"[.\-]", text))


def _value(prop: Property, term: Any, name: Any) -> dict[str, Any] | None:
    """One value as 0.2 types it, or None for a term that cannot be one (a blank node as an entity)."""
    text = str(term.value)
    if prop.kind == "entity":
        if not text.startswith(BASE):
            return None
        return {"id": text[len(BASE):], "name": str(name.value) if name is not None else text.rsplit("/", 1)[-1]}
    if prop.kind == "int":
        return {"int": int(text)}
    if prop.kind == "date":
        datatype = str(getattr(getattr(term, "datatype", None), "value", ""))
        if datatype == str(XSD.date) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return {"date": text + "T00:00:00Z"}
        return {"str": text}  # a month or a year: no day to give
    return {"str": str(name.value) if name is not None else text}


def _order(prop: Property, values: list[dict[str, Any]]) -> list[dict[str, Any]]:
    unique = list({repr(sorted(v.items())): v for v in values}.values())
    if prop.id == "python-versions":
        return sorted(unique, key=lambda v: _version_key(v["str"]))
    return sorted(unique, key=lambda v: str(v.get("name", next(iter(v.values())))).lower())


class Extension:
    """Every property value of every candidate, read once from the served data (one query per property)."""

    def __init__(self, engine: Engine) -> None:
        types = " ".join(f"<{t}>" for t, _ in TYPES)
        self.rows: dict[str, dict[str, list[dict[str, Any]]]] = {}
        self.types: dict[str, set[str]] = {}  # candidate id -> its types
        for s, t in run(engine, f"SELECT ?s ?t WHERE {{ VALUES ?t {{ {types} }} ?s a ?t FILTER(isIRI(?s)) }}",
                        max_rows=1_000_000).rows:
            if s is not None and t is not None and s.value.startswith(BASE):
                self.types.setdefault(s.value[len(BASE):], set()).add(t.value)
        self.offered: dict[str, set[str]] = {}  # property id -> the types with a value of it
        self.entities: dict[str, tuple[str, str]] = {}  # entity value id -> (its name, its type's name)
        for prop in PROPERTIES:
            query = f"SELECT ?s ?o ?n WHERE {{ {prop.pattern} }}"
            found: dict[str, list[dict[str, Any]]] = {}
            for s, o, n in run(engine, query, max_rows=1_000_000).rows:
                if s is None or o is None or not s.value.startswith(BASE):
                    continue
                cid = s.value[len(BASE):]
                value = _value(prop, o, n) if cid in self.types else None
                if value is not None:
                    found.setdefault(cid, []).append(value)
            for cid, values in found.items():
                self.rows.setdefault(cid, {})[prop.id] = _order(prop, values)
                self.offered.setdefault(prop.id, set()).update(self.types[cid])
                if prop.type is not None:
                    self.entities.update((v["id"], (v["name"], prop.type[1])) for v in values)

    def values(self, cid: str, pid: str) -> list[dict[str, Any]]:
        """The values of property ``pid`` of candidate ``cid`` (an id, or its IRI); [] when it has none."""
        key = cid[len(BASE):] if cid.startswith(BASE) else cid
        return self.rows.get(key, {}).get(pid, [])

    def popularity(self, cid: str) -> int:
        """Latest monthly downloads of candidate ``cid`` (counted, or the bound it stayed under; 0 unknown)."""
        for pid in ("downloads", "downloads-below"):
            values = self.values(cid, pid)
            if values:
                return int(values[0]["int"])
        return 0

    def propose(self, type_: str | None, limit: int | None = None) -> dict[str, Any]:
        """The 0.2 property proposal for entities of ``type_`` (an id or short name; every property when None):
        the properties at least one entity of that type has a value of, in the table's order."""
        wanted = type_id(type_) if type_ else None
        chosen = [p for p in PROPERTIES if wanted is None or wanted in self.offered.get(p.id, set())]
        if limit is not None:
            chosen = chosen[:limit]
        out: dict[str, Any] = {"properties": [{"id": p.id, "name": p.name, "description": p.description}
                                              for p in chosen]}
        if type_ is not None:
            out["type"] = type_
        if limit is not None:
            out["limit"] = limit
        return out

    def extend(self, query: ExtensionQuery) -> dict[str, Any]:
        """The 0.2 data extension response: meta (one entry per property asked for) and, for every id asked
        for, every property's values (an unknown id has no values)."""
        meta = []
        for pid in query.properties:
            prop = BY_ID[pid]
            entry: dict[str, Any] = {"id": prop.id, "name": prop.name}
            if prop.type is not None:
                entry["type"] = {"id": prop.type[0], "name": prop.type[1]}
            meta.append(entry)
        rows = {cid: {pid: self.values(cid, pid) for pid in query.properties} for cid in query.ids}
        return {"meta": meta, "rows": rows}


@dataclass(frozen=True)
class ExtensionQuery:
    """A data extension query, checked: the ids (unique, in order) and the property ids (known, unique)."""

    ids: tuple[str, ...]
    properties: tuple[str, ...]


def parse_extension(raw: str) -> ExtensionQuery:
    """A data extension query (the ``extend`` parameter, JSON: ``{"ids": [...], "properties": [{"id": ...,
    "settings": {...}}]}``) checked against the 0.2 schema and the bounds; InputError saying what is wrong (its
    subclass TooManyIds past EXTEND_MAX_IDS ids)."""
    doc = load_json(raw, "extend")
    if not isinstance(doc, dict) or "ids" not in doc or "properties" not in doc:
        raise InputError("extend must be a JSON object {\"ids\": [...], \"properties\": [{\"id\": ...}]}",
                         source="extend")
    unknown = set(doc) - {"ids", "properties"}
    if unknown:
        raise InputError(f"unknown member(s) {sorted(unknown)[:5]}: an extension query has ids and properties",
                         source="extend")
    ids, props = doc["ids"], doc["properties"]
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise InputError("\"ids\" is a list of entity ids (strings)", source="extend.ids")
    most = active().extend_max_ids
    if len(ids) > most:
        raise TooManyIds(f"at most {most} ids in one extension query; this one has {len(ids)}: send fewer",
                         source="extend.ids")
    for cid in ids:
        if len(cid) > MAX_ID:
            raise InputError(f"an id is {len(cid)} characters long; at most {MAX_ID}", source="extend.ids")
    if not isinstance(props, list) or not props:
        raise InputError("\"properties\" is a non-empty list of {\"id\": ...}", source="extend.properties")
    if len(props) > MAX_PROPERTIES:
        raise InputError(f"at most {MAX_PROPERTIES} properties in one extension query; this one has "
                         f"{len(props)}", source="extend.properties")
    return ExtensionQuery(ids=tuple(dict.fromkeys(ids)),
                          properties=tuple(dict.fromkeys(_property_id(p) for p in props)))


def _property_id(prop: Any) -> str:
    where = "extend.properties"
    if not isinstance(prop, dict) or not isinstance(prop.get("id"), str) or set(prop) - {"id", "settings"}:
        raise InputError("each property is {\"id\": string, \"settings\": object (optional)}", source=where)
    settings = prop.get("settings", {})
    if (not isinstance(settings, dict) or len(settings) > MAX_SETTINGS
            or not all(isinstance(v, (str, int, float, bool)) for v in settings.values())):
        raise InputError(f"\"settings\" is an object of at most {MAX_SETTINGS} settings, each a string, number or "
                         "boolean (0.2's text, number, checkbox and select settings)", source=where)
    if prop["id"] not in BY_ID:
        raise InputError(f"unknown property {prop['id'][:50]!r}; the properties are " + ", ".join(BY_ID),
                         source=where)
    return str(prop["id"])


def parse_limit(text: str | None) -> int | None:
    """A propose_properties ``limit``: a positive integer (capped at MAX_PROPOSALS), or None when absent."""
    if text is None or text == "":
        return None
    if not re.fullmatch(r"[0-9]{1,6}", text) or int(text) < 1:
        raise InputError("limit is a positive integer", source="limit")
    return min(int(text), MAX_PROPOSALS)


__all__ = ["BY_ID", "PROPERTIES", "Extension", "ExtensionQuery", "Property", "TooManyIds", "parse_extension",
           "parse_limit"]
