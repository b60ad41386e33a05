"""The publish layer: what makes the graph's files: harvested records, validation, the build and
its distribution, releases, their description and crawler files. Imports core, data and store.
"""
