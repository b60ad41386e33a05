"""Every cited repository file is pinned to a tag or a commit, never to a moving branch or a "latest" docs page.

data/README.md: "every fact sourced to a file that states it, pinned to a tag or commit, never a moving branch".
A GitHub link to a file or tree (github.com/OWNER/NAME/blob|tree|raw|blame|commits/REF/..., or
raw.githubusercontent.com/OWNER/NAME/REF/...) must name a 40-hex commit or a tag; a branch name (main, master,
develop, dev, default, trunk, a maintenance branch such as 3.1.x or stable/2.0) fails. Tags are told from
branches without the repositories: a tag names a version (it holds a digit) and is not a maintenance-branch
name. A dcterms:source on a documentation site must not be its moving "latest"/"stable" edition either.
"""

from __future__ import annotations

import re

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS

#: A branch name, never a tag (compared in lower case).
BRANCHES = {"main", "master", "develop", "development", "dev", "devel", "default", "trunk", "next", "stable",
            "latest", "head", "gh-pages", "release", "releases", "maint", "maintenance", "unstable", "nightly"}
#: Maintenance branches: 3.1.x, 2.x, v1.x, stable/2.0, stable-2.0, 2.0-stable, maint/1.2, release/1.2, rel-1.2-branch.
#: (release-17.10.0 is a tag: a hyphen and a whole version; release/1.2 is a branch.)
MAINTENANCE = re.compile(r"^(?:v?\d+(?:\.\d+)*[.-]x|(?:stable|maint|maintenance|branch)[-/_].*|release/.*"
                         r"|.*[-_](?:stable|branch|maint))$", re.IGNORECASE)
COMMIT = re.compile(r"^[0-9a-f]{40}$")
GITHUB = re.compile(r"^https?://github\.com/[^/]+/[^/]+/(?:blob|tree|raw|blame|commits)/(?P<ref>[^/?#]+)")
RAW = re.compile(r"^https?://raw\.githubusercontent\.com/[^/]+/[^/]+/(?:refs/heads/(?P<head>[^/]+)|(?P<ref>[^/?#]+))/")
#: The moving editions of documentation sites (Read the Docs and the like).
MOVING_DOCS = re.compile(r"/(?:en|docs)/(?:latest|stable|master|main|dev|develop)(?:/|$)", re.IGNORECASE)


def moving_ref(url: str) -> str | None:
    """The branch a GitHub link is on, or None when it names a commit or a tag (or is no such link)."""
    raw = RAW.match(url)
    if raw and raw.group("head"):
        return raw.group("head")
    match = GITHUB.match(url) or raw
    if not match:
        return None
    ref = match.group("ref")
    if COMMIT.fullmatch(ref):
        return None
    if ref.lower() in BRANCHES or MAINTENANCE.fullmatch(ref) or not re.search(r"\d", ref):
        return ref
    return None


@pytest.mark.parametrize(("url", "moving"), [
    ("https://github.com/pallets/flask/blob/3.1.3/CHANGES.rst", None),
    ("https://github.com/pallets/flask/blob/main/CHANGES.rst", "main"),
    ("https://github.com/pallets/flask/tree/master", "master"),
    ("https://github.com/a/b/blob/develop/x.py", "develop"),
    ("https://github.com/a/b/blob/3.1.x/x.py", "3.1.x"),
    ("https://github.com/a/b/tree/stable/2.0/docs", "stable"),
    ("https://github.com/a/b/blob/0123456789abcdef0123456789abcdef01234567/x.py", None),
    ("https://github.com/sqlalchemy/sqlalchemy/blob/rel_2_0_52/README.rst", None),
    ("https://github.com/twisted/twisted/blob/twisted-24.7.0/NEWS.rst", None),
    ("https://github.com/GrahamDumpleton/mod_wsgi/blob/mod_wsgi-6.0.5/setup.py", None),
    ("https://github.com/a/b/blob/some-feature/x.py", "some-feature"),
    ("https://github.com/twisted/klein/tree/release-17.10.0", None),
    ("https://github.com/a/b/tree/release/1.2/docs", "release"),
    ("https://raw.githubusercontent.com/unbit/uwsgi-docs/master/Changelog-2.0.31.rst", "master"),
    ("https://raw.githubusercontent.com/a/b/refs/heads/v2/x.rst", "v2"),
    ("https://raw.githubusercontent.com/a/b/1.0.0/x.rst", None),
    ("https://github.com/a/b", None),
    ("https://github.com/a/b/issues", None),
])
def test_moving_ref_tells_branches_from_tags_and_commits(url: str, moving: str | None) -> None:
    assert moving_ref(url) == moving


def test_no_link_in_the_data_is_on_a_moving_branch(graph: Graph) -> None:
    """Every link of the shipped graph (the session's, parsed once per test process: the data, with the
    vocabulary and the example queries)."""
    iris = {str(t) for triple in graph for t in triple if isinstance(t, URIRef)}
    moving = sorted(f"{iri} (on {moving_ref(iri)})" for iri in iris if moving_ref(iri))
    assert not moving, ("links on a moving branch (pin each to the tag or commit whose file states the claim):\n"
                        + "\n".join(moving))


def test_no_source_is_a_moving_documentation_edition(graph: Graph) -> None:
    moving = sorted({str(o) for o in graph.objects(None, DCTERMS.source)
                     if isinstance(o, URIRef) and MOVING_DOCS.search(str(o))})
    assert not moving, ("sources on a moving documentation edition (cite the repository file at the tag, or a "
                        "versioned docs page):\n" + "\n".join(moving))
