"""One harvest: the facts a repository states about its project, each with its source, as JSON or as Turtle."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, DOAP, RDF, RDFS, SDO, XSD

from fwgraph.core.namespace import BASE, FW, RECORD_KINDS, SPDX, bind_prefixes
from fwgraph.publish.harvest.catalogue import Catalogue, Entry
from fwgraph.publish.harvest.licence import Claim, derive_licence
from fwgraph.publish.harvest.metadata import read_project, url_kind
from fwgraph.publish.harvest.package import native_core, typed_marker
from fwgraph.publish.harvest.project import Project
from fwgraph.publish.harvest.releases import STATUS_RULE, Release, Releases, find_releases
from fwgraph.publish.harvest.repository import Limits, Permalinks, Repository, Source, github_base

#: Metadata URL kinds by the property a record states them with.
URL_PROPERTIES = {"homepage": DOAP.homepage, "documentation": SDO.softwareHelp, "tracker": DOAP["bug-database"],
                  "changelog": SDO.releaseNotes, "source": SDO.codeRepository}
#: Library classes by the property a framework record links them with.
LIBRARY_PROPERTIES = {"TemplateEngine": FW.templateEngine, "ValidationLibrary": FW.validationLibrary, "ORM": FW.orm}


@dataclass(frozen=True)
class Fact:
    """A derived fact: its name, value (JSON-ready) and the file at the commit that states it."""

    name: str
    value: Any
    source: Source


@dataclass
class Harvest:
    """Everything one harvest derived from a repository, as of one day."""

    repository: str
    url: str | None
    head: str | None
    derived: date
    subject: str
    kind: str
    read_at: str | None = None  # the commit the metadata facts were read at (latest release, else HEAD)
    read_at_label: str | None = None
    releases: Releases = field(default_factory=Releases)
    release_sources: dict[str, Source] = field(default_factory=dict)  # by version
    facts: dict[str, Fact] = field(default_factory=dict)
    licence_claims: list[tuple[Claim, Source]] = field(default_factory=list)
    disagreements: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    # ------------------------------------------------------------------ JSON

    def release_json(self, release: Release | None) -> dict[str, Any] | None:
        if release is None:
            return None
        declared = release.declared
        return {"version": release.version, "tag": release.tag, "commit": release.commit,
                "date": release.date.isoformat(), "status": release.status,
                "declared": {"version": declared.version, "path": declared.path, "how": declared.how}
                if declared else None,
                "source": self.release_sources[_key(release)].url}

    def to_dict(self) -> dict[str, Any]:
        rel = self.releases
        return {
            "repository": self.repository, "url": self.url, "head": self.head, "subject": self.subject,
            "kind": self.kind, "derived": self.derived.isoformat(),
            "read_at": {"commit": self.read_at, "label": self.read_at_label},
            "releases": [self.release_json(r) for r in rel.releases],
            "mismatched_tags": [self.release_json(r) for r in rel.mismatches],
            "first_release": self.release_json(rel.first), "latest_release": self.release_json(rel.latest),
            "cadence": rel.cadence(self.derived), "status_rule": STATUS_RULE,
            "facts": {name: {"value": f.value, "source": f.source.url, "commit": f.source.commit,
                             "path": f.source.path, "derived": self.derived.isoformat()}
                      for name, f in self.facts.items()},
            "licence_claims": [{"kind": c.kind, "ids": sorted(c.ids), "text": c.text, "source": s.url}
                               for c, s in self.licence_claims],
            "disagreements": self.disagreements, "notes": self.notes,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    # ------------------------------------------------------------------ RDF

    def to_graph(self) -> Graph:
        """The facts in fwgraph's vocabulary; each asserted triple also reified with dcterms:source and date."""
        g = bind_prefixes(Graph())
        for prefix in (*RECORD_KINDS, "status"):
            g.bind(prefix, BASE + prefix + "/", override=True)
        subject = URIRef(self.subject)
        day = Literal(self.derived.isoformat(), datatype=XSD.date)
        sources: set[str] = set()

        def state(p: URIRef, o: Any, source: Source) -> None:
            g.add((subject, p, o))
            note = BNode()
            for triple in ((note, RDF.type, RDF.Statement), (note, RDF.subject, subject), (note, RDF.predicate, p),
                           (note, RDF.object, o), (note, DCTERMS.source, URIRef(source.url)),
                           (note, DCTERMS.date, day)):
                g.add(triple)
            sources.add(source.url)

        nodes: dict[str, BNode] = {}
        for release in self.releases.releases:
            node = nodes[_key(release)] = BNode()
            src = self.release_sources[_key(release)]
            g.add((node, RDF.type, DOAP.Version))
            g.add((node, DOAP.revision, Literal(release.version)))
            g.add((node, DOAP.created, Literal(release.date.isoformat(), datatype=XSD.date)))
            g.add((node, DCTERMS.source, URIRef(src.url)))
            g.add((node, RDFS.comment, Literal(_release_comment(release), lang="en")))
            state(DOAP.release, node, src)
        latest, first = self.releases.latest, self.releases.first
        if latest is not None:
            state(FW.latestRelease, nodes[_key(latest)], self.release_sources[_key(latest)])
        if first is not None:
            state(FW.firstReleaseYear, Literal(str(first.date.year), datatype=XSD.gYear),
                  self.release_sources[_key(first)])
        facts = self.facts
        if "distribution" in facts:
            state(FW.pypiDistribution, Literal(facts["distribution"].value), facts["distribution"].source)
        if "licence" in facts:
            for spdx_id in facts["licence"].value:
                if not spdx_id.startswith("LicenseRef-"):
                    state(DOAP.license, SPDX[spdx_id], facts["licence"].source)
        if "requires_python" in facts:
            state(FW.requiresPython, Literal(facts["requires_python"].value), facts["requires_python"].source)
        for version in facts["python_versions"].value if "python_versions" in facts else []:
            state(FW.pythonVersion, Literal(version), facts["python_versions"].source)
        if "typed" in facts:
            state(FW.typed, Literal(facts["typed"].value), facts["typed"].source)
        for language in facts["native_core"].value if "native_core" in facts else []:
            state(FW.nativeCore, Literal(language), facts["native_core"].source)
        for kind, prop in URL_PROPERTIES.items():
            if kind in facts:
                state(prop, URIRef(facts[kind].value), facts[kind].source)
        if "status" in facts:
            state(FW.maintenanceStatus, URIRef(BASE + "status/" + facts["status"].value), facts["status"].source)
        for dep in facts["dependencies"].value if "dependencies" in facts else []:
            state(SDO.softwareRequirements, URIRef(dep["iri"]), facts["dependencies"].source)
            link = next((LIBRARY_PROPERTIES[c] for c in dep["classes"] if c in LIBRARY_PROPERTIES), None)
            if self.kind == "framework" and link is not None:
                state(link, URIRef(dep["iri"]), facts["dependencies"].source)
        cadence = self.releases.cadence(self.derived)
        g.add((subject, RDFS.comment, Literal(
            f"Harvested by fwgraph harvest on {self.derived.isoformat()} from {self.url or self.repository}"
            f" at {self.read_at_label or 'HEAD'} ({self.read_at}). Cadence: {cadence['releases_last_12_months']}"
            f" release(s) in the last 12 months, {cadence['releases_last_24_months']} in the last 24, "
            f"{cadence['days_since_last_release']} day(s) since the newest. Status rule: {STATUS_RULE}", lang="en")))
        for text in self.disagreements:
            g.add((subject, RDFS.comment, Literal("Disagreement: " + text, lang="en")))
        for url in sorted(sources):
            g.add((subject, DCTERMS.source, URIRef(url)))
        return g

    def to_turtle(self) -> str:
        return self.to_graph().serialize(format="turtle")


