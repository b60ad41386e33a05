"""Latency of contribution validation (POST /validate) on a real `fwgraph serve`, one client after another.

Oxigraph has no SHACL validator, so this part has no side-by-side server: run it at two commits (each with its
own virtual environment active) to compare. Prints a Markdown table.

    python bench/validate.py --requests 40
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from lib import ROOT, start_fwgraph, tool

FIXTURES = ROOT / "tests" / "fixtures" / "contributions"
BODIES = {"valid framework": FIXTURES / "new-framework-valid.ttl",
          "broken framework": FIXTURES / "broken-framework-invalid.ttl"}


def post(url: str, body: bytes) -> float:
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "text/turtle", "Accept": "application/json"})
    t0 = time.perf_counter()
    with urllib.request.urlopen(request, timeout=120) as response:
        response.read()
        assert response.status == 200, response.status
    return time.perf_counter() - t0


def first_post(dist: Path, form_first: bool) -> float:
    """ms of the first POST /validate to a fresh server of one web process (GET /validate 2 s before if asked)."""
    server = start_fwgraph(dist, env={"FWGRAPH_WORKERS": "1"})
    try:
        url = f"http://127.0.0.1:{server.port}/validate"
        if form_first:
            urllib.request.urlopen(url, timeout=60).read()  # the form page, as a contributor opens it
            time.sleep(2)  # and reads it
        return post(url, BODIES["valid framework"].read_bytes()) * 1000
    finally:
        server.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=40, help="POSTs per contribution after the first")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-validate-"))
    subprocess.run([tool("fwgraph"), "build", "--out", str(work / "dist")], check=True, capture_output=True)
    version = subprocess.run([tool("fwgraph"), "--version"], capture_output=True, text=True).stdout.strip()
    cold, warm = first_post(work / "dist", False), first_post(work / "dist", True)
    print(f"{version}; first validation on a fresh one-process server: {cold:.0f} ms; when its form page was "
          f"opened 2 s before: {warm:.0f} ms\n")
    server = start_fwgraph(work / "dist")
    try:
        url = f"http://127.0.0.1:{server.port}/validate"
        post(url, BODIES["valid framework"].read_bytes())
        print("| contribution | requests | p50 ms | p95 ms | max ms |")
        print("|---|---:|---:|---:|---:|")
        for name, path in BODIES.items():
            times = sorted(post(url, path.read_bytes()) * 1000 for _ in range(args.requests))
            p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
            print(f"| {name} | {len(times)} | {statistics.median(times):.0f} | {p95:.0f} | {times[-1]:.0f} |")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
