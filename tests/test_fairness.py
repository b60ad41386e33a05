"""Fairness that holds across addresses (issue 20): the addresses of one network share a group allowance, and
clients whose queries ran into the time limit share fewer query workers than everyone else."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

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
