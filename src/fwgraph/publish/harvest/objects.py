"""Git objects read within a size bound: the size an object declares is checked before it is inflated, and
inflating stops at that size, so a zlib bomb costs the header it states, not what it would inflate to.

A loose object (``objects/xx/…``) is inflated here, a chunk at a time; an object in a pack is checked by its
entry's header (and a delta's by the target size at the start of the delta, and its bases likewise) before
dulwich reads it, which inflates each entry no further than the size its header states.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from dulwich.errors import ChecksumMismatch
from dulwich.objects import ObjectID, ShaFile, object_class
from dulwich.pack import Pack
from dulwich.repo import Repo

from fwgraph.core.errors import InputError

#: The longest loose-object header (``commit 123…\0``) read before giving up on an object as corrupt.
_HEADER_BYTES = 64
_CHUNK = 64 << 10
_OFS_DELTA, _REF_DELTA = 6, 7
#: Pack entries followed along a delta chain at most (git's own default depth is 50).
_CHAIN = 100
#: 256-byte reads of a delta's zlib data at most to reach its two sizes (a Huffman table is far smaller).
_DELTA_HEAD_READS = 16


class Oversized(Exception):
    """An object declares more bytes than the reader allows (``base``: a delta base it is stored against does);
    nothing of it was inflated."""

    def __init__(self, size: int, base: bool = False) -> None:
        self.size = size
        self.base = base
        super().__init__(f"{size} bytes")


def read_object(repo: Repo, sha: ObjectID, limit: int, base_limit: int) -> ShaFile:
    """Object ``sha`` (hex) of ``repo``: Oversized when it declares more than ``limit`` bytes (or a delta base it
    is stored against more than ``base_limit``), InputError when it is corrupt (inflates past the size it
    declares, is cut short, or does not match its name). Nothing is inflated before its size is checked."""
    loose = Path(repo.object_store.path) / sha[:2].decode("ascii") / sha[2:].decode("ascii")
    if loose.is_file():
        return _read_loose(loose, sha, limit)
    for pack in repo.object_store.packs:
        if sha in pack:
            _check_packed(pack, sha, limit, base_limit)
            break
    return repo[sha]


def _corrupt(path: Path | str, sha: bytes, what: str) -> InputError:
    return InputError(f"git object {sha.decode('ascii')} {what}: a corrupt object (or a zlib bomb)",
                      source=str(path))


def _read_loose(path: Path, sha: ObjectID, limit: int) -> ShaFile:
    inflater = zlib.decompressobj()
    with path.open("rb") as fh:
        try:
            head = b""
            while b"\0" not in head:
                chunk = inflater.unconsumed_tail or fh.read(_CHUNK)
                if not chunk or len(head) >= _HEADER_BYTES:
                    raise _corrupt(path, sha, "has no valid header")
                head += inflater.decompress(chunk, _HEADER_BYTES - len(head))
            kind, _, body = head.partition(b"\0")
            type_name, _, size_text = kind.partition(b" ")
            cls = object_class(type_name)
            if cls is None or not size_text.isdigit() or len(size_text) > 19:
                raise _corrupt(path, sha, "has no valid header")
            size = int(size_text)
            if size > limit:
                raise Oversized(size)
            while not inflater.eof and len(body) <= size:
                chunk = inflater.unconsumed_tail or fh.read(_CHUNK)
                if not chunk:
                    break
                body += inflater.decompress(chunk, size + 1 - len(body))
        except zlib.error as exc:
            raise _corrupt(path, sha, f"cannot be inflated ({exc})") from None
    if len(body) > size:
        raise _corrupt(path, sha, f"inflates past the {size} bytes it declares")
    if len(body) < size or not inflater.eof:
        raise _corrupt(path, sha, f"is cut short ({len(body)} of the {size} bytes it declares)")
    try:
        return ShaFile.from_raw_string(cls.type_num, body, verify_sha=sha)
    except ChecksumMismatch:
        raise _corrupt(path, sha, "does not match its name") from None


def _varint(data: bytes, at: int) -> tuple[int, int]:
    """A little-endian base-128 number (a pack entry's or a delta's size) at ``at``: its value and the next index."""
    value = shift = 0
    while True:
        byte = data[at]
        value |= (byte & 0x7F) << shift
        shift += 7
        at += 1
        if not byte & 0x80:
            return value, at


@dataclass(frozen=True)
class _Entry:
    """A pack entry's header: the bytes its data inflates to and, for a delta, where its base is."""

    size: int
    data_at: int  # where its zlib data starts in the pack
    delta: bool
    base_offset: int | None = None  # an OFS_DELTA's base
    base_ref: bytes | None = None  # a REF_DELTA's base (binary id)


def _entry(fh: BinaryIO, offset: int, id_bytes: int) -> _Entry:
    """The header of the pack entry at ``offset`` (IndexError when it is cut short)."""
    fh.seek(offset)
    raw = fh.read(16 + id_bytes)
    type_num, size, at = (raw[0] >> 4) & 7, raw[0] & 0x0F, 1
    if raw[0] & 0x80:
        rest, at = _varint(raw, 1)
        size |= rest << 4
    if type_num == _OFS_DELTA:
        distance, at = raw[at] & 0x7F, at + 1
        while raw[at - 1] & 0x80:
            distance, at = ((distance + 1) << 7) | (raw[at] & 0x7F), at + 1
        return _Entry(size, offset + at, True, base_offset=offset - distance)
    if type_num == _REF_DELTA:
        return _Entry(size, offset + at + id_bytes, True, base_ref=raw[at:at + id_bytes])
    return _Entry(size, offset + at, False)


def _delta_target(fh: BinaryIO, entry: _Entry) -> int:
    """The size a delta entry builds: the second number at the start of its inflated data (the first is its
    base's size); only those few bytes are inflated."""
    fh.seek(entry.data_at)
    inflater, start = zlib.decompressobj(), b""
    # A dynamic Huffman block opens with its code tables (up to a few hundred bytes) before any output: read on,
    # a little at a time, until the two sizes are out (20 bytes hold both) or the stream ends.
    for _ in range(_DELTA_HEAD_READS):
        chunk = inflater.unconsumed_tail or fh.read(256)
        if not chunk or inflater.eof:
            break
        start += inflater.decompress(chunk, 20 - len(start))
        if len(start) >= 20:
            break
    return _varint(start, _varint(start, 0)[1])[0]


def _check_packed(pack: Pack, sha: ObjectID, limit: int, base_limit: int) -> None:
    """Oversized when the packed object declares more than ``limit`` bytes, or an entry along its delta chain
    more than ``base_limit``: read from the entries' headers and the first bytes of each delta, before anything
    is inflated (dulwich then inflates each entry no further than its header states)."""
    path = Path(pack.data.path)
    offset: int | None = pack.index.object_offset(sha)
    with path.open("rb") as fh:
        for depth in range(_CHAIN):
            if offset is None:
                return
            try:
                entry = _entry(fh, offset, len(sha) // 2)
                declared = _delta_target(fh, entry) if entry.delta else entry.size
            except (IndexError, zlib.error):
                raise _corrupt(path, sha, "has a pack entry that cannot be read") from None
            if declared > (limit if depth == 0 else base_limit) or entry.size > base_limit:
                raise Oversized(max(declared, entry.size) if depth else declared, base=depth > 0)
            if not entry.delta:
                return
            offset = entry.base_offset
            if entry.base_ref is not None:
                ref = ObjectID(entry.base_ref.hex().encode("ascii"))
                offset = pack.index.object_offset(ref) if ref in pack else None
