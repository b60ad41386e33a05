"""The store layer: query engines (in memory, rdflib, remote), killable query workers and result
serialisation. Imports only fwgraph.core and fwgraph.data.
"""
