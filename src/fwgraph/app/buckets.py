"""Token buckets shared by every web process of one server: a fixed table in a memory-mapped file, changed under
a file lock, so a client's burst is the configured burst whichever process its requests reach.

``fwgraph serve`` makes the file (:func:`make_table`) before Granian starts its processes and names it in the
``LIMITS_FILE`` setting; each process maps it (:class:`Buckets`). Without a file (an app made in-process, as the
tests' Flask fixtures do) the table is anonymous memory: one process, the same code.

The table is open addressing over ``SLOTS`` records of (key digest, tokens, last refill). A key is looked up in
at most ``PROBES`` consecutive records; when all are taken by other keys, the one refilled longest ago is
reused (its client starts again from a full bucket, as it would after being idle), so the table's size is fixed
whatever the number of clients.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import struct
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # no file locks: one process only (Granian shares no port there either)
    fcntl = None  # type: ignore[assignment]

_RECORD = struct.Struct("<Qdd")  # key digest (0: free), tokens, last refill (time.monotonic, shared by processes)
SLOTS = 16384
PROBES = 16
SIZE = SLOTS * _RECORD.size


def make_table(path: Path | str) -> Path:
    """A new, empty table at ``path`` (readable and writable by this user only)."""
    path = Path(path)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.ftruncate(fd, SIZE)
    finally:
        os.close(fd)
    return path


def _digest(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "little") or 1


class Buckets:
    """Token buckets by key: :meth:`take` takes one token from each of several buckets, or none."""

    def __init__(self, path: Path | str | None = None) -> None:
        self._threads = threading.Lock()
        self._fd: int | None = None
        if path is None:
            self._map = mmap.mmap(-1, SIZE)
        else:
            self._fd = os.open(path, os.O_RDWR)
            os.set_inheritable(self._fd, False)
            self._map = mmap.mmap(self._fd, SIZE)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with self._threads:
            if self._fd is not None and fcntl is not None:
                fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                if self._fd is not None and fcntl is not None:
                    fcntl.flock(self._fd, fcntl.LOCK_UN)

    def _slot(self, digest: int, chosen: set[int]) -> tuple[int, bool]:
        """The record offset for ``digest`` and whether it holds that key already (else: free or oldest),
        never one of ``chosen`` (the offsets other keys of the same :meth:`take` are about to write)."""
        start = digest % SLOTS
        oldest, oldest_at = -1, float("inf")
        for i in range(PROBES):
            offset = ((start + i) % SLOTS) * _RECORD.size
            if offset in chosen:
                continue
            key, _, last = _RECORD.unpack_from(self._map, offset)
            if key == digest:
                return offset, True
            if key == 0:
                return offset, False
            if last < oldest_at:
                oldest, oldest_at = offset, last
        return oldest, False

    def take(self, buckets: Sequence[tuple[str, float, float]], now: float | None = None) -> float:
        """For each (key, burst, rate per second): refill, and take one token from every bucket when each has
        one. Returns 0 when taken, else the seconds until every bucket will have one (nothing taken)."""
        now = time.monotonic() if now is None else now
        with self._locked():
            found: list[tuple[int, int, float, float]] = []
            for key, burst, rate in buckets:
                digest = _digest(key)
                offset, known = self._slot(digest, {f[0] for f in found})
                tokens, last = _RECORD.unpack_from(self._map, offset)[1:] if known else (burst, now)
                tokens = min(burst, tokens + max(0.0, now - last) * rate)
                found.append((offset, digest, tokens, rate))
            allowed = all(tokens >= 1.0 for _, _, tokens, _ in found)
            wait = 0.0
            for offset, digest, tokens, rate in found:
                if allowed:
                    tokens -= 1.0
                elif tokens < 1.0:
                    wait = max(wait, (1.0 - tokens) / rate if rate > 0 else 60.0)
                _RECORD.pack_into(self._map, offset, digest, tokens, now)
            return wait
