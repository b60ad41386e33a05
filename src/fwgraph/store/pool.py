"""Query evaluation in worker processes that can be killed: the time limit that pyoxigraph itself lacks.

Design
------
pyoxigraph has no timeout and no cancellation, and a Python thread cannot interrupt it, so every query
runs in a separate process that the web process can SIGKILL.

* A **zygote** is started with ``subprocess`` (fork + exec, so it is safe whatever threads the web
  process already runs) when the app is created. It imports the serialisers, loads the store once
  from the N-Triples dump, and stays single-threaded. It only ever does one thing: fork a worker on
  request. Workers therefore start in about a millisecond and share the loaded store copy-on-write.
* The web process and the zygote talk over a Unix socket pair (``spawn`` requests); for each worker
  the zygote creates a socket pair, forks, and hands the web process its end with SCM_RIGHTS, plus
  the worker's pid.
* A worker isolates itself first (network namespace when the kernel allows it, an audit hook that
  denies sockets, urllib, subprocesses; an address-space limit), then answers requests in a loop:
  (query text, max rows, output format) in, (status, content type, truncated, body bytes) out. The
  result is serialised in the worker, so only bytes cross the process boundary.
* The web process hands idle workers to waiting requests client by client (:class:`_IdleWorkers`): a freed
  worker goes straight to a waiting request (a plain queue lets a newly arrived thread take the worker that
  a waiting one was woken for) of the client served longest ago, oldest first, so a client with many queries
  waiting does not make a client with one wait behind all of them; when the waiting places are all taken,
  a newcomer from a client with fewer waiting takes the place of the newest request of the client with the
  most. The web layer names the client (:data:`fwgraph.store.engine.ASKING`). A request
  takes one, sends the query and waits for
  the answer with a socket timeout equal to the time limit. On timeout it SIGKILLs the worker
  (the zygote reaps it) and forks a replacement; a worker that died is replaced the same way; a
  zygote that died is restarted.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import queue
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import weakref
from collections import OrderedDict, deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fwgraph.core.errors import QueryError, ServiceBusy, TimeLimitExceeded, WorkerFailed, WorkStopped
from fwgraph.core.settings import Settings, activate, active
from fwgraph.data.querycheck import shape
from fwgraph.store.engine import ASKING, TIME_LIMIT, Answer, Bindings, bound

_FRAME = struct.Struct("!II")  # header length, body length


# ---------------------------------------------------------------------------------------------- framing

def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        k = sock.recv_into(view[got:], n - got)
        if k == 0:
            raise EOFError("peer closed the connection")
        got += k
    return bytes(buf)


def _send(sock: socket.socket, header: dict[str, Any], body: bytes = b"") -> None:
    head = json.dumps(header, separators=(",", ":")).encode("utf-8")
    sock.sendall(_FRAME.pack(len(head), len(body)) + head + body)


_HEAD_ROOM = 64 * 1024  # a header's bytes beyond the body's cap (messages, content type)


def _recv(sock: socket.socket, max_bytes: int | None = None) -> tuple[dict[str, Any], bytes]:
    hlen, blen = _FRAME.unpack(_recv_exact(sock, _FRAME.size))
    if max_bytes is not None and (blen > max_bytes or hlen > _HEAD_ROOM):  # never from a sound worker
        raise ValueError(f"a worker sent {blen} bytes, over the cap of {max_bytes}")
    head = json.loads(_recv_exact(sock, hlen))
    body = _recv_exact(sock, blen) if blen else b""
    return head, body


# ---------------------------------------------------------------------------------------------- worker

def isolate() -> dict[str, bool]:
    """Defence in depth for a worker process: no network, no subprocesses, bounded memory.

    The query text has already been checked (no SERVICE, no FROM, no update); this guards what the
    checks might miss. Each step is best effort: where the kernel refuses, the others still apply.
    """
    done = {"netns": False, "audit": False, "rlimit": False}
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        # At most two malloc arenas: glibc reserves 64 MiB of address space per arena, one per thread by default,
        # so the threads of the engine (RocksDB, rayon) could exhaust the address-space cap below without using
        # the memory, and a thread then failed to start ("Resource temporarily unavailable": the process died).
        libc.mallopt(-8, 2)  # M_ARENA_MAX
        clone_newnet, clone_newuser = 0x40000000, 0x10000000
        if libc.unshare(clone_newnet) == 0 or libc.unshare(clone_newuser | clone_newnet) == 0:
            done["netns"] = True  # a fresh network namespace: no interface is up, not even loopback
    except Exception:  # noqa: BLE001  (ctypes missing, seccomp, ...)
        pass
    try:
        import resource

        memory = active().query_worker_memory  # a runaway query dies, not the host
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        done["rlimit"] = True
    except (ImportError, ValueError, OSError):
        pass

    denied = ("socket.connect", "socket.getaddrinfo", "socket.gethostbyname", "urllib.Request",
              "subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.fork")

    def _hook(event: str, args: tuple[Any, ...]) -> None:
        if event in denied:
            raise PermissionError(f"{event} is not allowed in a query worker")

    sys.addaudithook(_hook)
    done["audit"] = True
    return done


def _evaluate(engine: Any, text: str, max_rows: int, fmt: str, form: str | None = None,
              max_bytes: int | None = None) -> tuple[dict[str, Any], bytes]:
    from fwgraph.data.querycheck import PreparedQuery, prepare

    try:  # the web process has checked the query already when it sends its form
        prepared: PreparedQuery = PreparedQuery(text, form) if form else prepare(text)
        native = _native(engine, prepared, max_rows, fmt, max_bytes)
        if native is not None:
            return {"s": 200, "t": native[0], "tr": False}, native[1]
        answer = engine.execute(prepared, max_rows=max_rows, fmt=fmt, max_bytes=max_bytes)
    except QueryError as exc:
        return {"s": 400, "m": exc.message, "l": exc.line, "c": exc.column}, b""
    except MemoryError:
        return {"s": 500, "m": "the query needed more memory than a query worker may use"}, b""
    except OSError:  # pyoxigraph's I/O errors: a SERVICE call that got past the checks, found no network
        return {"s": 400, "m": _NO_IO}, b""
    except Exception as exc:  # noqa: BLE001  (an engine error must not kill the worker)
        return {"s": 500, "m": f"query evaluation failed: {type(exc).__name__}: {exc}"}, b""
    if answer.status != 200:
        return {"s": answer.status, "m": answer.message, "l": answer.line, "c": answer.column}, b""
    return {"s": 200, "t": answer.content_type, "tr": answer.truncated, "cb": answer.cut_bytes}, answer.body


class _Capped(io.RawIOBase):
    """A sink for the engine's serialiser that refuses more than ``limit`` bytes (it stops the serialiser)."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.parts: list[bytes] = []
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.size += len(data)
        if self.limit is not None and self.size > self.limit:
            raise OverflowError("over the byte cap")
        self.parts.append(bytes(data))
        return len(data)


