"""`fwgraph build`, `fwgraph validate` (whole graph) and `fwgraph validate <one record>` timed, cold and warm.

Cold: an empty cache (a fresh ``XDG_CACHE_HOME``); warm: the same command again with the cache the first run
left (unchanged sources). Wall time and CPU time (user + system, the command and its children). Run it at two
commits to compare (``--python`` picks the interpreter, ``--pythonpath`` a source tree to import fwgraph from).
Numbers on a shared 2-core machine are noisy: the CPU times are the steadier figure.

    python bench/build.py [--runs 1] [--data DIR] [--record data/frameworks/flask.ttl]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--pythonpath", default=None)
    parser.add_argument("--data", default=None, help="a source tree (default: the shipped sources)")
    parser.add_argument("--record", default="data/frameworks/flask.ttl")
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    data = ["--data", args.data] if args.data else []
    record = str(Path(args.data) / args.record) if args.data else args.record
    fwgraph = [args.python, "-m", "fwgraph"]
    print("| command | cache | wall s | CPU s |")
    print("|---|---|---:|---:|")
    with tempfile.TemporaryDirectory() as work:
        for name, argv in (("fwgraph build --out DIR", [*fwgraph, "build", "--out", f"{work}/dist", *data]),
                           ("fwgraph validate", [*fwgraph, "validate", *data]),
                           (f"fwgraph validate {args.record}", [*fwgraph, "validate", *data, record])):
            for run in range(args.runs):
                env = dict(os.environ, XDG_CACHE_HOME=f"{work}/cache-{name.split()[1]}-{run}")
                if args.pythonpath:
                    env["PYTHONPATH"] = args.pythonpath
                for cache in ("cold", "warm"):
                    wall, cpu = timed(argv, env)
                    print(f"| `{name}` | {cache} | {wall:.1f} | {cpu:.1f} |", flush=True)


if __name__ == "__main__":
    main()
