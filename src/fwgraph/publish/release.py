"""Cutting a release: the frozen distribution kept in ``releases/<version>/``, its notes with the data diff against
the release before, and the CHANGELOG section for it (Keep a Changelog: "Unreleased" becomes the release).
"""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from fwgraph.core.errors import InputError
from fwgraph.core.namespace import BASE
from fwgraph.data.graph import Sources
from fwgraph.publish.build import build
from fwgraph.publish.diff import GraphDiff, diff_triples, read_triples
from fwgraph.publish.dist import NOTES_FILE, RELEASE_FILES, RELEASES_DIR, shipped_releases, version_key

CHANGELOG = "CHANGELOG.md"
_UNRELEASED = re.compile(r"^## \[Unreleased\][^\n]*\n", re.MULTILINE)
_NEXT_RELEASE = re.compile(r"^## \[", re.MULTILINE)


@dataclass(frozen=True)
class ReleaseResult:
    """A release just cut: where it was written, its date, and the diff against the release before (if any)."""

    version: str
    path: Path
    issued: str
    prior: str | None
    diff: GraphDiff | None
    notes: str
    changelog: Path | None


def cut_release(version: str, root: Path | str | None = None, *, issued: str | None = None,
                changelog: bool = True) -> ReleaseResult:
    """Build the sources as release ``version`` and keep it in ``<root>/releases/<version>/`` with its notes.

    The version must be MAJOR.MINOR.PATCH above every shipped release (releases are never replaced). The notes
    hold the CHANGELOG's Unreleased entries and the data diff against the release before; with ``changelog``,
    ``CHANGELOG.md`` beside the sources gets the release's section. Raises InputError or BuildError; on any
    error nothing is written.
    """
    version_key(version)
    src = Sources.at(root)
    releases_dir = src.root / RELEASES_DIR
    target = releases_dir / version
    if target.exists():
        raise InputError(f"release {version} exists already ({target}); releases are never replaced", source=version)
    shipped = shipped_releases(releases_dir)
    prior = shipped[-1] if shipped else None
    log_path = src.root / CHANGELOG
    log_text = log_path.read_text(encoding="utf-8") if changelog and log_path.is_file() else None
    with tempfile.TemporaryDirectory(prefix="fwgraph-release-") as tmp:
        result = build(Path(tmp) / "dist", root=src.root, version=version, issued=issued)
        issued = result.version.issued or ""
        diff = diff_triples(read_triples(prior.path), read_triples(result.out), f"release {prior.version}",
                            f"release {version}") if prior else None
        notes = release_notes(version, issued, result.triples, prior.version if prior else None, diff,
                              unreleased_entries(log_text) if log_text else "")
        releases_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{version}-", dir=releases_dir))
        staging.chmod(0o755)  # mkdtemp makes it private; a release is public
        try:
            for name in RELEASE_FILES:
                if name != NOTES_FILE:
                    shutil.copyfile(result.out / name, staging / name)
            (staging / NOTES_FILE).write_text(notes, encoding="utf-8")
            staging.rename(target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    written_log = None
    if log_text is not None:
        log_path.write_text(changelog_with_release(log_text, version, issued, diff), encoding="utf-8")
        written_log = log_path
    return ReleaseResult(version=version, path=target, issued=issued, prior=prior.version if prior else None,
                         diff=diff, notes=notes, changelog=written_log)


def unreleased_entries(changelog: str) -> str:
    """The body of the CHANGELOG's Unreleased section ("" when there is none)."""
    match = _UNRELEASED.search(changelog)
    if match is None:
        return ""
    rest = changelog[match.end():]
    following = _NEXT_RELEASE.search(rest)
    return (rest[: following.start()] if following else rest).strip()


def changelog_with_release(changelog: str, version: str, issued: str, diff: GraphDiff | None) -> str:
    """The CHANGELOG with its Unreleased entries moved under ``## [version] - issued`` and a data summary added."""
    data = (f"### Data\n- Compared with the release before: {diff.summary()}. The per-resource diff is in "
            f"`releases/{version}/{NOTES_FILE}`.\n" if diff is not None else
            f"### Data\n- The first release of the data (`releases/{version}/`).\n")
    section = f"## [Unreleased]\n\n## [{version}] - {issued}\n\n"
    match = _UNRELEASED.search(changelog)
    if match is None:  # no Unreleased section: the release goes above the first release (or at the end)
        first = _NEXT_RELEASE.search(changelog)
        at = first.start() if first else len(changelog)
        return changelog[:at] + section + data + "\n" + changelog[at:]
    rest = changelog[match.end():]
    following = _NEXT_RELEASE.search(rest)
    body_end = match.end() + (following.start() if following else len(rest))
    body = changelog[match.end():body_end].strip()
    return (changelog[: match.start()] + section + (body + "\n\n" if body else "") + data + "\n"
            + changelog[body_end:])


def release_notes(version: str, issued: str, triples: int, prior: str | None, diff: GraphDiff | None,
                  entries: str) -> str:
    """The release's NOTES.md: its IRIs, what changed (CHANGELOG entries) and the data diff."""
    lines = [
        f"# fwgraph {version} ({issued})",
        "",
        f"Release {version} of the fwgraph dataset: {triples} triples. It is kept unchanged for good.",
        "",
        f"- Dataset: <{BASE}dataset/{version}>" + (f" (previous version: <{BASE}dataset/{prior}>)" if prior else ""),
        f"- Vocabulary: <{BASE}ns/{version}>; shapes: <{BASE}shapes/{version}>",
        f"- Files: <{BASE}download/{version}/> (Turtle, N-Triples, JSON-LD, gzip copies, VoID with checksums)",
        "",
        "## What changed",
        "",
        entries or "No entries in the CHANGELOG.",
        "",
    ]
    if diff is not None:
        lines.append(diff.to_markdown())
    else:
        lines += ["## Data", "", "The first release: no release before it to compare with.", ""]
    return "\n".join(lines).rstrip() + "\n"


__all__ = ["ReleaseResult", "changelog_with_release", "cut_release", "release_notes", "unreleased_entries"]