def _key(release: Release) -> str:
    return f"{release.version}@{release.tag or release.commit}"


def _release_comment(release: Release) -> str:
    declared = release.declared
    where = f"{declared.how}" if declared else "no version declaration the harvest reads"
    said = declared.version if declared else None
    if release.status == "untagged":
        return f"Declared as {release.version} ({where}) at commit {release.commit} without a tag."
    if release.status == "mismatch":
        return f"Tag {release.tag} names {release.version}, but the package declares {said} ({where})."
    if release.status == "from-tag":
        return f"Tag {release.tag}; the version comes from the tag ({where})."
    if release.status == "placeholder":
        return (f"Tag {release.tag}; the package declares the placeholder {said} ({where}), which the "
                "release build replaces with the tag.")
    if release.status == "unchecked":
        return f"Tag {release.tag}; {where}: unchecked."
    return f"Tag {release.tag}; the package declares {release.version} ({where})."


# --------------------------------------------------------------------------- harvesting


def harvest(path: str | Path, *, slug: str | None = None, repo_url: str | None = None, as_of: date | None = None,
            catalogue: Catalogue | None = None, limits: Limits | None = None) -> Harvest:
    """Derive the facts a local git repository states about its project (read-only; nothing is fetched or run).

    ``repo_url`` (a GitHub URL) makes the sources GitHub permalinks; without it the ``origin`` remote is
    tried, and failing that sources are ``git:<commit>:<path>`` references. ``as_of`` is the day the
    cadence is counted to (default: today, UTC). ``catalogue`` (the graph's projects) names the subject
    and the dependencies the graph knows.
    """
    with Repository(Path(path), limits or Limits()) as repo:
        return _harvest(repo, slug, repo_url, as_of or datetime.now(UTC).date(), catalogue or Catalogue())


