"""Run one job (a contribution's validation) in a killable child process with a time and a memory limit.

Parsing and SHACL validation of user input are CPU- and memory-hungry and partly recursive; in the web
process a crafted contribution could hold the GIL for minutes, exhaust memory or overflow a stack. Here
each job runs in a process forked from a forkserver that has the libraries imported already, isolated
like a query worker (no network, bounded address space); past its time limit it is killed, and a crash
costs only that job. A FairQueue bounds how many jobs run at once and hands the slots out first come, first
served, at most one per client at a time: a client looping on its jobs cannot keep the slots from others
(the slot used to go to whoever asked the moment it was freed). A job waits a bounded time for its turn
(none by default), then is refused with ServiceBusy (503 with Retry-After), or ClientBusy (429) when it is
the client's own work that keeps it out.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from fwgraph.core.errors import ClientBusy, ServiceBusy, TimeLimitExceeded, WorkerFailed, WorkStopped
from fwgraph.core.settings import Settings, activate, active

_PRELOAD = ["fwgraph.publish.validation", "fwgraph.data.graph", "pyshacl", "rdflib", "pyoxigraph",
            "fwgraph.publish.sandbox"]
#: Set only while the forkserver starts: the build whose validation context it prepares (see ``_warm``). Not a
#: setting: the forkserver's only inputs are its command line, which multiprocessing writes itself (the names of
#: the modules to preload, the parent's main path and sys.path, in CPython 3.11), and the environment it
#: inherits; its preloading is its only code that runs before the first job, so the build can reach it only by
#: the environment, and the module it preloads can act on it only as it is imported (``_warm()`` at the end).
_WARM_ENV = "FWGRAPH_SANDBOX_WARM"
_context_lock = threading.Lock()
_context: Any = None


def _ctx(warm: str | None = None) -> Any:
    """The forkserver context; the first call starts the forkserver, prepared for ``warm`` (a build) if given."""
    global _context
    with _context_lock:
        if _context is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(_PRELOAD)
            if warm:
                import multiprocessing.forkserver as forkserver
                import os

                os.environ[_WARM_ENV] = warm
                try:
                    forkserver.ensure_running()
                finally:
                    del os.environ[_WARM_ENV]
            _context = context
        return _context


def _warm() -> None:
    """In the forkserver, as it preloads this module: prepare the validation context of the build named in
    the environment (parsed vocabulary and shapes, compiled constraints), which every job then inherits.
    A failure only costs the speed-up: each job prepares what it needs itself."""
    import os

    dist = os.environ.pop(_WARM_ENV, None)
    if dist and multiprocessing.parent_process() is None:
        try:
            from fwgraph.publish.validation import warm

            warm(dist)
        except Exception:  # noqa: BLE001, S110  (the forkserver must start whatever happens here)
            pass


def _child(conn: Any, func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], memory: int,
           settings: Settings) -> None:
    import resource

    from fwgraph.store.pool import isolate

    activate(settings)  # the bounds library code checks (contribution nesting) are the web process's

    try:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    except (ValueError, OSError):
        pass
    isolate()
    try:
        conn.send(("ok", func(*args, **kwargs)))
    except MemoryError:
        conn.send(("error", "the job needed more memory than it may use"))
    except BaseException as exc:  # noqa: BLE001  (reported to the caller, never raised here)
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


class _Ticket:
    """One request waiting for a slot (compared by identity)."""

    def __init__(self, client: str | None) -> None:
        self.client = client


class FairQueue:
    """``slots`` at once, granted first come, first served, at most ``per_client`` to one client at a time.

    A request whose client has its share running waits behind the other clients' requests, however many it
    sends; a client may have one request waiting (another is refused at once). A request waits at most ``wait``
    seconds, then is refused: ClientBusy when its client has its share running, ServiceBusy otherwise. The
    client None (anonymous, or exempt) has no share: its requests only keep their place in the queue.
    """

    def __init__(self, slots: int, *, wait: float = 0.0, per_client: int = 1) -> None:
        self.slots = max(1, int(slots))
        self.wait = max(0.0, float(wait))
        self.per_client = max(1, int(per_client))
        self._changed = threading.Condition()
        self._queue: list[_Ticket] = []  # waiting, oldest first
        self._running: dict[str | None, int] = {}
        self._busy = 0

    @property
    def waiting(self) -> int:
        """Requests waiting for a slot now."""
        with self._changed:
            return len(self._queue)

    @contextmanager
    def slot(self, client: str | None) -> Iterator[None]:
        """Hold a slot for ``client`` for the block (ClientBusy or ServiceBusy when none came in time)."""
        self._take(client)
        try:
            yield
        finally:
            with self._changed:
                self._busy -= 1
                self._running[client] -= 1
                if not self._running[client]:
                    del self._running[client]  # the table holds running clients only
                self._changed.notify_all()

    def _take(self, client: str | None) -> None:
        with self._changed:
            if client is not None and any(t.client == client for t in self._queue):
                raise ClientBusy("you already have a validation waiting for its turn; send the next one when it "
                                 "has been answered")
            ticket = _Ticket(client)
            self._queue.append(ticket)
            deadline = time.monotonic() + self.wait
            while not self._granted(ticket):
                left = deadline - time.monotonic()
                if left <= 0:
                    self._queue.remove(ticket)
                    self._changed.notify_all()  # the request behind this one may be first now
                    raise self._refusal(client)
                self._changed.wait(left)
            self._queue.remove(ticket)
            self._busy += 1
            self._running[client] = self._running.get(client, 0) + 1
            self._changed.notify_all()  # a free slot may now be the next eligible request's

    def _granted(self, ticket: _Ticket) -> bool:
        """True when a slot is free and ``ticket`` is the oldest request whose client is under its share."""
        if self._busy >= self.slots:
            return False
        first = next((t for t in self._queue if not self._has_share(t.client)), None)
        return first is ticket

    def _has_share(self, client: str | None) -> bool:
        return client is not None and self._running.get(client, 0) >= self.per_client

    def _refusal(self, client: str | None) -> ServiceBusy:
        if self._has_share(client):
            return ClientBusy(f"you already have {self.per_client} validation(s) running; send the next one when "
                              "it has been answered")
        return ServiceBusy(f"all {self.slots} validation slot(s) are busy; try again shortly")


class Sandbox:
    """At most ``slots`` jobs at once (a FairQueue, waiting up to ``wait`` seconds for a slot), each in its own
    killable process with ``timeout`` and ``memory``; what is not given is ``settings``' validation limits
    (VALIDATE_CONCURRENCY, VALIDATE_TIMEOUT, VALIDATE_MEMORY, VALIDATE_WAIT; default: the active settings),
    and the job's library code checks against ``settings`` too."""

    def __init__(self, *, slots: int | None = None, timeout: float | None = None, memory: int | None = None,
                 warm: str | None = None, wait: float | None = None, settings: Settings | None = None) -> None:
        self.settings = limits = settings or active()
        self.warm = warm  # a build whose validation context the forkserver prepares for every job
        self.slots = max(1, limits.validate_concurrency if slots is None else slots)
        self.timeout = limits.validate_timeout if timeout is None else timeout
        self.memory = limits.validate_memory if memory is None else memory
        self.queue = FairQueue(self.slots, wait=limits.validate_wait if wait is None else wait)

    def start(self) -> None:
        """Start the forkserver now (it prepares in the background), so that the first job does not wait for it."""
        _ctx(self.warm)

    def run(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``func(*args, **kwargs)`` in a child process: its (picklable) return value (see :meth:`run_for`)."""
        return self.run_for(None, func, *args, **kwargs)

    def run_for(self, client: str | None, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``func(*args, **kwargs)`` in a child process for ``client`` (None: no per-client share).

        Raises ServiceBusy when no slot came in time (ClientBusy when the client's own job holds its share),
        TimeLimitExceeded past the limit, WorkStopped when the process dies (memory allowance, crash),
        WorkerFailed when the job raised.
        """
        with self.queue.slot(client):
            return self._run(func, args, kwargs)

    def _run(self, func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        ctx = _ctx(self.warm)
        parent, child = ctx.Pipe(duplex=False)
        process = ctx.Process(target=_child, args=(child, func, args, kwargs, self.memory, self.settings), daemon=True)
        process.start()
        child.close()
        try:
            if not parent.poll(self.timeout):
                process.kill()
                raise TimeLimitExceeded(self.timeout, "validation")
            try:
                status, value = parent.recv()
            except (EOFError, OSError):
                raise WorkStopped("the job's process stopped without an answer (memory limit or crash)") from None
        finally:
            parent.close()
            if process.is_alive():
                process.kill()
            process.join(5)
        if status != "ok":
            raise WorkerFailed(value)
        return value


_warm()  # a no-op unless this is the forkserver preloading this module with _WARM_ENV set (see there)
