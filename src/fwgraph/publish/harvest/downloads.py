"""`fwgraph downloads`: monthly PyPI download series (W3C Data Cube) from a clone of hugovk/top-pypi-packages.

hugovk/top-pypi-packages commits a list of the most-downloaded PyPI projects over the last 30 days
(``top-pypi-packages-30-days.json``: ``last_update`` and ``rows`` of ``{download_count, project}``, most
downloaded first) about once a month, weekly in 2018 and 2019. This module walks the first-parent history of a
local clone (read with dulwich, offline), keeps one snapshot per calendar month of ``last_update`` (the latest
of that month), and writes for every framework and server record with a ``fw:pypiDistribution`` one file
``data/downloads/<slug>.ttl`` with one ``qb:Observation`` per snapshot: the count and rank when the project is
in the list (names compared after PEP 503 normalisation), else ``fw:inTopList false`` with the smallest count in
the list and its length. ``data/downloads/pypi-downloads.ttl`` describes the ``qb:DataSet``. The output depends
only on the clone and the records: sorted, byte-stable, and files of records that no longer qualify are removed
(the folder is the tool's).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from dulwich.objects import Commit
from packaging.utils import canonicalize_name
from rdflib import Graph, URIRef
from rdflib.namespace import RDFS

from fwgraph.core.errors import InputError
from fwgraph.core.namespace import BASE, DOWNLOADS_IRI, RECORD_KINDS
from fwgraph.publish.harvest.catalogue import Catalogue, Entry
from fwgraph.publish.harvest.repository import Limits, Repository, TooLarge

#: The upstream repository the permalinks point into.
UPSTREAM = "https://github.com/hugovk/top-pypi-packages"
#: The list files, by preference: the 30-day list under its name since 2018-02-07, then the name the same list
#: has had too since 2025-03-01. Before 2018-02-07 ``top-pypi-packages.json`` held a 365-day list without
#: ``last_update`` (a bare JSON array), which is therefore never taken for a snapshot.
LIST_FILES = ("top-pypi-packages-30-days.json", "top-pypi-packages.json")
#: The largest list file read (the 15,000-row list is about 1 MiB).
MAX_LIST_BYTES = 64 << 20
MONTH_RULE = ("one snapshot per calendar month of its last_update: when several commits of the first-parent "
              "history change the list within one month, the one with the latest last_update (on a tie, the later "
              "commit) is taken")
#: The file describing the data set, beside the series (no record has this slug).
DATASET_FILE = "pypi-downloads.ttl"
#: The record kinds that get a download series, in the order their slugs are claimed.
SERIES_KINDS = ("framework", "server")
_PREFIXES = {"qb": "http://purl.org/linked-data/cube#", "fw": BASE + "ns#",
             "xsd": "http://www.w3.org/2001/XMLSchema#", "dcterms": "http://purl.org/dc/terms/"}


@dataclass(frozen=True)
class TopList:
    """One snapshot of the list: when it was made, the commit and file it was read from, and its rows."""

    updated: str  # last_update as written, "YYYY-MM-DD HH:MM:SS"
    commit: str
    path: str
    ranks: dict[str, tuple[int, int]]  # PEP 503 name -> (download count, 1-based position)
    smallest: int
    size: int

    @property
    def day(self) -> str:
        return self.updated[:10]

    @property
    def month(self) -> str:
        return self.updated[:7]

    @property
    def url(self) -> str:
        return f"{UPSTREAM}/blob/{self.commit}/{self.path}"


@dataclass(frozen=True)
class Series:
    """A record with a PyPI distribution, and the path segment of its file and observation IRIs."""

    entry: Entry
    label: str
    segment: str

    @property
    def name(self) -> str:
        return canonicalize_name(self.entry.pypi or "")


@dataclass
class DownloadsResult:
    """What a run read and wrote."""

    head: str
    snapshots: list[TopList]
    series: list[Series]
    files: dict[str, bytes] = field(default_factory=dict)  # by file name
    skipped: list[str] = field(default_factory=list)  # commits whose list file is not a snapshot, and why

    @property
    def observations(self) -> int:
        return len(self.snapshots) * len(self.series)

    def never_listed(self) -> list[Series]:
        return [s for s in self.series if not any(s.name in t.ranks for t in self.snapshots)]

    def summary(self) -> str:
        first, last = (self.snapshots[0].day, self.snapshots[-1].day) if self.snapshots else ("-", "-")
        never = ", ".join(f"{s.entry.kind}:{s.entry.slug}" for s in self.never_listed()) or "none"
        return (f"{len(self.snapshots)} snapshots ({first} to {last}) from hugovk/top-pypi-packages at {self.head}: "
                f"{len(self.series)} records, {self.observations} observations; never in the list: {never}")


# ---------------------------------------------------------------------------------------------- reading


def parse_list(data: bytes) -> tuple[str, list[tuple[str, int]]] | None:
    """``(last_update, [(project, count), ...])`` of one list file; None when it is not a dated list."""
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("last_update"), str):
        return None
    if not isinstance(doc.get("rows"), list):
        return None
    rows: list[tuple[str, int]] = []
    for row in doc["rows"]:
        if not (isinstance(row, dict) and isinstance(row.get("project"), str)
                and isinstance(row.get("download_count"), int) and not isinstance(row["download_count"], bool)):
            return None
        rows.append((row["project"], row["download_count"]))
    updated = doc["last_update"]
    if len(updated) < 10 or not updated[:4].isdigit() or updated[4] != "-" or updated[7] != "-" or not rows:
        return None
    return updated, rows


def top_list(updated: str, rows: list[tuple[str, int]], commit: str, path: str) -> TopList:
    """A snapshot from its rows (most downloaded first): the first row of a name wins after normalisation."""
    ranks: dict[str, tuple[int, int]] = {}
    for position, (project, count) in enumerate(rows, start=1):
        ranks.setdefault(canonicalize_name(project), (count, position))
    return TopList(updated=updated, commit=commit, path=path, ranks=ranks,
                   smallest=min(count for _, count in rows), size=len(rows))


def list_commits(repo: Repository, head: str) -> Iterator[tuple[str, str, str]]:
    """``(commit, path, blob)`` for each commit of the first-parent history, oldest first, whose list changed."""
    history = list(repo.first_parent_history(head))
    previous: tuple[str, str] | None = None
    for commit in reversed(history):
        snapshot = repo.snapshot(commit)
        found = next(((path, blob) for path in LIST_FILES if (blob := snapshot.blob_id(path))), None)
        if found is not None and found != previous:
            yield commit, found[0], found[1]
        previous = found


def read_lists(repo: Repository, head: str, skipped: list[str]) -> list[TopList]:
    """Every dated list in the history, oldest first; commits whose file is not one are noted in ``skipped``."""
    out: list[TopList] = []
    for commit, path, _blob in list_commits(repo, head):
        try:
            data = repo.snapshot(commit).read(path, MAX_LIST_BYTES)
        except TooLarge as exc:
            skipped.append(f"{commit} {path}: {exc}")
            continue
        parsed = parse_list(data or b"")
        if parsed is None:
            skipped.append(f"{commit} {path}: no last_update and rows (not a dated list)")
            continue
        out.append(top_list(parsed[0], parsed[1], commit, path))
    return out


def monthly(lists: Iterable[TopList]) -> list[TopList]:
    """One list per month of last_update (see MONTH_RULE), in date order; ``lists`` oldest commit first."""
    chosen: dict[str, TopList] = {}
    for item in lists:
        kept = chosen.get(item.month)
        if kept is None or item.updated >= kept.updated:
            chosen[item.month] = item
    return [chosen[month] for month in sorted(chosen)]


# ---------------------------------------------------------------------------------------------- records


def series_of(graph: Graph) -> list[Series]:
    """Every framework and server record with a PyPI distribution, frameworks first, each by slug.

    A server whose slug a framework record already has (one distribution recorded as both, e.g. Twisted)
    gets the segment ``server-<slug>``, so that files and observation IRIs stay one per record.
    """
    catalogue = Catalogue.from_graph(graph)
    taken: set[str] = set()
    out: list[Series] = []
    for kind in SERIES_KINDS:
        for entry in sorted((e for e in catalogue.entries.values() if e.kind == kind and e.pypi),
                            key=lambda e: e.slug):
            segment = entry.slug if entry.slug not in taken else f"{kind}-{entry.slug}"
            if segment in taken:
                raise InputError(f"two records would write data/downloads/{segment}.ttl", source=entry.iri)
            taken.add(segment)
            label = graph.value(URIRef(entry.iri), RDFS.label)
            out.append(Series(entry=entry, label=" ".join(str(label or entry.slug).split()), segment=segment))
    return out


# ---------------------------------------------------------------------------------------------- Turtle


def prefix_lines(extra: dict[str, str]) -> str:
    names = {**_PREFIXES, **extra}
    width = max(len(p) for p in names) + 2
    return "".join(f"@prefix {(p + ':').ljust(width)}<{iri}> .\n" for p, iri in names.items())


def literal(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def observation(series: Series, item: TopList) -> str:
    """One observation in the fixed form of the spec, as Turtle."""
    lines = [f"<{DOWNLOADS_IRI}/{series.segment}/{item.day}> a qb:Observation ;",
             f"    qb:dataSet <{DOWNLOADS_IRI}> ;",
             f"    fw:project {series.entry.kind}:{series.entry.slug} ;",
             f'    fw:snapshotDate "{item.day}"^^xsd:date ;']
    found = item.ranks.get(series.name)
    if found is not None:
        lines += [f"    fw:downloadCount {found[0]} ;", f"    fw:downloadRank {found[1]} ;"]
    else:
        lines += ["    fw:inTopList false ;", f"    fw:downloadsBelow {item.smallest} ;",
                  f"    fw:topListSize {item.size} ;"]
    lines.append(f"    dcterms:source <{item.url}> .")
    return "\n".join(lines) + "\n"


def series_file(series: Series, lists: list[TopList]) -> bytes:
    """The file of one record: a purpose line, the prefixes, one observation per snapshot by date."""
    entry = series.entry
    head = (f"# PyPI downloads of {series.label} ({entry.kind}:{entry.slug}, PyPI {entry.pypi}): one observation per "
            "monthly snapshot of hugovk/top-pypi-packages. Written by `fwgraph downloads`; do not edit.\n")
    prefixes = prefix_lines({entry.kind: RECORD_KINDS[entry.kind].namespace})
    body = "\n".join(observation(series, item) for item in lists)
    return (head + prefixes + "\n" + body).encode("utf-8")


@dataclass(frozen=True)
class Rights:
    """What the upstream repository says about its licence at HEAD: licence files, and pages that mention one."""

    licence_files: tuple[str, ...]
    silent_pages: tuple[str, ...]  # README.md, index.html: present and never mentioning a licence
    mentioning_pages: tuple[str, ...] = ()  # the same pages where the word licence (license) occurs

    def statement(self, head: str) -> tuple[str, list[str]]:
        """The rights statement and the files it cites."""
        if self.licence_files:
            names = ", ".join(self.licence_files)
            return (f"hugovk/top-pypi-packages states its licence in {names} (at commit {head}); the counts are "
                    "republished as facts, each observation citing the file and commit it was read from.",
                    [f"{UPSTREAM}/blob/{head}/{name}" for name in self.licence_files])
        if self.mentioning_pages:
            names = " and ".join(self.mentioning_pages)
            return (f"hugovk/top-pypi-packages has no licence file; {names} mention a licence (at commit {head}): "
                    "read them for the terms.", [f"{UPSTREAM}/blob/{head}/{name}" for name in self.mentioning_pages])
        pages = {0: "", 1: f", and {''.join(self.silent_pages)} states no licence",
                 2: f", and neither {' nor '.join(self.silent_pages)} states a licence"}[len(self.silent_pages)]
        return (f"hugovk/top-pypi-packages has no licence file{pages} (checked at commit {head}); the counts are "
                "republished as facts, each observation citing the file and commit it was read from.",
                [f"{UPSTREAM}/blob/{head}/{name}" for name in self.silent_pages])


def read_rights(repo: Repository, head: str) -> Rights:
    """Look for licence files at the top of HEAD's tree and for the word licence in its README and index.html."""
    snapshot = repo.snapshot(head)
    names = sorted(name for name, is_dir in snapshot.listdir()
                   if not is_dir and name.upper().startswith(("LICENSE", "LICENCE", "COPYING")))
    silent: list[str] = []
    mentioning: list[str] = []
    for page in ("README.md", "index.html"):
        text = snapshot.text(page)
        if text is not None:
            (mentioning if "licen" in text.lower() else silent).append(page)
    return Rights(tuple(names), tuple(silent), tuple(mentioning))