#: The one answer to any I/O the engine attempted for a query. A SERVICE call can only get here past the
#: checks, and the worker has no network: the message is the same whether a connection was tried or refused,
#: so it tells nobody whether the call ran.
_NO_IO = "the query needs something outside the dataset (federated queries are disabled here)"
_EMPTY_STORE: list[Any] = []


def _parse(text: str, base_iri: str) -> dict[str, Any]:
    """Whether ``text`` parses: pyoxigraph parses (and plans, and for ASK evaluates) it on an empty store,
    here in a killable worker with its time and memory limits, never in the web process. For a SELECT query, the
    variables its answer has ("v"), as the embedded engine answers them (what a store's answer is read back to)."""
    import pyoxigraph as ox

    from fwgraph.core.namespace import PREFIXES
    from fwgraph.store.engine import parser_error

    if not _EMPTY_STORE:
        _EMPTY_STORE.append(ox.Store())
    try:
        result = _EMPTY_STORE[0].query(text, base_iri=base_iri or None, prefixes=PREFIXES)
    except SyntaxError as exc:
        error = parser_error(exc, text)
        return {"s": 400, "m": error.message, "l": error.line, "c": error.column}
    except Exception:  # noqa: BLE001  (an evaluation error is no syntax error)
        return {"s": 200}
    if isinstance(result, ox.QuerySolutions):
        return {"s": 200, "v": [v.value for v in result.variables]}
    return {"s": 200}


