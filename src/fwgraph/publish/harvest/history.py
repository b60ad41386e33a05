"""Release histories: every tagged release a repository snapshot holds, written as data/releases/<slug>.ttl.

`fwgraph harvest --releases --repos DIR` writes one file per record whose repository is under DIR: the record's
IRI with one `doap:release [ a doap:Version ; doap:revision ; doap:created ; dcterms:source ]` per tag that
names a version its package declares (or takes from the tag), dated by the tag, plus `fw:lastCommit`, the day of
the snapshot's newest commit on the default branch, for the maintenance-status rule. The text is written
directly (not by an RDF serialiser), sorted by date and version, with no run date in it: the same snapshot
gives the same bytes. Untagged versions and tags whose package declares another version are left out; the
curator's word on a record (the release history of another distribution in the same repository, say) is
`fw:releaseHistoryExcludes`, a list of tag names the history leaves out, stated in the record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from rdflib import Graph, URIRef
from rdflib.namespace import RDFS, SDO

from fwgraph.core.errors import InputError
from fwgraph.core.namespace import BASE, FW
from fwgraph.publish.harvest.catalogue import Catalogue
from fwgraph.publish.harvest.check import find_repository
from fwgraph.publish.harvest.record import Harvest
from fwgraph.publish.harvest.releases import Release, tagged_releases
from fwgraph.publish.harvest.repository import Permalinks, github_base

HEADER = ("@prefix dcterms: <http://purl.org/dc/terms/> .\n@prefix doap:    <http://usefulinc.com/ns/doap#> .\n"
          "@prefix fw:      <https://w3id.org/fwgraph/ns#> .\n@prefix xsd:     <http://www.w3.org/2001/XMLSchema#> .\n")


@dataclass(frozen=True)
class History:
    """The tagged releases of one record, the newest commit and the commit the snapshot ends at."""

    subject: str
    label: str
    repository: str
    head: str
    last_commit: date | None
    releases: tuple[tuple[Release, str], ...]  # (release, source URL), oldest first


def _literal(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def history_of(harvest: Harvest, label: str, excluded: frozenset[str] = frozenset()) -> History:
    links = Permalinks(harvest.url)
    releases = sorted(tagged_releases(harvest.releases, excluded), key=lambda r: (r.date, r.parsed, r.tag or ""))
    sources = tuple((r, links.tree(r.tag or r.commit).url if harvest.url else links.tree(r.commit).url)
                    for r in releases)
    return History(harvest.subject, label, harvest.url or harvest.repository, harvest.head or "",
                   harvest.releases.last_commit, sources)


def to_turtle(history: History) -> str:
    """The release-history file: a purpose line, the prefixes, one statement per release."""
    head_link = Permalinks(history.repository if history.repository.startswith("https://") else None)
    lines = [f"# Release history of {history.label}: every tagged release in the repository snapshot "
             f"({history.repository} at {history.head[:12]}), each dated by its tag; written by "
             "`fwgraph harvest --releases`, not by hand.", HEADER]
    subject = f"<{history.subject}>"
    body = []
    if history.last_commit is not None:
        body.append(f'    fw:lastCommit "{history.last_commit.isoformat()}"^^xsd:date')
    body.append(f"    dcterms:source <{head_link.tree(history.head).url}>")
    if history.releases:
        items = [f"        [ a doap:Version ; doap:revision {_literal(r.version)} ; "
                 f'doap:created "{r.date.isoformat()}"^^xsd:date ;\n          dcterms:source <{url}> ]'
                 for r, url in history.releases]
        body.append("    doap:release\n" + " ,\n".join(items))
    lines.append(subject + "\n" + " ;\n".join(body) + " .\n")
    return "\n".join(lines)


def excluded_tags(graph: Graph, subject: URIRef) -> frozenset[str]:
    """The tag names the record's curator leaves out of its release history (fw:releaseHistoryExcludes)."""
    return frozenset(str(o) for o in graph.objects(subject, FW.releaseHistoryExcludes))


def history_name(kind: str, slug: str, kinds: set[str]) -> str:
    """The history's file name: <slug>.ttl, or <kind>-<slug>.ttl for a server or library whose slug a framework
    record also has (framework:twisted-web and server:twisted-web: one repository, two records)."""
    return f"{kind}-{slug}.ttl" if kind != "framework" and len(kinds) > 1 else f"{slug}.ttl"


def write_histories(record_graphs: list[tuple[Path, Graph]], repos: Path, out: Path, as_of: date,
                    run: Callable[..., Harvest], every_record: Graph | None = None) -> list[str]:
    """Harvest every record of ``record_graphs`` whose repository is under ``repos`` and write its history to
    ``out/<slug>.ttl`` (see :func:`history_name`; ``every_record``, the whole graph, tells which slugs two
    records share); one line per record says what was written or why not. A file is rewritten only when
    its text changes."""
    out.mkdir(parents=True, exist_ok=True)
    lines: list[str] = []
    seen: set[str] = set()
    kinds_by_slug: dict[str, set[str]] = {}
    for graph in [every_record] if every_record is not None else [g for _, g in record_graphs]:
        for entry in Catalogue.from_graph(graph).entries.values():
            kinds_by_slug.setdefault(entry.slug, set()).add(entry.kind)
    for _, graph in record_graphs:
        catalogue = Catalogue.from_graph(graph)
        for iri in sorted(catalogue.entries):
            entry = catalogue.entries[iri]
            if iri in seen:
                continue
            seen.add(iri)
            short = iri.removeprefix(BASE)
            repo = next((github_base(str(o)) for o in graph.objects(URIRef(iri), SDO.codeRepository)
                         if github_base(str(o))), None)
            path = find_repository(repos, repo) if repo else None
            if path is None:
                lines.append(f"{short}: skipped ({'no repository under ' + str(repos) if repo else 'no repository'})")
                continue
            try:
                harvest = run(path, repo_url=repo, slug=entry.slug, as_of=as_of, catalogue=catalogue)
            except InputError as exc:
                lines.append(f"{short}: error: {exc}")
                continue
            harvest.subject = iri
            label = str(graph.value(URIRef(iri), RDFS.label) or entry.slug)
            history = history_of(harvest, label, excluded_tags(graph, URIRef(iri)))
            text = to_turtle(history)
            target = out / history_name(entry.kind, entry.slug, kinds_by_slug.get(entry.slug, set()))
            if not target.is_file() or target.read_text(encoding="utf-8") != text:
                target.write_text(text, encoding="utf-8")
            lines.append(f"{short}: {len(history.releases)} release(s) -> {target}")
    return lines
