"""Blank-node labels that depend only on the graph: the same triples give the same labels in every process and
on every request, so a document's bytes (N-Triples, expanded and flattened JSON-LD) match its strong ETag.

Each blank node is named by a hash of what surrounds it, refined round by round with its blank neighbours'
hashes (colour refinement, as in RDF canonicalisation's first step) until the partition stops changing. Blank
nodes that no round tells apart are interchangeable in this data (a graph of trees: releases, feature
statements, overrides): whichever gets which label, the serialised triples are the same.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable

#: Most refinement rounds (a round per level of blank-node nesting; the data nests three or four deep).
MAX_ROUNDS = 16


def labels(triples: Iterable[tuple[Hashable, Hashable, Hashable]], is_blank: Callable[[Hashable], bool],
           text: Callable[[Hashable], str] = str) -> dict[Hashable, str]:
    """A label (``b`` and 16 hex digits, a suffix for ties) for every blank node of ``triples``.

    >>> one = labels([("_:x", "p", "1"), ("s", "q", "_:x")], lambda t: t.startswith("_:"))
    >>> two = labels([("_:y", "p", "1"), ("s", "q", "_:y")], lambda t: t.startswith("_:"))
    >>> one["_:x"] == two["_:y"]
    True
    """
    out: dict[Hashable, list[tuple[Hashable, Hashable]]] = defaultdict(list)
    into: dict[Hashable, list[tuple[Hashable, Hashable]]] = defaultdict(list)
    nodes: set[Hashable] = set()
    for s, p, o in triples:
        if is_blank(s):
            out[s].append((p, o))
            nodes.add(s)
        if is_blank(o):
            into[o].append((s, p))
            nodes.add(o)
    if not nodes:
        return {}
    colour = dict.fromkeys(nodes, "")
    classes = 1
    for _ in range(MAX_ROUNDS):
        refined = {}
        for node in nodes:
            parts = sorted(f">{text(p)} {_name(o, colour, text)}" for p, o in out[node])
            parts += sorted(f"<{_name(s, colour, text)} {text(p)}" for s, p in into[node])
            refined[node] = hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()[:16]
        colour = refined
        count = len(set(refined.values()))
        if count == classes or count == len(nodes):
            break
        classes = count
    result: dict[Hashable, str] = {}
    seen: dict[str, int] = defaultdict(int)
    for node in sorted(nodes, key=lambda n: colour[n]):
        base = colour[node]
        result[node] = f"b{base}" + (f"-{seen[base]}" if seen[base] else "")
        seen[base] += 1
    return result


def _name(term: Hashable, colour: dict[Hashable, str], text: Callable[[Hashable], str]) -> str:
    """A term as it enters a hash: a blank node by its colour so far, anything else as written."""
    return "_:" + colour[term] if term in colour else text(term)
