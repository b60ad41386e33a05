"""Every docstring example in the package runs and gives what it shows (as oxigraph's test_doc.py does)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import fwgraph

MODULES = sorted(m.name for m in pkgutil.walk_packages(fwgraph.__path__, "fwgraph.")
                 if not m.name.endswith("__main__"))


def test_some_modules_have_examples():
    finder = doctest.DocTestFinder()
    examples = sum(len(t.examples) for name in MODULES for t in finder.find(importlib.import_module(name)))
    assert examples >= 5


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{name}: {result.failed} of {result.attempted} examples failed"
