"""Read a local git repository (work tree or bare mirror) with dulwich, within bounds, and cite what was read.

Nothing here touches the network or runs code from the repository: objects are read from the object
store, files are returned as bytes, and every walk (tags, history, trees) stops at a stated limit.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from dulwich.errors import NotGitRepository
from dulwich.object_store import tree_lookup_path
from dulwich.objects import Blob, Commit, ObjectID, ShaFile, Tag, Tree
from dulwich.refs import Ref
from dulwich.repo import Repo

from fwgraph.core.errors import InputError
from fwgraph.publish.harvest.objects import Oversized, read_object

_GITLINK = 0o160000
_GITHUB = re.compile(r"^(?:https?://|git://|ssh://git@|git@)github\.com[:/]([A-Za-z0-9][\w.-]*)/([\w.-]+?)(?:\.git)?/?$")


@dataclass(frozen=True)
class Limits:
    """How much of a repository one harvest may read; past a limit the harvest notes what it left out."""

    tags: int = 5000  # release tags examined
    commits: int = 20000  # commits of the default branch walked for untagged releases
    blob_bytes: int = 1 << 20  # largest metadata or source file read (1 MiB)
    licence_bytes: int = 64 << 10  # largest licence text matched (64 KiB; the GPL is 35 KiB)
    tree_entries: int = 50000  # files listed when looking for py.typed, native sources, licence files
    object_bytes: int = 16 << 20  # largest tree, commit, tag or delta base read (16 MiB; checked before inflating)


def github_base(url: str | None) -> str | None:
    """``https://github.com/OWNER/NAME`` for a GitHub remote URL in any of its spellings, else None.

    A name of dots only (``.``, ``..``; ``...git`` is ``..`` with ``.git``) or ``.git`` is no repository GitHub
    allows, and as a folder it is the folder itself, its parent or its git directory: ``harvest --check``
    harvested the folder above --repos.
    """
    if not url:
        return None
    match = _GITHUB.match(url.strip())
    if match is None or not match.group(2).strip(".") or match.group(2).lower() == ".git":
        return None
    return f"https://github.com/{match.group(1)}/{match.group(2)}"


@dataclass(frozen=True)
class Source:
    """Where a fact was read: a file (or the tree, path "") at a commit, with its permalink."""

    commit: str
    path: str
    url: str


@dataclass
class Permalinks:
    """Builds permalinks: GitHub blob/tree URLs when the repository's GitHub address is known, else ``git:``."""

    base: str | None = None

    def file(self, commit: str, path: str) -> Source:
        if self.base:
            return Source(commit, path, f"{self.base}/blob/{commit}/{path}")
        return Source(commit, path, f"git:{commit}:{path}")

    def tree(self, commit: str, path: str = "") -> Source:
        if self.base:
            suffix = f"/{path}" if path else ""
            return Source(commit, path, f"{self.base}/tree/{commit}{suffix}")
        return Source(commit, path, f"git:{commit}:{path}")


@dataclass(frozen=True)
class TagRef:
    """A tag, peeled to its commit, with the date it was made (tagger date, else the commit's)."""

    name: str
    commit: str
    date: date


class TooLarge(Exception):
    """A file is larger than the harvest reads."""


class Snapshot:
    """The files of one commit. Records every path looked up (and the object it found) for caching."""

    def __init__(self, repo: Repository, commit: str) -> None:
        self.repo = repo
        self.commit = commit
        obj = repo.object(commit)
        if not isinstance(obj, Commit):
            raise InputError(f"{commit} is not a commit", source=str(repo.path))
        self.tree_id = obj.tree
        self.lookups: dict[str, str | None] = {}

    def blob_id(self, path: str) -> str | None:
        """The blob id of ``path`` at this commit, or None when there is no such file."""
        if path in self.lookups:
            return self.lookups[path]
        found: str | None = None
        try:
            mode, sha = tree_lookup_path(self.repo.object, self.tree_id, path.encode())
            if mode != _GITLINK and not (mode & 0o040000):
                found = sha.decode()
        except (KeyError, NotADirectoryError, ValueError):
            found = None
        self.lookups[path] = found
        return found

    def exists(self, path: str) -> bool:
        return self.blob_id(path) is not None

    def read(self, path: str, limit: int | None = None) -> bytes | None:
        """The bytes of ``path``, None when absent; TooLarge when over ``limit`` (default: the blob limit)."""
        sha = self.blob_id(path)
        if sha is None:
            return None
        try:  # the size the blob declares is checked before it is inflated (a zlib bomb stops here)
            blob = self.repo.object(sha, limit or self.repo.limits.blob_bytes)
        except Oversized as exc:
            what = f"is stored against a {exc.size}-byte object" if exc.base else f"is {exc.size} bytes"
            raise TooLarge(f"{path} at {self.commit[:12]} {what}, more than the harvest reads") from None
        return blob.as_raw_string() if isinstance(blob, Blob) else None

    def text(self, path: str, limit: int | None = None) -> str | None:
        data = self.read(path, limit)
        return None if data is None else data.decode("utf-8", errors="replace")

    def listdir(self, path: str = "") -> list[tuple[str, bool]]:
        """Entries (name, is_directory) of a directory at this commit; [] when it is absent."""
        tree_id = self.tree_id
        if path:
            try:
                mode, tree_id = tree_lookup_path(self.repo.object, self.tree_id, path.encode())
            except (KeyError, NotADirectoryError, ValueError):
                return []
            if not mode & 0o040000:
                return []
        tree = self.repo.object(tree_id)
        if not isinstance(tree, Tree):
            return []
        return [(entry.path.decode("utf-8", "replace"), bool(entry.mode & 0o040000) and entry.mode != _GITLINK)
                for entry in tree.iteritems()]

    def walk(self) -> tuple[list[str], bool]:
        """Every file path at this commit (breadth first), at most the tree-entry limit; and whether it was cut."""
        limit = self.repo.limits.tree_entries
        paths: list[str] = []
        queue: deque[tuple[str, bytes]] = deque([("", self.tree_id)])
        seen = 0
        while queue:
            prefix, tree_id = queue.popleft()
            tree = self.repo.object(tree_id)
            if not isinstance(tree, Tree):
                continue
            for entry in tree.iteritems():
                seen += 1
                if seen > limit:
                    return paths, True
                name = prefix + entry.path.decode("utf-8", "replace")
                if entry.mode == _GITLINK:
                    continue
                if entry.mode & 0o040000:
                    queue.append((name + "/", entry.sha))
                else:
                    paths.append(name)
        return paths, False