def dataset_file(head: str, lists: list[TopList], series: list[Series], rights: Rights) -> bytes:
    """``pypi-downloads.ttl``: the qb:DataSet, its structure, source, rights statement and snapshot range."""
    first, last = lists[0].day, lists[-1].day
    sizes = sorted({t.size for t in lists})
    description = (
        "For every framework and application server record with a PyPI distribution, one observation per monthly "
        "snapshot of hugovk/top-pypi-packages, a list of the most-downloaded PyPI projects over the 30 days before "
        "its last_update: the project's downloads and rank when it is in the list (names compared after PEP 503 "
        "normalisation); otherwise fw:inTopList false with the smallest count in that list and the list's length, "
        "so that it had fewer downloads than that. The list's length changed over time ("
        + ", ".join(f"{n:,}" for n in sizes) + f" rows). Rule: {MONTH_RULE}. {len(lists)} snapshots from {first} "
        f"to {last}, {len(series)} records.")
    statement, cited = rights.statement(head)
    prefixes = prefix_lines({"rdfs": "http://www.w3.org/2000/01/rdf-schema#", "dcat": "http://www.w3.org/ns/dcat#",
                              "prov": "http://www.w3.org/ns/prov#"})
    lines = [
        "# The PyPI download series (a W3C Data Cube data set): what it holds, its source and the snapshots it "
        "covers. Written by `fwgraph downloads`; do not edit.",
        prefixes,
        f"<{DOWNLOADS_IRI}> a qb:DataSet ;",
        '    rdfs:label "fwgraph PyPI downloads" ;',
        '    dcterms:title "Monthly PyPI downloads of Python web frameworks and application servers"@en ;',
        f"    dcterms:description {literal(description)}@en ;",
        "    qb:structure fw:pypiDownloadsStructure ;",
        f"    dcterms:source <{UPSTREAM}/tree/{head}> ;",
        f"    prov:wasDerivedFrom <{UPSTREAM}> ;",
        f'    dcterms:temporal [ a dcterms:PeriodOfTime ; dcat:startDate "{first}"^^xsd:date ; '
        f'dcat:endDate "{last}"^^xsd:date ] ;',
        "    dcterms:rights [ a dcterms:RightsStatement ;",
        f"        rdfs:label {literal(statement)}@en" + (" ;" if cited else ""),
        *([f"        dcterms:source {', '.join(f'<{url}>' for url in cited)}"] if cited else []),
        "    ] .",
    ]
    text = "\n".join(lines) + "\n"
    return text.encode("utf-8")


