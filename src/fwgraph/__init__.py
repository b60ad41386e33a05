"""fwgraph: a Linked Data knowledge graph of Python web frameworks, with its library, CLI and SPARQL server.

>>> from fwgraph import load, run_query
>>> graph = load()
>>> result = run_query("ASK { <https://w3id.org/fwgraph/framework/flask> a ?type }", graph)
>>> result.boolean
True
"""

from fwgraph.core._version import __version__
from fwgraph.data.graph import load
from fwgraph.publish.validation import validate
from fwgraph.store.query import run_query

__all__ = ["__version__", "load", "run_query", "validate"]