def _local_date(seconds: int, offset: int) -> date:
    return datetime.fromtimestamp(seconds, timezone(timedelta(seconds=offset))).date()


@dataclass
class Repository:
    """A local git repository opened read-only with dulwich."""

    path: Path
    limits: Limits = field(default_factory=Limits)
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        try:
            self._repo = Repo(str(self.path))
        except (NotGitRepository, OSError, ValueError) as exc:
            raise InputError(f"not a git repository ({exc})", source=str(self.path)) from None
        self._cache: dict[bytes, ShaFile] = {}

    def close(self) -> None:
        self._repo.close()

    def __enter__(self) -> Repository:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def object(self, sha: str | bytes, limit: int | None = None) -> ShaFile:
        """Object ``sha``, read within bounds (:func:`fwgraph.publish.harvest.objects.read_object`): Oversized past
        ``limit`` bytes when given (a file: the caller notes it); without, any object past the object limit
        makes the repository unreadable (InputError), as a corrupt object does."""
        key = sha.encode() if isinstance(sha, str) else sha
        if len(key) in (20, 32):  # a binary id
            key = key.hex().encode("ascii")
        obj = self._cache.get(key)
        if obj is None:
            try:
                obj = read_object(self._repo, ObjectID(key), limit or self.limits.object_bytes,
                                  self.limits.object_bytes)
            except Oversized as exc:
                if limit is not None:
                    raise
                raise InputError(f"git object {key.decode('ascii')} declares {exc.size} bytes, more than the "
                                 f"harvest reads ({self.limits.object_bytes})", source=str(self.path)) from None
            if not isinstance(obj, Blob):  # trees and commits are small and revisited; blobs are read once
                if len(self._cache) > 100000:
                    self._cache.clear()
                self._cache[key] = obj
        return obj

    def head(self) -> str | None:
        """The commit the default branch (HEAD) points at; None for an empty repository."""
        try:
            return self._repo.head().decode()
        except KeyError:
            return None

    def remote_url(self) -> str | None:
        """The URL of the ``origin`` remote, else of the first remote configured, else None."""
        config = self._repo.get_config()
        urls: list[str] = []
        for section in config.sections():
            if len(section) == 2 and section[0] == b"remote":
                try:
                    url = config.get(section, b"url").decode()
                except KeyError:
                    continue
                if section[1] == b"origin":
                    return url
                urls.append(url)
        return urls[0] if urls else None

    def commit_date(self, sha: str) -> date:
        commit = self.object(sha)
        assert isinstance(commit, Commit)
        return _local_date(commit.commit_time, commit.commit_timezone)

    def tags(self) -> list[TagRef]:
        """Every tag that leads to a commit, with its date; at most the tag limit (the newest by date kept)."""
        refs = self._repo.refs.as_dict(Ref(b"refs/tags"))
        out: list[TagRef] = []
        for name, sha in refs.items():
            obj = self.object(sha)
            when: date | None = None
            for _ in range(10):  # a tag of a tag of ...: peel a few levels, no more
                if not isinstance(obj, Tag):
                    break
                if when is None:
                    when = _local_date(obj.tag_time, obj.tag_timezone)
                obj = self.object(obj.object[1])
            if not isinstance(obj, Commit):
                continue
            out.append(TagRef(name.decode("utf-8", "replace"), obj.id.decode(),
                              when or _local_date(obj.commit_time, obj.commit_timezone)))
        out.sort(key=lambda t: (t.date, t.name))
        if len(out) > self.limits.tags:
            self.notes.append(f"{len(out)} tags; only the newest {self.limits.tags} were examined")
            out = out[-self.limits.tags:]
        return out

    def first_parent_history(self, start: str) -> Iterator[str]:
        """Commits from ``start`` back along first parents (the default branch's own line), oldest last."""
        sha: str | None = start
        for count in range(self.limits.commits):
            if sha is None:
                return
            yield sha
            commit = self.object(sha)
            if not isinstance(commit, Commit):
                return
            sha = commit.parents[0].decode() if commit.parents else None
            if count + 1 == self.limits.commits and sha is not None:
                self.notes.append(f"history walked for untagged releases stops after {self.limits.commits} commits")

    def snapshot(self, commit: str) -> Snapshot:
        return Snapshot(self, commit)
