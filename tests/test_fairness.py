"""Fairness that holds across addresses (issue 20): the addresses of one network share a group allowance, and
clients whose queries ran into the time limit share fewer query workers than everyone else."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from fwgraph.app.ratelimit import GROUP_SHARE, RateLimit, Runaways
from tests.server import server

RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


def test_addresses_of_one_network_share_its_allowance():
    """A burst of 3 per client: twenty requests from twenty addresses of one /24 get GROUP_SHARE x 3 between
    them; a client of another network still has its own."""
    limit = RateLimit(lambda e, s: [], per_minute=6, burst=3)
    allowed = [limit.wait(f"203.0.113.{i}/32", now=0.0) == 0 for i in range(20)]
    assert allowed.count(True) == GROUP_SHARE * 3
    assert limit.wait("198.51.100.1/32", now=0.0) == 0
    v6 = [limit.wait(f"2001:db8:1:{i:x}::/64", now=0.0) == 0 for i in range(20)]  # /64s of one /48
    assert v6.count(True) == GROUP_SHARE * 3


def test_a_marked_client_runs_only_in_the_lanes():
    runaways = Runaways(1, seconds=60)
    assert not runaways.marked("203.0.113.1/32", now=0.0)
    runaways.mark("203.0.113.1/32", now=0.0)
    assert runaways.marked("203.0.113.1/32", now=1.0) and not runaways.marked("203.0.113.1/32", now=61.0)
    assert not runaways.marked("203.0.113.2/32", now=1.0)  # one neighbour's runaway does not mark its network
    for i in range(2, 2 + GROUP_SHARE):
        runaways.mark(f"203.0.113.{i}/32", now=1.0)
    assert runaways.marked("203.0.113.200/32", now=2.0)  # GROUP_SHARE of them do
    lanes = Runaways(1, seconds=60)
    lanes.mark("203.0.113.1/32")
    lanes.mark("203.0.113.3/32")
    with lanes.lane("203.0.113.1/32") as first, lanes.lane("203.0.113.3/32") as second:
        assert first and not second  # one lane: the second marked client is refused while the first runs
        with lanes.lane("198.51.100.1/32") as other:
            assert other  # an unmarked client is not held back
    with lanes.lane("203.0.113.3/32") as later:
        assert later


def _ask(srv, query: str, client: str) -> tuple[int, str]:
    r = requests.get(srv.sparql, params={"query": query}, timeout=60,
                     headers={"X-Forwarded-For": client, "Accept": "application/sparql-results+json"})
    return r.status_code, r.text


def test_runaways_from_several_addresses_leave_a_worker_for_others():
    """Four addresses (four networks) whose queries ran into the time limit send runaways together: one runs,
    the others are refused at once, and another client's queries keep being answered meanwhile."""
    srv = server("--timeout", "1", env={"FWGRAPH_WORKERS": "1", "FWGRAPH_QUERY_WORKERS": "2",
                                        "FWGRAPH_RATE_LIMIT": "0", "FWGRAPH_CACHE_ENTRIES": "0",
                                        "FWGRAPH_CLIENT_ADDRESS_HEADER": "X-Forwarded-For",
                                        "FWGRAPH_RATE_LIMIT_LOOPBACK": "1"})
    clients = [f"203.0.{i}.1" for i in range(4)]
    for i, client in enumerate(clients):  # each address's first runaway: stopped at the time limit, and noted
        status, text = _ask(srv, RUNAWAY + f" # {i}", client)
        assert status == 503 and "exceeded the time limit" in text, text[:200]
    with ThreadPoolExecutor(8) as pool:
        runaways = [pool.submit(_ask, srv, RUNAWAY + f" # again {i}", c) for i, c in enumerate(clients)]
        cheap = [_ask(srv, f"ASK {{ ?s ?p ?o }} # {i}", "198.51.100.7") for i in range(5)]
        answers = [f.result() for f in runaways]
    assert [status for status, _ in cheap] == [200] * 5, cheap
    refused = [text for status, text in answers if "ran into the time limit" in text]
    assert len(refused) == 3, answers
    assert all(status == 503 for status, _ in answers)


