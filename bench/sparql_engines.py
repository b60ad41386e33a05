"""pySHACL's reports with the SPARQL-based constraints evaluated by rdflib and by Oxigraph, side by side: every
witness in tests/shapes/ (validated as a contribution, as tests/test_shapes.py does) and the whole graph; the
reports compared as canonical N-Triples, the CPU seconds of each evaluator summed.

    python bench/sparql_engines.py [--no-whole]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from fwgraph.data.examples import executables
from fwgraph.data.graph import Sources, load_files, load_shapes, parse_file
from fwgraph.publish.canonical import canonical_graph, canonical_nt, canonical_quads, load_sources, stamp_quads
from fwgraph.publish.dist import Version
from fwgraph.publish.validation import describe_in_files, validate_contribution, validate_graph

ROOT = Path(__file__).resolve().parents[1]


def report_nt(report: object) -> bytes:
    return canonical_nt(canonical_quads(report.report_graph))  # type: ignore[attr-defined]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-whole", action="store_true", help="the witnesses only")
    args = parser.parse_args()
    src = Sources.at(ROOT)
    shapes = load_shapes(str(ROOT))
    describe = describe_in_files([src.ontology, *src.data])
    vocabulary = parse_file(src.ontology)
    cpu = {True: 0.0, False: 0.0}
    differ = []
    witnesses = sorted((ROOT / "tests" / "shapes").glob("*.ttl"))
    for witness in witnesses:
        contribution = load_files([witness])
        reports = {}
        for oxigraph in (False, True):
            start = time.process_time()
            report = validate_contribution(contribution.graph, describe, vocabulary, shapes=shapes,
                                           origin=contribution.origin, oxigraph=oxigraph)
            cpu[oxigraph] += time.process_time() - start
            reports[oxigraph] = (report_nt(report), [r.as_dict() for r in report.results])
        if reports[False] != reports[True]:
            differ.append(witness.name)
    print(f"witnesses: {len(witnesses)}, reports differing: {len(differ)} {differ}")
    print(f"witnesses CPU s: rdflib {cpu[False]:.1f}, oxigraph {cpu[True]:.1f}")
    if not args.no_whole:
        sources = load_sources([src.ontology, *src.data], executables(src.queries), str(src.queries))
        quads = stamp_quads(sources.quads, Version(name="0.0.0+dev", release=False))
        nt = canonical_nt(quads)
        whole = {}
        for oxigraph in (False, True):
            start = time.process_time()
            report = validate_graph(canonical_graph(quads, "Memory"), shapes=shapes, data_nt=nt, oxigraph=oxigraph)
            whole[oxigraph] = (report_nt(report), [r.as_dict() for r in report.results])
            print(f"whole graph ({len(quads)} triples), {'oxigraph' if oxigraph else 'rdflib'}: "
                  f"{time.process_time() - start:.1f} s CPU, {len(report.results)} results", flush=True)
        print("whole graph reports identical:", whole[False] == whole[True])
        differ += [] if whole[False] == whole[True] else ["<whole graph>"]
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
