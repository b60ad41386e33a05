"""Measure Python web frameworks on this machine and write the run as Turtle (W3C Data Cube observations).

    python bench/run_frameworks.py [--only bottle,starlette] [--duration 5] [--rounds 3] [--connections 32]
                                   [--out data/benchmarks/fwgraph-runs/<date>.ttl] [--work DIR] [--note TEXT]

For each framework of bench/frameworks/frameworks.toml: a virtual environment of its own (the system Python's
``venv``), the framework and its servers installed from the package index at the pinned versions, the app of
bench/frameworks/apps/ started under the common server of its interface (WSGI: gunicorn, ASGI: uvicorn; one
worker each) and then under each server its record recommends (fw:recommendedServer in data/frameworks/, read
through fwgraph.publish.harvest.benchmarks.recommended_servers) that is not the common one, or under its own server;
every scenario's answer checked before it is timed (a wrong answer: not measured), then ``wrk`` for ``--rounds``
rounds per scenario: the median requests per second with the min and max, median p50/p99 latency, errors and
non-2xx answers counted. A framework or server that fails to install, start or answer is reported and the run
goes on; every step is bounded in time. Speed is never asserted anywhere.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import tomllib
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from packaging.utils import canonicalize_name

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
import lib  # noqa: E402

from fwgraph.publish.harvest.benchmarks import recommended_servers, run_turtle  # noqa: E402 (the one home of both)

HERE = Path(__file__).resolve().parent / "frameworks"
SPEC = HERE / "frameworks.toml"
#: The Python the environments are made from: the system's, not the one running this script (a venv).
PYTHON = os.environ.get("BENCH_PYTHON", "/usr/bin/python3")
INSTALL_TIMEOUT = 300
START_TIMEOUT = 60
ECHO_BODY = {"name": "fwgraph", "tags": ["a", "b"], "n": 3}


@dataclass(frozen=True)
class Scenario:
    """One request the apps answer, and the answer that must come back before it is timed."""

    key: str  # the concept's local name under https://w3id.org/fwgraph/benchmark-scenario/
    method: str
    path: str
    body: str | None
    expect_type: str
    expect: object  # the decoded JSON, or the text


SCENARIOS = (
    Scenario("plaintext", "GET", "/plaintext", None, "text/plain", "Hello, World!"),
    Scenario("json", "GET", "/json", None, "application/json", {"message": "Hello, World!"}),
    Scenario("echo", "POST", "/echo/42?q=search", json.dumps(ECHO_BODY), "application/json",
             {"id": "42", "q": "search", "body": ECHO_BODY}),
)


@dataclass
class Result:
    """One framework × server × scenario: the median and spread of the rounds."""

    framework: str
    version: str
    server: str
    server_version: str
    python: str
    scenario: str
    rps: list[float]
    p50: list[float]
    p99: list[float]
    errors: int
    role: str  # common, recommended or own (fwgraph.publish.harvest.benchmarks.SERVER_ROLES)


@dataclass(frozen=True)
class Plan:
    """One server to run a framework's app under, and why."""

    server: str | None  # a key of [servers] in frameworks.toml (a data/servers/ slug); None: the framework's own
    role: str
    interface: str  # the app's: wsgi, asgi or own


def plan(spec: dict, config: dict, recommended: list[str]) -> tuple[list[Plan], list[str]]:
    """The servers to run one framework under: its own server, or the common server of its interface and then
    each recommended server (``recommended``: slugs from its record) that is not the common one; and why any
    recommended server is not run (no command for it here, or it does not serve the app's interface)."""
    interface = spec["interface"]
    if interface == "own":
        return [Plan(None, "own", interface)], []
    common = config["common"][interface]
    plans, skipped = [Plan(common, "common", interface)], []
    for slug in recommended:
        server = config["servers"].get(slug)
        if slug == common:
            continue
        if server is None:
            skipped.append(f"recommended server {slug} not run (the harness has no command for it)")
        elif interface not in server["interfaces"]:
            skipped.append(f"recommended server {slug} not run (it does not serve {interface.upper()} apps)")
        else:
            plans.append(Plan(slug, "recommended", interface))
    return plans, skipped