def test_the_buckets_are_one_table_for_every_process(tmp_path):
    """Two Buckets over one file (as two web processes map it): a burst spent through one is spent for both."""
    from fwgraph.app.buckets import Buckets, make_table

    path = make_table(tmp_path / "limits")
    first, second = Buckets(path), Buckets(path)
    taken = [(first if i % 2 else second).take([("203.0.113.5/32", 3, 0.1)], now=100.0) == 0 for i in range(8)]
    assert taken.count(True) == 3
    assert second.take([("203.0.113.5/32", 3, 0.1)], now=100.0 + 10.0) == 0  # refilled: one token in 10 s


def test_a_full_table_reuses_the_record_refilled_longest_ago():
    from fwgraph.app.buckets import Buckets

    table = Buckets()
    for i in range(40_000):  # more clients than records
        table.take([(f"client {i}", 1, 0.0)], now=float(i))
    assert table.take([("client 39999", 1, 0.0)], now=40_000.0) > 0  # the newest clients are still counted


def test_a_client_gets_the_burst_once_whichever_process_answers():
    """Two web processes: a client's burst of 3 is spent after 3 requests, not 3 per process."""
    srv = server(env={"FWGRAPH_WORKERS": "2", "FWGRAPH_RATE_LIMIT": "1", "FWGRAPH_RATE_BURST": "3",
                      "FWGRAPH_CLIENT_ADDRESS_HEADER": "X-Forwarded-For", "FWGRAPH_RATE_LIMIT_LOOPBACK": "1"})
    statuses = []
    for i in range(12):  # a new connection each: Granian's processes share them out
        with requests.Session() as session:
            statuses.append(session.get(srv.sparql, params={"query": f"ASK {{ }} # {i}"}, timeout=30,
                                        headers={"X-Forwarded-For": "203.0.113.50"}).status_code)
    assert statuses.count(200) <= 3 and statuses.count(429) >= 9, statuses


def test_requests_waiting_for_a_query_worker_are_bounded():
    """Each request waiting for a worker holds a web thread: beyond ``max_waiting`` a request is refused at once
    (queue.Full), so threads stay free for /healthz and cached answers."""
    import queue
    import threading
    import time

    from fwgraph.store.pool import _IdleWorkers

    idle = _IdleWorkers(max_waiting=2)
    waiting = [threading.Thread(target=lambda: idle.get(timeout=5)) for _ in range(2)]
    for thread in waiting:
        thread.start()
    deadline = time.monotonic() + 5
    while len(idle._waiters) < 2 and time.monotonic() < deadline:
        time.sleep(0.001)
    start = time.monotonic()
    try:
        idle.get(timeout=5)
        raise AssertionError("a third request waited")
    except queue.Full:
        pass
    assert time.monotonic() - start < 1  # refused, not kept waiting
    idle.put(object())
    idle.put(object())
    for thread in waiting:
        thread.join(5)


def _queue_waiters(idle, clients: list[str], timeout: float = 10, **kinds: bool) -> tuple[list, dict]:
    """Threads waiting for a worker from ``idle`` as ``clients`` (in this order of arrival), each queued before
    the next starts; their outcomes (the worker or the exception's name) by index."""
    import threading
    import time

    outcomes: dict[int, object] = {}

    def wait(i: int, client: str) -> None:
        try:
            outcomes[i] = idle.get(timeout=timeout, client=client, **kinds)
        except Exception as exc:  # noqa: BLE001 - recorded for the assertions
            outcomes[i] = type(exc).__name__

    threads = []
    for i, client in enumerate(clients):
        before = list(idle._waiters)
        threads.append(threading.Thread(target=wait, args=(i, client)))
        threads[-1].start()
        deadline = time.monotonic() + 5
        while all(w in before for w in idle._waiters) and i not in outcomes and time.monotonic() < deadline:
            time.sleep(0.001)
    return threads, outcomes


def test_clients_waiting_for_a_query_worker_take_turns():
    """A client with three queries waiting and a client with one: freed workers alternate between them, the
    client served longest ago first (first come, first served made the one wait behind all three)."""
    from fwgraph.store.pool import _IdleWorkers

    idle = _IdleWorkers()
    threads, outcomes = _queue_waiters(idle, ["heavy", "heavy", "heavy", "polite"])
    workers = [object() for _ in range(4)]
    for worker in workers:
        idle.put(worker)
    for thread in threads:
        thread.join(5)
    order = [next(i for i, w in outcomes.items() if w is worker) for worker in workers]
    assert order == [0, 3, 1, 2], order  # heavy's first, then polite's, then heavy's others


