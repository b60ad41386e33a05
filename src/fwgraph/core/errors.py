"""Exceptions the library raises, each carrying what a user needs to fix the problem."""

from __future__ import annotations


class FwgraphError(Exception):
    """Base class of fwgraph's errors."""


class InputError(FwgraphError):
    """An input (Turtle, JSON-LD, a query) cannot be read or parsed; says where."""

    def __init__(self, message: str, *, source: str | None = None, line: int | None = None,
                 column: int | None = None) -> None:
        self.message = message
        self.source = source
        self.line = line
        self.column = column
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.source or "<input>"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {self.message}"

    def as_dict(self) -> dict[str, object]:
        return {"error": "parse error", "message": self.message, "source": self.source,
                "line": self.line, "column": self.column}


class QueryError(InputError):
    """A SPARQL query is malformed or asks for something this service refuses."""


class RefusedQuery(QueryError):
    """A well-formed query that the read-only public service refuses (update, SERVICE, FROM).

    ``reason`` says which rule refused it: "update", "service", "dataset", "too-long" (or "refused"),
    so that the HTTP layer can choose the status code (403 for update, 413/414 for length, 400 else).
    """

    def __init__(self, message: str, *, reason: str = "refused", **kwargs: object) -> None:
        self.reason = reason
        super().__init__(message, **kwargs)  # type: ignore[arg-type]


class TooManyIds(InputError):
    """A data extension query names more entities than one query may (answered 413: send fewer per query)."""


class BuildError(FwgraphError):
    """The sources do not validate, so no distribution is written."""


class StartError(FwgraphError):
    """The server cannot start as configured (port in use, broken distribution); nothing is served."""


class TimeLimitExceeded(FwgraphError):
    """Work (a query, a validation) ran past its time limit and its process was stopped."""

    def __init__(self, limit: float, what: str = "query") -> None:
        self.limit = limit
        super().__init__(f"{what} exceeded the time limit of {limit:g} s and was stopped")


class ServiceBusy(FwgraphError):
    """No worker (query worker, validation slot) is free."""


class ClientBusy(ServiceBusy):
    """The client already has its share of the work running (a validation), and another request waiting: it is
    the client's own work that keeps this one out (answered 429, where a busy service is 503)."""


class WorkStopped(FwgraphError):
    """The process doing the work (a query, a validation) died under it: the work ran past the process's memory
    allowance (a deliberate limit, like the time limit) or made a native library crash. Answered 503: the
    service goes on, a fresh process takes the next request."""


class WorkerFailed(FwgraphError):
    """The process doing the work died (out of its memory allowance, or a crash in a native library)."""


class StoreFailed(WorkerFailed):
    """The SPARQL store behind ``--store`` failed or refused a query fwgraph reads as valid, or sent an answer
    that cannot be read: the store is upstream and the client did nothing wrong (502, with the store's words)."""


class StoreUnavailable(ServiceBusy):
    """The SPARQL store behind ``--store`` cannot be reached now (connection refused or reset): 503, try again."""


#: The command line's exit codes (README, "Exit codes"): done, the data does not conform or is stale, an error.
EXIT_OK, EXIT_INVALID, EXIT_ERROR = 0, 1, 2


def exit_code(exc: BaseException) -> int:
    """The command line's exit code for an error that ends a command: 1 when the sources do not conform, else 2
    (input that cannot be read, a limit reached, a process or store that failed: the command did not do its job).

    >>> exit_code(BuildError("not conforming")), exit_code(WorkStopped("died")), exit_code(OSError("no file"))
    (1, 2, 2)
    """
    return EXIT_INVALID if isinstance(exc, BuildError) else EXIT_ERROR


def http_status(exc: BaseException) -> tuple[int, int | None] | None:
    """The HTTP status (and Retry-After seconds) for an error of the work behind a request, or None for one that
    is not (a bug: 500): a limit reached or a store upstream is the service's condition, not the client's fault."""
    if isinstance(exc, TimeLimitExceeded):
        return 503, max(1, int(round(exc.limit)))
    if isinstance(exc, ClientBusy):
        return 429, 2
    if isinstance(exc, (ServiceBusy, WorkStopped)):
        return 503, 1
    if isinstance(exc, StoreFailed):
        return 502, None
    return None
