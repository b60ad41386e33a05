"""The same Flask app (fwgraph.app:create_app) under several WSGI servers: a repeated query and a trivial route.

    python bench/servers.py [--duration 5] [--dist DIR]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import lib  # noqa: E402

QUERY = "frameworks-per-interface"
TRIVIAL = "/context.jsonld"


def configs(port: int, dist: Path) -> list[tuple[str, list[str]]]:
    app = "fwgraph.app:create_app()"
    return [
        ("granian WSGI, 1 worker, 8 blocking threads (fwgraph serve)",
         [lib.tool("fwgraph"), "serve", "--dist", str(dist), "--port", str(port)]),
        ("granian WSGI, 2 workers, 2 blocking threads",
         [lib.tool("granian"), "--interface", "wsgi", "--factory", "--host", "127.0.0.1", "--port", str(port),
          "--workers", "2", "--blocking-threads", "2", "--no-ws", "fwgraph.app:create_app"]),
        ("gunicorn sync, 2 workers", [lib.tool("gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}", app]),
        ("gunicorn gthread, 1 worker x 8 threads",
         [lib.tool("gunicorn"), "-w", "1", "-k", "gthread", "--threads", "8", "-b", f"127.0.0.1:{port}", app]),
        ("gunicorn gthread, 2 workers x 4 threads",
         [lib.tool("gunicorn"), "-w", "2", "-k", "gthread", "--threads", "4", "-b", f"127.0.0.1:{port}", app]),
        ("waitress, 8 threads", [lib.tool("waitress-serve"), f"--listen=127.0.0.1:{port}", "--threads=8",
                                 "--call", "fwgraph.app:create_app"]),
    ]


def run(dist: Path, duration: float, rounds: int = 1, log=print) -> list[dict]:
    q = next(x for x in lib.example_queries([QUERY]))
    rows = []
    for name, argv in configs(0, dist):
        port = lib.free_port()
        argv = [a.replace("127.0.0.1:0", f"127.0.0.1:{port}") for a in argv]
        if "--port" in argv:
            argv[argv.index("--port") + 1] = str(port)
        srv = lib.start_cmd(name, argv, port, env={"FWGRAPH_DIST_DIR": str(dist)})
        try:
            status, _, headers = srv.get(TRIVIAL, "*/*")
            etag = headers.get("ETag")
            path = srv.url(q.text)
            assert srv.get(path, q.accept)[0] == 200
            qs, ts = [], []
            for _ in range(rounds):
                qs.append(lib.wrk(srv, path, q.accept, duration=duration))
                ts.append(lib.wrk(srv, TRIVIAL, "*/*", duration=duration, headers={"If-None-Match": etag}))
            mem = lib.memory(srv.proc.pid)
        finally:
            srv.stop()
        row = {"server": name, "start_s": srv.start_s,
               "query_rps": statistics.median(x.rps for x in qs), "query_p99": statistics.median(x.p99_ms for x in qs),
               "trivial_rps": statistics.median(x.rps for x in ts),
               "trivial_p99": statistics.median(x.p99_ms for x in ts),
               "errors": sum(x.errors + x.non2xx for x in qs + ts), "pss": mem["pss"]}
        log(f"  {name}: query {row['query_rps']:.0f} req/s, trivial {row['trivial_rps']:.0f} req/s")
        rows.append(row)
    return rows


def table(rows: list[dict]) -> str:
    best = max(r["query_rps"] for r in rows)
    out = ["| WSGI server | repeated query req/s | p99 ms | trivial route (304) req/s | p99 ms | start s | PSS MB | errors |",
           "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        mark = " **(best)**" if r["query_rps"] == best else ""
        out.append(f"| {r['server']}{mark} | {r['query_rps']:.0f} | {r['query_p99']:.1f} | {r['trivial_rps']:.0f} | "
                   f"{r['trivial_p99']:.1f} | {r['start_s']:.2f} | {r['pss'] / 2**20:.0f} | {r['errors']} |")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", type=float, default=5)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--dist", type=Path, default=None)
    args = ap.parse_args()
    dist = args.dist
    if dist is None:
        import subprocess

        dist = Path(tempfile.mkdtemp(prefix="bench-dist-"))
        subprocess.run([lib.tool("fwgraph"), "build", "--out", str(dist)], check=True, capture_output=True)
    print(table(run(dist, args.duration, args.rounds)))


if __name__ == "__main__":
    main()