def _native(engine: Any, prepared: Any, max_rows: int, fmt: str,
            max_bytes: int | None = None) -> tuple[str, bytes] | None:
    """Oxigraph's own serialiser for SELECT results, with no Python row in between: directly when a final
    LIMIT keeps the result under the row cap; otherwise on the query bounded to one row over the cap, kept
    when it has no more rows than the cap (more: the general path cuts and flags the result)."""
    from fwgraph.core import formats
    from fwgraph.core.namespace import PREFIXES
    from fwgraph.data.querycheck import bounded
    from fwgraph.store.results import row_count

    store = getattr(engine, "store", None)
    native = formats.by_name(fmt, formats.RESULT_FORMATS)
    if prepared.form != "select" or native is None or store is None:
        return None
    plan = bounded(prepared.text, max_rows)
    if plan is None:
        return None
    text, exact = plan  # exact: the query itself returns no more rows than the cap
    try:
        solutions = store.query(text, base_iri=getattr(engine, "base_iri", None), prefixes=PREFIXES)
    except SyntaxError:
        return None  # the general path reports the error with its position
    sink = _Capped(max_bytes)  # past the byte cap the general path cuts the answer to what fits
    try:
        solutions.serialize(sink, format=native.ox_results())
    except OverflowError:
        return None
    body = b"".join(sink.parts)
    if not exact:
        rows = row_count(body, native)
        if rows is None or rows > max_rows:
            return None
    return native.content_type, body


def _worker_loop(sock: socket.socket, engine: Any) -> None:
    try:  # opened before isolation: the audit hook denies opening files afterwards
        statm = os.open("/proc/self/statm", os.O_RDONLY)
    except OSError:
        statm = -1
    isolation = isolate()
    baseline = _private_bytes(statm)
    while True:
        try:
            head, _ = _recv(sock)
        except (EOFError, OSError):
            os._exit(0)
        if head.get("op") == "status":
            _send(sock, {"s": 200, "isolation": isolation, "pid": os.getpid()})
            continue
        cpu = time.process_time()  # what the request cost, whatever else the machine runs: see _Costs
        if head.get("op") == "parse":
            parsed = _parse(head["q"], head.get("b", ""))
            parsed["cpu"] = time.process_time() - cpu
            try:
                _send(sock, parsed)
            except OSError:
                os._exit(0)
            continue
        reply, body = _evaluate(engine, head["q"], int(head["n"]), head["f"], head.get("fm"), head.get("b"))
        reply["cpu"] = time.process_time() - cpu
        retire = statm >= 0 and _private_bytes(statm) > baseline + active().worker_retire_bytes
        if retire:  # a heavy query left this worker large: answer, then make way for a fresh fork
            reply["rt"] = True
        try:
            _send(sock, reply, body)
        except OSError:
            os._exit(0)
        if retire:
            os._exit(0)




def _private_bytes(statm: int) -> int:
    """Resident memory of this process that is not shared (Linux /proc/self/statm, already open), in bytes."""
    try:
        fields = os.pread(statm, 256, 0).split()
        return (int(fields[1]) - int(fields[2])) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, IndexError, ValueError):
        return 0


def _zygote_main(dump: str, fd: int, base_iri: str = "") -> None:
    """Load the store once, then fork a worker for every ``spawn`` request on the control socket."""
    activate(Settings.from_env())  # the pool's, handed over as FWGRAPH_SETTINGS
    ctrl = socket.socket(fileno=fd)
    import fwgraph.data.jsonld  # noqa: F401
    import fwgraph.store.results  # noqa: F401  (imported once here, shared by every worker)
    from fwgraph.store.engine import OxigraphEngine

    # A dump file is loaded here once and shared copy-on-write by the forked workers; an on-disk
    # store (a directory) is opened read-only by each worker after the fork instead, since a
    # RocksDB handle must not cross a fork; its pages are shared through the page cache.
    on_disk = bool(dump) and Path(dump).is_dir()
    if not dump:  # a pool that only parses (in front of a remote store): an empty store
        import pyoxigraph as ox

        engine: OxigraphEngine | None = OxigraphEngine(ox.Store(), base_iri=base_iri)
    else:
        engine = None if on_disk else OxigraphEngine.from_file(dump, base_iri=base_iri)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # workers are reaped automatically
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server's Ctrl-C is the web process's business
    ctrl.sendall(b"R")
    while True:
        try:
            cmd = ctrl.recv(1)
        except OSError:
            cmd = b""
        if not cmd:  # the web process is gone: so are we (workers see EOF on their sockets)
            os._exit(0)
        parent_end, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        pid = os.fork()
        if pid == 0:
            try:
                ctrl.close()
                parent_end.close()
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                _set_pdeathsig()
                _worker_loop(child_end, engine if engine is not None else
                             OxigraphEngine.from_file(dump, base_iri=base_iri))
            finally:
                os._exit(0)
        child_end.close()
        socket.send_fds(ctrl, [struct.pack("!I", pid)], [parent_end.fileno()])
        parent_end.close()


