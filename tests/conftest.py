"""Shared fixtures: the shipped graph loaded once per session, and paths to the project's files."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def graph():
    """The shipped ontology and data (read-only: do not modify)."""
    from fwgraph import load

    return load()


@pytest.fixture(scope="session")
def dist():
    """The distribution built once per test run with `fwgraph build` (read-only: the servers serve it too)."""
    from tests.server import dist

    return dist()


@pytest.fixture(scope="session")
def rebuilt():
    """A second distribution of the same sources, from a second `fwgraph build` (read-only)."""
    from tests.server import rebuilt

    return rebuilt()


@pytest.fixture(scope="session")
def app(dist):
    """The Flask app built in-process on the session's distribution (route logic; no server, no worker pool).

    Queries run in a worker pool of one process, so the time limit is real here too; the network guard is
    left off because the test process itself talks to loopback servers.
    """
    from fwgraph.app import create_app

    app = create_app({"DIST_DIR": str(dist), "QUERY_WORKERS": 1, "NETWORK_GUARD": False, "RATE_LIMIT": 0,
                      "CACHE_ENTRIES": 0})
    app.config.update(TESTING=True)
    yield app
    app.extensions["fwgraph"].engine.close()


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture()
def runner():
    """The `fwgraph` command line, run in-process with click's runner."""
    from click.testing import CliRunner

    from fwgraph.cli import cli

    return lambda *args: CliRunner().invoke(cli, list(args))
