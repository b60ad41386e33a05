"""Configuration defaults for the server and the limits it enforces; overridden by FWGRAPH_* variables."""

from __future__ import annotations

import os
from typing import Any

from fwgraph.namespace import BASE

#: Every setting with its default. The server reads these, then FWGRAPH_<NAME> environment
#: variables, then the mapping passed to ``create_app`` (tests) or the ``serve`` options.
DEFAULTS: dict[str, Any] = {
    "BASE_IRI": BASE,  # the public base IRI the data uses; paths below it are served at the same paths
    "DATA_DIR": None,  # a directory with ontology/ and data/; None = the shipped sources
    "DIST_DIR": None,  # a built distribution (fwgraph build); None = build into a cache directory
    "STORE_URL": None,  # an external SPARQL endpoint to query instead of the embedded engine
    "STORE_POST": "auto",  # how long queries go to the store: auto (probed at start) | direct | form (URL-encoded)
    "STORE_DIALECT": "auto",  # the store's limit parameters: auto (its Server header) | virtuoso | oxigraph | standard
    "HOST": "127.0.0.1",
    "PORT": 8000,
    "WORKERS": 0,  # web server processes (0 = one per CPU core, at most 4); each has its own query workers and cache
    "THREADS": 0,  # threads per web server process (0 = 12: see config.threads)
    "QUERY_TIMEOUT": 10.0,  # seconds a query may run before it is stopped
    "MAX_ROWS": 10_000,  # result rows (or triples) returned at most; truncation is signalled
    "MAX_ANSWER_BYTES": 16 * 1024 * 1024,  # bytes of one query answer at most: cut to the rows that fit, signalled
    "MAX_QUERY_BYTES": 64 * 1024,  # longest query text accepted
    "MAX_BODY_BYTES": 1024 * 1024,  # largest request body (queries, contributions) accepted
    "QUERY_WORKERS": 2,  # processes that evaluate queries (each can be killed on timeout)
    "QUERIES_PER_CLIENT": 0,  # queries one client may have running at once per web process (0 = workers - 1)
    "CACHE_ENTRIES": 2048,  # most answers kept per cache (the key includes the data version)
    "CACHE_BYTES": 128 * 1024 * 1024,  # bytes of cached answers per web process, all caches together
    "CACHE_ENTRY_BYTES": 2 * 1024 * 1024,  # larger answers are never cached
    "CACHE_MAX_AGE": 300,  # seconds clients and proxies may cache query results and pages
    "ENGINE_STORE": "auto",  # memory | disk | auto (memory up to DISK_STORE_BYTES of N-Triples, then disk)
    "DISK_STORE_BYTES": 64 * 1024 * 1024,  # auto: dumps larger than this are queried from disk
    "VALIDATE_TIMEOUT": 20.0,  # seconds one /validate may take (its process is killed after that: 503)
    "VALIDATE_CONCURRENCY": 1,  # validations running at once per web process, at most one per client
    "VALIDATE_WAIT": 10.0,  # seconds a validation waits for a slot, first come first served (then 503/429)
    "VALIDATE_MAX_TRIPLES": 5000,  # largest contribution validated, in triples (more: 400)
    "VALIDATE_MAX_RESULTS": 500,  # results reported at most (more: cut, X-Fwgraph-Truncated: true)
    "VALIDATE_MEMORY": 1024 ** 3,  # address space of one validation process, in bytes
    "RATE_LIMIT": 600,  # requests a minute per client to /sparql and /validate (0 = off); beyond: 429
    "RATE_BURST": 60,  # requests a client may send at once before the rate applies
    "BODIES_PER_CLIENT": 2,  # request bodies one client may be sending, and large answers it may be receiving, at once
    "BODIES_TOTAL": 0,  # bodies being received and large answers being sent, all clients (0: see bodies_total)
    "LIMITS_FILE": None,  # set by `fwgraph serve`: the rate-limit table its web processes share (None: per process)
    "WRITE_TIMEOUT": 30.0,  # seconds a connection may leave sent data unread before the kernel closes it
    "RATE_LIMIT_LOOPBACK": False,  # apply per-client limits (rate, queries at once) to loopback clients too
    "CLIENT_ADDRESS_HEADER": None,  # behind a proxy: the header with the client address (its last entry)
    "SHUTDOWN_GRACE": 10,  # seconds SIGTERM waits for requests in flight before the server stops anyway
    "HEADER_TIMEOUT": 10,  # seconds a client may take to send its request headers
    "NETWORK_GUARD": True,  # deny outbound connections from Python code (except to STORE_URL)
}

