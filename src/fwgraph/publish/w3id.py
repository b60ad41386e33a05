"""The w3id.org folder for fwgraph (deploy/w3id/): its .htaccess and README with the service host written in,
ready for a pull request to https://github.com/perma-id/w3id.org (the host is the one setting; the rules are
tested with Apache httpd in tests/test_w3id.py)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from fwgraph.core.errors import InputError
from fwgraph.data.graph import source_root

#: What the shipped files name instead of the host.
PLACEHOLDER = "https://fwgraph.example.org"
FILES = (".htaccess", "README.md")
#: The README section the command replaces with where the service runs.
_STEP = re.compile(r"^## Before the pull request\n.*?(?=^## )", re.M | re.S)
#: A host URL is written into RewriteRule substitutions: nothing Apache or a shell would read as syntax.
_SAFE = re.compile(r"[A-Za-z0-9.\-]+(?::[0-9]{1,5})?")
_SAFE_PATH = re.compile(r"(?:/[A-Za-z0-9._~\-]+)*/?")


def folder_path() -> Path:
    return source_root() / "deploy" / "w3id"


def check_host(host: str) -> str:
    """``host`` as the rules name it: ``http(s)://name[:port][/path]`` without a trailing slash; InputError else.

    >>> check_host("https://fwgraph.example.net/")
    'https://fwgraph.example.net'
    """
    parts = urlsplit(host.strip())
    if (parts.scheme not in ("http", "https") or not _SAFE.fullmatch(parts.netloc) or parts.query or parts.fragment
            or not _SAFE_PATH.fullmatch(parts.path)):
        raise InputError("the host is http(s)://name[:port][/path], with letters, digits, '.', '-', '_' and '~' "
                         "only", source=host)
    return f"{parts.scheme}://{parts.netloc}{parts.path}".rstrip("/")


def folder(host: str, source: Path | None = None) -> dict[str, str]:
    """The folder's files (``.htaccess``, ``README.md``) with ``host`` written in for the placeholder."""
    host = check_host(host)
    source = source or folder_path()
    htaccess = (source / ".htaccess").read_text(encoding="utf-8")
    readme = (source / "README.md").read_text(encoding="utf-8")
    if PLACEHOLDER not in htaccess:
        raise InputError(f"{PLACEHOLDER} is not in the .htaccess: already filled in?", source=str(source))
    readme = _STEP.sub(f"## The service\n\nThe service runs at <{host}/>: every rule in `.htaccess` redirects "
                       "there, to the same path.\n\n", readme)
    return {".htaccess": htaccess.replace(PLACEHOLDER, host), "README.md": readme}


def write(files: dict[str, str], out: Path) -> list[Path]:
    """Write the folder as ``out/fwgraph/``; the paths written."""
    target = out / "fwgraph"
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name in FILES:
        (target / name).write_text(files[name], encoding="utf-8")
        written.append(target / name)
    return written


__all__ = ["PLACEHOLDER", "check_host", "folder", "write"]
