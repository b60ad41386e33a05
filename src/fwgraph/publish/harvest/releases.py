"""Releases from a repository's tags, each checked against the version its package declares at that tag.

A tag whose package declares another version is a mismatch (not counted as a release), unless the package
declares a placeholder (0.0.0, a .dev version) that the release build replaces with the tag; a final version
declared on the default branch that no tag carries is an untagged release. The release cadence and the
maintenance status derived from it follow the rule in STATUS_RULE.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from packaging.version import InvalidVersion, Version

from fwgraph.publish.harvest.metadata import read_project
from fwgraph.publish.harvest.project import Declared
from fwgraph.publish.harvest.repository import Repository, Snapshot, TagRef

#: A tag naming a version: an optional word prefix ("v", "release-", "flask-", "tg", "rel_"), then the version.
_TAG_VERSION = re.compile(r"^(?:[A-Za-z][A-Za-z0-9]*?(?:[-_.][A-Za-z][A-Za-z0-9]*?)*[-_/]?)?[vV]?(?P<v>\d[\w.+!-]*)$")
_UNDERSCORED = re.compile(r"\d+(?:_\d+)+")
_GENERIC_PREFIXES = {"", "v", "release", "rel", "version", "ver", "r"}

STATUS_RULE = ("active: a release in the last 365 days; slow: no release in the last 365 days but one in the "
               "last 730 days, or a commit on the default branch in the last 365 days; unmaintained: neither. "
               "Limited maintenance and archived are the maintainers' or the host's word and are never derived.")


@dataclass(frozen=True)
class Release:
    """A release: its version, the tag (None for an untagged release), commit, date and the check made."""

    version: str
    tag: str | None
    commit: str
    date: date
    declared: Declared | None
    status: str  # "matches", "from-tag", "placeholder", "unchecked", "mismatch" or "untagged"

    @property
    def parsed(self) -> Version:
        return Version(self.version)

    @property
    def final(self) -> bool:
        return not (self.parsed.is_prerelease or self.parsed.is_devrelease)


@dataclass
class Releases:
    """The releases found, the tags that did not hold, and the cadence."""

    releases: list[Release] = field(default_factory=list)  # tagged (checked) and untagged, oldest first
    tagged: list[Release] = field(default_factory=list)  # every tag that holds, one per version and commit
    mismatches: list[Release] = field(default_factory=list)
    other_tags: list[str] = field(default_factory=list)  # tags that name no version
    last_commit: date | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def first(self) -> Release | None:
        return min(self.releases, key=lambda r: (r.date, r.parsed), default=None)

    @property
    def latest(self) -> Release | None:
        """The highest final release (the highest pre-release when there is no final one).

        An untagged version is the latest only when it is higher than the latest tagged release and was
        declared after it: a branch that declared 2.0 in 2010 while 1.0.3 was tagged in 2018 never shipped 2.0.
        """
        def highest(releases: list[Release]) -> Release | None:
            finals = [r for r in releases if r.final]
            return max(finals or releases, key=lambda r: (r.parsed, r.date), default=None)

        tagged = highest([r for r in self.releases if r.tag is not None])
        untagged = highest([r for r in self.releases if r.tag is None])
        if tagged is None or (untagged is not None and untagged.final and untagged.parsed > tagged.parsed
                              and untagged.date > tagged.date):
            return untagged or tagged
        return tagged

    @property
    def newest(self) -> Release | None:
        return max(self.releases, key=lambda r: (r.date, r.parsed), default=None)

    def cadence(self, as_of: date) -> dict[str, int | None]:
        def within(days: int) -> int:
            return sum(1 for r in self.releases if as_of - timedelta(days=days) < r.date <= as_of)

        newest = self.newest
        return {"releases_last_12_months": within(365), "releases_last_24_months": within(730),
                "days_since_last_release": (as_of - newest.date).days if newest else None,
                "days_since_last_commit": (as_of - self.last_commit).days if self.last_commit else None}

    def status(self, as_of: date) -> str:
        """The maintenance status by STATUS_RULE."""
        return derive_status([r.date for r in self.releases], self.last_commit, as_of)


def tagged_releases(releases: Releases, excluded: frozenset[str] = frozenset()) -> list[Release]:
    """The releases a tag names (not untagged versions, not mismatched tags), minus the ``excluded`` tag names. A
    version tagged at two commits (a project renamed and restarting its versions) is there twice."""
    return [r for r in releases.tagged if r.tag is not None and r.tag not in excluded]


def derive_status(release_days: Iterable[date], last_commit: date | None, as_of: date) -> str:
    """The maintenance status by STATUS_RULE from the days of the releases and of the newest commit, as of a day."""
    days = [d for d in release_days if d <= as_of]
    if any(as_of - timedelta(days=365) < d for d in days):
        return "active"
    if any(as_of - timedelta(days=730) < d for d in days) or (
            last_commit is not None and (as_of - last_commit).days < 365):
        return "slow"
    return "unmaintained"


def status_span(releases: Iterable[tuple[date, date]], last_commit: date | None, as_of: date) -> set[str]:
    """Every status STATUS_RULE gives when each release may fall anywhere in its span (one status for exact days;
    two when a month-precise release straddles a window's edge)."""
    spans = list(releases)
    return {derive_status([s[0] for s in spans], last_commit, as_of),
            derive_status([s[1] for s in spans], last_commit, as_of)}


def tag_version(name: str) -> Version | None:
    """The version a tag names (``1.2.3``, ``v1.2.3``, ``release-1.2``, ``flask-2.0rc1``), else None."""
    parts = tag_parts(name)
    return parts[1] if parts else None


def tag_parts(name: str) -> tuple[str, Version] | None:
    """The tag's prefix (lower case, letters and digits only: "" for ``v1.0``) and the version it names."""
    match = _TAG_VERSION.match(name.strip()) if len(name) <= 200 else None
    if not match:
        return None
    text = match.group("v")
    if _UNDERSCORED.fullmatch(text):  # rel_1_4_54
        text = text.replace("_", ".")
    try:
        version = Version(text)
    except InvalidVersion:
        return None
    prefix = re.sub(r"[^a-z0-9]", "", name.strip()[:match.start("v")].lower().rstrip("v"))
    return ("" if prefix in _GENERIC_PREFIXES else prefix), version


def placeholder(version: Version | None) -> bool:
    """A version no release carries: 0, 0.0, 0.0.0 or a development version, stamped from the tag at build time."""
    return version is not None and (version.is_devrelease or not any(version.release))


def _parse(text: str | None) -> Version | None:
    if text is None:
        return None
    try:
        return Version(text)
    except InvalidVersion:
        return None


def find_releases(repo: Repository, head: str | None, name: str | None = None) -> Releases:
    """Check every version tag against the package, then walk the default branch for untagged versions.

    In a repository of several packages (tags ``v1.0`` and ``other-package-v2.0``), only the tags with no
    prefix or the project's own ``name`` as prefix are the project's.
    """
    found = Releases()
    tagged: dict[Version, Release] = {}
    every: dict[tuple[Version, str], Release] = {}
    named = [(tag, tag_parts(tag.name)) for tag in repo.tags()]
    own = {"", re.sub(r"[^a-z0-9]", "", (name or "").lower())}
    mine = {parts[0] for _, parts in named if parts} & own or {parts[0] for _, parts in named if parts}
    for tag, parts in named:
        if parts is None or parts[0] not in mine:
            found.other_tags.append(tag.name)
            continue
        version = parts[1]
        release = _check_tag(repo, tag, version)
        if release.status == "mismatch":
            found.mismatches.append(release)
            continue
        key = (version, release.commit)  # a version tagged again at another commit (a renamed project) is kept
        if key not in every or (every[key].date, every[key].tag or "") > (release.date, release.tag or ""):
            every[key] = release
        if version not in tagged or tagged[version].date > release.date:
            tagged[version] = release
    found.releases = sorted(tagged.values(), key=lambda r: (r.date, r.parsed))
    found.tagged = sorted(every.values(), key=lambda r: (r.date, r.parsed, r.tag or ""))
    if head is not None:
        found.last_commit = repo.commit_date(head)
        untagged = _untagged(repo, head, set(tagged))
        found.releases = sorted(found.releases + untagged, key=lambda r: (r.date, r.parsed))
    return found


def _check_tag(repo: Repository, tag: TagRef, version: Version) -> Release:
    declared = read_project(repo.snapshot(tag.commit)).version
    declared_version = _parse(declared.version) if declared else None
    if declared is None:
        status = "unchecked"
    elif declared.from_tag:
        status = "from-tag"
    elif declared_version == version:
        status = "matches"
    else:
        status = "placeholder" if placeholder(declared_version) and not placeholder(version) else "mismatch"
    return Release(str(version), tag.name, tag.commit, tag.date, declared, status)


def _untagged(repo: Repository, head: str, tagged: set[Version]) -> list[Release]:
    """Final versions declared on the default branch that no tag carries, each at the commit that first declared it."""
    first_seen: dict[Version, tuple[str, Declared]] = {}
    previous: tuple[dict[str, str | None], Declared | None] | None = None
    for sha in repo.first_parent_history(head):
        snap: Snapshot = repo.snapshot(sha)
        if previous is not None and all(snap.blob_id(p) == blob for p, blob in previous[0].items()):
            declared = previous[1]  # none of the files the version was read from changed
        else:
            snap = repo.snapshot(sha)
            declared = read_project(snap).version
            previous = (dict(snap.lookups), declared)
        version = _parse(declared.version) if declared and not declared.from_tag else None
        if declared is None or version is None or version.is_prerelease or placeholder(version) or version.local:
            continue
        first_seen[version] = (sha, declared)  # walking back: the last write is the oldest commit
    out = []
    for version, (sha, declared) in first_seen.items():
        if version not in tagged:
            out.append(Release(str(version), None, sha, repo.commit_date(sha), declared, "untagged"))
    return out
