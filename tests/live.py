"""The real server for HTTP tests: `python -m fwgraph serve` as a subprocess on a free loopback port.

One distribution is built per session with `fwgraph build`; servers are started once per base IRI and
stopped when the test session ends. Test modules use it through their own small fixture.
"""

from __future__ import annotations

import atexit
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class LiveServer:
    url: str  # the server root, ending in "/"
    dist: Path
    process: subprocess.Popen

    def __call__(self, path: str) -> str:
        return self.url + path.lstrip("/")


_dist: Path | None = None
_servers: dict[str | None, LiveServer] = {}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def built_dist() -> Path:
    """The distribution, built once per session with `fwgraph build`."""
    global _dist
    if _dist is None:
        out = Path(tempfile.mkdtemp(prefix="fwgraph-test-dist-"))
        subprocess.run(
            [sys.executable, "-m", "fwgraph", "build", "--out", str(out)],
            check=True,
            capture_output=True,
            cwd=ROOT,
        )
        _dist = out
    return _dist


def live_server(base_iri: str | None = None, *, port: int | None = None) -> LiveServer:
    """A running server (one per base IRI; the default base when None)."""
    if base_iri in _servers and _servers[base_iri].process.poll() is None:
        return _servers[base_iri]
    dist = built_dist()
    port = port or free_port()
    cmd = [sys.executable, "-m", "fwgraph", "serve", "--port", str(port), "--dist", str(dist)]
    if base_iri:
        cmd += ["--base-iri", base_iri.replace("{port}", str(port))]
    env = {k: v for k, v in os.environ.items() if not k.startswith("FWGRAPH_")}
    log = tempfile.NamedTemporaryFile(prefix="fwgraph-server-", suffix=".log", delete=False)
    process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 90
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{Path(log.name).read_text()}")
        try:
            with urllib.request.urlopen(url + "download/void.ttl", timeout=2) as response:
                if response.status == 200:
                    break
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"server did not start within 90 s:\n{Path(log.name).read_text()}")
        time.sleep(0.2)
    server = LiveServer(url=url, dist=dist, process=process)
    _servers[base_iri] = server
    return server


@atexit.register
def _stop_all() -> None:
    for server in _servers.values():
        if server.process.poll() is None:
            server.process.terminate()
            try:
                server.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.process.kill()
