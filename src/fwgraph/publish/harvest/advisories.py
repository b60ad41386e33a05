"""`fwgraph advisories`: the PyPA advisory database's OSV entries for the graph's projects, as Turtle files.

Reads a local clone of pypa/advisory-database (a work tree or a bare mirror; its HEAD commit is the
snapshot) with dulwich, never the network, and writes ``data/advisories/<slug>.ttl`` (one fw:SecurityAdvisory
per OSV entry that names the project's PyPI distribution) and ``data/advisories/pypa-advisory-database.ttl``
(the snapshot: commit, date, licence). The output is a pure function of the snapshot and the records, so a
second run writes the same bytes.

Rules, stated once:

- An entry belongs to a project when one of its ``affected[].package`` (ecosystem PyPI) has the project's
  ``fw:pypiDistribution`` as its name, both PEP 503-normalised. Projects sharing a distribution (a framework
  and its server) share one file, named after the first record (frameworks, then servers, then libraries).
- Ranges: the events of each ECOSYSTEM range object of the package (GIT ranges name commits, not releases)
  are sorted by version and swept as the OSV schema evaluates them: ``introduced`` opens a range, ``fixed``
  (exclusive) or ``last_affected`` (inclusive) closes it, and a range left open has no upper bound; the
  ranges of several objects are merged where they overlap. Each is one fw:VersionRange; fw:fixedIn lists
  every ``fixed`` version. An explicit ``versions`` list is recorded (fw:affectedVersion) only when the
  package has no ECOSYSTEM range. A range object with a version that is not PEP 440 is left out whole.
- fw:affectsLatestRelease: whether the record's latest release (fw:latestRelease/doap:revision) lies in a
  range (or, without ranges, in the versions list), compared with packaging.version. Not stated when no
  affected record states a latest release or the entry is withdrawn; nor when it cannot be told (a range
  left out, a version that does not parse), and then an rdfs:comment on the advisory says why.
- A withdrawn entry (OSV ``withdrawn``) is kept, with fw:withdrawn (the date) and no fw:affectsLatestRelease:
  the database still lists it, and a reader who meets its CVE elsewhere learns it was withdrawn.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version
from rdflib import Graph, URIRef
from rdflib.namespace import DOAP, RDF

from fwgraph.core.errors import InputError
from fwgraph.core.namespace import BASE, FW, RECORD_KINDS, segment_and_slug
from fwgraph.publish.harvest.catalogue import KINDS
from fwgraph.publish.harvest.repository import Repository

REPOSITORY = "https://github.com/pypa/advisory-database"
SNAPSHOT_IRI = BASE + "source/pypa-advisory-database"
SNAPSHOT_FILE = "pypa-advisory-database.ttl"
ADVISORY_BASE = BASE + "advisory/"
LICENCE = "https://creativecommons.org/licenses/by/4.0/"
#: The licence file at the snapshot must open with this line (CC BY 4.0's legal code), or the run stops.
LICENCE_TITLE = "Attribution 4.0 International"
_KIND_ORDER = tuple(RECORD_KINDS)
_OSV_FILE = re.compile(r"^vulns/[^/]+/[^/]+\.(ya?ml|json)$")


# --------------------------------------------------------------------------- reading OSV


class _StringLoader(yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader):  # type: ignore[misc]
    """YAML with every scalar a string: an unquoted ``1.10`` stays the version "1.10", not the float 1.1."""

    yaml_implicit_resolvers: dict[Any, Any] = {}


def parse_osv(text: bytes | str, source: str = "<osv>") -> dict[str, Any]:
    """One OSV entry (YAML or JSON, which is YAML) as plain dicts, lists and strings."""
    try:
        doc = yaml.load(text, Loader=_StringLoader)  # noqa: S506 - a safe loader with no implicit types
    except yaml.YAMLError as exc:
        raise InputError(f"not a readable OSV entry: {exc}", source=source) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("id"), str):
        raise InputError("not an OSV entry (no id)", source=source)
    return doc


def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def _sort_key(text: str) -> tuple[int, Any]:
    parsed = _version(text)
    return (0, parsed) if parsed is not None else (1, text)


@dataclass(frozen=True)
class VersionRange:
    """Versions from ``introduced`` (inclusive) to ``fixed`` (exclusive) or ``last_affected`` (inclusive)."""

    introduced: str
    fixed: str | None = None
    last_affected: str | None = None

    def contains(self, version: Version) -> bool:
        if self.introduced != "0" and version < Version(self.introduced):  # "0": from the very first version
            return False
        if self.fixed is not None and version >= Version(self.fixed):
            return False
        return not (self.last_affected is not None and version > Version(self.last_affected))


_EVENT_ORDER = {"introduced": 0, "last_affected": 1, "fixed": 2}


def sweep(events: Iterable[tuple[str, str]], notes: list[str] | None = None) -> list[VersionRange]:
    """Ranges from OSV ECOSYSTEM events ``(kind, version)``, evaluated as the OSV schema says: sorted by
    version, ``introduced`` opens, ``fixed``/``last_affected`` closes; other kinds (``limit``) are ignored.
    An event whose version does not parse is noted and left out."""
    usable: list[tuple[Version, int, str, str]] = []
    for kind, value in events:
        if kind not in _EVENT_ORDER:
            continue
        parsed = Version("0") if value == "0" else _version(value)
        if parsed is None:
            if notes is not None:
                notes.append(f"{kind} {value!r} is not a PEP 440 version; left out")
            continue
        # "0" sorts before everything, 0 included: it means "from the first version"
        usable.append((parsed, -1 if value == "0" else _EVENT_ORDER[kind], kind, value))
    usable.sort(key=lambda e: (e[0], e[1]))
    out: list[VersionRange] = []
    start: str | None = None
    for version, _, kind, value in usable:
        if kind == "introduced":
            start = value if start is None else start  # already open: the range goes on
        elif start is not None:
            if kind == "last_affected":
                out.append(VersionRange(start, last_affected=value))
            elif start == "0" or version > Version(start):  # fixed where it was introduced: no range
                out.append(VersionRange(start, fixed=value))
            start = None
    if start is not None:
        out.append(VersionRange(start))
    return out


def _end(r: VersionRange) -> tuple[int, Version | None, int]:
    """A range's upper end for ordering: open last; at one version, ``last_affected`` (inclusive) after ``fixed``."""
    if r.fixed is not None:
        return (0, Version(r.fixed), 0)
    if r.last_affected is not None:
        return (0, Version(r.last_affected), 1)
    return (1, None, 0)


