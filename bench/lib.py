"""Shared pieces of the benchmark: servers as subprocesses, wrk with generated Lua, memory of a process tree."""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(os.environ.get("VIRTUAL_ENV", "/tmp/venv")) / "bin"
ACCEPT_SELECT = "application/sparql-results+json"
ACCEPT_GRAPH = "text/turtle"
ASK = "ASK {}"


def tool(name: str) -> str:
    found = shutil.which(name) or str(BIN / name)
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------------------------- queries

@dataclass
class Query:
    name: str
    text: str
    graph: bool  # CONSTRUCT/DESCRIBE: ask for Turtle

    @property
    def accept(self) -> str:
        return ACCEPT_GRAPH if self.graph else ACCEPT_SELECT

    def distinct(self, n: int) -> str:
        """The same query with a LIMIT that differs per request (no result cache can answer it)."""
        return f"{self.text.rstrip()}\nLIMIT {n}\n"


def example_queries(only: list[str] | None = None) -> list[Query]:
    out = []
    for path in sorted((ROOT / "queries").glob("*.rq")):
        text = path.read_text(encoding="utf-8")
        body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")).upper()
        graph = bool(re.search(r"\b(CONSTRUCT|DESCRIBE)\b", body))
        if only and path.stem not in only:
            continue
        out.append(Query(path.stem, text, graph))
    return out


# ---------------------------------------------------------------------------------------------- servers

@dataclass
class Server:
    name: str
    port: int
    endpoint: str  # path of the SPARQL endpoint
    proc: subprocess.Popen | None = None
    start_s: float | None = None
    log: Path | None = None
    extra: dict = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, query: str) -> str:
        return f"{self.endpoint}?query={urllib.parse.quote(query, safe='')}"

    def get(self, path: str, accept: str = ACCEPT_SELECT, headers: dict | None = None,
            timeout: float = 60) -> tuple[int, bytes, dict]:
        req = urllib.request.Request(self.base + path, headers={"Accept": accept, **(headers or {})})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status, resp.read(), resp.headers
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read(), exc.headers

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def _spawn(server: Server, argv: list[str], env: dict | None, timeout: float) -> Server:
    """Start ``argv`` in its own process group; time process start -> first successful answer of ASK {}."""
    server.log = Path(tempfile.mkstemp(prefix=f"bench-{server.name}-", suffix=".log")[1])
    t0 = time.perf_counter()
    server.proc = subprocess.Popen(argv, stdout=open(server.log, "wb"), stderr=subprocess.STDOUT,
                                   env={**os.environ, **(env or {})}, start_new_session=True)
    probe = server.url(ASK)
    while time.perf_counter() - t0 < timeout:
        if server.proc.poll() is not None:
            raise RuntimeError(f"{server.name} exited: {server.log.read_text()[-2000:]}")
        try:
            status, _, _ = server.get(probe, timeout=2)
            if status == 200:
                server.start_s = time.perf_counter() - t0
                return server
        except OSError:
            pass
        time.sleep(0.02)
    server.stop()
    raise RuntimeError(f"{server.name} did not answer within {timeout} s; log {server.log}")


def start_fwgraph(dist: Path, port: int | None = None, timeout: float = 300, env: dict | None = None) -> Server:
    s = Server("fwgraph", port or free_port(), "/sparql")
    return _spawn(s, [tool("fwgraph"), "serve", "--dist", str(dist), "--port", str(s.port)], env, timeout)


