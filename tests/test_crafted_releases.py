"""Crafted release directories (issue 20): a file that is a symbolic link is refused by the loader that every
reader of releases uses (build, serve, diff), so /download/<version>/ never serves a file from elsewhere; a gzip
dump is checked (size, then SHA-256 of the compressed bytes) before it is decompressed, and decompression stops
at the size the release states and at ``MAX_DUMP_BYTES``."""

from __future__ import annotations

import gzip
import hashlib
import shutil
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest
import requests
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import XSD

from fwgraph.core.errors import InputError
from fwgraph.core.namespace import SPDX_TERMS
from tests.cli import fwgraph
from tests.server import ROOT, dist, free_port, spawn

SECRET = "not part of any release: a file beside the repository\n"
DCAT_BYTE_SIZE = URIRef("http://www.w3.org/ns/dcat#byteSize")
BOMB_BYTES = 64 << 20  # what the bomb inflates to: 64 MiB of zeros, about 64 KiB compressed


def _sources(tmp_path: Path) -> Path:
    """A copy of the shipped sources with the shipped release 0.1.0."""
    root = tmp_path / "sources"
    for name in ("ontology", "data", "releases"):
        shutil.copytree(ROOT / name, root / name)
    return root


def _secret(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text(SECRET)
    return path


def _bomb(size: int = BOMB_BYTES) -> bytes:
    return gzip.compress(bytes(size), compresslevel=1, mtime=0)


def _list_in_void(release: Path, name: str, data: bytes, size: int | None = None) -> None:
    """Make the release's void.ttl state ``data``'s checksum and ``size`` (default its length) for file ``name``:
    a release crafted whole, its description included."""
    path = release / "void.ttl"
    void = Graph().parse(path)
    [dist_iri] = [s for s in void.subjects(SPDX_TERMS.checksum, None) if str(s).endswith("/" + name)]
    checksum = void.value(dist_iri, SPDX_TERMS.checksum)
    void.set((checksum, SPDX_TERMS.checksumValue, Literal(hashlib.sha256(data).hexdigest(), datatype=XSD.hexBinary)))
    void.set((dist_iri, DCAT_BYTE_SIZE, Literal(len(data) if size is None else size, datatype=XSD.nonNegativeInteger)))
    void.serialize(path, format="turtle")


# --------------------------------------------------------------------------- symbolic links


def _link_notes_outside(release: Path, tmp_path: Path) -> None:
    (release / "NOTES.md").unlink()
    (release / "NOTES.md").symlink_to(_secret(tmp_path))


def _link_dump_inside(release: Path, tmp_path: Path) -> None:
    (release / "fwgraph.nt.gz").rename(release / "fwgraph.nt.gz.orig")
    (release / "fwgraph.nt.gz").symlink_to("fwgraph.nt.gz.orig")


def _link_release_dir(release: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    release.rename(elsewhere)
    release.symlink_to(elsewhere, target_is_directory=True)


LINKS = {"notes-to-a-file-outside": _link_notes_outside, "dump-to-a-file-inside": _link_dump_inside,
         "release-directory": _link_release_dir}


@pytest.mark.parametrize("link", sorted(LINKS))
def test_the_release_loader_refuses_symbolic_links(tmp_path, link):
    """The root of /download/<version>/: every reader of releases (build, serve, release, diff) lists them here."""
    from fwgraph.publish.dist import shipped_releases

    root = _sources(tmp_path)
    LINKS[link](root / "releases" / "0.1.0", tmp_path)
    with pytest.raises(InputError, match="symbolic link"):
        shipped_releases(root / "releases")


def test_build_refuses_a_release_whose_notes_are_a_symbolic_link(tmp_path):
    """The build copied the link's target into the distribution, and the server published it as the notes."""
    root = _sources(tmp_path)
    _link_notes_outside(root / "releases" / "0.1.0", tmp_path)
    run = fwgraph("build", "--data", root, "--out", tmp_path / "dist")
    assert run.returncode == 2, run.stdout + run.stderr
    assert "NOTES.md" in run.stderr and "symbolic link" in run.stderr
    assert not (tmp_path / "dist").exists()


def test_serve_refuses_a_distribution_with_a_symbolic_link_in_a_release(tmp_path):
    """A distribution written or altered by hand: the server never serves the link's target."""
    copy = tmp_path / "dist"
    shutil.copytree(dist(), copy, ignore=shutil.ignore_patterns("fwgraph.oxigraph"))
    _link_notes_outside(copy / "releases" / "0.1.0", tmp_path)
    port = free_port()
    process = spawn([sys.executable, "-m", "fwgraph", "serve", "--port", str(port), "--workers", "1",
                     "--dist", str(copy)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while process.poll() is None and time.monotonic() < deadline:
            try:
                notes = requests.get(f"http://127.0.0.1:{port}/download/0.1.0/NOTES.md", timeout=5)
            except requests.ConnectionError:
                time.sleep(0.2)
                continue
            assert SECRET not in notes.text, "the server published the file the link points to"
            break
    finally:
        if process.poll() is None:
            process.terminate()
        stderr = process.communicate(timeout=30)[1]
    assert process.returncode == 2, stderr
    assert stderr.startswith("error: ") and "NOTES.md" in stderr and "symbolic link" in stderr


def test_a_distribution_offers_no_linked_file_for_download(tmp_path):
    """/download/<file> serves the distribution's own files: a link there, even to identical bytes, is refused at
    start and never offered."""
    from fwgraph.core.errors import StartError
    from fwgraph.publish.dist import Dist

    copy = tmp_path / "dist"
    shutil.copytree(dist(), copy, ignore=shutil.ignore_patterns("fwgraph.oxigraph", "releases"))
    (copy / "fwgraph.ttl").rename(tmp_path / "fwgraph.ttl")
    (copy / "fwgraph.ttl").symlink_to(tmp_path / "fwgraph.ttl")
    assert "fwgraph.ttl" not in Dist(copy).download_names()
    with pytest.raises(StartError, match="symbolic link"):
        Dist(copy).verify()


# --------------------------------------------------------------------------- gzip dumps


def _peak_while(call) -> tuple[BaseException | None, int]:
    """What ``call()`` raised (None if nothing) and the most memory Python held meanwhile, in bytes (after a first
    Turtle parse, which loads rdflib's parser once per process)."""
    Graph().parse(ROOT / "releases" / "0.1.0" / "void.ttl")
    tracemalloc.start()
    try:
        call()
        raised = None
    except BaseException as exc:  # noqa: BLE001  (returned for the test to check)
        raised = exc
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return raised, peak


def test_a_tampered_gzip_dump_is_refused_before_it_is_decompressed(tmp_path):
    """The dump was decompressed first and checked afterwards: a 2 MB bomb cost the build 4.3 GB."""
    from fwgraph.publish.dist import shipped_releases

    root = _sources(tmp_path)
    (root / "releases" / "0.1.0" / "fwgraph.nt.gz").write_bytes(_bomb())
    [release] = shipped_releases(root / "releases")
    raised, peak = _peak_while(release.dump)
    assert isinstance(raised, InputError) and "fwgraph.nt.gz" in str(raised), raised
    assert "truncated or altered" in str(raised)
    assert peak < 8 << 20, f"{peak} bytes held: the bomb was decompressed"
    run = fwgraph("build", "--data", root, "--out", tmp_path / "dist")  # a damaged release: exit 1, as before
    assert run.returncode == 1 and "release 0.1.0" in run.stderr and "damaged" in run.stderr, run.stderr
    assert "fwgraph.nt.gz" in run.stderr and not (tmp_path / "dist").exists()


def test_a_gzip_dump_stops_at_the_size_its_release_states(tmp_path):
    """A release crafted whole (its void.ttl states the bomb's own checksum): decompression stops past the size
    the release states for the uncompressed dump."""
    from fwgraph.publish.dist import shipped_releases

    root = _sources(tmp_path)
    release = root / "releases" / "0.1.0"
    bomb = _bomb()
    (release / "fwgraph.nt.gz").write_bytes(bomb)
    _list_in_void(release, "fwgraph.nt.gz", bomb)
    [loaded] = shipped_releases(root / "releases")
    raised, peak = _peak_while(loaded.dump)
    assert isinstance(raised, InputError) and "decompresses to more than" in str(raised), raised
    assert peak < 8 << 20, f"{peak} bytes held: the bomb was decompressed"


def test_a_gzip_dump_stops_at_the_cap_whatever_its_release_states(tmp_path, monkeypatch):
    """The release states the bomb's size too: the cap (``MAX_DUMP_BYTES``, set low here) still holds."""
    from fwgraph.publish.dist import shipped_releases

    monkeypatch.setattr("fwgraph.publish.dist.MAX_DUMP_BYTES", 1 << 20)
    root = _sources(tmp_path)
    release = root / "releases" / "0.1.0"
    bomb = _bomb()
    (release / "fwgraph.nt.gz").write_bytes(bomb)
    _list_in_void(release, "fwgraph.nt.gz", bomb)
    _list_in_void(release, "fwgraph.nt", b"", size=BOMB_BYTES)
    [loaded] = shipped_releases(root / "releases")
    raised, peak = _peak_while(loaded.dump)
    assert isinstance(raised, InputError) and "decompresses to more than 1048576 bytes" in str(raised), raised
    assert peak < 8 << 20, f"{peak} bytes held: the bomb was decompressed"


def test_diff_bounds_a_gzip_dump(tmp_path, monkeypatch):
    """`fwgraph diff` of a bare gzip dump (no release around it to state a checksum) stops at the cap."""
    from fwgraph.publish.diff import read_triples

    monkeypatch.setattr("fwgraph.publish.dist.MAX_DUMP_BYTES", 1 << 20)
    bomb = tmp_path / "bomb.nt.gz"
    bomb.write_bytes(_bomb())
    raised, peak = _peak_while(lambda: read_triples(bomb))
    assert isinstance(raised, InputError) and "decompresses to more than 1048576 bytes" in str(raised), raised
    assert peak < 8 << 20, f"{peak} bytes held: the bomb was decompressed"
    run = fwgraph("diff", dist(), bomb)
    assert run.returncode == 2 and "decompresses to more than" in run.stderr


def test_diff_checks_a_release_dump_before_decompressing_it(tmp_path):
    root = _sources(tmp_path)
    (root / "releases" / "0.1.0" / "fwgraph.nt.gz").write_bytes(_bomb())
    run = fwgraph("diff", root / "releases" / "0.1.0", dist())
    assert run.returncode == 2 and "fwgraph.nt.gz" in run.stderr and "truncated or altered" in run.stderr, run.stderr


def test_diff_reads_no_linked_dump_of_a_directory(tmp_path):
    build = tmp_path / "build"
    build.mkdir()
    (build / "fwgraph.nt").symlink_to(dist() / "fwgraph.nt")
    run = fwgraph("diff", build, dist())
    assert run.returncode == 2 and "symbolic link" in run.stderr, run.stdout + run.stderr