# ---------------------------------------------------------------------------------------------- running


def harvest_downloads(repo_path: Path, graph: Graph) -> DownloadsResult:
    """Read the clone at ``repo_path`` and compute the files of ``data/downloads/`` (nothing is written)."""
    with Repository(Path(repo_path), limits=Limits(blob_bytes=MAX_LIST_BYTES)) as repo:
        head = repo.head()
        if head is None or not isinstance(repo.object(head), Commit):
            raise InputError("the repository has no commits", source=str(repo_path))
        skipped: list[str] = []
        lists = monthly(read_lists(repo, head, skipped))
        rights = read_rights(repo, head)
    if not lists:
        raise InputError(f"no dated list ({' or '.join(LIST_FILES)} with last_update) in the history",
                         source=str(repo_path))
    series = series_of(graph)
    result = DownloadsResult(head=head, snapshots=lists, series=series, skipped=skipped)
    result.files = {f"{s.segment}.ttl": series_file(s, lists) for s in series}
    if DATASET_FILE in result.files:
        raise InputError(f"a record's series would be named {DATASET_FILE}, the data set's file", source=DATASET_FILE)
    result.files[DATASET_FILE] = dataset_file(head, lists, series, rights)
    return result


class Output(Protocol):
    """A harvest's result: the files it writes into its folder, by name."""

    files: dict[str, bytes]