_INT = {"BODIES_PER_CLIENT", "BODIES_TOTAL",
        "CACHE_BYTES", "CACHE_ENTRIES", "CACHE_ENTRY_BYTES", "CACHE_MAX_AGE", "DISK_STORE_BYTES", "HEADER_TIMEOUT",
        "MAX_ANSWER_BYTES",
        "MAX_BODY_BYTES", "MAX_QUERY_BYTES", "MAX_ROWS", "PORT", "QUERIES_PER_CLIENT", "QUERY_WORKERS", "RATE_BURST",
        "SHUTDOWN_GRACE", "THREADS", "VALIDATE_CONCURRENCY", "VALIDATE_MAX_RESULTS", "VALIDATE_MAX_TRIPLES",
        "VALIDATE_MEMORY", "WORKERS"}
_FLOAT = {"WRITE_TIMEOUT", "QUERY_TIMEOUT", "VALIDATE_TIMEOUT", "VALIDATE_WAIT", "RATE_LIMIT"}


def from_env(environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Return the settings given as FWGRAPH_<NAME> environment variables, converted to their types."""
    environ = dict(os.environ if environ is None else environ)
    settings: dict[str, Any] = {}
    for name in DEFAULTS:
        raw = environ.get(f"FWGRAPH_{name}")
        if raw is None or raw == "":
            continue
        if name in ("NETWORK_GUARD", "RATE_LIMIT_LOOPBACK"):
            settings[name] = raw.lower() not in ("0", "false", "no", "off")
        elif name in _INT:
            settings[name] = int(raw)
        elif name in _FLOAT:
            settings[name] = float(raw)
        else:
            settings[name] = raw
    return settings


def resolve(overrides: dict[str, Any] | None = None, environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Defaults, then environment, then ``overrides`` (entries whose value is None are ignored)."""
    settings = dict(DEFAULTS)
    settings.update(from_env(environ))
    settings.update({k: v for k, v in (overrides or {}).items() if v is not None})
    if not str(settings["BASE_IRI"]).endswith("/"):
        settings["BASE_IRI"] = str(settings["BASE_IRI"]) + "/"
    return settings


def threads(settings: dict[str, Any]) -> int:
    """Threads per web process: ``THREADS``, or by default 12.

    fwgraph's threads mostly wait — on a query worker, on a client sending or reading slowly — and are shared
    out by its own bounds (:func:`bodies_total`, :func:`max_waiting`) so that one is always free for /healthz;
    with fewer, a few slow clients and one runaway left /healthz unanswered for seconds (the soak, issue 20).
    Granian advises at most 2 × cores + 1 threads for Python code that computes; the server silences that
    advice for this reason (:mod:`fwgraph.server`).

    >>> threads({"THREADS": 0}), threads({"THREADS": 5})
    (12, 5)
    """
    configured = int(settings["THREADS"])
    return configured if configured > 0 else 12


def bodies_total(settings: dict[str, Any]) -> int:
    """Threads of one web process that slow clients may hold at once, receiving request bodies or sending large
    answers: ``BODIES_TOTAL``, or by default half the threads; the other half serve queries (running and
    waiting, :func:`max_waiting`) and, always at least one, /healthz, cached answers and static files."""
    return int(settings.get("BODIES_TOTAL") or 0) or max(1, threads(_threads_only(settings)) // 2)


def max_waiting(settings: dict[str, Any]) -> int:
    """Requests of one web process that may wait for a busy query worker: each holds a thread while it waits.
    The threads are shared out so that slow clients (:func:`bodies_total`), the running queries and the waiting
    ones together leave one thread free whatever they do; one more is refused at once (503)."""
    workers = int(settings.get("QUERY_WORKERS") or 0)
    return max(1, threads(_threads_only(settings)) - bodies_total(settings) - workers - 1)


def _threads_only(settings: dict[str, Any]) -> dict[str, Any]:
    return {"THREADS": settings.get("THREADS") or 0}