def _set_pdeathsig() -> None:
    """Die with the zygote (Linux): no orphaned worker keeps running a query."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001
        pass


# ---------------------------------------------------------------------------------------------- parent

@dataclass
class _Worker:
    pid: int
    sock: socket.socket

    def kill(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass


class _Waiter:
    """A request waiting for a worker: its lock is released when a worker is handed to it, or when it gives its
    place to another client's request (``displaced``)."""

    __slots__ = ("lock", "worker", "client", "cheap", "heavy", "displaced")

    def __init__(self, client: str, cheap: bool = False, heavy: bool = False) -> None:
        self.lock = threading.Lock()
        self.lock.acquire()
        self.worker: _Worker | None = None
        self.client = client
        self.cheap = cheap
        self.heavy = heavy
        self.displaced = False


class _IdleWorkers:
    """Idle workers, handed to waiting requests client by client (queue.Empty on timeout; queue.Full at once when
    ``max_waiting`` requests wait already, each holding a web thread, and none can give way).

    A freed worker goes to the waiting request, oldest first, of the client that was last handed a worker
    longest ago (never: first): a client with ten queries waiting and a client with one alternate, instead of
    the one waiting behind the ten. When the waiting places are full, a request whose client would then have
    fewer waiting than the client with the most (ties: the one served more recently) takes the place of that
    client's newest request, which is refused (queue.Full) — so however many requests one client sends, every
    other client can still wait its turn. At most ``remembered`` clients' last turns are kept (the oldest are
    forgotten: they count as never served, as a client idle that long is).

    Cheap requests (a query whose shape last took less CPU in a worker than ``Settings.cheap_query_seconds``:
    :class:`_Costs`) have a lane of their own: they are handed a freed worker before any other (oldest first,
    clients taking turns among them too), and when the places are full one takes the place of the newest request
    that is not cheap. They hold a worker for milliseconds, so others wait that much longer at most, while a
    person's quick query no longer waits behind a crowd of slow ones. And heavy requests (a shape that last took
    ``Settings.heavy_query_seconds`` of CPU or more, or was stopped) hold at most ``heavy_limit`` workers at once
    (all but one, when there are two or more): a query run again and again that keeps workers busy for seconds
    leaves one for everyone else (shapes never seen are not held back: a first query is not presumed heavy).
    Requests that are not cheap take at most ``max_slow_waiting`` of the places (by the same turns when full), so
    that cheap ones, many of which wait a moment each, have the rest whatever a crowd of slow ones does.
    """

    def __init__(self, max_waiting: int | None = None, remembered: int = 4096,
                 heavy_limit: int | None = None, max_slow_waiting: int | None = None) -> None:
        self._lock = threading.Lock()
        self._workers: deque[_Worker] = deque()
        self._waiters: list[_Waiter] = []  # in order of arrival
        self._turns: OrderedDict[str, int] = OrderedDict()  # client -> when last handed a worker (a count)
        self._turn = 0
        self._heavy = 0  # workers held by heavy requests
        self.max_waiting = max_waiting
        self.max_slow_waiting = max_slow_waiting  # of the places, those requests that are not cheap may take
        self.remembered = remembered
        self.heavy_limit = heavy_limit

    def _may_take(self, heavy: bool) -> bool:
        return not heavy or self.heavy_limit is None or self._heavy < self.heavy_limit

    def _served(self, client: str) -> None:
        self._turn += 1
        self._turns.pop(client, None)
        self._turns[client] = self._turn
        while len(self._turns) > self.remembered:
            self._turns.popitem(last=False)

    def put(self, worker: _Worker, heavy: bool = False) -> None:
        """``worker`` is idle: a fresh one, or one given back by the request it was handed to (``heavy``: a heavy
        request's, so heavy requests hold one fewer)."""
        with self._lock:
            if heavy:
                self._heavy -= 1
            self._workers.append(worker)
            self._hand_out()

    def forget(self, heavy: bool) -> None:
        """A worker handed to a request will not come back (killed, died, retired: its replacement is put)."""
        if heavy:
            with self._lock:
                self._heavy -= 1
                self._hand_out()

    def _hand_out(self) -> None:
        """Idle workers to waiting requests that may take them: a cheap request first; then the oldest of the
        client served longest ago (min keeps the first of equals)."""
        while self._workers:
            waiting = [w for w in self._waiters if self._may_take(w.heavy)]
            if not waiting:
                return
            waiter = min(waiting, key=lambda w: (not w.cheap, self._turns.get(w.client, 0)))
            self._waiters.remove(waiter)
            self._served(waiter.client)
            if waiter.heavy:
                self._heavy += 1
            waiter.worker = self._workers.popleft()
            waiter.lock.release()

    def _displace(self, client: str, cheap: bool) -> bool:
        """Make room for ``client``'s request by refusing the newest request of the client with the most waiting,
        when that client would still have more (or as many, served more recently) than ``client``. A slow
        request never takes a cheap one's place; a cheap one takes a slow one's whatever the counts (and
        another cheap one's by the counts when none waits)."""
        slow = [w for w in self._waiters if not w.cheap]
        if slow:
            return self._give_way(slow, client, cheap)
        return cheap and self._give_way(self._waiters, client, False)

    def _give_way(self, among: list[_Waiter], client: str, cheap: bool) -> bool:
        """Refuse the newest request in ``among`` of its client with the most (see :meth:`_displace`)."""
        counts: dict[str, int] = {}
        newest: dict[str, int] = {}  # where each client's newest request stands (ties: the latest arrival gives way)
        for at, w in enumerate(among):
            counts[w.client] = counts.get(w.client, 0) + 1
            newest[w.client] = at
        heaviest = max(counts, key=lambda c: (counts[c], self._turns.get(c, 0), newest[c]))
        mine = (counts.get(client, 0) + 1, self._turns.get(client, 0))
        if not cheap and (counts[heaviest], self._turns.get(heaviest, 0)) <= mine:
            return False
        giving_way = among[newest[heaviest]]
        self._waiters.remove(giving_way)
        giving_way.displaced = True
        giving_way.lock.release()
        return True

    def get(self, timeout: float, client: str = "", cheap: bool = False, heavy: bool = False) -> _Worker:
        with self._lock:
            if self._workers and self._may_take(heavy):  # then no request waits that may take it: see _hand_out
                self._served(client)
                if heavy:
                    self._heavy += 1
                return self._workers.popleft()
            if self.max_waiting is not None and len(self._waiters) >= self.max_waiting and \
                    not self._displace(client, cheap):
                raise queue.Full
            if not cheap and self.max_slow_waiting is not None:
                slow = [w for w in self._waiters if not w.cheap]
                if len(slow) >= self.max_slow_waiting and not self._give_way(slow, client, False):
                    raise queue.Full
            waiter = _Waiter(client, cheap, heavy)
            self._waiters.append(waiter)
        waiter.lock.acquire(timeout=max(0.0, timeout))
        with self._lock:
            if waiter.worker is not None:  # handed over, possibly just as the wait timed out
                return waiter.worker
            if waiter.displaced:
                raise queue.Full
            self._waiters.remove(waiter)
        raise queue.Empty

    def get_nowait(self) -> _Worker:
        with self._lock:
            if not self._workers:
                raise queue.Empty
            return self._workers.popleft()

    def empty(self) -> bool:
        return not self._workers




