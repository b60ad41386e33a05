"""Soak test: fwgraph under a long mixed load, its memory and tail latency sampled over time; writes a Markdown
section (append it to bench/RESULTS.md).

    python bench/soak.py [--minutes 10] [--interval 30] [--connections 16] [--out bench/SOAK.md]

One `fwgraph serve` on a fresh build; wrk drives a mix, request by request: repeated example queries (a cache
answers), distinct ones (a new LIMIT each: no cache can), runaway queries (stopped at the time limit: 503), resource
pages in every format, 404s, malformed queries, a service description, and a small contribution POSTed to
/validate. Beside it, slow senders keep connections open trickling request bodies, and a probe sends one cheap
query at a time (a new `ASK` each: never cached) from another client address, to time what a well-behaved user
gets while the abuse runs. Every interval records req/s, p50/p99, socket errors and answers by class (2xx, 4xx,
5xx; 503 apart: a deliberate refusal), the probe's p50/p99, and the server's memory (PSS and RSS summed over its
processes), and the machine's load average (other work on it slows every figure). Healthy means: no 5xx but 503,
no socket errors, the probe's p99 ≤ 50 ms, memory flat after warm-up.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import lib  # noqa: E402

BASE = "https://w3id.org/fwgraph/"
#: A query no engine finishes: every worker evaluating it is killed at the time limit (503, deliberate).
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
CONTRIBUTION = (b"@prefix fw: <https://w3id.org/fwgraph/ns#> .\n"
                b"<https://w3id.org/fwgraph/framework/soak> a fw:WebFramework .\n")

LUA = r"""
local mix = {MIX}
local counter = 0
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) c2 = 0; c4 = 0; c503 = 0; c5 = 0; codes = "" end
request = function()
  counter = counter + 1
  local item = mix[(counter % #mix) + 1]
  local path = item.path
  if item.distinct then path = path .. tostring(1000000 + counter) end
  local headers = {["Accept"] = item.accept}
  -- behind the (simulated) proxy: 128 ordinary clients share the mix; each attack comes from its own address
  if item.abuser then headers["X-Forwarded-For"] = item.abuser
  else headers["X-Forwarded-For"] = "10.9." .. tostring(counter % 128) .. ".1" end
  if item.body then
    headers["Content-Type"] = "text/turtle"
    return wrk.format("POST", path, headers, item.body)
  end
  return wrk.format("GET", path, headers)
end
response = function(status, headers, body)
  if status == 503 then c503 = c503 + 1
  elseif status >= 500 then c5 = c5 + 1; codes = codes .. " " .. tostring(status) .. ":" .. (body or ""):sub(1, 160)
  elseif status >= 400 then c4 = c4 + 1
  else c2 = c2 + 1 end
end
done = function(summary, latency, requests)
  local n = {c2 = 0, c4 = 0, c503 = 0, c5 = 0}
  for _, t in ipairs(threads) do
    for k, _ in pairs(n) do n[k] = n[k] + t:get(k) end
  end
  local detail = ""
  for _, t in ipairs(threads) do detail = detail .. t:get("codes") end
  io.write("SOAKDETAIL " .. detail:gsub("\n", " ") .. "\n")
  local e = summary.errors
  io.write(string.format('SOAKJSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"socket_errors":%d,' ..
    '"c2":%d,"c4":%d,"c503":%d,"c5":%d}\n', summary.requests, summary.duration, latency:percentile(50),
    latency:percentile(99), e.connect + e.read + e.write + e.timeout, n.c2, n.c4, n.c503, n.c5))
end
"""


def _lua(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (bytes, str)):
        text = value.decode() if isinstance(value, bytes) else value
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_lua(v)}" for k, v in value.items()) + "}"
    return "{" + ", ".join(_lua(v) for v in value) + "}"  # type: ignore[attr-defined]


def mix(server: lib.Server) -> list[dict]:
    """The request mix, one entry per request kind."""
    items: list[dict] = []
    for q in lib.example_queries():
        items.append({"path": server.url(q.text), "accept": q.accept})  # repeated: a cache answers
        items.append({"path": server.url(q.text.rstrip() + "\nLIMIT "), "accept": q.accept,  # never cached
                      "distinct": True})
    for accept in ("text/html", "text/turtle", "application/ld+json", "application/rdf+xml"):
        items.append({"path": "/framework/flask", "accept": accept})
        items.append({"path": "/interface/asgi", "accept": accept})
    for abuser in range(4):  # runaways from four addresses of four networks
        items.append({"path": server.url(RUNAWAY + " # "), "accept": "application/json", "distinct": True,
                      "abuser": f"203.0.{113 + abuser}.66"})
    # the routes people choose a framework by, and linking: finder, search, compare, reconciliation
    q = urllib.parse.quote
    extend = json.dumps({"ids": [BASE + "framework/flask", BASE + "framework/django"],
                         "properties": [{"id": "licence"}, {"id": "latest-release"}, {"id": "interfaces"}]})
    items += [{"path": "/find", "accept": "text/html"},
              {"path": "/find?interface=asgi&status=active&feature=websockets", "accept": "text/html"},
              {"path": "/search?q=", "accept": "application/json", "distinct": True},
              {"path": "/search?q=flask", "accept": "text/html"},
              {"path": "/compare?fw=flask&fw=django&fw=fastapi", "accept": "text/html"},
              {"path": "/reconcile?queries=" + q(json.dumps({"q0": {"query": "fast api"}, "q1": {"query": "Flask"}})),
               "accept": "application/json"},
              {"path": "/reconcile/suggest/entity?prefix=fla", "accept": "application/json"},
              {"path": "/reconcile?extend=" + q(extend), "accept": "application/json"}]
    # what an attacker sends: a comment ended by CR hiding SERVICE, no acceptable format, an answer of a
    # gigabyte asked for by REPLACE, a deep nesting, a quadratic reconcile value
    items += [{"path": server.url("ASK { # x\rSERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }") + "&format=bogus",
               "accept": "image/png", "abuser": "203.0.120.66"},
              {"path": server.url('SELECT ?x WHERE { ?s ?p ?o BIND(REPLACE(STR(?o), "(.)", "$1$1$1$1$1$1$1$1") '
                                  "AS ?x) }"),
               "accept": "application/sparql-results+json", "abuser": "203.0.121.66"},
              {"path": server.url("ASK " + "{" * 3000 + "}" * 3000), "accept": "application/json",
               "abuser": "203.0.122.66"},
              {"path": "/reconcile?queries=" + q(json.dumps({"q0": {"query": "/" * 20000}})),
               "accept": "application/json", "abuser": "203.0.123.66"}]
    items += [{"path": "/framework/no-such-thing", "accept": "text/turtle"},
              {"path": "/sparql?query=SELEC", "accept": "application/json"},
              {"path": "/sparql", "accept": "text/turtle"},
              {"path": "/", "accept": "text/html"},
              {"path": "/validate", "accept": "application/json", "body": CONTRIBUTION}]
    return items


class Probe(threading.Thread):
    """One cheap query at a time, never cached, from its own client address: the latency a polite user sees.

    Polite: after a refusal it waits what ``Retry-After`` asks (at most 10 s) before the next, as a client
    that honours the protocol does (retrying at once, it spent its own rate allowance and met 429s). Refusals
    are counted by status (``refused``), other failures (no answer: timeouts, resets) apart."""

    def __init__(self, server: lib.Server, path: str | None = None) -> None:
        super().__init__(daemon=True)
        self.server, self.stop, self.times, self.failures, self.n = server, threading.Event(), [], 0, 0
        self.refused: dict[str, int] = {}  # status and message -> count
        self.path = path  # a fixed path (/healthz), or None: a new ASK each time

    def take(self) -> tuple[list[float], int]:
        times, failures = self.times, self.failures
        self.times, self.failures = [], 0
        return times, failures

    def run(self) -> None:
        while not self.stop.is_set():
            self.n += 1
            url = self.server.base + (self.path or self.server.url(f"ASK {{ ?s ?p ?o }} # probe {self.n}"))
            request = urllib.request.Request(url, headers={"Accept": "application/sparql-results+json",
                                                           "X-Forwarded-For": "198.51.100.7"})
            start = time.perf_counter()
            pause = 0.05
            try:
                with urllib.request.urlopen(request, timeout=30) as answer:
                    answer.read()
                self.times.append((time.perf_counter() - start) * 1000)
            except urllib.error.HTTPError as refusal:
                self.failures += 1
                try:
                    why = json.loads(refusal.read()).get("message", "")
                except ValueError:
                    why = ""
                key = f"{refusal.code} {why.split(';')[0][:70]}".strip()
                self.refused[key] = self.refused.get(key, 0) + 1
                pause = min(10.0, float(refusal.headers.get("Retry-After") or 1))
            except OSError:
                self.failures += 1
            self.stop.wait(pause)


class SlowSenders(threading.Thread):
    """``count`` connections that announce a body and trickle it a byte a second, reopened when refused."""

    def __init__(self, server: lib.Server, count: int) -> None:
        super().__init__(daemon=True)
        self.server, self.count, self.stop, self.refused = server, count, threading.Event(), 0

    def _open(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.server.port), timeout=5)
        sock.sendall(b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
                     b"X-Forwarded-For: 203.0.113.66\r\nContent-Length: 100000\r\n\r\n")
        sock.setblocking(False)
        return sock

    def run(self) -> None:
        socks = [self._open() for _ in range(self.count)]
        while not self.stop.wait(1.0):
            for i, sock in enumerate(socks):
                try:
                    if sock.recv(64):  # an answer (503) before the body: refused, as it should be
                        self.refused += 1
                        sock.close()
                        socks[i] = self._open()
                        continue
                except BlockingIOError:
                    pass
                except OSError:
                    socks[i] = self._open()
                    continue
                try:
                    sock.send(b"A")
                except OSError:
                    socks[i] = self._open()
        for sock in socks:
            sock.close()


class NonReaders(threading.Thread):
    """``count`` connections, from one client, that ask for the N-Triples dump and never read; reopened when the
    server closes them (refused at once beyond the client's delivery slots, or reset after the write timeout)."""

    def __init__(self, server: lib.Server, count: int) -> None:
        super().__init__(daemon=True)
        self.server, self.count, self.stop, self.reopened = server, count, threading.Event(), 0

    def _open(self) -> socket.socket:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", self.server.port))
        sock.sendall(b"GET /download/fwgraph.nt HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.119.66\r\n\r\n")
        sock.setblocking(False)
        return sock

    def run(self) -> None:
        socks = [self._open() for _ in range(self.count)]
        while not self.stop.wait(5.0):
            for i, sock in enumerate(socks):
                try:
                    if sock.recv(1, socket.MSG_PEEK) == b"":
                        raise ConnectionResetError
                    head = sock.recv(16, socket.MSG_PEEK)
                    if head.startswith(b"HTTP/1.1 503"):  # refused: read the small answer, ask again
                        raise ConnectionResetError
                except BlockingIOError:
                    continue
                except OSError:
                    sock.close()
                    socks[i] = self._open()
                    self.reopened += 1
        for sock in socks:
            sock.close()


def run_interval(server: lib.Server, script: str, seconds: int, connections: int) -> dict:
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "15s", "-s", script,
                          server.base], capture_output=True, text=True, check=True).stdout
    detail = next((ln for ln in out.splitlines() if ln.startswith("SOAKDETAIL ")), "").strip()
    if len(detail) > len("SOAKDETAIL"):
        print("other 5xx:", detail[len("SOAKDETAIL "):][:2000], flush=True)
    line = next(ln for ln in out.splitlines() if ln.startswith("SOAKJSON "))
    d = json.loads(line[len("SOAKJSON "):])
    d["rps"] = d["requests"] / (d["duration_us"] / 1e6)
    return d


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--interval", type=int, default=30, help="seconds per wrk run (one sample each)")
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--slow", type=int, default=12, help="slow senders kept open")
    ap.add_argument("--non-readers", type=int, default=6, help="connections asking for the dump and never reading")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "SOAK.md")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="fwgraph-soak-"))
    subprocess.run([lib.tool("fwgraph"), "build", "--out", str(work / "dist")], check=True, capture_output=True)
    os.environ["FWGRAPH_CLIENT_ADDRESS_HEADER"] = "X-Forwarded-For"  # the probe and the abusers are told apart
    server = lib.start_fwgraph(work / "dist")
    probe, health = Probe(server), Probe(server, "/healthz")
    slow, stuck = SlowSenders(server, args.slow), NonReaders(server, args.non_readers)
    for thread in (probe, health, slow, stuck):
        thread.start()
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(LUA.replace("{MIX}", _lua(mix(server))))
    rows = []
    start = time.monotonic()
    try:
        while time.monotonic() - start < args.minutes * 60:
            d = run_interval(server, fh.name, args.interval, args.connections)
            mem = lib.memory(server.proc.pid if server.proc else 0)
            times, failures = probe.take()
            cut = statistics.quantiles(times, n=100) if len(times) >= 2 else [0.0] * 99
            health_times, health_failures = health.take()
            health_cut = statistics.quantiles(health_times, n=100) if len(health_times) >= 2 else [0.0] * 99
            d.update(pss=mem["pss"], rss=mem["hwm_sum"], at=time.monotonic() - start, probe_n=len(times),
                     probe_p50=statistics.median(times) if times else 0.0, probe_p99=cut[98],
                     probe_failures=failures, slow_refused=slow.refused, health_p99=health_cut[98],
                     health_failures=health_failures, stuck_reopened=stuck.reopened, load=os.getloadavg()[0])
            rows.append(d)
            print(f"{d['at']:6.0f} s  {d['rps']:7.0f} req/s  p99 {d['p99_us'] / 1000:6.1f} ms  "
                  f"5xx {d['c5']}  503 {d['c503']}  socket errors {d['socket_errors']}  "
                  f"PSS {d['pss'] / 2**20:.0f} MB  probe p99 {d['probe_p99']:.1f} ms  "
                  f"healthz p99 {d['health_p99']:.1f} ms  probe refused {sum(probe.refused.values())}  "
                  f"load {d['load']:.1f}", flush=True)
    finally:
        for thread in (probe, health, slow, stuck):
            thread.stop.set()
        server.stop()
        os.unlink(fh.name)
    args.probe_refused = ", ".join(f"{why}: {n}" for why, n in sorted(probe.refused.items()))
    args.out.write_text(report(rows, args), encoding="utf-8")
    print(f"wrote {args.out}")


