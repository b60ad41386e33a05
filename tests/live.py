"""The real server as the Linked Data, contribution, chart and browser tests use it: a root URL to join paths to.

A thin view of tests/server.py, which starts `python -m fwgraph serve` subprocesses on free loopback
ports (one per set of options) with a distribution built once per session.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.server import ROOT, dist, server

__all__ = ["ROOT", "LiveServer", "live_server"]


@dataclass
class LiveServer:
    url: str  # the server root, ending in "/"
    dist: Path
    process: subprocess.Popen

    def __call__(self, path: str) -> str:
        return self.url + path.lstrip("/")


def live_server(base_iri: str | None = None, *, port: int | None = None, options: tuple[str, ...] = ()) -> LiveServer:
    """A running server (one per base IRI and options; the default base when None); "{port}" in the IRI is
    filled in. ``options`` are more `serve` options (tests.server.mode_options: --store in front of a store)."""
    srv = server(*(("--base-iri", base_iri) if base_iri else ()), *options, port=port)
    return LiveServer(url=srv.url, dist=dist(), process=srv.process)