def test_a_client_with_fewer_waiting_takes_the_place_of_the_heaviest():
    """With every waiting place taken by one client's requests, another client's request is not refused: it
    takes the place of the heavy client's newest, which is refused; the heavy client's next is refused at once."""
    import queue

    from fwgraph.store.pool import _IdleWorkers

    idle = _IdleWorkers(max_waiting=3)
    threads, outcomes = _queue_waiters(idle, ["heavy", "heavy", "heavy", "polite"])
    threads[2].join(5)
    assert outcomes.get(2) == "Full" and len(idle._waiters) == 3  # heavy's newest gave way
    with pytest.raises(queue.Full):
        idle.get(timeout=5, client="heavy")  # heavy still has the most waiting: no place for it
    first, second = object(), object()
    idle.put(first)
    idle.put(second)
    idle.put(object())
    for thread in threads:
        thread.join(5)
    assert outcomes[0] is first and outcomes[3] is second, outcomes  # polite's served next, not last


def test_a_cheap_query_is_served_before_slow_ones_and_may_take_a_slow_ones_place():
    """A request whose query shape last ran fast (cheap) gets the next freed worker before slow ones that came
    first, and with every place taken by slow ones, takes the newest slow one's place (it was refused)."""
    import threading

    from fwgraph.store.pool import _IdleWorkers

    idle = _IdleWorkers(max_waiting=3)
    threads, outcomes = _queue_waiters(idle, ["a", "b", "c"])
    late, late_outcome = _queue_waiters(idle, ["polite"])
    cheap_thread = threading.Thread(
        target=lambda: late_outcome.__setitem__("cheap", idle.get(timeout=10, client="polite", cheap=True)))
    cheap_thread.start()
    late[0].join(5)
    assert late_outcome[0] == "Full"  # a fourth slow request from a fresh client finds no place
    threads[2].join(5)
    assert outcomes.get(2) == "Full"  # the newest slow one gave its place to the cheap one
    worker = object()
    idle.put(worker)
    cheap_thread.join(5)
    assert late_outcome.get("cheap") is worker
    for other in (object(), object()):
        idle.put(other)
    for thread in threads:
        thread.join(5)


def test_a_slow_query_never_takes_a_cheap_ones_place():
    """A client served a moment ago (one asking cheap queries one after another) waits with a cheap query: slow
    requests from fresh clients are refused rather than taking its place (they took it: the client served most
    recently gave way, and the soak's polite probe was refused 55 times in 90 s)."""
    import queue
    import threading
    import time

    from fwgraph.store.pool import _IdleWorkers

    idle = _IdleWorkers(max_waiting=2)
    idle.put(object())
    idle.get(timeout=0, client="polite")  # served just now
    first, first_outcome = _queue_waiters(idle, ["slow"])
    polite = threading.Thread(
        target=lambda: first_outcome.__setitem__("polite", idle.get(timeout=10, client="polite", cheap=True)))
    polite.start()
    deadline = time.monotonic() + 5
    while len(idle._waiters) < 2 and time.monotonic() < deadline:
        time.sleep(0.001)
    for fresh in ("fresh-1", "fresh-2"):
        with pytest.raises(queue.Full):
            idle.get(timeout=5, client=fresh)
    worker = object()
    idle.put(worker)
    polite.join(5)
    assert first_outcome.get("polite") is worker
    idle.put(object())
    first[0].join(5)


def test_the_pool_knows_a_query_shape_that_ran_fast():
    """What makes a request cheap: its query's shape (comments and blanks aside) last ran in a worker under
    the cheap_query_seconds setting; a shape never run, or one stopped at the time limit, is not cheap."""
    from fwgraph.data.querycheck import prepare
    from fwgraph.store.pool import PooledEngine
    from tests.server import dist

    engine = PooledEngine.start(dist() / "fwgraph.nt", workers=1, timeout=1.0)
    try:
        costs = engine.pool._costs

        def cheap(text: str) -> bool:
            return costs.cheap(costs.key({"q": text, "n": 10, "f": "json", "fm": "ask", "b": None}))

        assert not cheap("ASK { ?s ?p ?o } # first")
        engine.execute(prepare("ASK { ?s ?p ?o } # first"), max_rows=10, fmt="json")
        assert cheap("ASK  {\n ?s ?p ?o }   # another comment\r")
        assert not cheap("ASK { ?s ?p ?x }")
        runaway = "ASK { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . FILTER(?a = ?l && ?c = ?j) }"
        try:
            engine.execute(prepare(runaway), max_rows=10, fmt="json")
        except Exception:  # noqa: BLE001 - the time limit, as intended
            pass
        assert not cheap(runaway)
    finally:
        engine.close()


