"""Run the Flask application under Granian, a production WSGI server (chosen by measurement: bench/RESULTS.md).

Before Granian starts, everything that can fail is checked here, once, so that a broken start is an
error with exit code 2 instead of a server that answers 500: the distribution against its checksums,
the store every process will share, and the port (Granian itself would share a port already in use).
"""

from __future__ import annotations

import ipaddress
import logging
import os
import socket
import sys
import tempfile
from pathlib import Path
from typing import Any

from fwgraph.core.errors import StartError
from fwgraph.core.settings import Settings


def listen_address(host: str, port: int) -> str:
    """The IP address to listen on for ``host``: an address as it is, a name resolved (``localhost`` is loopback).

    Granian takes only an address (a name such as ``localhost`` ended the start in a traceback). A name that
    resolves to several addresses listens on the first IPv4 one, as the default does; StartError when it
    does not resolve.
    """
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    if host.lower().rstrip(".") == "localhost":
        return "127.0.0.1"  # RFC 6761: always loopback, whatever a resolver says
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise StartError(f"cannot listen on {host}:{port}: {getattr(exc, 'strerror', None) or exc}") from None
    addresses = [str(info[4][0]) for info in found]
    return next((a for a in addresses if ":" not in a), addresses[0])


def check_port(host: str, port: int) -> None:
    """Raise StartError when ``host:port`` cannot be bound by a new listener (in use, or not ours)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # SO_REUSEADDR as every server sets it: a connection this port had, closed by the server, waits in
        # TIME-WAIT for a minute and must not refuse a restart; a listener there still does (no SO_REUSEPORT).
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise StartError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def claim_port(host: str, port: int) -> int:
    """Hold ``host:port`` for this server's lifetime against other fwgraph servers; StartError if one holds it.

    Granian's workers listen with SO_REUSEPORT, so a second server started before the first one listens
    (the checks before listening take seconds) would share the port and half its requests would reach
    the other server. An exclusive lock on a file per address closes that window; ``check_port`` still
    catches any other listener. The lock files live in a directory of this user (only processes of one
    user can share a port this way). Returns the open descriptor that holds the lock (-1 where there is
    no ``fcntl``: there Granian does not share ports either).
    """
    try:
        import fcntl
    except ImportError:
        return -1
    try:
        path = os.path.join(_runtime_folder(), f"listen-{_address_name(host, port)}.lock")
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise StartError(f"cannot hold {host}:{port} against other fwgraph servers: {exc}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise StartError(f"cannot listen on {host}:{port}: in use by another fwgraph server (it holds {path})"
                         ) from None
    os.set_inheritable(fd, False)
    return fd


def _runtime_folder() -> str:
    """This user's folder for a server's lock and shared tables (made 0700; OSError if another user's)."""
    folder = os.path.join(os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir(), f"fwgraph-{os.getuid()}")
    os.makedirs(folder, mode=0o700, exist_ok=True)
    if os.stat(folder).st_uid != os.getuid():
        raise PermissionError(f"{folder} belongs to another user")
    return folder


def _address_name(host: str, port: int) -> str:
    return f"{host.replace(':', '_').replace('/', '_')}-{port}"


def limits_table(host: str, port: int) -> str:
    """A new rate-limit table for the server at ``host:port``, shared by its web processes (after claim_port:
    only this server writes it)."""
    from fwgraph.app.buckets import make_table

    try:
        return str(make_table(os.path.join(_runtime_folder(), f"limits-{_address_name(host, port)}")))
    except OSError as exc:
        raise StartError(f"cannot make the rate-limit table of {host}:{port}: {exc}") from None


class _IntendedThreads(logging.Filter):
    """Granian advises, at every start, fewer Python threads than fwgraph's default: advice for threads that
    compute. fwgraph's mostly wait and are shared out by its own bounds (Settings.web_threads), so the advice is left
    out rather than printed at every start (operators would learn to ignore warnings)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Python threads" not in record.getMessage()


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def probe_store(settings: Settings) -> Settings:
    """Ask the store once how to talk to it (dialect, POST form) and log it; the settings every web process
    gets then carry the answer."""
    from fwgraph.store.remote import StoreClient

    assert settings.store_url is not None
    client = StoreClient(settings.store_url, timeout=settings.query_timeout, post=settings.store_post,
                         dialect=settings.store_dialect)
    print(f"fwgraph: {client.probe()}", file=sys.stderr)
    return settings.replace({"store_post": client.post, "store_dialect": client.dialect.name})


def check_store(dist: Path, settings: Settings) -> None:
    """Write (when missing) and check, once, here, the on-disk store every process will open; rebuild it when
    it is damaged, and say so."""
    from fwgraph.publish.dist import GRAPH_DUMP, STORE_DIR, Dist
    from fwgraph.service import store_source

    if store_source(dist, settings).is_dir():
        problem = Dist(dist).repair_store()
        if problem is not None:
            print(f"fwgraph: the on-disk store {Dist(dist) / STORE_DIR} is damaged ({problem}): rebuilt "
                  f"from {GRAPH_DUMP}", file=sys.stderr)


def warm(service: Any) -> None:
    """Build what pages compute once per process from whole-graph queries (the finder's grid and search index, the
    reconciliation index, the data-extension table), each query under WARM_TIMEOUT rather than a request's limit.

    A web process built these on the first requests that needed them: on a loaded server those requests paid for
    it, met the request's limit (503), and every other page request of the process waited on the same build,
    holding a thread, until no thread was left for /healthz (p99 of 15 s in the soak's first interval, issue 20).
    What fails here is left to the first request that needs it (it builds it within its own limit).
    """
    from fwgraph.store.engine import own_time_limit

    with own_time_limit(service.settings.warm_timeout):
        for build in (lambda: service.catalogue, service.reconcile_index, service.extension):
            try:
                build()
            except Exception:  # noqa: BLE001,S112  (reported by the first request that needs it)
                continue


def create_warm_app() -> Any:
    """The application each web process serves (Granian's factory): created, then warmed (:func:`warm`) before
    the process takes its first request (Granian calls the factory before the process accepts connections).

    Until then a stop signal ends the process at once: it has served nothing, so there is nothing to finish, and
    the handlers it inherits from Granian's main process (forked) would ignore the signal until it served.
    Granian sets its own when the process starts serving.
    """
    import signal

    from fwgraph.app import create_app

    for stop in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop, signal.SIG_DFL)
    app = create_app()
    warm(app.extensions["fwgraph"])
    return app


def serve(settings: Settings) -> None:
    """Check the data, the store and the port (fail fast), then serve ``settings`` with Granian's WSGI interface."""
    from granian import Granian
    from granian.constants import Interfaces
    from granian.http import HTTP1Settings

    from fwgraph.publish.dist import verify_dist
    from fwgraph.service import ensure_dist

    port = settings.port
    host = listen_address(settings.host, port)
    claim_port(host, port)
    check_port(host, port)
    # Build (or reuse) the distribution before the server starts, so errors appear here, once.
    dist = ensure_dist(settings.data_dir, settings.dist_dir)
    verify_dist(dist)
    settings = settings.replace({"host": host, "limits_file": limits_table(host, port), "dist_dir": str(dist)})
    if settings.store_url:
        settings = probe_store(settings)
    else:
        check_store(dist, settings)
    # The factory runs in the web process, which reads its settings, as one value, from the environment.
    os.environ.update(settings.environ())
    if not settings.store_url and settings.query_workers <= 0:
        print("fwgraph: QUERY_WORKERS=0: queries run in the web processes, where nothing can stop them; "
              "no time limit is enforced (the service description says so)", file=sys.stderr)
    if not is_loopback(host):
        print(f"fwgraph: listening on {host}:{port}, beyond loopback: the service is reachable from other "
              "machines (rate limits and every other limit apply; see README 'Limits and safety')",
              file=sys.stderr)
    server = Granian(
        "fwgraph.server:create_warm_app",
        factory=True,
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        workers=settings.web_workers,
        blocking_threads=settings.web_threads,  # 12 by default: they mostly wait (Settings.web_threads)
        backlog=2048,
        log_access=False,
        respawn_failed_workers=True,  # a web process that dies (crash, OOM kill) is replaced
        respawn_interval=0.5,
        workers_kill_timeout=max(1, settings.shutdown_grace),
        http1_settings=HTTP1Settings(header_read_timeout=settings.header_timeout * 1000),
    )
    logging.getLogger("_granian").addFilter(_IntendedThreads())
    server.serve()