class _Costs:
    """The CPU time each request's shape (:func:`fwgraph.data.querycheck.shape` of its query, and its other parameters)
    last took in a worker (the time limit when it was stopped or killed the worker), for the ``remembered`` most
    recent shapes: what the pool knows of a query's cost before running it. CPU time, not wall time: a loaded
    machine makes every query slow to answer, not every query expensive. Shapes are kept as digests, so what
    is remembered is bounded in bytes too."""

    def __init__(self, cheap: float, heavy: float, remembered: int) -> None:
        self._lock = threading.Lock()
        self._seconds: OrderedDict[bytes, float] = OrderedDict()
        self.cheap_below, self.heavy_from, self.remembered = cheap, heavy, remembered

    @staticmethod
    def key(request: dict[str, Any], shape_of_q: str | None = None) -> bytes:
        """The digest of ``request``'s shape: ``shape_of_q`` when the caller has it (its query was lexed once, by
        :func:`fwgraph.data.querycheck.prepare`), else the query's shape read here."""
        others = json.dumps({k: v for k, v in request.items() if k != "q"}, sort_keys=True)
        if shape_of_q is None:
            shape_of_q = shape(str(request.get("q", "")))
        return hashlib.blake2b((others + "\0" + shape_of_q).encode(), digest_size=16).digest()

    def cheap(self, key: bytes) -> bool:
        return self.judge(key)[0]

    def judge(self, key: bytes) -> tuple[bool, bool]:
        """Whether the shape ``key`` is cheap, and whether it is heavy (neither when never seen)."""
        with self._lock:
            seconds = self._seconds.get(key)
        return seconds is not None and seconds < self.cheap_below, seconds is not None and seconds >= self.heavy_from

    def note(self, key: bytes, seconds: float) -> None:
        with self._lock:
            self._seconds.pop(key, None)
            self._seconds[key] = seconds
            while len(self._seconds) > self.remembered:
                self._seconds.popitem(last=False)


