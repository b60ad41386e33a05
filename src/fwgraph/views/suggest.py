"""Suggest services (W3C Reconciliation Service API 0.2): auto-completion of entities, types and properties as a
user types in OpenRefine, by prefix. Bounded: a prefix of at most MAX_PREFIX characters, a cursor of at most
MAX_CURSOR, at most MAX_LIMIT suggestions; every match is a set lookup or a ``startswith`` on the few names each
entity has (no pattern, nothing that backtracks).

>>> suggestion_ranks("fla", ["flask", "flask restful"], "framework/flask")
1
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fwgraph.core.errors import InputError
from fwgraph.views.extension import PROPERTIES
from fwgraph.views.reconcile import TYPES, Candidate, Index, normalise, type_id

MAX_PREFIX = 100  # characters of a prefix (longer: 400)
MAX_TYPE = 300  # characters of a type (longer: 400)
MAX_CURSOR = 10_000  # suggestions skipped at most (more: 400)
MAX_LIMIT = 25  # suggestions per answer at most
DEFAULT_LIMIT = 10


def parse_request(prefix: str | None, cursor: str | None, limit: str | None) -> tuple[str, int, int]:
    """(prefix, cursor, limit) of a suggest request, checked; InputError saying which parameter is wrong.

    >>> parse_request("fla", "20", "500")
    ('fla', 20, 25)
    """
    prefix = prefix or ""
    if len(prefix) > MAX_PREFIX:
        raise InputError(f"prefix is {len(prefix)} characters long; at most {MAX_PREFIX}", source="prefix")
    skip = _count(cursor, "cursor", 0)
    if skip > MAX_CURSOR:
        raise InputError(f"cursor is at most {MAX_CURSOR}", source="cursor")
    size = _count(limit, "limit", DEFAULT_LIMIT)
    if size < 1:
        raise InputError("limit is a positive integer", source="limit")
    return prefix, skip, min(size, MAX_LIMIT)


def _count(text: str | None, name: str, default: int) -> int:
    """A non-negative integer parameter of at most nine digits (a longer one is refused, never converted)."""
    if text is None or text.strip() == "":
        return default
    if not re.fullmatch(r"[0-9]{1,9}", text.strip()):
        raise InputError(f"{name} is a non-negative integer of at most nine digits", source=name)
    return int(text)


def suggestion_ranks(norm: str, names: list[str], ident: str) -> int | None:
    """How well a normalised prefix matches something with these normalised ``names`` and this ``ident``:
    0 a name equals it, 1 a name starts with it, 2 a word of a name does, 3 the id does; None no match."""
    if not norm:
        return 3
    ranks = [0 if name == norm else 1 if name.startswith(norm) else
             2 if any(w.startswith(norm) for w in name.split()[1:]) else 4 for name in names]
    if ident.lower().startswith(norm) or ident.rsplit("/", 1)[-1].lower().startswith(norm):
        ranks.append(3)
    best = min(ranks, default=4)
    return best if best < 4 else None


def _page(scored: list[tuple[tuple[Any, ...], dict[str, Any]]], cursor: int, limit: int) -> dict[str, Any]:
    """One page of suggestions, ordered by their keys (rank, then a tie-breaker, then name)."""
    scored.sort(key=lambda item: item[0])
    return {"result": [item for _, item in scored[cursor:cursor + limit]]}


def entities(index: Index, prefix: str, cursor: int = 0, limit: int = DEFAULT_LIMIT,
             popularity: Callable[[str], int] | None = None, type_: str | None = None) -> dict[str, Any]:
    """Entities whose name, other name, PyPI name or id starts with ``prefix`` (or one of whose name's words
    does), exact names first; among equally good matches those of type ``type_`` (a type id or short name, as
    a reconciled column's type: preferred, never required), then the most ``popularity`` (by id: downloads).
    Each with its description and types (``notable``)."""
    norm = normalise(prefix)
    wanted = type_id(type_) if type_ else None
    raw = prefix.strip().lower()
    scored = []
    for candidate in index.candidates.values():
        names = candidate.names | {normalise(name) for name in candidate.pypi}  # "python-fasthtml" as typed
        rank = suggestion_ranks(norm, sorted(names), candidate.id)
        if raw and candidate.id.startswith(raw):
            rank = min(rank if rank is not None else 3, 3)
        if rank is not None:
            popular = popularity(candidate.id) if popularity is not None else 0
            other = int(wanted is not None and wanted not in candidate.types)
            scored.append(((rank, other, -popular, candidate.name.lower()), _entity(candidate)))
    return _page(scored, cursor, limit)


def _entity(candidate: Candidate) -> dict[str, Any]:
    names = dict(TYPES)
    item: dict[str, Any] = {"id": candidate.id, "name": candidate.name,
                            "notable": [{"id": t, "name": names[t]} for t in candidate.types]}
    if candidate.description:
        item["description"] = candidate.description
    return item


def types(prefix: str, cursor: int = 0, limit: int = DEFAULT_LIMIT) -> dict[str, Any]:
    """The types one can reconcile against whose name, IRI or local name starts with ``prefix``."""
    norm = normalise(prefix)
    scored = []
    for iri, name in TYPES:
        local = iri.rsplit("#", 1)[-1]
        rank = suggestion_ranks(norm, [name, normalise(local)], iri)
        if rank is not None:
            scored.append(((rank, 0, name), {"id": iri, "name": name}))
    return _page(scored, cursor, limit)


def properties(prefix: str, cursor: int = 0, limit: int = DEFAULT_LIMIT) -> dict[str, Any]:
    """Properties (for matching and for data extension) whose name or id starts with ``prefix``; each says
    whether reconciliation queries match on it."""
    norm = normalise(prefix)
    scored = []
    for order, prop in enumerate(PROPERTIES):
        rank = suggestion_ranks(norm, [normalise(prop.name)], prop.id)
        if rank is not None:
            use = "matching and data extension" if prop.matching else "data extension"
            scored.append(((rank, order, prop.id),
                           {"id": prop.id, "name": prop.name, "description": f"{prop.description} ({use})"}))
    return _page(scored, cursor, limit)


__all__ = ["MAX_CURSOR", "MAX_PREFIX", "entities", "parse_request", "properties", "suggestion_ranks", "types"]
