"""Settings: every setting and limit of fwgraph, typed, with its meaning; read from FWGRAPH_* variables once.

One frozen :class:`Settings` value holds them all. It is made once per process by the entry point —
``Settings.from_env()`` then the ``serve`` options (:mod:`fwgraph.cli`) or a test's mapping
(``create_app({"max_rows": 5})``) — and passed down. ``fwgraph serve`` hands it to Granian's web processes as one
value (``FWGRAPH_SETTINGS``, its JSON), and a web process to its query workers and validation sandbox the same
way. The few bounds checked deep in pure library code (query nesting, contribution nesting, the store client's
GET size) read the process's active value (:func:`active`), installed by the entry point with :func:`activate`.

A new limit is one field here (type, default, meaning, what a client sees) plus its use: the environment
variable, the README's table (:func:`readme_tables`, checked by tests/test_readme.py), ``/healthz`` and the
service description follow from the field.
"""

from __future__ import annotations

import dataclasses
import json
import os
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from fwgraph.core.errors import StartError
from fwgraph.core.namespace import BASE

#: The one environment variable that carries a whole resolved Settings value (JSON) to child processes.
SETTINGS_VAR = "FWGRAPH_SETTINGS"
_PREFIX = "FWGRAPH_"
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


class SettingError(StartError):
    """A setting has a value of the wrong type or an unknown name; says which and what was expected."""


