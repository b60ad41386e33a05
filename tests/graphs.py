"""Graph isomorphism for tests, decided on RDFC-1.0 canonical forms (pyoxigraph): the same answer as
rdflib.compare.isomorphic, in milliseconds where rdflib's takes seconds on the whole dataset."""

from __future__ import annotations

import pyoxigraph as ox
from rdflib import Graph


def canonical(graph: Graph) -> set[ox.Quad]:
    """The graph's triples with RDFC-1.0 blank-node labels (as default-graph quads)."""
    dataset = ox.Dataset(ox.parse(graph.serialize(format="nt", encoding="utf-8"), ox.RdfFormat.N_TRIPLES))
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return set(dataset)


def isomorphic(a: Graph, b: Graph) -> bool:
    """Whether ``a`` and ``b`` are the same graph up to blank-node labels."""
    return len(a) == len(b) and canonical(a) == canonical(b)
