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
def dist(tmp_path_factory):
    """A distribution built once per session with `fwgraph build`."""
    from fwgraph.build import build

    out = tmp_path_factory.mktemp("dist")
    build(out)
    return out