def _harvest(repo: Repository, slug: str | None, repo_url: str | None, as_of: date, catalogue: Catalogue) -> Harvest:
    url = github_base(repo_url) or github_base(repo.remote_url())
    links = Permalinks(url)
    head = repo.head()
    head_project = read_project(repo.snapshot(head)) if head else Project()
    releases = find_releases(repo, head, str(head_project.name.value) if head_project.name else None) \
        if head else Releases()
    latest = releases.latest
    read_at = latest.commit if latest else head
    project = read_project(repo.snapshot(read_at)) if read_at else Project()
    name = str(project.name.value) if project.name else None
    entry = catalogue.by_slug(slug) or catalogue.by_pypi(name) or catalogue.by_repository(url)
    fallback = slug or (canonicalize_name(name) if name else Path(repo.path).name.removesuffix(".git"))
    iri = entry.iri if entry else str(RECORD_KINDS["framework"].iri(fallback))
    result = Harvest(str(repo.path), url, head, as_of, iri,
                     entry.kind if entry else "framework", read_at,
                     (f"tag {latest.tag}" if latest and latest.tag else "untagged release" if latest else "HEAD"),
                     releases)
    if head is None:
        result.notes.append("the repository has no commits")
        return result
    for release in releases.releases + releases.mismatches:
        declared = release.declared
        result.release_sources[_key(release)] = (links.file(release.commit, declared.path)
                                                 if declared else links.tree(release.commit))
    for release in releases.mismatches + [r for r in releases.releases if r.status == "untagged"]:
        declared = release.declared
        assert declared is not None  # a mismatch and an untagged release are both read from a declaration
        result.disagreements.append(
            f"release: tag {release.tag} ({release.date}) names {release.version}, but {declared.path} at that tag "
            f"declares {declared.version}" if release.tag else
            f"release: {release.version} is declared in {declared.path} at commit {release.commit[:12]} "
            f"({release.date}) but no tag names it")
    if not releases.releases:
        result.notes.append("no release: no tag names a version and the default branch declares no final version")
    _facts(repo, result, project, links, catalogue, as_of)
    result.notes += project.notes + releases.notes + repo.notes
    return result


