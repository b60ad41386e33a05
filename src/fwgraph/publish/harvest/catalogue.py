"""The projects the graph describes (frameworks, servers, libraries), found by slug, PyPI name or repository."""

from __future__ import annotations

from dataclasses import dataclass, field

from packaging.utils import canonicalize_name
from rdflib import Graph, URIRef
from rdflib.namespace import RDF, SDO

from fwgraph.core.namespace import FW, RECORD_KINDS
from fwgraph.publish.harvest.repository import github_base

#: The record kinds (the IRI path segment) by the class that makes a resource one.
KINDS = {kind.cls: name for name, kind in RECORD_KINDS.items()}
_LIBRARY_CLASSES = (FW.TemplateEngine, FW.ValidationLibrary, FW.ORM)


@dataclass(frozen=True)
class Entry:
    """One project of the graph: its IRI, slug, kind, PyPI name, repository and fw: classes."""

    iri: str
    slug: str
    kind: str
    pypi: str | None
    repository: str | None
    classes: frozenset[str]


@dataclass
class Catalogue:
    """Projects by IRI, with indexes by PyPI name (canonical), slug and GitHub repository."""

    entries: dict[str, Entry] = field(default_factory=dict)

    @classmethod
    def from_graph(cls, graph: Graph) -> Catalogue:
        catalogue = cls()
        for klass, kind in KINDS.items():
            members = set(graph.subjects(RDF.type, klass))
            if klass == FW.Library:
                for sub in _LIBRARY_CLASSES:
                    members |= set(graph.subjects(RDF.type, sub))
            for subject in members:
                if not isinstance(subject, URIRef) or str(subject) in catalogue.entries:
                    continue
                pypi = graph.value(subject, FW.pypiDistribution)
                repo = next((github_base(str(o)) for o in graph.objects(subject, SDO.codeRepository)
                             if github_base(str(o))), None)
                classes = frozenset(str(c).rsplit("#", 1)[-1] for c in graph.objects(subject, RDF.type)
                                    if str(c).startswith(str(FW)))
                catalogue.entries[str(subject)] = Entry(str(subject), str(subject).rstrip("/").rsplit("/", 1)[-1],
                                                        kind, str(pypi) if pypi else None, repo, classes)
        return catalogue

    def by_pypi(self, name: str | None) -> Entry | None:
        if not name:
            return None
        key = canonicalize_name(name)
        return next((e for e in self.entries.values() if e.pypi and canonicalize_name(e.pypi) == key), None)

    def by_slug(self, slug: str | None) -> Entry | None:
        return next((e for e in self.entries.values() if e.slug == slug), None) if slug else None

    def by_repository(self, url: str | None) -> Entry | None:
        base = github_base(url) if url else None
        if not base:
            return None
        return next((e for e in self.entries.values() if e.repository and e.repository.lower() == base.lower()), None)
