"""A process-wide guard: Python code in the server may not open network connections except to allowed hosts.

rdflib follows SERVICE, FROM and JSON-LD @context by itself; fwgraph refuses those before they reach
it, and this audit hook is the second line: any socket.connect or urllib request from Python to an
address that is not explicitly allowed (the --store endpoint) raises PermissionError.
"""

from __future__ import annotations

import sys
from urllib.parse import urlsplit

_allowed: set[tuple[str, int]] = set()
_installed = False


def _hook(event: str, args: tuple) -> None:
    if event == "socket.connect":
        address = args[1]
        if isinstance(address, tuple) and len(address) >= 2:
            if (str(address[0]), int(address[1])) not in _allowed:
                raise PermissionError(f"fwgraph: outbound connection to {address[0]}:{address[1]} is not allowed")
        elif isinstance(address, (str, bytes)):  # AF_UNIX: local IPC (query workers) is fine
            return
    elif event == "urllib.Request":
        url = urlsplit(args[0])
        port = url.port or (443 if url.scheme == "https" else 80)
        if (url.hostname or "", port) not in _allowed:
            raise PermissionError(f"fwgraph: request to {args[0]} is not allowed")


def allow(url: str) -> None:
    """Allow connections to the host and port of ``url`` (and its loopback aliases)."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    host = parts.hostname or ""
    _allowed.add((host, port))
    if host in ("localhost", "127.0.0.1", "::1"):
        _allowed.update({("127.0.0.1", port), ("::1", port), ("localhost", port)})
    else:
        import socket

        try:
            for info in socket.getaddrinfo(host, port):
                _allowed.add((str(info[4][0]), port))
        except OSError:
            pass


def install(allowed_urls: list[str] | None = None) -> None:
    """Install the audit hook (once per process; audit hooks cannot be removed)."""
    global _installed
    for url in allowed_urls or []:
        allow(url)
    if not _installed:
        sys.addaudithook(_hook)
        _installed = True