def _facts(repo: Repository, result: Harvest, project: Project, links: Permalinks, catalogue: Catalogue,
           as_of: date) -> None:
    commit = result.read_at
    assert commit is not None
    facts = result.facts
    snap = repo.snapshot(commit)
    paths, cut = snap.walk()
    if cut:
        result.notes.append(f"more than {repo.limits.tree_entries} files at {commit[:12]}; only the first were listed")
    if project.name:
        facts["distribution"] = Fact("distribution", str(project.name.value), links.file(commit, project.name.path))
    licence = derive_licence(snap, project, paths)
    if licence.ids:
        facts["licence"] = Fact("licence", licence.ids, links.file(commit, licence.path or ""))
    result.licence_claims = [(c, links.file(commit, c.path)) for c in licence.claims]
    result.disagreements += licence.disagreements
    result.notes += licence.notes
    if project.requires_python:
        facts["requires_python"] = Fact("requires_python", str(project.requires_python.value),
                                        links.file(commit, project.requires_python.path))
    if project.classifiers:
        facts["python_versions"] = Fact("python_versions", project.python_versions,
                                        links.file(commit, project.classifiers.path))
        _check_classifiers(project, result)
    marker = typed_marker(paths)
    if marker:
        facts["typed"] = Fact("typed", True, links.file(commit, marker))
    elif not cut:
        facts["typed"] = Fact("typed", False, links.tree(commit))
    languages, build_file = native_core(project, paths)
    if languages:
        facts["native_core"] = Fact("native_core", languages, links.file(commit, build_file or ""))
    for label, url, path in project.urls:
        kind = url_kind(label)
        if kind and kind not in facts and url.startswith(("http://", "https://")):
            facts[kind] = Fact(kind, url, links.file(commit, path))
    known: list[dict[str, Any]] = []
    for req, optional, path in project.dependencies:
        entry: Entry | None = catalogue.by_pypi(req.name)
        if entry and entry.iri != result.subject and entry.iri not in {k["iri"] for k in known}:
            known.append({"name": canonicalize_name(req.name), "requirement": str(req), "optional": optional,
                          "iri": entry.iri, "classes": sorted(entry.classes), "path": path})
    if known:
        facts["dependencies"] = Fact("dependencies", known, links.file(commit, known[0]["path"]))
    newest = result.releases.newest
    status_source = links.tree(newest.commit) if newest else links.tree(result.head or commit)
    facts["status"] = Fact("status", result.releases.status(as_of), status_source)


def _check_classifiers(project: Project, result: Harvest) -> None:
    import trove_classifiers

    assert project.classifiers is not None
    for classifier in project.classifiers.value:
        if classifier in trove_classifiers.deprecated_classifiers:
            result.notes.append(f"{project.classifiers.path}: classifier {classifier!r} is deprecated")
        elif classifier not in trove_classifiers.classifiers:
            result.notes.append(f"{project.classifiers.path}: {classifier!r} is not a trove classifier")


def harvest_bounded(path: str | Path, *, timeout: float = 120.0, sandbox: Any = None, **kwargs: Any) -> Harvest:
    """:func:`harvest` in a killable child process: no network, no subprocess, bounded time and memory.

    Raises InputError when the repository cannot be read, the harvest runs past ``timeout`` seconds or
    its process dies (memory).
    """
    from fwgraph.core.errors import InputError, TimeLimitExceeded, WorkerFailed, WorkStopped
    from fwgraph.publish.sandbox import Sandbox

    try:
        return (sandbox or Sandbox(slots=1, timeout=timeout)).run(harvest, path, **kwargs)
    except TimeLimitExceeded:
        raise InputError(f"the harvest ran past its time limit of {timeout:g} s and was stopped",
                         source=str(path)) from None
    except WorkStopped:  # killed (memory) or crashed: this repository failed, a --check goes on
        raise InputError("the harvest's process stopped without an answer (its memory limit, or a crash)",
                         source=str(path)) from None
    except WorkerFailed as exc:
        message = str(exc).removeprefix("InputError: ").removeprefix(f"{path}: ")
        raise InputError(message, source=str(path)) from None
