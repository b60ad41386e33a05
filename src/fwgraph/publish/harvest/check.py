"""`fwgraph harvest --check`: compare curated records with what their repositories state now; never write a record.

A record is paired with a local repository by its GitHub address (schema:codeRepository). A fact the
record explains as missing (fw:missingFact) or keeps against the harvest (fw:curatorOverride) is the
curator's word and is kept, with its reason, not reported as stale.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, DOAP, RDF, RDFS, SDO, XSD

from fwgraph.core.errors import InputError
from fwgraph.core.namespace import BASE, FW, RECORD_KINDS, SPDX, bind_prefixes
from fwgraph.data.dates import day_span
from fwgraph.publish.harvest.catalogue import Catalogue
from fwgraph.publish.harvest.record import Harvest
from fwgraph.publish.harvest.releases import derive_status, tagged_releases
from fwgraph.publish.harvest.repository import Permalinks, github_base

#: Where a repository for github.com/OWNER/NAME may sit under --repos (the first that exists is taken).
REPO_LAYOUTS = ("{owner}+{name}/repo", "{owner}+{name}", "{owner}+{name}.git", "{owner}/{name}", "{name}",
                "{name}.git")
_STATUS = BASE + "status/"


@dataclass(frozen=True)
class Difference:
    """One fact on which a record and its repository differ (or the curator's override of it)."""

    fact: str
    prop: str  # the record's property (IRI)
    record: Any
    harvested: Any
    source: str  # permalink of the file stating the harvested value
    message: str
    missing: bool = False  # the record states nothing here: incomplete, not stale


@dataclass
class RecordCheck:
    """The outcome for one record: the repository used, the differences, the overrides kept, or why skipped."""

    iri: str
    file: str
    repository: str | None = None
    read_at: str | None = None
    differences: list[Difference] = field(default_factory=list)
    overrides: list[str] = field(default_factory=list)
    ahead: list[str] = field(default_factory=list)  # the record is past the snapshot (a release made after it)
    agreed: list[str] = field(default_factory=list)
    skipped: str | None = None
    error: str | None = None

    @property
    def stale(self) -> list[Difference]:
        return [d for d in self.differences if not d.missing]


@dataclass
class CheckReport:
    derived: date
    records: list[RecordCheck] = field(default_factory=list)

    @property
    def stale(self) -> bool:
        return any(r.stale for r in self.records)

    @property
    def unreadable(self) -> bool:
        return any(r.error for r in self.records)

    def to_text(self) -> str:
        lines = []
        for rec in self.records:
            short = rec.iri.replace(BASE, "")
            if rec.error:
                lines.append(f"{short} ({rec.file}): error: {rec.error}")
            elif rec.skipped:
                continue
            else:
                state = f"{len(rec.stale)} disagreement(s)" if rec.stale else "consistent"
                lines.append(f"{short} ({rec.file}) vs {rec.repository} at {rec.read_at}: {state}")
                lines += [f"  {d.fact}: {d.message}  [{d.source}]" for d in rec.stale]
                lines += [f"  not in the record: {d.fact}: {d.message}  [{d.source}]" for d in rec.differences
                          if d.missing]
                lines += [f"  kept (curator's override): {o}" for o in rec.overrides]
                lines += [f"  kept (newer than the repository snapshot): {a}" for a in rec.ahead]
                if rec.agreed:
                    lines.append("  agrees on: " + ", ".join(rec.agreed))
        skipped = [r for r in self.records if r.skipped]
        if skipped:
            lines.append(f"skipped {len(skipped)} record(s) with no repository here: "
                         + ", ".join(r.iri.replace(BASE, "") for r in skipped))
        checked = [r for r in self.records if not r.skipped and not r.error]
        lines.append(f"{len(checked)} record(s) checked, {sum(1 for r in checked if r.stale)} stale or "
                     f"disagreeing, {len(skipped)} skipped, {sum(1 for r in self.records if r.error)} unreadable.")
        return "\n".join(lines) + "\n"

    def to_json(self) -> str:
        def one(rec: RecordCheck) -> dict[str, Any]:
            return {"record": rec.iri, "file": rec.file, "repository": rec.repository, "read_at": rec.read_at,
                    "skipped": rec.skipped, "error": rec.error, "agreed": rec.agreed, "overrides": rec.overrides,
                    "ahead": rec.ahead,
                    "differences": [_diff_json(d) for d in rec.stale],
                    "not_in_record": [_diff_json(d) for d in rec.differences if d.missing]}

        return json.dumps({"derived": self.derived.isoformat(), "stale": self.stale,
                           "records": [one(r) for r in self.records]}, indent=2, ensure_ascii=False, default=str)

    def to_turtle(self) -> str:
        """Each difference as an fw:StaleFact: the record's statement (reified) with the harvested value."""
        g = bind_prefixes(Graph())
        day = Literal(self.derived.isoformat(), datatype=XSD.date)
        for rec in self.records:
            for diff in rec.stale:
                node = BNode()
                g.add((node, RDF.type, FW.StaleFact))
                g.add((node, RDF.subject, URIRef(rec.iri)))
                g.add((node, RDF.predicate, URIRef(diff.prop)))
                for value in _as_list(diff.record):
                    g.add((node, RDF.object, _term(value)))
                for value in _as_list(diff.harvested):
                    g.add((node, FW.harvestedValue, _term(value)))
                g.add((node, DCTERMS.source, URIRef(diff.source)))
                g.add((node, DCTERMS.date, day))
                g.add((node, RDFS.comment, Literal(f"{diff.fact}: {diff.message}", lang="en")))
        return g.serialize(format="turtle")


def _diff_json(d: Difference) -> dict[str, Any]:
    return {"fact": d.fact, "property": d.prop, "record": d.record, "harvested": d.harvested, "source": d.source,
            "message": d.message}


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return sorted(value, key=str) if isinstance(value, (list, set, frozenset, tuple)) else [value]


def _term(value: Any) -> URIRef | Literal:
    text = str(value)
    return URIRef(text) if text.startswith(("http://", "https://")) else Literal(value)


# --------------------------------------------------------------------------- the curated side


@dataclass(frozen=True)
class Override:
    """The curator's word on one property: why the harvested value is not taken, and for which values."""

    reason: str
    kept: bool  # fw:curatorOverride (the record's value stands), else fw:missingFact (the record leaves it open)
    values: frozenset[str] | None = None  # fw:harvestedValue: the harvests it answers (None: any)

    def answers(self, harvested: Any) -> bool:
        return self.values is None or self.values == _keys(harvested)


def _keys(values: Any) -> frozenset[str]:
    """Values compared as the check reports them: SPDX ids without their namespace, booleans as true/false."""
    return frozenset(str(v).removeprefix(str(SPDX)).lower() for v in _as_list(values))


@dataclass
class Curated:
    """The facts a record states that a harvest can check."""

    iri: str
    repository: str | None
    values: dict[str, Any]
    overrides: dict[str, Override]  # property IRI -> the curator's word


def curated(graph: Graph, iri: URIRef) -> Curated:
    def objects(p: URIRef) -> list[Any]:
        return list(graph.objects(iri, p))

    latest = next(iter(objects(FW.latestRelease)), None)
    values: dict[str, Any] = {
        "latest": (str(graph.value(latest, DOAP.revision) or ""), str(graph.value(latest, DOAP.created) or ""))
        if latest is not None else None,
        "first_year": str(next(iter(objects(FW.firstReleaseYear)), "")) or None,
        "licence": {str(o).removeprefix(str(SPDX)) for o in objects(DOAP.license)},
        "requires_python": str(next(iter(objects(FW.requiresPython)), "")) or None,
        "python_versions": {str(o) for o in objects(FW.pythonVersion)},
        "typed": next((o.toPython() for o in objects(FW.typed) if isinstance(o, Literal)), None),
        "native_core": {str(o) for o in objects(FW.nativeCore)},
        "homepage": {str(o) for o in objects(DOAP.homepage)},
        "documentation": {str(o) for o in objects(SDO.softwareHelp)},
        "tracker": {str(o) for o in objects(DOAP["bug-database"])},
        "status": next((str(o).removeprefix(_STATUS) for o in objects(FW.maintenanceStatus)), None),
        "distribution": str(next(iter(objects(FW.pypiDistribution)), "")) or None,
        "history": {(str(graph.value(r, DOAP.revision) or ""), str(graph.value(r, DOAP.created) or ""))
                    for r in objects(DOAP.release)},
        "history_excludes": frozenset(str(o) for o in objects(FW.releaseHistoryExcludes)),
    }
    overrides = {str(graph.value(node, FW.onProperty)): Override(str(graph.value(node, RDFS.comment) or ""), False)
                 for node in objects(FW.missingFact)}
    for node in objects(FW.curatorOverride):
        answered = list(graph.objects(node, FW.harvestedValue))
        overrides[str(graph.value(node, FW.onProperty))] = Override(
            str(graph.value(node, RDFS.comment) or ""), True, _keys(answered) if answered else None)
    repo = next((github_base(str(o)) for o in objects(SDO.codeRepository) if github_base(str(o))), None)
    return Curated(str(iri), repo, values, overrides)


# --------------------------------------------------------------------------- comparing


def _version(text: str | None) -> Version | None:
    try:
        return Version(text) if text else None
    except InvalidVersion:
        return None


def _url(text: str) -> str:
    """A URL compared loosely: no scheme, no www., no query or fragment, no trailing slash, lower case."""
    text = text.strip().lower().split("#")[0].split("?")[0]
    return text.removeprefix("http://").removeprefix("https://").removeprefix("www.").rstrip("/")


def _same_specifier(first: str | None, second: str | None) -> bool:
    try:
        return (SpecifierSet(first) if first else None) == (SpecifierSet(second) if second else None)
    except InvalidSpecifier:
        return (first or "").replace(" ", "") == (second or "").replace(" ", "")


def compare(record: Curated, harvest: Harvest, result: RecordCheck) -> None:
    """Fill ``result`` with every fact on which ``record`` and ``harvest`` differ (and those they agree on)."""
    facts, rel, values = harvest.facts, harvest.releases, record.values

    def judge(name: str, prop: URIRef, same: bool, rec_value: Any, got: Any, source: str, message: str) -> None:
        override = record.overrides.get(str(prop))
        if same:
            result.agreed.append(name)
        elif override is not None and override.answers(got):
            kept = "overridden: " if override.kept else ""
            result.overrides.append(f"{name}: {kept}{override.reason!r} (the repository states {got})")
        else:
            if override is not None:
                message += f"; the curator's override holds only for {', '.join(sorted(override.values or ()))}"
            absent = rec_value is None or rec_value == [] or rec_value == set()
            result.differences.append(Difference(name, str(prop), rec_value, got, source, message,
                                                 missing=absent and prop != FW.nativeCore))

    def listed(items: Any) -> str:
        return ", ".join(sorted(items)) or "none"

    latest = rel.latest
    ahead_day = None  # the last day the record's newer release may have been made, when it is past the snapshot
    if latest is not None:
        source = harvest.release_sources[f"{latest.version}@{latest.tag or latest.commit}"].url
        where = f"tag {latest.tag}" if latest.tag else f"untagged, commit {latest.commit[:12]}"
        revision, created = values["latest"] or (None, None)
        span = day_span(created) if created else None
        end = rel.last_commit or latest.date
        record_version = _version(revision)
        if (record_version is not None and record_version > latest.parsed and span is not None
                and span[1] > end and span[1] > latest.date):
            ahead_day = span
            result.ahead.append(f"latest release: the record's {revision} ({created}) is newer than the snapshot, "
                                f"whose latest release is {latest.version} ({where}, {latest.date}) and whose "
                                f"newest commit is from {end}")
        elif revision is None or record_version != latest.parsed:
            judge("latest release", FW.latestRelease, False, revision, latest.version, source,
                  f"the record says {revision or 'nothing'} ({created or 'no date'}); the repository's latest "
                  f"release is {latest.version} ({where}, {latest.date})")
        else:
            same = not created or (span is not None and span[0] <= latest.date <= span[1])
            judge("latest release", FW.latestRelease, same, created,
                  latest.date.isoformat(), source,
                  f"the record dates {revision} {created}; the repository dates it {latest.date} ({where})")
    if values["history"]:
        dated = {(r.version, r.date.isoformat()) for r in tagged_releases(harvest.releases, values["history_excludes"])}
        recorded = values["history"]
        extra, lacking = sorted(recorded - dated), sorted(dated - recorded)
        if not extra and not lacking:
            result.agreed.append("release history")
        else:
            listed_ = extra or lacking
            result.differences.append(Difference(
                "release history", str(DOAP.release), sorted(recorded), sorted(dated),
                Permalinks(harvest.url).tree(harvest.head or "").url,
                (f"the history lists {len(extra)} release(s) the repository does not date so: " if extra else
                 f"the repository has {len(lacking)} tagged release(s) the history lacks: ")
                + ", ".join(f"{v} ({d})" for v, d in listed_[:5]) + "; run `fwgraph harvest --releases`",
                missing=not extra))
    first = rel.first
    if first is not None and values["first_year"]:
        judge("first release", FW.firstReleaseYear, values["first_year"] == str(first.date.year),
              values["first_year"], str(first.date.year),
              harvest.release_sources[f"{first.version}@{first.tag or first.commit}"].url,
              f"the record says {values['first_year']}; the repository's first release is {first.version} "
              f"({first.date})")
    if "licence" in facts:
        got = sorted(facts["licence"].value)
        judge("licence", DOAP.license, set(got) == values["licence"], sorted(values["licence"]), got,
              facts["licence"].source.url,
              f"the record says {listed(values['licence'])}; the repository states {listed(got)}")
    if "requires_python" in facts:
        got_text = facts["requires_python"].value
        judge("requires-python", FW.requiresPython, _same_specifier(values["requires_python"], got_text),
              values["requires_python"], got_text, facts["requires_python"].source.url,
              f"the record says {values['requires_python'] or 'nothing'}; the repository states {got_text}")
    if "python_versions" in facts:
        got = sorted(facts["python_versions"].value)
        judge("Python versions", FW.pythonVersion, set(got) == values["python_versions"],
              sorted(values["python_versions"]), got, facts["python_versions"].source.url,
              f"the record lists {listed(values['python_versions'])}; the classifiers list {listed(got)}")
    if "typed" in facts and (values["typed"] is not None or facts["typed"].value):
        judge("typed", FW.typed, values["typed"] == facts["typed"].value, values["typed"], facts["typed"].value,
              facts["typed"].source.url, f"the record says {values['typed']}; py.typed is "
              f"{'present' if facts['typed'].value else 'absent'}")
    got_native = sorted(facts["native_core"].value) if "native_core" in facts else []
    if got_native or values["native_core"]:
        judge("native core", FW.nativeCore, set(got_native) == values["native_core"], sorted(values["native_core"]),
              got_native, facts["native_core"].source.url if got_native
              else Permalinks(harvest.url).tree(harvest.read_at or "").url,
              f"the record says {listed(values['native_core'])}; the build shows {listed(got_native)}")
    for kind, prop, label in (("homepage", DOAP.homepage, "homepage"), ("documentation", SDO.softwareHelp,
                              "documentation"), ("tracker", DOAP["bug-database"], "issue tracker")):
        got_url = facts[kind].value if kind in facts else None
        if got_url is None or (kind == "homepage" and record.repository
                               and _url(got_url) == _url(record.repository)):
            continue  # nothing stated, or a homepage that is the repository while the record names the site
        judge(label, prop, _url(got_url) in {_url(u) for u in values[kind]}, sorted(values[kind]), got_url,
              facts[kind].source.url, f"the record says {listed(values[kind])}; the metadata says {got_url}")
    if "distribution" in facts and values["distribution"]:
        got_name = facts["distribution"].value
        same = canonicalize_name(values["distribution"]) == canonicalize_name(got_name)
        judge("PyPI name", FW.pypiDistribution, same, values["distribution"], got_name,
              facts["distribution"].source.url,
              f"the record says {values['distribution']}; the metadata names {got_name}")
    _compare_status(values["status"], harvest, judge, ahead_day)


def _compare_status(recorded: str | None, harvest: Harvest, judge: Callable[..., None],
                    ahead: tuple[date, date] | None = None) -> None:
    """Derived statuses are active, slow or unmaintained; limited maintenance is never contradicted, and
    archived only by a release in the last year. A record's release newer than the snapshot (``ahead``: the
    first and last day it may be from) counts as a release too; made in a month that straddles a window's
    edge, either status it gives agrees."""
    if "status" not in harvest.facts or recorded is None or recorded == "limited-maintenance":
        return
    derived = harvest.facts["status"].value
    possible = {derived}
    if ahead is not None:
        days = [r.date for r in harvest.releases.releases]
        possible = {derive_status([*days, day], harvest.releases.last_commit, harvest.derived) for day in ahead}
        derived = sorted(possible)[0] if recorded not in possible else recorded
    same = "active" not in possible if recorded == "archived" else recorded in possible
    cadence = harvest.releases.cadence(harvest.derived)
    judge("maintenance status", FW.maintenanceStatus, same, _STATUS + recorded, _STATUS + derived,
          harvest.facts["status"].source.url,
          f"the record says {recorded}; the rule gives {derived} ({cadence['releases_last_12_months']} "
          f"release(s) in 12 months, {cadence['releases_last_24_months']} in 24, last "
          f"{cadence['days_since_last_release']} day(s) ago, last commit {cadence['days_since_last_commit']} "
          "day(s) ago)")


# --------------------------------------------------------------------------- running


def release_history_files(record: Path) -> list[Path]:
    """The release-history files of a record file data/<kind>/<slug>.ttl: data/releases/<slug>.ttl and, for a
    server or library that shares its slug with a framework, data/releases/<kind>-<slug>.ttl (those that exist)."""
    record = Path(record)
    if record.parent.name == "releases":
        return []
    folder = record.parent.parent / "releases"
    kind = next((k.name for k in RECORD_KINDS.values() if k.folder == record.parent.name and k.name != "framework"),
                None)
    names = [record.name] + ([f"{kind}-{record.name}"] if kind else [])
    return [folder / n for n in names if (folder / n).is_file()]


def find_repository(repos: Path, github: str) -> Path | None:
    """The folder under ``repos`` that holds the repository at ``github`` (the first of REPO_LAYOUTS there); None
    when there is none, or when the address names no GitHub repository (never a folder outside ``repos``)."""
    base = github_base(github)
    if base is None:
        return None
    owner, name = base.rsplit("/", 2)[-2:]
    for layout in REPO_LAYOUTS:
        relative = layout.format(owner=owner, name=name)
        if any(part in ("", ".", "..") for part in relative.split("/")):
            continue  # github_base allows none of these; the mapping stays inside ``repos`` whatever it is given
        candidate = repos / relative
        if candidate.is_dir():
            return candidate
    return None


def check(record_graphs: list[tuple[str, Graph]], repos: Path, as_of: date,
          run: Callable[..., Harvest]) -> CheckReport:
    """Check every record in ``record_graphs`` (file name, parsed graph) against its repository under ``repos``.

    ``run(path, repo_url=..., slug=..., as_of=..., catalogue=...)`` performs one harvest (the CLI passes one
    that runs in a bounded child process). Nothing is written.
    """
    report = CheckReport(as_of)
    catalogues = [(file, graph, Catalogue.from_graph(graph)) for file, graph in record_graphs]
    histories: dict[str, list[Graph]] = {}  # files describing no project (data/releases), by the subjects they add to
    for _, graph, catalogue in catalogues:
        if not catalogue.entries:
            for subject in set(graph.subjects(DOAP.release, None)):
                histories.setdefault(str(subject), []).append(graph)
    for file, graph, catalogue in catalogues:
        for iri in sorted(catalogue.entries):
            if iri not in {r.iri for r in report.records}:
                record = graph
                if iri in histories:
                    record = Graph()
                    for part in (graph, *histories[iri]):
                        for triple in part:
                            record.add(triple)
                report.records.append(_check_one(record, URIRef(iri), file, repos, as_of, run, catalogue))
    return report


def _check_one(graph: Graph, subject: URIRef, file: str, repos: Path, as_of: date, run: Callable[..., Harvest],
               catalogue: Catalogue) -> RecordCheck:
    record = curated(graph, subject)
    result = RecordCheck(str(subject), file)
    if record.repository is None:
        result.skipped = "the record names no GitHub repository"
        return result
    path = find_repository(repos, record.repository)
    if path is None:
        result.skipped = f"no repository for {record.repository} under {repos}"
        return result
    result.repository = str(path)
    try:
        harvest = run(path, repo_url=record.repository, slug=str(subject).rsplit("/", 1)[-1], as_of=as_of,
                      catalogue=catalogue)
    except InputError as exc:
        result.error = str(exc)
        return result
    result.read_at = f"{harvest.read_at_label} ({(harvest.read_at or '')[:12]})"
    compare(record, harvest, result)
    return result
