"""Run one job (a contribution's validation) in a killable child process with a time and a memory limit.

Parsing and SHACL validation of user input are CPU- and memory-hungry and partly recursive; in the web
process a crafted contribution could hold the GIL for minutes, exhaust memory or overflow a stack. Here
each job runs in a process forked from a forkserver that has the libraries imported already, isolated
like a query worker (no network, bounded address space); past its time limit it is killed, and a crash
costs only that job. A semaphore bounds how many jobs run at once; a job that finds no free slot is
refused at once with ServiceBusy (the caller answers 503 with Retry-After) instead of queueing without bound.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable
from typing import Any

from fwgraph.errors import ServiceBusy, TimeLimitExceeded, WorkerFailed, WorkStopped

_PRELOAD = ["fwgraph.validation", "fwgraph.graph", "pyshacl", "rdflib", "pyoxigraph", "fwgraph.sandbox"]
#: Set only while the forkserver starts: the build whose validation context it prepares (see ``_warm``).
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
            from fwgraph.validation import warm

            warm(dist)
        except Exception:  # noqa: BLE001, S110  (the forkserver must start whatever happens here)
            pass


def _child(conn: Any, func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], memory: int) -> None:
    import resource

    from fwgraph.pool import isolate

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


class Sandbox:
    """At most ``slots`` jobs at once, each in its own killable process with ``timeout`` and ``memory``."""

    def __init__(self, *, slots: int = 1, timeout: float = 20.0, memory: int = 1024 ** 3,
                 warm: str | None = None) -> None:
        self.warm = warm  # a build whose validation context the forkserver prepares for every job
        self.slots = max(1, int(slots))
        self.timeout = float(timeout)
        self.memory = int(memory)
        self._free = threading.BoundedSemaphore(self.slots)

    def start(self) -> None:
        """Start the forkserver now (it prepares in the background), so that the first job does not wait for it."""
        _ctx(self.warm)

    def run(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``func(*args, **kwargs)`` in a child process: its (picklable) return value.

        Raises ServiceBusy when no slot is free, TimeLimitExceeded past the limit, WorkStopped when the process
        dies (memory allowance, crash), WorkerFailed when the job raised.
        """
        if not self._free.acquire(blocking=False):
            raise ServiceBusy(f"all {self.slots} validation slot(s) are busy; try again shortly")
        try:
            return self._run(func, args, kwargs)
        finally:
            self._free.release()

    def _run(self, func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        ctx = _ctx(self.warm)
        parent, child = ctx.Pipe(duplex=False)
        process = ctx.Process(target=_child, args=(child, func, args, kwargs, self.memory), daemon=True)
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


_warm()
