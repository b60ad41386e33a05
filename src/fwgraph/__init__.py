"""fwgraph: a Linked Data knowledge graph of Python web frameworks, with its library, CLI and SPARQL server.

>>> from fwgraph import load, run_query
>>> graph = load()
>>> result = run_query("ASK { <https://w3id.org/fwgraph/framework/flask> a ?type }", graph)
>>> result.boolean
True
"""

from fwgraph._version import __version__
from fwgraph.graph import load
from fwgraph.query import run_query
from fwgraph.validation import validate

__all__ = ["__version__", "load", "run_query", "validate"]