class WorkerPool:
    """``size`` killable query workers forked from one zygote that holds the loaded store; what is not given is
    taken from ``settings`` (default: the active ones): QUERY_WORKERS, QUERY_TIMEOUT, the waiting places."""

    def __init__(self, dump: Path | str, size: int | None = None, *, timeout: float | None = None,
                 startup_timeout: float = 120.0, base_iri: str = "", max_waiting: int | None = None,
                 settings: Settings | None = None) -> None:
        self.settings = settings or active()  # the zygote's and its workers' (memory cap, retirement)
        self.dump = str(dump)
        self.base_iri = base_iri
        self.size = max(1, int(self.settings.query_workers if size is None else size))
        self.timeout = float(self.settings.query_timeout if timeout is None else timeout)
        self.startup_timeout = startup_timeout
        waiting = self.settings.waiting_slots if max_waiting is None else max_waiting
        # heavy requests hold all workers but one: the last is kept for everyone else (see _IdleWorkers)
        remembered = self.settings.query_costs_remembered
        self._idle = _IdleWorkers(waiting, remembered, heavy_limit=self.size - 1 if self.size > 1 else None,
                                  max_slow_waiting=min(waiting, self.settings.slow_waiting_slots))
        self._costs = _Costs(self.settings.cheap_query_seconds, self.settings.heavy_query_seconds, remembered)
        self._ctrl_lock = threading.Lock()
        self._ready = threading.Event()
        self._closed = False
        self._start_error: BaseException | None = None
        self._zygote: subprocess.Popen[bytes] | None = None
        self._ctrl: socket.socket | None = None
        self.stats = {"spawned": 0, "killed": 0, "died": 0, "retired": 0, "zygote_starts": 0}
        self._handles: dict[str, Any] = {}  # what the finalizer closes (kept current across restarts)
        self._launch_zygote()
        threading.Thread(target=self._fill, name="fwgraph-pool-start", daemon=True).start()
        self._finalizer = weakref.finalize(self, WorkerPool._shutdown, self._handles)

    # -- lifecycle

    def _start_zygote(self) -> None:
        self._launch_zygote()
        self._await_zygote()

    def _launch_zygote(self) -> None:
        """Start the zygote process (it loads the store in the background of this process)."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        env = {**os.environ, **self.settings.environ()}
        self._zygote = subprocess.Popen(
            [sys.executable, "-c", "import sys; from fwgraph.store.pool import _zygote_main; "
             "_zygote_main(sys.argv[1], int(sys.argv[2]), sys.argv[3])", self.dump, str(theirs.fileno()),
             self.base_iri],
            pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, env=env, close_fds=True)
        theirs.close()
        self._ctrl = ours
        self._handles.update(ctrl=ours, zygote=self._zygote)
        self.stats["zygote_starts"] += 1

    def _await_zygote(self) -> None:
        ours = self._ctrl
        assert ours is not None and self._zygote is not None
        ours.settimeout(self.startup_timeout)
        try:
            ready = ours.recv(1)
        finally:
            ours.settimeout(None)
        if ready != b"R":
            raise RuntimeError(f"the query worker zygote failed to start (exit code {self._zygote.poll()})")

    def _fill(self) -> None:
        try:
            self._await_zygote()
            for _ in range(self.size):
                self._idle.put(self._spawn())
        except BaseException as exc:  # noqa: BLE001  (reported to the first request that waits)
            self._start_error = exc
        finally:
            self._ready.set()

    def _spawn(self) -> _Worker:
        with self._ctrl_lock:
            for attempt in range(2):
                try:
                    assert self._ctrl is not None
                    self._ctrl.sendall(b"S")
                    msg, fds, _flags, _addr = socket.recv_fds(self._ctrl, 4, 1)
                    if len(msg) != 4 or not fds:
                        raise EOFError("zygote closed")
                    self.stats["spawned"] += 1
                    return _Worker(pid=struct.unpack("!I", msg)[0], sock=socket.socket(fileno=fds[0]))
                except (OSError, EOFError):
                    if attempt:
                        raise
                    self._restart_zygote()
        raise RuntimeError("unreachable")

    def _restart_zygote(self) -> None:
        if self._zygote is not None:
            self._zygote.kill()
            self._zygote.wait()
        if self._ctrl is not None:
            self._ctrl.close()
        self._start_zygote()

    def _replace(self, worker: _Worker, heavy: bool) -> None:
        """Kill ``worker`` (handed to a request, heavy or not) and put a fresh one in its place."""
        worker.kill()
        self._idle.forget(heavy)
        if self._closed:
            return
        try:
            self._idle.put(self._spawn())
        except (OSError, EOFError, RuntimeError):
            # Try again on the next request rather than shrinking the pool for good.
            threading.Thread(target=self._retry_spawn, daemon=True).start()

    def _retry_spawn(self) -> None:
        for _ in range(10):
            time.sleep(0.5)
            try:
                self._idle.put(self._spawn())
                return
            except (OSError, EOFError, RuntimeError):
                continue

    @staticmethod
    def _shutdown(handles: dict[str, Any]) -> None:
        ctrl, zygote = handles.get("ctrl"), handles.get("zygote")
        if ctrl is not None:
            try:
                ctrl.close()  # the zygote sees EOF and exits; its workers die with it (PDEATHSIG)
            except OSError:
                pass
        if zygote is not None:
            try:
                zygote.wait(timeout=2)
            except subprocess.TimeoutExpired:
                zygote.kill()

    def close(self) -> None:
        self._closed = True
        while True:
            try:
                self._idle.get_nowait().kill()
            except queue.Empty:
                break
        self._finalizer()

    # -- requests

    def _acquire(self, wait: float, cheap: bool = False, heavy: bool = False) -> _Worker:
        if not self._ready.wait(self.startup_timeout):
            raise ServiceBusy("the query workers are still starting")
        if self._start_error is not None and self._idle.empty():
            raise WorkerFailed(f"the query workers could not be started: {self._start_error}")
        try:
            return self._idle.get(timeout=wait, client=ASKING.get(), cheap=cheap, heavy=heavy)
        except queue.Empty:
            raise ServiceBusy(f"all {self.size} query workers are busy; try again shortly") from None
        except queue.Full:
            raise ServiceBusy(f"all {self.size} query workers are busy and {self._idle.max_waiting} requests are "
                              "waiting for one, no fewer of them yours than any other client's; try again "
                              "shortly") from None

    def execute(self, text: str, *, max_rows: int, fmt: str, timeout: float | None = None,
                wait: float | None = None, form: str | None = None, max_bytes: int | None = None,
                shape: str | None = None) -> Answer:
        """Evaluate ``text`` in a worker and return the serialised answer, or raise TimeLimitExceeded. ``shape``:
        the text's (:func:`fwgraph.data.querycheck.shape`) when the caller has it (``PreparedQuery.shape``)."""
        head, body = self._call({"q": text, "n": max_rows, "f": fmt, "fm": form, "b": max_bytes}, timeout, wait,
                                max_bytes, shape)
        status = int(head["s"])
        if status != 200:
            return Answer(status=status, content_type="", body=b"", message=head.get("m"),
                          line=head.get("l"), column=head.get("c"))
        return Answer(status=200, content_type=head["t"], body=body, truncated=bool(head.get("tr")),
                      cut_bytes=bool(head.get("cb")))

    def check(self, text: str, *, timeout: float | None = None, shape: str | None = None) -> QueryError | None:
        """The parser's error for ``text`` (with line and column), or None when it parses; decided in a worker
        under the time limit (pyoxigraph plans, and for ASK evaluates, what it parses)."""
        return self.parse(text, timeout=timeout, shape=shape)[0]

    def parse(self, text: str, *, timeout: float | None = None,
              shape: str | None = None) -> tuple[QueryError | None, list[str] | None]:
        """The parser's error for ``text``, or None; and for a SELECT query that parses, its answer's variables."""
        head, _ = self._call({"op": "parse", "q": text, "b": self.base_iri}, timeout, None, shape=shape)
        if int(head["s"]) == 200:
            return None, head.get("v")
        return QueryError(head.get("m") or "syntax error", line=head.get("l"), column=head.get("c")), None

    def _call(self, request: dict[str, Any], timeout: float | None, wait: float | None,
              max_bytes: int | None = None, shape: str | None = None) -> tuple[dict[str, Any], bytes]:
        """One request to an idle worker and its answer, within the time limit (the worker is killed past it): the
        block's own (:func:`fwgraph.store.engine.own_time_limit`), else the pool's."""
        limit = timeout if timeout is not None else TIME_LIMIT.get() or self.timeout
        key = self._costs.key(request, shape)
        cheap, heavy = self._costs.judge(key)
        worker = self._acquire(limit if wait is None else wait, cheap, heavy)
        try:
            _send(worker.sock, request)
        except OSError:  # the idle worker had died: replace it and try once more on a fresh one
            self.stats["died"] += 1
            self._replace(worker, heavy)
            worker = self._acquire(limit if wait is None else wait, cheap, heavy)
            try:
                _send(worker.sock, request)
            except OSError:
                self.stats["died"] += 1
                self._replace(worker, heavy)
                raise ServiceBusy("no query worker could be reached (fresh ones are starting); try again "
                                  "shortly") from None
        started = time.monotonic()
        try:
            worker.sock.settimeout(limit)
            head, body = _recv(worker.sock, None if max_bytes is None else max_bytes + _HEAD_ROOM)
            worker.sock.settimeout(None)
        except TimeoutError:
            self.stats["killed"] += 1
            self._costs.note(key, limit)
            self._replace(worker, heavy)
            raise TimeLimitExceeded(limit) from None
        except (OSError, EOFError, ValueError):
            self.stats["died"] += 1
            self._costs.note(key, limit)
            self._replace(worker, heavy)
            raise WorkStopped("the query stopped the worker evaluating it: it needed more than a query worker's "
                               "memory allowance, or the query engine crashed on it; simplify the query or add a "
                               "LIMIT") from None
        self._costs.note(key, float(head.get("cpu", time.monotonic() - started)))
        if head.get("rt"):  # the worker retires after this answer: fork a fresh one in its place
            self.stats["retired"] += 1
            self._replace(worker, heavy)
        else:
            self._idle.put(worker, heavy=heavy)
        return head, body

    def worker_status(self) -> dict[str, Any]:
        """Ask one worker how it is isolated (for tests and diagnostics)."""
        worker = self._acquire(self.timeout)
        try:
            _send(worker.sock, {"op": "status"})
            worker.sock.settimeout(self.timeout)
            head, _ = _recv(worker.sock)
            worker.sock.settimeout(None)
        except (OSError, EOFError, ValueError):
            self._replace(worker, False)
            raise
        self._idle.put(worker)
        return head