def report(rows: list[dict], args: argparse.Namespace) -> str:
    mb = lambda b: f"{b / 2**20:.0f}"  # noqa: E731
    warm = rows[len(rows) // 3:] or rows
    growth = (warm[-1]["pss"] - warm[0]["pss"]) / max(1, len(warm) - 1)
    lines = [f"## Soak ({args.minutes:g} min of mixed load, {args.connections} connections)", "",
             f"Command: `python bench/soak.py --minutes {args.minutes:g} --interval {args.interval} "
             f"--connections {args.connections} --slow {args.slow} --non-readers {args.non_readers}`. The mix (wrk): "
             "every example query repeated and distinct, runaway queries from four networks, resource pages in four "
             "formats, 404s, malformed queries, the service description, the landing page, a contribution POSTed to "
             "/validate, the finder with facets, search (HTML and JSON, distinct), a comparison, reconciliation "
             "(queries, suggest, extend), and attacks: a comment ended by CR hiding SERVICE with no acceptable "
             "format, a REPLACE answer of a gigabyte, 3,000-deep nesting, a reconcile value of 20,000 slashes; "
             f"beside it {args.slow} slow senders trickling bodies, {args.non_readers} connections asking for the "
             "N-Triples dump and never reading, and two probes from another client address: one new `ASK` at a "
             "time, and `/healthz`. Clients are told apart by `X-Forwarded-For` as behind a proxy: the mix comes "
             "from 128 ordinary clients, each attack from its own address; every limit is at its default.", "",
             "| at s | req/s | p50 ms | p99 ms | 2xx | 4xx | 503 | other 5xx | socket errors | probe p50 ms | "
             "probe p99 ms | healthz p99 ms | PSS MB | RSS sum MB | load |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for d in rows:
        lines.append(f"| {d['at']:.0f} | {d['rps']:.0f} | {d['p50_us'] / 1000:.1f} | {d['p99_us'] / 1000:.1f} | "
                     f"{d['c2']} | {d['c4']} | {d['c503']} | {d['c5']} | {d['socket_errors']} | "
                     f"{d['probe_p50']:.1f} | {d['probe_p99']:.1f} | {d['health_p99']:.1f} | {mb(d['pss'])} | "
                     f"{mb(d['rss'])} | {d['load']:.1f} |")
    lines += ["", f"Total: {sum(d['requests'] for d in rows):,} requests; other 5xx {sum(d['c5'] for d in rows)}; "
                  f"socket errors {sum(d['socket_errors'] for d in rows)}; PSS growth after warm-up "
                  f"{growth / 2**20:+.1f} MB per interval; worst p99 {max(d['p99_us'] for d in rows) / 1000:.1f} ms; "
                  "probe: "
                  f"{sum(d['probe_n'] for d in rows)} cheap queries, worst interval p99 "
                  f"{max(d['probe_p99'] for d in rows):.1f} ms, {sum(d['probe_failures'] for d in rows)} failed "
                  f"(refused by status: {args.probe_refused or 'none'}; after a refusal the probe waits what "
                  "Retry-After asks); "
                  f"slow senders refused before their body {rows[-1]['slow_refused']} times; /healthz worst interval "
                  f"p99 {max(d['health_p99'] for d in rows):.1f} ms, {sum(d['health_failures'] for d in rows)} "
                  f"failed; non-reading connections closed by the server and reopened {rows[-1]['stuck_reopened']} "
                  "times.",
              ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
