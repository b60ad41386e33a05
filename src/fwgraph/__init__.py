"""fwgraph: a Linked Data knowledge graph of Python web frameworks, with its library, CLI and SPARQL server.

>>> from fwgraph import load, run_query
>>> graph = load()
>>> result = run_query("ASK { <https://w3id.org/fwgraph/framework/flask> a ?type }", graph)
>>> result.boolean
True
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("fwgraph")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

from fwgraph.graph import load  # noqa: E402
from fwgraph.query import run_query  # noqa: E402
from fwgraph.validation import validate  # noqa: E402

__all__ = ["__version__", "load", "run_query", "validate"]
