"""Run the Flask application under Granian, a production WSGI server (chosen by measurement: bench/RESULTS.md)."""

from __future__ import annotations

import os
from typing import Any

from fwgraph.config import resolve


def serve(settings: dict[str, Any]) -> None:
    """Load the data once (fail fast on bad data), then serve it with Granian's WSGI interface."""
    from granian import Granian
    from granian.constants import Interfaces

    settings = resolve(settings)
    # The factory runs in the worker, which reads its settings from the environment.
    for key, value in settings.items():
        if value is not None:
            os.environ[f"FWGRAPH_{key}"] = str(value)
    # Build (or reuse) the distribution before the server starts, so errors appear here, once.
    from fwgraph.service import ensure_dist

    dist = ensure_dist(settings.get("DATA_DIR"), settings.get("DIST_DIR"))
    os.environ["FWGRAPH_DIST_DIR"] = str(dist)
    server = Granian(
        "fwgraph.app:create_app",
        factory=True,
        address=settings["HOST"],
        port=int(settings["PORT"]),
        interface=Interfaces.WSGI,
        workers=int(settings["WORKERS"] or min(os.cpu_count() or 1, 4)),
        blocking_threads=int(settings["THREADS"]),
        backlog=2048,
        log_access=False,
    )
    server.serve()