@dataclass
class Report:
    results: list[Result] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # "framework: what failed"


def machine() -> str:
    """CPU model, logical cores and memory of this machine, and its OS."""
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor() or "unknown CPU")
    mem = next((int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal:")), 0)
    return (f"{model}, {os.cpu_count()} logical cores, {mem / 1024 / 1024:.1f} GiB memory, "
            f"{platform.system()} {platform.release()}")


def harness_commit() -> str:
    """The commit of this repository the harness ran from ("+dirty" when the work tree has changes)."""
    root = Path(__file__).resolve().parent.parent
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                             check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "bench"], cwd=root, capture_output=True,
                               text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return sha + ("+dirty" if dirty else "")


def environment(name: str, packages: list[str], work: Path) -> Path:
    """A venv with ``packages`` installed (kept in ``work`` and reused when its pins are unchanged)."""
    venv = work / name
    stamp = venv / "pins.txt"
    wanted = "\n".join(sorted(packages))
    if stamp.is_file() and stamp.read_text() == wanted:
        return venv
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([PYTHON, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=INSTALL_TIMEOUT)
    subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check", *packages],
                   check=True, capture_output=True, timeout=INSTALL_TIMEOUT)
    stamp.write_text(wanted)
    return venv


def check(base: str, scenario: Scenario) -> str | None:
    """None when the app answers the scenario as it must, else what is wrong."""
    data = scenario.body.encode() if scenario.body is not None else None
    request = urllib.request.Request(base + scenario.path, data=data, method=scenario.method,
                                     headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, ctype, body = response.status, response.headers.get("Content-Type", ""), response.read()
    except (urllib.error.URLError, OSError) as exc:
        return f"{scenario.key}: {exc}"
    if status != 200 or not ctype.startswith(scenario.expect_type):
        return f"{scenario.key}: status {status}, Content-Type {ctype!r}"
    got = json.loads(body) if scenario.expect_type == "application/json" else body.decode()
    return None if got == scenario.expect else f"{scenario.key}: answered {got!r}"


def command(venv: Path, server: str | None, interface: str, module: str, port: int) -> list[str]:
    """The command line that serves ``module``'s app under ``server`` (one worker process, the server's defaults
    otherwise, no access log), or runs the app file's own server when ``server`` is None."""
    bin_, app = venv / "bin", f"{module}:app"
    lines = {
        "gunicorn": [str(bin_ / "gunicorn"), "--workers", "1", "--bind", f"127.0.0.1:{port}", app],
        "uvicorn": [str(bin_ / "uvicorn"), "--workers", "1", "--no-access-log", "--log-level", "warning",
                    "--host", "127.0.0.1", "--port", str(port), app],
        "hypercorn": [str(bin_ / "hypercorn"), "--workers", "1", "--log-level", "warning",
                      "--bind", f"127.0.0.1:{port}", app],
        "waitress": [str(bin_ / "waitress-serve"), "--listen", f"127.0.0.1:{port}", app],
        "granian": [str(bin_ / "granian"), "--interface", interface, "--workers", "1", "--no-access-log",
                    "--log-level", "warning", "--host", "127.0.0.1", "--port", str(port), app],
        "socketify": [str(bin_ / "python"), "-m", "socketify", app, "--interface", interface, "--workers", "1",
                      "--host", "127.0.0.1", "--port", str(port), "--disable-listen-log", "true"],
    }
    if server is None:
        return [str(bin_ / "python"), str(HERE / "apps" / f"{module}.py"), str(port)]
    return lines[server]


def installed(venv: Path, package: str) -> str:
    out = subprocess.run([str(venv / "bin" / "python"), "-c",
                          f"import importlib.metadata as m; print(m.version({package!r}))"],
                         capture_output=True, text=True, timeout=60)
    return out.stdout.strip() or "unknown"


def measure(name: str, spec: dict, config: dict, recommended: list[str], args: argparse.Namespace,
            report: Report, log=print) -> None:
    """Install one framework with the servers of its plan in one venv, then measure it under each of them."""
    package = spec.get("package", name)  # the PyPI name when it is not the key (web.py)
    plans, skipped = plan(spec, config, recommended)
    for why in skipped:
        report.failures.append(f"{name}: {why}")
        log(report.failures[-1])
    servers = {p.server: config["servers"][p.server] for p in plans if p.server is not None}
    packages = [f"{package}=={spec['version']}", *spec.get("requires", []),
                *(f"{server.get('package', slug)}=={server['version']}" for slug, server in servers.items())]
    try:
        venv = environment(name, packages, args.work)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        stderr = getattr(exc, "stderr", b"") or b""
        report.failures.append(f"{name}: install failed ({stderr.decode(errors='replace').strip()[-300:]})")
        log(report.failures[-1])
        return
    python = subprocess.run([str(venv / "bin" / "python"), "-c", "import platform; print(platform.python_version())"],
                            capture_output=True, text=True, timeout=60).stdout.strip()
    for p in plans:
        serve(name, package, p, venv, python, args, report, log)


def serve(name: str, package: str, p: Plan, venv: Path, python: str, args: argparse.Namespace, report: Report,
          log=print) -> None:
    """Start the app under one server, check its answers, then load every scenario for the rounds."""
    label = name if p.server is None else f"{name} under {p.server}"
    server_package = p.server or package
    port = lib.free_port()
    env = {"PYTHONPATH": str(HERE / "apps"), "PYTHONDONTWRITEBYTECODE": "1"}
    argv = command(venv, p.server, p.interface, f"{name.replace('-', '_')}_app", port)
    try:
        app = lib.start_cmd(name, argv, port, env, START_TIMEOUT, endpoint="/plaintext")
    except RuntimeError as exc:  # its message ends with the log's tail: keep the last line that says something
        said = [line.strip() for line in str(exc).splitlines() if line.strip(" )")]
        report.failures.append(f"{label}: did not start ({said[-1][-300:] if said else 'no output'})")
        log(report.failures[-1])
        return
    try:
        wrong = [w for s in SCENARIOS if (w := check(app.base, s))]
        if wrong:
            report.failures.append(f"{label}: wrong answers, not measured: {'; '.join(wrong)}")
            log(report.failures[-1])
            return
        server_name = p.server or f"{package} (own server)"
        for scenario in SCENARIOS:
            loads = []
            for _ in range(args.rounds):
                headers = {"Content-Type": "application/json"} if scenario.body else None
                loads.append(lib.wrk(app, scenario.path, "*/*", duration=args.duration,
                                     connections=args.connections, method=scenario.method, body=scenario.body,
                                     headers=headers))
            report.results.append(Result(
                package, installed(venv, package), server_name, installed(venv, server_package), python,
                scenario.key, [x.rps for x in loads], [x.p50_ms for x in loads], [x.p99_ms for x in loads],
                sum(x.errors + x.non2xx for x in loads), p.role))
            r = report.results[-1]
            log(f"{name:12} {server_name:22} {scenario.key:9} {statistics.median(r.rps):9.0f} req/s "
                f"(min {min(r.rps):.0f}, max {max(r.rps):.0f}) p50 {statistics.median(r.p50):.2f} ms "
                f"p99 {statistics.median(r.p99):.2f} ms errors {r.errors}")
    finally:
        app.stop()


def table(report: Report) -> str:
    """The run as a Markdown table: one row per framework and server (with its version and role), the median req/s
    (min–max) per scenario; frameworks by the JSON req/s of their common or own server, each framework's
    recommended-server rows right under it."""
    rows: dict[tuple[str, str, str, str, str], dict[str, Result]] = {}
    for r in report.results:
        rows.setdefault((r.framework, r.version, r.server, r.server_version, r.role), {})[r.scenario] = r

    def cell(r: Result | None) -> str:
        if r is None:
            return "—"
        return (f"{statistics.median(r.rps):.0f} ({min(r.rps):.0f}–{max(r.rps):.0f}); "
                f"p50 {statistics.median(r.p50):.1f} / p99 {statistics.median(r.p99):.1f} ms"
                + (f"; {r.errors} errors" if r.errors else ""))

    def json_rps(key: tuple[str, str, str, str, str]) -> float:
        return statistics.median(rows[key]["json"].rps) if "json" in rows[key] else 0.0

    first = {k[0]: json_rps(k) for k in rows if k[4] != "recommended"}
    order = sorted(rows, key=lambda k: (-first.get(k[0], json_rps(k)), k[0], k[4] == "recommended", -json_rps(k)))
    lines = ["| Framework | Server | Role | " + " | ".join(s.key for s in SCENARIOS) + " |",
             "|---|---|---|" + "---:|" * len(SCENARIOS)]
    for key in order:
        framework, version, server, server_version, role = key
        shown = server if server.endswith("(own server)") else f"{server} {server_version}"
        lines.append(f"| {framework} {version} | {shown} | {role} | "
                     + " | ".join(cell(rows[key].get(s.key)) for s in SCENARIOS) + " |")
    return "\n".join(lines)


def run(args: argparse.Namespace, log=print) -> Report:
    config = tomllib.loads(SPEC.read_text(encoding="utf-8"))
    chosen = args.only or list(config["frameworks"])
    unknown = [n for n in chosen if n not in config["frameworks"]]
    if unknown:
        raise SystemExit(f"unknown framework(s): {', '.join(unknown)}; known: {', '.join(config['frameworks'])}")
    recommended = recommended_servers()  # from the records: one home for the recommendations
    report = Report()
    for name in chosen:
        spec = config["frameworks"][name]
        measure(name, spec, config, recommended.get(canonicalize_name(spec.get("package", name)), []), args,
                report, log)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", type=lambda s: [x for x in s.split(",") if x], default=None)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds of load per round (default 5)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "fwgraph-bench-frameworks",
                        help="where the virtual environments are kept (reused while their pins are unchanged)")
    parser.add_argument("--out", type=Path, default=None, help="the Turtle file to write")
    parser.add_argument("--date", default=datetime.date.today().isoformat())
    parser.add_argument("--run", default="", help="a suffix naming a second run of the same day (its IRIs and file)")
    parser.add_argument("--note", default="", help="what else ran on the machine meanwhile (the run's comment)")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    # a SIGTERM unwinds like Ctrl-C, so that the app server of the moment is stopped (its own session survives us)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    report = run(args)
    runs = Path(__file__).resolve().parent.parent / "data" / "benchmarks" / "fwgraph-runs"
    run_id = args.date + (f"-{args.run}" if args.run else "")
    out = args.out or runs / f"{run_id}.ttl"
    settings = (f"wrk -t1 -c{args.connections} -d{args.duration:g}s, {args.rounds} round(s) per scenario; "
                "WSGI apps under gunicorn (1 sync worker), ASGI apps under uvicorn (1 worker), own servers with "
                "one process; recommended servers (fw:recommendedServer) with 1 worker process and their defaults "
                "otherwise (waitress: its 4 threads); server and wrk on the same machine, loopback")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(run_turtle(args.date, machine(), settings, harness_commit(),
                               [r.__dict__ for r in report.results], report.failures, run_id=run_id,
                               note=args.note))
    print(f"wrote {out}: {len(report.results)} observations; {len(report.failures)} failure(s)")
    for failure in report.failures:
        print(f"failed: {failure}")
    print(table(report))
    return 0 if report.results else 1


if __name__ == "__main__":
    sys.exit(main())
