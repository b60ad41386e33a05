"""fwgraph tests: real parts, real servers, generated from files."""