def union(ranges: list[VersionRange]) -> list[VersionRange]:
    """Ranges merged where they overlap or meet (those of several range objects of one package), sorted."""
    def start(r: VersionRange) -> Version:
        return Version("0") if r.introduced == "0" else Version(r.introduced)

    out: list[VersionRange] = []
    for r in sorted(ranges, key=lambda r: (start(r), r.introduced != "0")):
        if out:
            last = out[-1]
            open_ended, end, _ = _end(last)
            if open_ended or (end is not None and start(r) <= end):  # overlaps or meets: one range
                if _end(r) > _end(last):
                    out[-1] = VersionRange(last.introduced, r.fixed, r.last_affected)
                continue
        out.append(r)
    return out


@dataclass
class Affected:
    """What one OSV entry says about one distribution."""

    ranges: list[VersionRange]
    fixed: list[str]
    listed: list[str]  # the entry's ``versions`` list for the package
    has_ranges: bool
    unreadable: list[str] = field(default_factory=list)  # event versions that are not PEP 440: ranges left out

    @property
    def versions(self) -> list[str]:
        """The versions list as recorded: only when the package has no ECOSYSTEM range."""
        return [] if self.has_ranges else self.listed


def affected_for(doc: dict[str, Any], distribution: str, notes: list[str] | None = None) -> Affected | None:
    """The ranges, fixed versions and versions list an entry states for ``distribution`` (None: not named)."""
    key = canonicalize_name(distribution)
    ranges: list[VersionRange] = []
    fixed: set[str] = set()
    versions: set[str] = set()
    unreadable: list[str] = []
    named = has_ranges = False
    for item in doc.get("affected") or []:
        package = item.get("package") or {} if isinstance(item, dict) else {}
        if not isinstance(package, dict) or str(package.get("ecosystem", "")).split(":")[0] != "PyPI":
            continue
        if canonicalize_name(str(package.get("name", ""))) != key:
            continue
        named = True
        for rng in item.get("ranges") or []:
            if not isinstance(rng, dict) or rng.get("type") != "ECOSYSTEM":
                continue
            has_ranges = True
            events = [(str(kind), str(value)) for event in rng.get("events") or [] if isinstance(event, dict)
                      for kind, value in event.items()]
            bad = [v for k, v in events if k in _EVENT_ORDER and v != "0" and _version(v) is None]
            if bad:  # a range that cannot be evaluated is left out whole, and no verdict is given
                unreadable += bad
                if notes is not None:
                    notes.append(f"range events {', '.join(bad)} are not PEP 440 versions; that range is left out")
                continue
            fixed.update(value for kind, value in events if kind == "fixed")
            ranges += sweep(events, notes)  # each range object is evaluated on its own
        versions.update(str(v) for v in item.get("versions") or [])
    if not named:
        return None
    return Affected(ranges=union(ranges), fixed=sorted(fixed, key=_sort_key),
                    listed=sorted(versions, key=_sort_key), has_ranges=has_ranges, unreadable=unreadable)


