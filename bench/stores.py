"""fwgraph in front of a store (`serve --store`) against the embedded engine and the store itself, side by side in
one run: what the extra hop costs. Prints a Markdown section (append it to bench/RESULTS.md).

    python bench/stores.py [--duration 3] [--queries framework-relations,chart,describe-flask] [--out FILE]

The stores are started and loaded exactly as the tests do (tests/stores.py: Oxigraph's server from PyPI, Virtuoso 7
from Debian, on free loopback ports, with the README's loading commands). For each query and store: distinct
requests (a new LIMIT each: no cache answers) to the store directly, to fwgraph in front of it, and to fwgraph
with its embedded engine; and repeated requests to fwgraph in front of it (its caches answer, the store rests).
"""

from __future__ import annotations

import argparse
import sys
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
import lib  # noqa: E402
from tests import server as test_server  # noqa: E402
from tests import stores  # noqa: E402


def start_fwgraph_store(dist: Path, url: str) -> lib.Server:
    s = lib.Server("fwgraph-store", lib.free_port(), "/sparql")
    return lib._spawn(s, [lib.tool("fwgraph"), "serve", "--dist", str(dist), "--port", str(s.port), "--store", url],
                      None, 300)


@dataclass
class Direct(lib.Server):
    """A store's own endpoint; ``params`` (Virtuoso's dataset parameters) go with every query."""

    params: str = ""

    def url(self, query: str) -> str:
        return f"{self.endpoint}?{self.params}{'&' if self.params else ''}query={urllib.parse.quote(query, safe='')}"


def direct(store: stores.Store) -> Direct:
    parts = urllib.parse.urlsplit(store.url)
    return Direct(store.name, int(parts.port or 80), parts.path, params=parts.query)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", type=float, default=3)
    ap.add_argument("--queries", default="framework-relations,frameworks-per-interface,chart,describe-flask")
    ap.add_argument("--stores", default="oxigraph,virtuoso")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    dist = test_server.dist()
    queries = lib.example_queries(args.queries.split(","))
    embedded = lib.start_fwgraph(dist)
    lines = ["## fwgraph in front of a store: what the extra hop costs", "",
             f"Command: `python bench/stores.py --duration {args.duration:g}`. wrk 16 connections, distinct requests "
             "(a new LIMIT each) unless marked repeated; req/s and p99 ms.", "",
             "| query | store | store direct | fwgraph --store | fwgraph embedded | --store / direct | "
             "--store / embedded | fwgraph --store repeated |", "|---|---|---:|---:|---:|---:|---:|---:|"]
    try:
        for name in args.stores.split(","):
            store = stores.STORES[name]()
            front = start_fwgraph_store(dist, store.url)
            raw = direct(store)
            try:
                for q in queries:
                    loads = {}
                    for label, srv in (("direct", raw), ("store", front), ("embedded", embedded)):
                        loads[label] = lib.wrk(srv, srv.url(q.text), q.accept, duration=args.duration,
                                               distinct_prefix=srv.url(q.text.rstrip() + "\nLIMIT "))
                    rep = lib.wrk(front, front.url(q.text), q.accept, duration=args.duration)
                    d, s, e = loads["direct"], loads["store"], loads["embedded"]
                    lines.append(f"| {q.name} | {name} | {d.rps:.0f} ({d.p99_ms:.0f}) | {s.rps:.0f} ({s.p99_ms:.0f})"
                                 f" | {e.rps:.0f} ({e.p99_ms:.0f}) | {s.rps / d.rps:.2f}× | {s.rps / e.rps:.2f}× | "
                                 f"{rep.rps:.0f} ({rep.p99_ms:.0f}) |")
                    print(lines[-1], flush=True)
            finally:
                front.stop()
                store.stop()
    finally:
        embedded.stop()
    text = "\n".join(lines) + "\n"
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
