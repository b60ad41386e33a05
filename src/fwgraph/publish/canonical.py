"""The sources as canonical quads: parsed once, blank nodes labelled by RDFC-1.0, sorted, and stamped with a
version; the one form that `fwgraph build` writes and `fwgraph validate` checks (same bytes, same digest)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib import BNode, Graph, URIRef

from fwgraph.core.namespace import ONTOLOGY_IRI, SHAPES_IRI, bind_prefixes
from fwgraph.data.convert import add_ox, from_ox, to_ox
from fwgraph.data.graph import parse_file_quads, stamp_version
from fwgraph.publish.dist import Version


def canonical_quads(graph: Graph) -> list[ox.Quad]:
    """The graph's triples with blank nodes labelled by W3C RDF Dataset Canonicalization (RDFC-1.0), sorted.

    pyoxigraph's canonicalisation is linear on tree-shaped blank nodes like ours, where rdflib's
    ``to_canonical_graph`` takes minutes at a few thousand blank nodes.
    """
    dataset = ox.Dataset(ox.parse(graph.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES))
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return sorted(dataset, key=str)


def canonical_nt(quads: list[ox.Quad]) -> bytes:
    """N-Triples with canonical blank node labels, lines sorted: identical bytes for identical graphs."""
    lines = sorted(f"{q.subject} {q.predicate} {q.object} ." for q in quads)
    return ("\n".join(lines) + "\n").encode("utf-8")


def canonical_graph(quads: list[ox.Quad], store: str = "SimpleMemory") -> Graph:
    """An rdflib graph of canonically labelled quads: for Turtle and JSON-LD in rdflib's store without contexts
    (a third faster to fill and to write, the same bytes), for pySHACL in its default store (``"Memory"``)."""
    return add_ox(bind_prefixes(Graph(store=store)), quads)


def stamped(graph: Graph, stamp: Version) -> Graph:
    copy = Graph()
    copy += graph
    for prefix, ns in graph.namespaces():
        copy.bind(prefix, ns, override=True)
    return stamp_version(copy, stamp.name, iri=stamp.release, prior=stamp.prior,
                         issued=stamp.issued if stamp.release else None)


_HEADERS = frozenset(ox.NamedNode(str(iri)) for iri in (ONTOLOGY_IRI, SHAPES_IRI))


def stamp_quads(quads: list[ox.Quad], stamp: Version) -> list[ox.Quad]:
    """Canonical quads stamped with ``stamp`` (as :func:`stamped` stamps a graph), sorted.

    Stamping rewrites triples of the ontology and shapes headers whose objects are IRIs or literals, never a
    blank node: RDFC-1.0 labels a blank node from the quads that mention blank nodes only, so the quads
    canonicalised once before stamping carry the labels the stamped graph would get.
    """
    header = [q for q in quads if q.subject in _HEADERS]
    if not header:
        return list(quads)
    header_graph = stamped(add_ox(Graph(), header), stamp)
    rest = [q for q in quads if q.subject not in _HEADERS]
    return sorted([*rest, *(ox.Quad(to_ox(s), to_ox(p), to_ox(o)) for s, p, o in header_graph)], key=str)


@dataclass
class SourceQuads:
    """The sources' triples, canonically labelled and sorted, and which file stated each subject."""

    quads: list[ox.Quad]
    subjects: dict[ox.NamedNode, str]
    anchors: dict[tuple[ox.NamedNode, ox.NamedNode], str]

    def origin_of(self, quads: list[ox.Quad]) -> dict[Any, str]:
        """The file each subject of ``quads`` (canonically labelled) was stated in, keyed by rdflib term.

        An IRI: the first file stating it as a subject. A blank node: the first file hanging a blank node from
        the IRI and predicate it hangs from (its labels are the canonical ones, not the files').
        """
        origin: dict[Any, str] = {URIRef(k.value): v for k, v in self.subjects.items()}
        parent: dict[Any, tuple[Any, Any]] = {}
        for q in quads:
            if isinstance(q.object, ox.BlankNode):
                parent.setdefault(q.object, (q.subject, q.predicate))
        for node in {q.subject for q in quads if isinstance(q.subject, ox.BlankNode)}:
            seen, step = {node}, parent.get(node)
            while step is not None and isinstance(step[0], ox.BlankNode) and step[0] not in seen:
                seen.add(step[0])
                step = parent.get(step[0])
            if step is not None and isinstance(step[0], ox.NamedNode):
                found = self.anchors.get(step)
                if found is not None:
                    origin[BNode(node.value)] = found
        return origin


def load_sources(paths: list[Path], extra: Graph | None = None, extra_origin: str = "") -> SourceQuads:
    """Parse the Turtle sources with pyoxigraph, each term as rdflib reads it, and canonicalise them once, with
    the triples of ``extra`` (the example queries, stated by ``extra_origin``).

    Terms go through rdflib's term conversion (:mod:`fwgraph.data.convert`), so literals are normalised exactly as
    when the graph was loaded into rdflib first.
    """
    quads: list[ox.Quad] = []
    subjects: dict[ox.NamedNode, str] = {}
    anchors: dict[tuple[ox.NamedNode, ox.NamedNode], str] = {}
    cache: dict[Any, Any] = {}

    def term(t: Any) -> Any:
        found = cache.get(t)
        if found is None:
            found = cache[t] = t if isinstance(t, (ox.NamedNode, ox.BlankNode)) else to_ox(from_ox(t))
        return found

    parts: list[tuple[str, Any]] = [(str(path), parse_file_quads(path)) for path in paths]
    if extra is not None:
        parts.append((extra_origin, [ox.Quad(to_ox(s), to_ox(p), to_ox(o)) for s, p, o in extra]))
    for origin, part in parts:
        for q in part:
            if isinstance(q.subject, ox.NamedNode):
                subjects.setdefault(q.subject, origin)
                if isinstance(q.object, ox.BlankNode):
                    anchors.setdefault((q.subject, q.predicate), origin)
            quads.append(ox.Quad(q.subject, q.predicate, term(q.object)))
    dataset = ox.Dataset(quads)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return SourceQuads(quads=sorted(dataset, key=str), subjects=subjects, anchors=anchors)
