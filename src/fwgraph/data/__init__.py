"""The data layer: locating, parsing and bounding the sources (Turtle, JSON-LD, example queries,
SPARQL text). Imports only fwgraph.core.
"""