def test_pages_whose_queries_meet_busy_workers_answer_503_not_500():
    """A profile page and /compare query the workers themselves: with every worker busy on runaways, they are
    answered 503 with Retry-After (they were 500 with a traceback), and /healthz stays quick."""
    import time

    srv = server("--timeout", "8", env={"FWGRAPH_WORKERS": "1", "FWGRAPH_QUERY_WORKERS": "1",
                                        "FWGRAPH_THREADS": "4", "FWGRAPH_RATE_LIMIT": "0",
                                        "FWGRAPH_CACHE_ENTRIES": "0"})
    with ThreadPoolExecutor(4) as pool:
        runaway = pool.submit(requests.get, srv.sparql, params={"query": RUNAWAY + " # pages"}, timeout=30)
        time.sleep(1.0)
        pages = [pool.submit(requests.get, srv.url + path, headers={"Accept": "text/html"}, timeout=30)
                 for path in ("compare?fw=flask&fw=django", "framework/bottle", "compare?fw=sanic&fw=quart")]
        time.sleep(0.5)
        start = time.monotonic()
        assert requests.get(srv.url + "healthz", timeout=10).status_code == 200
        health = time.monotonic() - start
        answers = [f.result() for f in pages]
        runaway.result()
    assert health < 2, health
    assert all(a.status_code in (200, 503) for a in answers), [(a.status_code, a.text[:200]) for a in answers]
    assert any(a.status_code == 503 for a in answers), [a.status_code for a in answers]
    assert all(a.headers.get("Retry-After") for a in answers if a.status_code == 503)


def test_every_query_a_request_runs_waits_as_its_networks():
    """The queries a page runs (the finder, a profile, /compare) wait for a worker as their client's network, as
    /sparql's do: they were all one anonymous client, so one busy page kept every other page's queries behind."""
    from fwgraph.app.ratelimit import client_group
    from fwgraph.store.engine import ASKING

    seen: list[str] = []

    def page(environ, start_response):
        seen.append(ASKING.get())
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    limited = RateLimit(page, per_minute=0, burst=1)
    for address in ("203.0.113.5", "198.51.100.7"):
        limited({"REMOTE_ADDR": address, "PATH_INFO": "/framework/flask", "REQUEST_METHOD": "GET"},
                lambda status, headers: None)
    assert seen == [client_group("203.0.113.5/32"), client_group("198.51.100.7/32")]
    assert ASKING.get() == ""  # and only while the request runs


def test_heavy_queries_leave_a_worker_for_everyone_else():
    """Requests whose query shape last took a second of CPU or more (or was stopped) hold all workers but one:
    a second heavy one waits although a worker is idle, any other query takes that worker at once, and the
    heavy one gets the first worker a heavy request gives back (or whose replacement is forked)."""
    import queue

    from fwgraph.store.pool import _IdleWorkers

    idle = _IdleWorkers(heavy_limit=1)
    workers = [object(), object()]
    for worker in workers:
        idle.put(worker)
    first = idle.get(timeout=0, client="a", heavy=True)
    with pytest.raises(queue.Empty):
        idle.get(timeout=0, client="b", heavy=True)  # one heavy request runs: the other worker is kept
    threads, outcomes = _queue_waiters(idle, ["b"], heavy=True)
    threads[0].join(0.2)
    assert 0 not in outcomes  # waiting, with a worker idle
    other = idle.get(timeout=0, client="c")  # a query not known heavy takes it at once
    assert {first, other} == set(workers)
    idle.put(first, heavy=True)
    threads[0].join(5)
    assert outcomes[0] is first
    idle.forget(True)  # the heavy request's worker was killed: the next heavy one may run
    idle.put(other)
    assert idle.get(timeout=0, client="d", heavy=True) is other