class PooledEngine:
    """The Engine interface over a WorkerPool, plus ``execute``: the fast path that returns bytes."""

    def __init__(self, pool: WorkerPool, version: str = "") -> None:
        self.pool = pool
        self.version = version

    @classmethod
    def start(cls, dump: Path | str, *, workers: int | None = None, timeout: float | None = None, base_iri: str = "",
              version: str = "", max_waiting: int | None = None, settings: Settings | None = None) -> PooledEngine:
        """A pool of ``workers`` (default: the settings', as every limit not given)."""
        return cls(WorkerPool(dump, workers, timeout=timeout, base_iri=base_iri, max_waiting=max_waiting,
                              settings=settings), version=version)

    @property
    def timeout(self) -> float:
        return self.pool.timeout

    def execute(self, query: Any, *, max_rows: int, fmt: str, max_bytes: int | None = None) -> Answer:
        return self.pool.execute(query.text, max_rows=max_rows, fmt=fmt, form=query.form, max_bytes=max_bytes,
                                 shape=query.shape)

    def check(self, query: Any) -> QueryError | None:
        return self.pool.check(query.text, shape=query.shape)

    def query(self, query: Any, *, max_rows: int, bindings: Bindings | None = None) -> Any:
        """Run ``query`` in a worker and read its answer back as a QueryResult (pyoxigraph terms); ``bindings``
        sent as a VALUES clause written by pyoxigraph (:func:`fwgraph.store.engine.bound`)."""
        from fwgraph.store.results import result_from_bytes

        query = bound(query, bindings)
        answer = self.pool.execute(query.text, max_rows=max_rows, fmt="nt" if query.is_graph else "json",
                                   form=query.form, shape=query.shape)
        if answer.status != 200:
            raise QueryError(answer.message or "query failed", line=answer.line, column=answer.column)
        return result_from_bytes(query.form, answer.body, truncated=answer.truncated)

    def close(self) -> None:
        self.pool.close()
