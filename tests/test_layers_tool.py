"""tools/layers.py, the script that moved the modules into layers: it has nothing left to do, and it rewrites
module names by its table only (never an IRI, a dump file's name or a longer name), the same way twice."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("layers", ROOT / "tools" / "layers.py")
assert _spec and _spec.loader
layers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(layers)


def test_a_second_run_has_nothing_to_do(capsys):
    assert layers.main(["--check"]) == 0, capsys.readouterr().out


@pytest.mark.parametrize(("before", "after"), [
    ("from fwgraph.sparql import prepare", "from fwgraph.data.querycheck import prepare"),
    ('setattr("fwgraph.dist.MAX_DUMP_BYTES", 1)', 'setattr("fwgraph.publish.dist.MAX_DUMP_BYTES", 1)'),
    ("import fwgraph.jsonld  # noqa: F401", "import fwgraph.data.jsonld  # noqa: F401"),
    ("see :func:`fwgraph.jsonld.to_jsonld`", "see :func:`fwgraph.data.jsonld.to_jsonld`"),
    ("`src/fwgraph/harvest/record.py` and src/fwgraph/settings.py", "`src/fwgraph/publish/harvest/record.py` and "
                                                                     "src/fwgraph/core/settings.py"),
    ('_PRELOAD = ["fwgraph.validation", "pyshacl"]', '_PRELOAD = ["fwgraph.publish.validation", "pyshacl"]'),
    ("python -m fwgraph.release", "python -m fwgraph.publish.release"),
])
def test_module_names_are_rewritten_by_the_table(before, after):
    assert layers.rewrite_text(before) == after
    assert layers.rewrite_text(after) == after


@pytest.mark.parametrize("text", [
    "https://w3id.org/fwgraph/release/0.1.0 and <https://w3id.org/fwgraph/query>",  # IRIs
    '("fwgraph.ttl", "fwgraph.jsonld", "fwgraph.jsonld.gz")',  # the dumps a build writes
    'server("download/fwgraph.jsonld")',
    "fwgraph.app.sparql, fwgraph.graphs, myfwgraph.graph, fwgraph.service",  # not in the table, or longer
    'app.extensions.get("fwgraph.terms")',  # a Flask extension's key
])
def test_what_is_not_a_moved_module_is_left_alone(text):
    assert layers.rewrite_text(text) == text


def test_from_fwgraph_import_is_split_by_new_home():
    text = "from fwgraph import chart, formats, service\ndef f():\n    from fwgraph import sparql\n"
    assert layers.rewrite_imports(text, ROOT / "src" / "fwgraph" / "cli.py") == (
        "from fwgraph.views import chart\nfrom fwgraph.core import formats\nfrom fwgraph import service\n"
        "def f():\n    from fwgraph.data import querycheck as sparql\n")


def test_a_relative_import_follows_its_module():
    """In a moved file, ``from .sparql import x`` (written before the move) names the module where it went."""
    path = ROOT / "src" / "fwgraph" / "data" / "examples.py"
    assert layers.rewrite_imports("from .sparql import prepare\n", path) == (
        "from fwgraph.data.querycheck import prepare\n")
    assert layers.rewrite_imports("from .graph import load\n", path) == "from .graph import load\n"  # right as is