def affects_version(affected: Affected, version: str) -> bool | None:
    """Whether ``version`` is affected (ranges, else the versions list); None when it cannot be told."""
    parsed = _version(version)
    if parsed is None:
        return None
    if affected.has_ranges:
        try:
            hit = any(r.contains(parsed) for r in affected.ranges)
        except InvalidVersion:
            return None
        return True if hit else None if affected.unreadable else False
    if affected.versions:
        return any(_version(v) == parsed for v in affected.versions)
    return None


def package_names(doc: dict[str, Any]) -> set[str]:
    """The PEP 503-normalised PyPI package names an entry's ``affected`` list names."""
    names: set[str] = set()
    for item in doc.get("affected") or []:
        package = item.get("package") if isinstance(item, dict) else None
        if isinstance(package, dict) and str(package.get("ecosystem", "")).split(":")[0] == "PyPI":
            names.add(canonicalize_name(str(package.get("name", ""))))
    return names


# --------------------------------------------------------------------------- the records


@dataclass(frozen=True)
class Project:
    """A record with a PyPI distribution: IRI, kind, slug, distribution and latest release (if stated)."""

    iri: str
    kind: str
    slug: str
    distribution: str
    latest: str | None


def projects(graph: Graph, kinds: Iterable[str] = _KIND_ORDER) -> list[Project]:
    """Every framework, server (and library, if asked) record stating fw:pypiDistribution, by kind and slug."""
    wanted = set(kinds)
    out = []
    for klass, kind in KINDS.items():
        if kind not in wanted:
            continue
        members = set(graph.subjects(RDF.type, klass))
        if klass == FW.Library:
            for sub in (FW.TemplateEngine, FW.ValidationLibrary, FW.ORM):
                members |= set(graph.subjects(RDF.type, sub))
        for subject in members:
            dist = graph.value(subject, FW.pypiDistribution)
            if not isinstance(subject, URIRef) or dist is None:
                continue
            latest = graph.value(subject, FW.latestRelease)
            revision = graph.value(latest, DOAP.revision) if latest is not None else None
            out.append(Project(str(subject), kind, str(subject).rsplit("/", 1)[-1], str(dist),
                               str(revision) if revision is not None else None))
    return sorted(out, key=lambda p: (_KIND_ORDER.index(p.kind), p.slug))


# --------------------------------------------------------------------------- the database snapshot


@dataclass
class Database:
    """The snapshot read: its HEAD commit and date, and every OSV entry under vulns/ by path."""

    commit: str
    day: date
    entries: dict[str, dict[str, Any]]
    licence_ok: bool
    notes: list[str] = field(default_factory=list)

    def blob_url(self, path: str) -> str:
        return f"{REPOSITORY}/blob/{self.commit}/{path}"


def read_database(path: Path, names: set[str] | None = None) -> Database:
    """Read the clone at ``path`` at its HEAD: the OSV entries of vulns/ (only those naming one of ``names``,
    PEP 503-normalised, when given), the commit and its date, and whether LICENSE is CC BY 4.0."""
    with Repository(Path(path)) as repo:
        head = repo.head()
        if head is None:
            raise InputError("the repository has no commit", source=str(path))
        snap = repo.snapshot(head)
        entries: dict[str, dict[str, Any]] = {}
        notes: list[str] = []
        wanted: set[str] | None = {canonicalize_name(n) for n in names} if names is not None else None
        for package, is_dir in sorted(snap.listdir("vulns")):
            if not is_dir:
                continue
            for name, sub in sorted(snap.listdir(f"vulns/{package}")):
                file = f"vulns/{package}/{name}"
                if sub or not _OSV_FILE.match(file):
                    continue
                data = snap.read(file, limit=16 << 20) or b""
                if wanted is not None and canonicalize_name(package) not in wanted and not _mentions(data, wanted):
                    continue
                doc = parse_osv(data, source=file)
                pkgs = package_names(doc)
                if canonicalize_name(package) not in pkgs:
                    notes.append(f"{file}: its directory names no package of its affected list {sorted(pkgs)}")
                entries[file] = doc
        licence = snap.text("LICENSE") or ""
        return Database(head, repo.commit_date(head), entries, licence.strip().startswith(LICENCE_TITLE), notes)


