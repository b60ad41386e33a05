"""Which cache on the query path pays: hits per layer and time per request for a warm, repeated query.

Two layers keep a cacheable /sparql answer: the front cache (``fwgraph.app.frontcache``, whole GET responses by
URL, Accept and Host, in front of Flask) and the Service's answer cache (``Service.answers``, serialised
answers by query text and format, behind the protocol's checks). The prepared-query memo (``Service.prepare``)
keeps checked queries, not answers. This runs the whole middleware stack in-process (no sockets, the embedded
engine) for three request mixes and four configurations, and prints a Markdown table. As served, the front
cache passes /sparql ("answer cache only"); "both" is how it was before (the answer kept twice):

    PYTHONPATH=src python bench/query_caches.py --requests 300
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any
from urllib.parse import urlencode

from werkzeug.test import Client

from fwgraph.app import create_app
from fwgraph.app.frontcache import FrontCache
from fwgraph.service import ResultCache

QUERY = ("PREFIX fw: <https://w3id.org/fwgraph/ns#> SELECT ?f ?l WHERE { ?f a fw:WebFramework ; "
         "<http://www.w3.org/2000/01/rdf-schema#label> ?l } ORDER BY ?l")
ACCEPTS = ["application/sparql-results+json", "application/sparql-results+json, */*;q=0.1",
           "application/sparql-results+json;q=1.0", "application/json, application/sparql-results+json"]
MIXES = {
    "GET, same URL and Accept": lambda i: ("GET", ACCEPTS[0]),
    "GET, Accept spelled 4 ways": lambda i: ("GET", ACCEPTS[i % len(ACCEPTS)]),
    "POST (form)": lambda i: ("POST", ACCEPTS[0]),
}


class Counted(ResultCache):
    """The Service's answer cache, counting its hits."""

    hits = 0

    def get(self, key: Any) -> Any:
        found = super().get(key)
        self.hits += found is not None
        return found


def front_cache(app: Any) -> FrontCache | None:
    layer = app.wsgi_app
    while layer is not None and not isinstance(layer, FrontCache):  # Compression keeps its inner app as .inner
        layer = getattr(layer, "inner", None) or getattr(layer, "app", None)
    return layer if isinstance(layer, FrontCache) else None


def run(config: str, mix: str, requests: int) -> dict[str, Any]:
    app = create_app({"query_workers": 0, "network_guard": False, "rate_limit": 0})
    service = app.extensions["fwgraph"]
    cfg = service.settings
    answers = Counted(cfg.cache_entries if "answer" in config or config == "both" else 0, cfg.cache_bytes // 2,
                      cfg.cache_entry_bytes)
    service._built["answers"] = answers
    app.extensions["fwgraph.sparql"].cache = answers
    front = front_cache(app)
    if front is not None and config in ("both", "front cache only"):
        front.passes = frozenset()  # keeps /sparql's answers too
    client = Client(app.wsgi_app)
    times = []
    for i in range(requests + 1):
        method, accept = MIXES[mix](i)
        t0 = time.perf_counter()
        if method == "GET":
            r = client.get("/sparql?" + urlencode({"query": QUERY}), headers={"Accept": accept})
        else:
            r = client.post("/sparql", data={"query": QUERY}, headers={"Accept": accept})
        assert r.status_code == 200, r.status_code
        if i:  # the first request fills the caches
            times.append(time.perf_counter() - t0)
    return {"front": front.hits if front is not None else 0, "answers": answers.hits,
            "median_us": statistics.median(times) * 1e6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    print("| request mix | configuration | front cache hits | answer cache hits | median per request |")
    print("|---|---|---:|---:|---:|")
    for mix in MIXES:
        for config in ("answer cache only", "both", "front cache only", "neither"):
            got = run(config, mix, args.requests)
            print(f"| {mix} | {config} | {got['front']} | {got['answers']} | {got['median_us']:.0f} µs |")


if __name__ == "__main__":
    main()
