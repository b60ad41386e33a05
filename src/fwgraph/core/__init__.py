"""The core layer: settings, errors, namespaces, formats, the version and the library's own HTML;
knows no graph. Imports nothing else of fwgraph.
"""