def _mentions(data: bytes, names: Iterable[str]) -> bool:
    """A cheap pre-filter: could this file name one of ``names`` (normalised) as a package (``name: x``)?"""
    text = re.sub(rb"[-_.]+", b"-", data.lower())
    alternatives = b"|".join(re.escape(n.encode()) for n in sorted(names))
    pattern = rb"""name["']?:[ \t]*["']?(?:""" + alternatives + rb""")["']?[ \t]*(?:[,}\r\n]|$)"""
    return re.search(pattern, text) is not None


# --------------------------------------------------------------------------- Turtle


def _literal(text: str) -> str:
    escaped = (text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
               .replace("\t", "\\t"))
    return f'"{escaped}"'


def _iri(text: str) -> str:
    if re.search(r'[\x00-\x20<>"{}|^`\\]', text):
        raise InputError(f"not writable as an IRI: {text!r}")
    return f"<{text}>"


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'`(\[])")
_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "vs.", "cf.", "No.", "approx.", "Inc.", "Ltd.")


def label_of(doc: dict[str, Any]) -> str:
    """The entry's summary, else the first sentence of its details, one line. A first sentence that only says
    what the project is ("aiohttp is an asynchronous HTTP client/server framework ...") is passed over for the
    next one, which names the issue (many entries of a project open with the same such sentence); one that
    only names the versions ("An issue was discovered in Django 2.2 before 2.2.13 ...") gets the next one added."""
    summary = " ".join(str(doc.get("summary") or "").split())
    if summary:
        return summary
    details = " ".join(str(doc.get("details") or "").split())
    sentences = []
    start = 0
    for match in _SENTENCE_END.finditer(details):
        if details[start:match.start()].endswith(_ABBREVIATIONS):
            continue
        sentences.append(details[start:match.start()])
        start = match.end()
    sentences.append(details[start:])
    sentences = [s for s in sentences if s]
    while len(sentences) > 1 and _SELF_DESCRIPTION.match(sentences[0]):
        sentences.pop(0)
    if len(sentences) > 1 and _PREFACE.match(sentences[0]):
        return f"{sentences[0]} {sentences[1]}"
    return sentences[0] if sentences else str(doc["id"])


_SELF_DESCRIPTION = re.compile(r"^[\w.\-]+(?: [\w.\-]+){0,2} (?:is|are) (?:an?|the) ")
#: A first sentence that names only the versions ("An issue was discovered in Django 2.2 before 2.2.13 ..."):
#: the next sentence, which says what the issue is, is added to it.
_PREFACE = re.compile(r"^An issue was discovered in [^,;]*?\bbefore\b")


def see_also(identifier: str) -> str:
    """The canonical page of an advisory id: NVD for CVEs, GitHub for GHSAs, osv.dev for the rest (PYSEC)."""
    if identifier.startswith("CVE-"):
        return f"https://nvd.nist.gov/vuln/detail/{identifier}"
    if identifier.startswith("GHSA-"):
        return f"https://github.com/advisories/{identifier}"
    return f"https://osv.dev/vulnerability/{identifier}"


def _day(value: Any) -> str | None:
    text = str(value or "")
    return text[:10] if re.match(r"^\d{4}-\d{2}-\d{2}", text) else None


def _record_name(iri: str) -> str:
    found = segment_and_slug(iri)
    return f"{found[0]}:{found[1]}" if found else _iri(iri)