def oxigraph_load(nt: Path, location: Path) -> float:
    if location.exists():
        shutil.rmtree(location)
    t0 = time.perf_counter()
    subprocess.run([tool("oxigraph"), "load", "--location", str(location), "--file", str(nt)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def start_oxigraph(location: Path, port: int | None = None, timeout: float = 300) -> Server:
    s = Server("oxigraph", port or free_port(), "/query")
    return _spawn(s, [tool("oxigraph"), "serve-read-only", "--location", str(location), "--bind",
                      f"127.0.0.1:{s.port}"], None, timeout)


def start_cmd(name: str, argv: list[str], port: int, env: dict | None = None, timeout: float = 120,
              endpoint: str = "/sparql") -> Server:
    """Start ``argv``; it is up when ``endpoint``?query=ASK {} answers 200 (any GET route that ignores the query
    string will do)."""
    return _spawn(Server(name, port, endpoint), argv, env, timeout)


# ---------------------------------------------------------------------------------------------- memory

def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        kids.setdefault(ppid, []).append(int(entry))
    return kids


def tree(pid: int) -> list[int]:
    kids, out, todo = _children(), [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def _field(pid: int, path: str, name: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/{path}").read_text().splitlines():
            if line.startswith(name + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def memory(pid: int) -> dict[str, int]:
    """Peak RSS (sum of VmHWM over the process tree: an upper bound, forked children share pages) and
    the current proportional set size (Pss: shared pages counted once overall)."""
    pids = tree(pid)
    return {"hwm_sum": sum(_field(p, "status", "VmHWM") for p in pids),
            "pss": sum(_field(p, "smaps_rollup", "Pss") for p in pids), "processes": len(pids)}


# ---------------------------------------------------------------------------------------------- wrk

LUA = r"""
local paths = {PATHS}
local distinct = {DISTINCT}
local counter = 0
wrk.method = "{METHOD}"
wrk.headers["Accept"] = "{ACCEPT}"
{EXTRA}
request = function()
  counter = counter + 1
  if distinct then
    return wrk.format(nil, paths[1] .. tostring({BASE} + counter))
  end
  return wrk.format(nil, paths[1], nil, wrk.body)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('BENCHJSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,' ..
    '"errors":%d,"non2xx":%d}\n', summary.requests, summary.duration, latency:percentile(50),
    latency:percentile(99), e.connect + e.read + e.write + e.timeout, e.status))
end
"""


def _lua_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass
class Load:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    non2xx: int
    wrk_cpu: float = 0.0  # CPU seconds wrk used per second of wall time (1.0 = one full core)


def wrk(server: Server, path: str, accept: str, *, duration: float, connections: int = 16, threads: int = 1,
        distinct_prefix: str | None = None, base: int = 1_000_000, headers: dict | None = None,
        method: str = "GET", body: str | None = None) -> Load:
    """Drive ``path`` (or ``distinct_prefix`` + a new number per request) with wrk; parse its Lua summary.
    ``method`` and ``body``: the request's method and body (a POST of JSON: give its Content-Type in headers)."""
    extra = "\n".join(f"wrk.headers[{_lua_str(k)}] = {_lua_str(v)}" for k, v in (headers or {}).items())
    if body is not None:
        extra += f"\nwrk.body = {_lua_str(body)}"
    script = (LUA.replace("{PATHS}", "{" + _lua_str(distinct_prefix or path) + "}")
              .replace("{DISTINCT}", "true" if distinct_prefix else "false").replace("{METHOD}", method)
              .replace("{ACCEPT}", accept).replace("{EXTRA}", extra).replace("{BASE}", str(base)))
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(script)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, int(round(duration)))}s", "--timeout", "10s",
                              "-s", fh.name, server.base], capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(fh.name)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    line = next(ln for ln in out.splitlines() if ln.startswith("BENCHJSON "))
    d = json.loads(line[len("BENCHJSON "):])
    secs = d["duration_us"] / 1e6
    return Load(d["requests"] / secs, d["p50_us"] / 1000, d["p99_us"] / 1000, d["requests"], d["errors"],
                d["non2xx"], cpu / secs)


def median_latency(server: Server, q: Query, n: int = 5, limit_base: int = 10_000) -> float:
    """Median of ``n`` sequential requests, each with a different LIMIT (never a cache hit), in ms."""
    times = []
    for i in range(n):
        path = server.url(q.distinct(limit_base - i))
        t0 = time.perf_counter()
        status, body, _ = server.get(path, q.accept, timeout=120)
        times.append((time.perf_counter() - t0) * 1000)
        if status != 200:
            raise RuntimeError(f"{server.name} {q.name}: HTTP {status}: {body[:300]!r}")
    return statistics.median(times)