def _setting(default: Any, doc: str, *, unit: str = "", sees: str = "", shown: str = "",
             published: tuple[str, str] | None = None, health: bool = False) -> Any:
    """A field of Settings with its documentation.

    ``doc``: what it sets (with its unit); ``unit``: bytes, s or "" (how the README shows the default);
    ``sees``: what a client sees when it meets the limit (fields with it are the README's limits table);
    ``shown``: the default as the README states it, when the value alone does not say it (0 = automatic);
    ``published``: (local name, label) of the property stating it in the SPARQL service description;
    ``health``: listed by ``/healthz``.
    """
    meta = {"doc": doc, "unit": unit, "sees": sees, "shown": shown, "published": published, "health": health}
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class Settings:
    """Every setting of fwgraph. Attribute ``max_rows`` is environment variable ``FWGRAPH_MAX_ROWS``."""

    # ------------------------------------------------------------------------- what is served, and where
    base_iri: str = _setting(BASE, "The public base IRI the data uses; paths below it are served at the same paths.")
    data_dir: str | None = _setting(None, "A directory with ontology/ and data/ to serve (`--data`); unset: the "
                                          "shipped sources.")
    dist_dir: str | None = _setting(None, "A distribution written by `fwgraph build` to serve as is (`--dist`); "
                                          "unset: built into a cache directory.")
    store_url: str | None = _setting(None, "An external SPARQL endpoint to query instead of the embedded engine "
                                           "(`--store`).")
    store_post: Literal["auto", "direct", "form"] = _setting(
        "auto", "How long queries go to the store: `auto` (probed at start), `direct`, `form` (URL-encoded).")
    store_dialect: Literal["auto", "virtuoso", "oxigraph", "standard"] = _setting(
        "auto", "The store's limit parameters: `auto` (from its Server header), `virtuoso`, `oxigraph`, `standard`.")
    store_get_url_bytes: int = _setting(
        2048, "Longest GET URL sent to the store, in bytes (proxies and servers cut longer ones); longer queries "
              "are POSTed.", unit="bytes")
    store_probe_timeout: float = _setting(
        2.0, "Seconds the start-up probe waits for the store to answer a direct POST.", unit="s")
    host: str = _setting("127.0.0.1", "Address (or name) to listen on (`--host`); the default is loopback only.")
    port: int = _setting(8000, "Port to listen on (`--port`).")
    workers: int = _setting(0, "Web server processes (`--workers`); each has its own query workers and cache.",
                            shown="one per CPU core, at most 4")
    threads: int = _setting(0, "Threads per web server process: they mostly wait (on a query worker, on a slow "
                               "client), so more than Granian's advice for computing threads, which the server "
                               "leaves out of its start-up log.", shown="24")
    engine_store: Literal["auto", "memory", "disk"] = _setting(
        "auto", "Where the embedded engine keeps the graph (`--engine-store`): `memory`, `disk` (the build's "
                "on-disk store), `auto` (memory up to `DISK_STORE_BYTES` of N-Triples, then disk).")
    disk_store_bytes: int = _setting(64 * 1024 * 1024, "With `ENGINE_STORE=auto`: dumps larger than this many "
                                                       "bytes are queried from disk.", unit="bytes")
    network_guard: bool = _setting(True, "Deny outbound connections from Python code (except to `STORE_URL`).")
    limits_file: str | None = _setting(None, "The rate-limit table the web processes of one server share (set by "
                                             "`fwgraph serve`; unset: one table per process).")
    client_address_header: str | None = _setting(
        None, "Behind a proxy: the request header with the client address (its last entry), e.g. `X-Forwarded-For`.")
    rate_limit_loopback: bool = _setting(False, "Apply the per-client limits to loopback clients too.")
    shutdown_grace: int = _setting(10, "Seconds SIGTERM waits for requests in flight.", unit="s",
                                   sees="the server stops after them")
    cache_max_age: int = _setting(300, "Seconds clients and proxies may cache query results and pages "
                                       "(`Cache-Control: max-age`).", unit="s")

    # ------------------------------------------------------------------------- queries
    query_timeout: float = _setting(
        10.0, "Seconds a query may run (`--timeout`); its worker process is killed then (with `--store`: the "
              "limit is passed to the store, see Deployment).", unit="s",
        sees="503 with `Retry-After`", published=("queryTimeout", "query time limit"), health=True)
    warm_timeout: float = _setting(
        120.0, "Seconds each whole-graph query of a web process's warm-up may take (the finder's grid, the search "
               "and reconciliation indexes, built once per process before it takes requests): their own limit, "
               "not a request's, so that a loaded server still starts warm.", unit="s",
        sees="nothing: the first page that needs what did not finish builds it within the request's limit")
    query_workers: int = _setting(
        2, "Processes per web process that evaluate queries (each can be killed at the time limit); a request "
           "waits at most the time limit for one. 0: queries run in the web process, with no time limit.",
        sees="503 with `Retry-After: 1`")
    query_worker_memory: int = _setting(
        4 * 1024 ** 3, "Address space of one query worker, in bytes; a query past it (or one that crashes the "
                       "engine) stops its worker, which is replaced at once.", unit="bytes",
        sees="503 with `Retry-After: 1`")
    worker_retire_bytes: int = _setting(
        128 * 1024 * 1024, "A query worker whose private memory grew by more than this many bytes after a query "
                           "answers, then is replaced by a fresh fork (the allocator keeps what a heavy query took).",
        unit="bytes", sees="nothing")
    queries_per_client: int = _setting(
        0, "Queries one client may have running at once, per web process: one client's runaways leave a worker "
           "free for others; loopback exempt (`RATE_LIMIT_LOOPBACK`).", shown="query workers − 1 (at least 1)",
        sees="503 with `Retry-After: 1`, at once")
    max_rows: int = _setting(
        10_000, "Rows (SELECT) or triples (CONSTRUCT/DESCRIBE) returned at most (`--max-rows`).",
        sees="200, truncated, with `X-Fwgraph-Truncated: true` and `X-SPARQL-MaxRows`",
        published=("maxRows", "result row limit"), health=True)
    max_answer_bytes: int = _setting(
        16 * 1024 * 1024, "Bytes of one answer: cut to the first rows that fit, in the query worker (with "
                          "`--store`: at most 4 × this + 1 MiB is read from the store, past it 400).", unit="bytes",
        sees="200, truncated, with `X-Fwgraph-Truncated: true` and `X-Fwgraph-Max-Bytes`",
        published=("maxAnswerBytes", "answer size limit"), health=True)
    max_query_bytes: int = _setting(
        64 * 1024, "Longest query text accepted, in bytes of UTF-8.", unit="bytes", sees="414 (GET) or 413 (POST)",
        published=("maxQueryBytes", "query length limit"), health=True)
    query_max_depth: int = _setting(
        100, "Deepest nesting of brackets `( { [` in a query (parsers recurse on nesting).",
        sees="400 with line and column")
    query_max_chain: int = _setting(
        500, "Most operators or `UNION`s chained in one group of a query.", sees="400 with line and column")
    cheap_query_seconds: float = _setting(
        0.1, "A query whose shape (its text, comments and blanks aside, with its format and limits) last took less "
             "CPU time than this in a query worker is cheap: it gets the next free worker first and may take a slow "
             "request's waiting place.", unit="s", sees="nothing")
    heavy_query_seconds: float = _setting(
        1.0, "A query whose shape last took this much CPU time in a query worker or more (or was stopped) is "
             "heavy: heavy queries hold all query workers but one.", unit="s",
        sees="waits for a worker with one idle (503 with `Retry-After: 1` past the time limit)")
    query_costs_remembered: int = _setting(
        4096, "Query shapes whose last cost is remembered per web process (as digests), and clients whose last "
              "turn at a query worker is.", sees="nothing")
    prepared_queries: int = _setting(
        4096, "Checked query texts (of at most 2 KiB) memoised per web process.", sees="nothing")

    # ------------------------------------------------------------------------- request bodies and answers
    max_body_bytes: int = _setting(
        1024 * 1024, "Largest request body (queries, contributions) accepted, in bytes.", unit="bytes", sees="413",
        published=("maxRequestBytes", "request body limit"), health=True)
    bodies_per_client: int = _setting(
        2, "Request bodies one client may be sending, and large answers (over 256 KiB or of unknown length, sent "
           "in 64 KiB pieces) it may be receiving, at once, per web process: a client trickling bodies or not "
           "reading holds at most this many threads; loopback exempt (`RATE_LIMIT_LOOPBACK`).",
        sees="503 with `Retry-After: 1` (and `Connection: close`), before the body is read or the answer sent",
        health=True)
    bodies_total: int = _setting(
        0, "Bodies being received and large answers being sent, all clients, per web process: slow senders and "
           "readers from any number of addresses leave the other threads for queries, pages and `/healthz`.",
        shown="a quarter of the threads",
        sees="503 with `Retry-After: 1` and `Connection: close`, before the body is read")
    write_timeout: float = _setting(
        30.0, "Seconds a connection may leave sent data unacknowledged before the kernel closes it "
              "(TCP_USER_TIMEOUT); its slot is free again.", unit="s", sees="the connection is reset", health=True)
    header_timeout: int = _setting(10, "Seconds a client may take to send its request headers.", unit="s",
                                   sees="the connection is closed")

    # ------------------------------------------------------------------------- rate
    rate_limit: float = _setting(
        600, "Requests a minute per client to /sparql and /validate (0: off), counted in one table shared by the "
             "web processes; the clients of one network (IPv4 /24, IPv6 /48) share twice one client's allowance "
             "besides their own; loopback exempt (`RATE_LIMIT_LOOPBACK`).", sees="429 with `Retry-After`",
        health=True)
    rate_burst: int = _setting(60, "Requests a client may send at once before `RATE_LIMIT` applies.",
                               sees="429 with `Retry-After`", health=True)

    # ------------------------------------------------------------------------- caches
    cache_entries: int = _setting(2048, "Answers kept at most per cache (0: no cache).", sees="nothing",
                                  health=True)
    cache_bytes: int = _setting(
        128 * 1024 * 1024, "Bytes of cached answers per web process, all caches together; older answers are "
                           "dropped first.", unit="bytes", sees="nothing",
        published=("cacheBytes", "answer cache memory limit"), health=True)
    cache_entry_bytes: int = _setting(2 * 1024 * 1024, "Larger answers are never cached.", unit="bytes",
                                      sees="nothing", health=True)

    # ------------------------------------------------------------------------- contributions
    contribution_max_nesting: int = _setting(
        64, "Deepest nesting in a contribution (`[` `(` in Turtle, `[` `{` in JSON-LD; in `/contribute`'s other "
            "statements also blank nodes chained by label).", sees="400 with line and column (a chain: 400 naming "
                                                                   "the field)")
    validate_max_triples: int = _setting(5000, "Largest contribution validated, in triples.", sees="400")
    validate_timeout: float = _setting(20.0, "Seconds one validation may take; its process is killed then.",
                                       unit="s", sees="503 with `Retry-After`")
    validate_concurrency: int = _setting(
        1, "Validations running at once per web process, first come first served, at most one per client "
           "(loopback exempt, `RATE_LIMIT_LOOPBACK`).",
        sees="503 with `Retry-After: 1` when no slot came in time; 429 with `Retry-After: 2` when the client's own "
             "validation kept it out, or it already has one waiting")
    validate_wait: float = _setting(10.0, "Seconds a validation waits for a slot.", unit="s",
                                    sees="503 (`Retry-After: 1`) or 429 (`Retry-After: 2`)")
    validate_memory: int = _setting(1024 ** 3, "Address space of one validation process, in bytes.", unit="bytes",
                                    sees="500 for that request only")
    validate_max_results: int = _setting(500, "Results reported at most in a validation report.",
                                         sees='200, cut, `"truncated": true` and `X-Fwgraph-Truncated: true`')
    validate_beside: bool = _setting(
        True, "`fwgraph build` validates a large graph with no cached report in a second process while it writes "
              "the dumps, on a machine with two cores or more (on two cores: 32 s to 19 s of wall time for the "
              "shipped graph, the same CPU time). Off: in the building process, for a machine whose cores are "
              "busy anyway (the test suite turns it off: its parallel tests keep both cores busy).")

    # ------------------------------------------------------------------------- reconciliation (OpenRefine)
    reconcile_max_queries: int = _setting(50, "Queries in one reconciliation batch.", sees="400")
    extend_max_ids: int = _setting(100, "Entities in one data-extension query (OpenRefine sends 10 at a time).",
                                   sees="413")
    reconcile_shortlist: int = _setting(2000, "Candidates scored for one reconciliation query at most (past that, "
                                              "those sharing a key or a word start with the query).",
                                        sees="nothing")

    def __post_init__(self) -> None:
        if not self.base_iri.endswith("/"):
            object.__setattr__(self, "base_iri", self.base_iri + "/")

    # ------------------------------------------------------------------------- reading and passing on

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """The settings in ``environ`` (default os.environ): ``FWGRAPH_SETTINGS`` whole when set (a parent
        fwgraph process resolved them), else each ``FWGRAPH_<NAME>`` over the defaults; SettingError when a
        value does not parse."""
        environ = os.environ if environ is None else environ
        if environ.get(SETTINGS_VAR):
            return cls.from_json(environ[SETTINGS_VAR])
        hints = typing.get_type_hints(cls)
        values = {}
        for f in dataclasses.fields(cls):
            raw = environ.get(_PREFIX + f.name.upper())
            if raw:  # unset or empty: the default
                values[f.name] = _parse(_PREFIX + f.name.upper(), hints[f.name], raw)
        return cls(**values)

    def replace(self, changes: Mapping[str, Any] | None = None) -> Settings:
        """These settings with ``changes`` (field names; a value None leaves the setting as it is)."""
        changes = {k: v for k, v in (changes or {}).items() if v is not None}
        unknown = sorted(set(changes) - {f.name for f in dataclasses.fields(self)})
        if unknown:
            raise SettingError(f"unknown setting(s): {', '.join(unknown)}")
        return dataclasses.replace(self, **changes)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Settings:
        try:
            return cls(**json.loads(text))
        except (ValueError, TypeError) as exc:
            raise SettingError(f"{SETTINGS_VAR}: not a fwgraph settings value ({exc})") from None

    def environ(self) -> dict[str, str]:
        """The one environment variable that hands these settings to a child process."""
        return {SETTINGS_VAR: self.to_json()}

    # ------------------------------------------------------------------------- what follows from them

    @property
    def web_threads(self) -> int:
        """Threads per web process: ``threads``, or 24.

        fwgraph's threads mostly wait — on a query worker, on a client sending or reading slowly — and are shared
        out by its own bounds (:attr:`body_slots`, :attr:`waiting_slots`) so that a quarter are always free for
        /healthz, pages and refusals (:attr:`free_threads`); with fewer, a few slow clients and one runaway left
        /healthz unanswered for seconds, and with one free it queued behind pages (the soak, issue 20). Granian
        advises at most 2 × cores + 1 threads for Python code that computes; the server silences that advice for
        this reason (:mod:`fwgraph.server`).

        >>> Settings().web_threads, Settings(threads=5).web_threads
        (24, 5)
        """
        return self.threads if self.threads > 0 else 24

    @property
    def web_workers(self) -> int:
        """Web server processes: ``workers``, or one per CPU core, at most 4."""
        return self.workers or min(os.cpu_count() or 1, 4)

    @property
    def free_threads(self) -> int:
        """Threads of one web process that neither slow clients nor queries (running or waiting) may take: a quarter
        of them, at least one, for /healthz, pages, cached answers and static files, and for refusing at once what
        is over a bound (a refusal needs a thread too). With one thread left for all of these, /healthz queued
        behind pages for a second and more (the soak, issue 20)."""
        return max(1, self.web_threads // 4)

    @property
    def body_slots(self) -> int:
        """Threads of one web process that slow clients may hold at once, receiving request bodies or sending
        large answers: ``bodies_total``, or a quarter of the threads."""
        return self.bodies_total or max(1, self.web_threads // 4)

    @property
    def waiting_slots(self) -> int:
        """Requests of one web process that may wait for a busy query worker: each holds a thread while it waits.
        The threads are shared out so that slow clients (:attr:`body_slots`), the running queries and the waiting
        ones together leave :attr:`free_threads` free whatever they do; one more is refused at once (503).
        Requests that are not cheap (:attr:`slow_waiting_slots`) take at most a third of these places; cheap ones
        may take them all.

        >>> Settings().waiting_slots, Settings().slow_waiting_slots
        (10, 3)
        """
        return max(1, self.web_threads - self.body_slots - self.query_workers - self.free_threads)

    @property
    def slow_waiting_slots(self) -> int:
        """Waiting places (:attr:`waiting_slots`) that requests not known to be cheap (``cheap_query_seconds``)
        may take at once: a third, at least one. Cheap requests hold a worker for milliseconds, so many of them can
        wait without waiting long; a crowd of slow ones leaves them the rest of the places."""
        return max(1, self.waiting_slots // 3)

    @property
    def client_queries(self) -> int:
        """Queries one client may have running at once per web process: ``queries_per_client``, or all query
        workers but one (at least one)."""
        return self.queries_per_client or max(1, self.query_workers - 1)

    def health(self) -> dict[str, Any]:
        """The limits ``/healthz`` lists (with the threads slow clients may hold)."""
        limits = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.metadata["health"]}
        limits["bodies_total"] = self.body_slots
        return limits

    def published(self) -> list[tuple[str, Any, str, str]]:
        """(local name, value, label, meaning) of each limit the service description states."""
        return [(f.metadata["published"][0], getattr(self, f.name), f.metadata["published"][1], f.metadata["doc"])
                for f in dataclasses.fields(self) if f.metadata["published"]]


def _parse(name: str, hint: Any, raw: str) -> Any:
    """``raw`` (an environment variable's text) as a value of type ``hint``; SettingError naming ``name``."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if typing.get_origin(hint) is Literal:
        if raw not in args:
            raise SettingError(f"{name}: expected one of {', '.join(args)}, got {raw!r}")
        return raw
    kind = args[0] if args else hint
    if kind is bool:
        if raw.lower() not in _TRUE + _FALSE:
            raise SettingError(f"{name}: expected a boolean ({', '.join(_TRUE + _FALSE)}), got {raw!r}")
        return raw.lower() in _TRUE
    if kind is int:
        try:
            return int(raw)
        except ValueError:
            raise SettingError(f"{name}: expected an integer, got {raw!r}") from None
    if kind is float:
        try:
            return float(raw)
        except ValueError:
            raise SettingError(f"{name}: expected a number, got {raw!r}") from None
    return raw


def describe(name: str) -> str:
    """The meaning of setting ``name`` with its default, for a command-line option's help."""
    f = next(f for f in dataclasses.fields(Settings) if f.name == name)
    return str(f.metadata["doc"]) if f.default is None else f"{f.metadata['doc']} Default: {_shown(f)}."


# ----------------------------------------------------------------------------- the process's active settings

_active: list[Settings] = []


def activate(settings: Settings) -> Settings:
    """Make ``settings`` the ones this process's library code checks against (see :func:`active`)."""
    _active[:] = [settings]
    return settings


def active() -> Settings:
    """The settings installed by this process's entry point (:func:`activate`); the defaults before that."""
    return _active[0] if _active else Settings()


# ----------------------------------------------------------------------------- the README's tables

def _shown(f: dataclasses.Field[Any]) -> str:
    if f.metadata["shown"]:
        return str(f.metadata["shown"])
    value = f.default
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "on" if value else "off"
    if f.metadata["unit"] == "bytes" and isinstance(value, int):
        for unit, size in (("GiB", 1024 ** 3), ("MiB", 1024 ** 2), ("KiB", 1024)):
            if value >= size and value % size == 0:
                return f"{value // size} {unit}"
        return f"{value:,} bytes"
    if f.metadata["unit"] == "s":
        return f"{value:g} s"
    if isinstance(value, (int, float)):
        return f"{value:,}" if value >= 10_000 else f"{value:g}"
    return f"`{value}`"


#: The README's generated part lies between these lines.
README_START = "<!-- settings: generated from fwgraph.core.settings.Settings -->\n"
README_END = "<!-- end of settings -->"


def write_readme(path: str | os.PathLike[str]) -> None:
    """Write :func:`readme_tables` into the README at ``path``, between README_START and README_END."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    start, end = text.index(README_START) + len(README_START), text.index(README_END)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text[:start] + readme_tables() + text[end:])


def readme_tables() -> str:
    """The README's tables of limits (the settings a client can run into) and of the other settings, in
    Markdown: generated from :class:`Settings`, so that a new field appears in them."""
    limits = ["| limit (`FWGRAPH_<NAME>`) | default | what it bounds | a client sees |", "|---|---|---|---|"]
    others = ["| setting (`FWGRAPH_<NAME>`) | default | what it sets |", "|---|---|---|"]
    for f in dataclasses.fields(Settings):
        cells = [f"`{f.name.upper()}`", _shown(f), f.metadata["doc"]]
        if f.metadata["sees"]:
            limits.append("| " + " | ".join([*cells, f.metadata["sees"]]) + " |")
        else:
            others.append("| " + " | ".join(cells) + " |")
    return "\n".join(limits) + "\n\nThe other settings:\n\n" + "\n".join(others) + "\n"