@dataclass
class Advisory:
    """One fw:SecurityAdvisory as written: its id, path, affected records and what the entry states."""

    identifier: str
    path: str
    doc: dict[str, Any]
    affects: list[Project]
    affected: Affected
    latest: bool | None
    why: str | None = None  # why fw:affectsLatestRelease is not stated, where a latest release is known

    @property
    def iri(self) -> str:
        return ADVISORY_BASE + self.identifier.lower()

    @property
    def issued(self) -> str | None:
        return _day(self.doc.get("published"))

    @property
    def withdrawn(self) -> str | None:
        return _day(self.doc.get("withdrawn"))

    def turtle(self, database: Database) -> str:
        doc = self.doc
        aliases = sorted({str(a) for a in doc.get("aliases") or []} - {self.identifier})
        lines = [f"{_iri(self.iri)} a fw:SecurityAdvisory ;", f"    dcterms:identifier {_literal(self.identifier)} ;"]
        if aliases:
            lines.append("    skos:altLabel " + ", ".join(_literal(a) for a in aliases) + " ;")
        links = [see_also(i) for i in [self.identifier, *aliases]]
        lines.append("    rdfs:seeAlso " + ",\n        ".join(_iri(u) for u in dict.fromkeys(links)) + " ;")
        lines.append(f"    rdfs:label {_literal(label_of(doc))}@en ;")
        if self.issued:
            lines.append(f'    dcterms:issued "{self.issued}"^^xsd:date ;')
        if modified := _day(doc.get("modified")):
            lines.append(f'    dcterms:modified "{modified}"^^xsd:date ;')
        if self.withdrawn:
            lines.append(f'    fw:withdrawn "{self.withdrawn}"^^xsd:date ;')
        lines.append("    fw:affects " + ", ".join(_record_name(p.iri) for p in self.affects) + " ;")
        if self.affected.ranges:
            nodes = []
            for r in self.affected.ranges:
                parts = ["a fw:VersionRange", f"fw:introduced {_literal(r.introduced)}"]
                if r.fixed is not None:
                    parts.append(f"fw:fixed {_literal(r.fixed)}")
                if r.last_affected is not None:
                    parts.append(f"fw:lastAffected {_literal(r.last_affected)}")
                nodes.append("[ " + " ; ".join(parts) + " ]")
            lines.append("    fw:affectedRange " + ",\n        ".join(nodes) + " ;")
        if self.affected.fixed:
            lines.append("    fw:fixedIn " + ", ".join(_literal(v) for v in self.affected.fixed) + " ;")
        if self.affected.versions:
            lines.append("    fw:affectedVersion " + _wrap([_literal(v) for v in self.affected.versions]) + " ;")
        if self.latest is not None:
            lines.append(f"    fw:affectsLatestRelease {'true' if self.latest else 'false'} ;")
        if self.why:
            lines.append(f"    rdfs:comment {_literal(self.why)}@en ;")
        lines.append(f"    dcterms:source {_iri(database.blob_url(self.path))} .")
        return "\n".join(lines) + "\n"


def _wrap(items: list[str], width: int = 110) -> str:
    out, line = [], ""
    for item in items:
        if line and len(line) + len(item) + 2 > width:
            out.append(line + ",")
            line = ""
        line = f"{line}, {item}" if line else item
    return "\n        ".join([*out, line])


_PREFIXES = {
    "fw": str(FW._NS), "rdfs": "http://www.w3.org/2000/01/rdf-schema#", "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#", "dcterms": "http://purl.org/dc/terms/",
    "prov": "http://www.w3.org/ns/prov#", "schema": "https://schema.org/",
    **{name: kind.namespace for name, kind in RECORD_KINDS.items()},
}


def _prologue(names: Iterable[str]) -> str:
    return "".join(f"@prefix {n}: <{_PREFIXES[n]}> .\n" for n in names)


@dataclass
class Result:
    """What a run derives: file name -> Turtle (UTF-8), the advisories by file, and notes for the user; written
    (or checked) by :func:`fwgraph.publish.harvest.downloads.write` and ``stale``, as every harvest that owns a
    folder."""

    files: dict[str, bytes]
    advisories: dict[str, list[Advisory]]
    database: Database
    notes: list[str]