def test_cheap_requests_have_waiting_places_that_slow_ones_cannot_take():
    """Requests not known to be cheap take at most ``max_slow_waiting`` of the waiting places: a second slow one
    (from a client with as many waiting) is refused at once, while cheap ones still wait in the other places. The
    places were one bound of three for all (a waiting request holds a thread): the soak's polite client was
    refused 432 times with them all taken by slow requests."""
    import queue

    from fwgraph.core.settings import Settings
    from fwgraph.store.pool import _IdleWorkers

    idle = _IdleWorkers(max_waiting=4, max_slow_waiting=1)
    slow, slow_outcomes = _queue_waiters(idle, ["a"])
    with pytest.raises(queue.Full):
        idle.get(timeout=5, client="b")  # the slow places are taken
    cheap, cheap_outcomes = _queue_waiters(idle, ["c", "d", "e"], cheap=True)
    assert len(idle._waiters) == 4 and not cheap_outcomes and not slow_outcomes  # all four wait
    workers = [object() for _ in range(4)]
    for worker in workers:
        idle.put(worker)
    for thread in slow + cheap:
        thread.join(5)
    assert [cheap_outcomes[i] for i in range(3)] == workers[:3] and slow_outcomes[0] is workers[3]
    settings = Settings()  # the defaults: more room than the three places, and threads still left over
    assert settings.waiting_slots > 3 and settings.slow_waiting_slots < settings.waiting_slots
    taken = settings.body_slots + settings.query_workers + settings.waiting_slots
    assert taken + settings.free_threads == settings.web_threads and settings.free_threads > 1


def test_a_block_with_its_own_time_limit_and_a_pool_from_the_settings():
    """A warm-up's queries run under their own limit (``own_time_limit``), not the pool's, which is a request's;
    and a pool given no size or limit takes them from its settings (they repeated the settings' defaults)."""
    from fwgraph.core.errors import TimeLimitExceeded
    from fwgraph.core.settings import Settings
    from fwgraph.data.querycheck import prepare
    from fwgraph.store.engine import own_time_limit
    from fwgraph.store.pool import PooledEngine
    from tests.server import dist

    settings = Settings(query_workers=1, query_timeout=30.0, threads=8)
    engine = PooledEngine.start(dist() / "fwgraph.nt", settings=settings)
    try:
        assert (engine.pool.size, engine.timeout, engine.pool._idle.max_waiting) == (1, 30.0, settings.waiting_slots)
        with own_time_limit(0.5), pytest.raises(TimeLimitExceeded) as stopped:
            engine.execute(prepare(RUNAWAY + " # own limit"), max_rows=10, fmt="json")
        assert stopped.value.limit == 0.5  # not the pool's 30 s
    finally:
        engine.close()


def test_the_pool_reads_a_prepared_querys_shape_without_lexing_it_again(monkeypatch):
    """``prepare`` lexes a query that is not of the common form once for all its checks, and its shape comes from
    that pass: the pool's cost table reads it from the prepared query (it lexed the text a second time)."""
    from fwgraph.data import querycheck as sparql
    from fwgraph.store.pool import _Costs

    text = 'SELECT ?s WHERE { ?s ?p "SERVICE # not a comment" } # a comment\r'
    query = sparql.prepare(text)
    calls: list[str] = []
    real = sparql.lex
    monkeypatch.setattr(sparql, "lex", lambda t: calls.append(t) or real(t))
    request = {"q": text, "n": 10, "f": "json"}
    assert _Costs.key(request, query.shape) == _Costs.key(request)  # the same shape as the text's own
    assert len(calls) == 1  # lexed once: for the key computed from the text, not for the prepared query's
    assert query.shape == sparql.shape('SELECT ?s  WHERE {?s ?p "SERVICE # not a comment"}')


def test_a_block_with_its_own_time_limit_sends_it_to_the_store_too():
    """Behind --store the warm-up's own limit is the one the store is sent and fwgraph waits for (a request's
    otherwise)."""
    from fwgraph.store.engine import own_time_limit
    from fwgraph.store.remote import StoreClient

    client = StoreClient("http://127.0.0.1:9/sparql", timeout=10)
    with own_time_limit(120):
        assert client.timeout == 120
    assert client.timeout == 10
