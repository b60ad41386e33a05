"""`python -m fwgraph` runs the command line."""

from fwgraph.cli import main

raise SystemExit(main())