def derive(graph: Graph, database: Database, kinds: Iterable[str] = _KIND_ORDER) -> Result:
    """The advisory files for every record of ``kinds`` that states a PyPI distribution."""
    notes = list(database.notes)
    if not database.licence_ok:
        raise InputError(f"LICENSE at {database.commit} is not CC BY 4.0 ({LICENCE_TITLE!r}); check the terms "
                         "before taking its data", source=REPOSITORY)
    by_dist: dict[str, list[Project]] = {}
    for project in projects(graph, kinds):
        by_dist.setdefault(canonicalize_name(project.distribution), []).append(project)
    owners: dict[str, str] = {}
    advisories: dict[str, list[Advisory]] = {}
    for dist, members in by_dist.items():
        file = members[0].slug
        if owners.setdefault(file, dist) != dist:
            raise InputError(f"two distributions ({owners[file]}, {dist}) would share data/advisories/{file}.ttl")
        latest = {p.latest for p in members if p.latest is not None}
        if len(latest) > 1:
            raise InputError(f"records of {dist} disagree on the latest release ({sorted(latest)}): "
                             + ", ".join(p.iri for p in members))
        for path, doc in database.entries.items():
            entry_notes: list[str] = []
            affected = affected_for(doc, dist, entry_notes)
            if affected is None:
                continue
            notes += [f"{path}: {n}" for n in entry_notes]
            value, why = None, None
            if latest and not doc.get("withdrawn"):
                release = next(iter(latest))
                value = affects_version(affected, release)
                if value is None:
                    why = _no_verdict(affected, release)
                    notes.append(f"{path}: {why}")
                elif not value and _version(release) in {_version(v) for v in affected.listed}:
                    notes.append(f"{path}: its versions list names {release}, its ranges do not (ranges taken)")
            advisories.setdefault(file, []).append(Advisory(str(doc["id"]), path, doc, members, affected, value, why))
    files: dict[str, bytes] = {}
    for file, items in sorted(advisories.items()):
        items.sort(key=lambda a: (a.issued or "", a.identifier))
        ids = [a.identifier for a in items]
        if len(set(ids)) != len(ids):
            raise InputError(f"data/advisories/{file}.ttl: one OSV id in two files of the database")
        members = items[0].affects
        names = ", ".join(p.iri.removeprefix(BASE) for p in members)
        kinds_used = [k for k in _KIND_ORDER if any(p.kind == k for p in members)]
        head = (f"# Security advisories of {names} (PyPI: {members[0].distribution}) in the PyPA advisory "
                f"database at {database.commit[:12]}: written by `fwgraph advisories`, not by hand.\n")
        body = "\n".join(a.turtle(database) for a in items)
        files[f"{file}.ttl"] = (head + _prologue(["fw", "rdfs", "xsd", "skos", "dcterms", *kinds_used]) + "\n"
                                + body).encode("utf-8")
    files[SNAPSHOT_FILE] = snapshot_turtle(database, sum(len(v) for v in advisories.values())).encode("utf-8")
    return Result(files, advisories, database, notes)


def _no_verdict(affected: Affected, release: str) -> str:
    """The rdfs:comment of an advisory that cannot say whether the latest release ``release`` is affected."""
    if _version(release) is None:
        reason = f"the latest release {release} is not a PEP 440 version"
    elif affected.unreadable:
        reason = ("the entry's range events " + ", ".join(affected.unreadable)
                  + " are not PEP 440 versions, so those ranges are left out")
    else:
        reason = "the entry states neither ECOSYSTEM ranges nor a versions list for the package"
    return f"Whether the latest release {release} is affected is not stated: {reason}."


def snapshot_turtle(database: Database, count: int) -> str:
    commit, day = database.commit, database.day.isoformat()
    description = (f"Advisories for packages published on PyPI in the OSV format (vulns/<package>/<ID>.yaml), "
                   f"read at commit {commit} of pypa/advisory-database, the newest commit of its default branch "
                   f"in the snapshot read. fwgraph keeps the {count} entries that name the PyPI distribution of a "
                   f"framework, server or library record (data/advisories/).")
    return ("# The PyPA advisory database snapshot that data/advisories/ was written from: written by "
            "`fwgraph advisories`, not by hand.\n"
            + _prologue(["rdfs", "xsd", "dcterms", "prov", "schema"]) + "\n"
            f"{_iri(SNAPSHOT_IRI)} a prov:Entity ;\n"
            f"    rdfs:label \"PyPA advisory database at {commit[:12]}\" ;\n"
            f"    dcterms:title \"Python Packaging Advisory Database\"@en ;\n"
            f"    dcterms:description {_literal(description)}@en ;\n"
            f"    schema:url {_iri(REPOSITORY)} ;\n"
            f"    schema:version {_literal(commit)} ;\n"
            f"    dcterms:date \"{day}\"^^xsd:date ;\n"
            f"    dcterms:license {_iri(LICENCE)} ;\n"
            f"    prov:wasDerivedFrom {_iri(f'{REPOSITORY}/tree/{commit}')} ;\n"
            f"    dcterms:source {_iri(database.blob_url('LICENSE'))}, {_iri(database.blob_url('README.md'))} .\n")
