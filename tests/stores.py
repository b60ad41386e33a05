"""Real triple stores for the --store tests: Oxigraph's server (PyPI) and Virtuoso 7 (Debian), each started
once per session on free loopback ports, loaded with the dump by the commands the README gives, and killed
at exit (and with the test process, should it die first).
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

GRAPH = "https://w3id.org/fwgraph/"
#: The time limit Oxigraph's server is started with (`--timeout-s`): the limited fwgraph servers' --timeout.
OXIGRAPH_TIMEOUT_S = 2
#: The README's loading commands, as the fixtures run them ({dist}: the distribution; {port}: the store's).
OXIGRAPH_LOAD = "oxigraph load --location {db} --file {dist}/fwgraph.nt"
OXIGRAPH_SERVE = "oxigraph serve-read-only --location {db} --bind 127.0.0.1:{port} --timeout-s {timeout}"
VIRTUOSO_LOAD = "ld_dir('{dist}', 'fwgraph.nt', '" + GRAPH + "'); rdf_loader_run(); checkpoint;"
#: A runaway query that reads the store for every row, so a store that checks its limit while reading stops it
#: (Oxigraph's server does not check while it multiplies rows in memory, as in a plain cross product).
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . FILTER NOT EXISTS { ?a ?h ?f } }"
#: Virtuoso's endpoint with the dataset named: the dump's graph as the default graph and as the only named
#: graph (with default-graph-uri alone, GRAPH patterns would see every graph of the store, its own included).
VIRTUOSO_URL = ("http://127.0.0.1:{port}/sparql?default-graph-uri=https%3A%2F%2Fw3id.org%2Ffwgraph%2F"
                "&named-graph-uri=https%3A%2F%2Fw3id.org%2Ffwgraph%2F")


@dataclass
class Store:
    name: str
    url: str  # the SPARQL endpoint as given to --store
    process: subprocess.Popen
    log: Path
    workdir: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def cpu_seconds(self) -> float:
        """CPU time the store's process has used so far (user + system): its own record of activity."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS

    def stop(self) -> None:
        """Kill the store (its database is a temporary copy, removed with it; Virtuoso ignores SIGTERM)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        shutil.rmtree(self.workdir, ignore_errors=True)


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_stores: dict[str, Store] = {}


def _start(name: str, cmd: list[str], workdir: Path) -> tuple[subprocess.Popen, Path]:
    """The store in its own process group, killed by the kernel when the test process dies, however it dies."""
    from tests.server import spawn

    log = workdir / f"{name}.log"
    with log.open("wb") as out:
        process = spawn(cmd, parent_death=signal.SIGKILL, stdout=out, stderr=subprocess.STDOUT, cwd=workdir)
    return process, log


def _register(store: Store) -> Store:
    _stores[store.name] = store
    return store


def oxigraph() -> Store:
    """Oxigraph's server (`oxigraph serve-read-only`, from PyPI) with the dump in its default graph."""
    from tests.server import dist

    return oxigraph_with("oxigraph", OXIGRAPH_LOAD.format(db="{db}", dist=dist()))


def oxigraph_with(name: str, load_command: str) -> Store:
    """An Oxigraph server named ``name`` (one per name per session), its database filled by ``load_command``
    (an ``oxigraph load`` command line, ``{db}`` standing for the database)."""
    from tests.server import free_port, wait_for_sparql

    if name in _stores and _stores[name].process.poll() is None:
        return _stores[name]
    workdir = Path(tempfile.mkdtemp(prefix=f"fwgraph-{name}-"))
    binary = Path(sys.executable).with_name("oxigraph")
    load = load_command.format(db=workdir / "db").split()
    subprocess.run([str(binary), *load[1:]], check=True, capture_output=True)
    port = free_port()
    serve = OXIGRAPH_SERVE.format(db=workdir / "db", port=port, timeout=OXIGRAPH_TIMEOUT_S).split()
    process, log = _start(name, [str(binary), *serve[1:]], workdir)
    store = Store(name, f"http://127.0.0.1:{port}/query", process, log, workdir)
    try:
        wait_for_sparql(store.url, process, log, 30)
    except BaseException:  # not ready in time, or the run interrupted (Ctrl-C) while it starts: not registered yet
        store.stop()
        raise
    return _register(store)


def virtuoso_ini(workdir: Path, sql_port: int, http_port: int, dist: Path) -> str:
    """A virtuoso.ini for a private instance: database in ``workdir``, loopback ports, the dist loadable."""
    return f"""\
[Database]
DatabaseFile = {workdir}/virtuoso.db
ErrorLogFile = {workdir}/virtuoso.log
LockFile = {workdir}/virtuoso.lck
TransactionFile = {workdir}/virtuoso.trx
xa_persistent_file = {workdir}/virtuoso.pxa

[TempDatabase]
DatabaseFile = {workdir}/virtuoso-temp.db
TransactionFile = {workdir}/virtuoso-temp.trx

[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
DirsAllowed = ., {dist}
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
ThreadsPerQuery = 2
CheckpointInterval = 0
MaxSortedTopRows = 100000

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {workdir}
ServerThreads = 8
MaxClientConnections = 8

[SPARQL]
ResultSetMaxRows = 100000
MaxQueryCostEstimationTime = 0
MaxQueryExecutionTime = 60
"""


def virtuoso() -> Store:
    """Virtuoso 7 (Debian's virtuoso-opensource, installed by .ci/run) with the dump bulk-loaded into the
    named graph https://w3id.org/fwgraph/, queried with that graph as the default graph (in the URL)."""
    from tests.server import dist, free_port, wait_for_sparql

    if "virtuoso" in _stores and _stores["virtuoso"].process.poll() is None:
        return _stores["virtuoso"]
    server, isql = shutil.which("virtuoso-t"), shutil.which("isql-vt")
    if not server or not isql:
        raise RuntimeError("Virtuoso is not installed: apt-get install -y virtuoso-opensource (as .ci/run does)")
    workdir = Path(tempfile.mkdtemp(prefix="fwgraph-virtuoso-"))
    sql_port, http_port = free_port(), free_port()
    (workdir / "virtuoso.ini").write_text(virtuoso_ini(workdir, sql_port, http_port, dist()))
    process, log = _start("virtuoso", [server, "+foreground", "+configfile", str(workdir / "virtuoso.ini")], workdir)
    url = VIRTUOSO_URL.format(port=http_port)
    store = _register(Store("virtuoso", url, process, log, workdir))
    wait_for_sparql(url, process, log, 90)
    loaded = subprocess.run([isql, f"127.0.0.1:{sql_port}", "dba", "dba",
                             "exec=" + VIRTUOSO_LOAD.format(dist=dist()) + " SELECT ll_state, ll_error FROM "
                             "DB.DBA.load_list;"], capture_output=True, text=True, timeout=120)
    if loaded.returncode != 0 or not re.search(r"^\s*2\s+NULL\s*$", loaded.stdout, re.M):  # done, no error
        raise RuntimeError(f"loading Virtuoso failed:\n{loaded.stdout}\n{loaded.stderr}")
    return store


STORES = {"oxigraph": oxigraph, "virtuoso": virtuoso}


@atexit.register
def stop_all() -> None:
    """Stop every store started here (at the end of the test session, and again at exit)."""
    while _stores:
        _stores.popitem()[1].stop()