def write(result: Output, out: Path) -> tuple[list[Path], list[Path]]:
    """Write the files into ``out`` and remove the .ttl files there that the run no longer writes (the folder
    is the tool's); return (written, removed). A file whose bytes are unchanged is not rewritten."""
    out.mkdir(parents=True, exist_ok=True)
    written, removed = [], []
    for name, data in sorted(result.files.items()):
        path = out / name
        if not path.is_file() or path.read_bytes() != data:
            path.write_bytes(data)
            written.append(path)
    for path in sorted(out.glob("*.ttl")):
        if path.name not in result.files:
            path.unlink()
            removed.append(path)
    return written, removed


def stale(result: Output, out: Path) -> list[str]:
    """The files of ``out`` that differ from the run's (changed, missing or extra), by name."""
    present = {p.name for p in out.glob("*.ttl")} if out.is_dir() else set()
    return [name for name in sorted(set(result.files) | present)
            if name not in result.files or not (out / name).is_file()
            or (out / name).read_bytes() != result.files[name]]


def records_graph(data_dir: Path) -> Graph:
    """The framework and server records (the only files the series are derived from)."""
    from fwgraph.data.graph import parse_file

    graph = Graph()
    for kind in SERIES_KINDS:
        for path in sorted((data_dir / RECORD_KINDS[kind].folder).glob("*.ttl")):
            graph += parse_file(path)
    return graph
