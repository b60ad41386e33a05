"""Regression tests for issue 8: requests that crashed, froze or exhausted the public server.

Each test sends what an attacker sent (and variants of it) to a real `fwgraph serve` subprocess on
loopback, or drives the library function the attack reached, and checks that the answer is a clear
4xx and that the server keeps serving.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
import requests

from tests.server import server

# Queries whose parse or evaluation recursed past a server thread's stack (SIGSEGV of the whole server).
NESTED = {
    "parens-2000": "ASK{FILTER(" + "(" * 2000 + "1" + ")" * 2000 + ")}",
    "braces-1500": "ASK" + "{" * 1500 + "}" * 1500,
    "subqueries-300": "ASK{" + "{SELECT * WHERE " * 300 + "{}" + "}" * 300 + "}",
    "unions-2000": "ASK{" + " UNION ".join(["{?s ?p ?o}"] * 2000) + "}",
    "plus-20000": "ASK{FILTER(" + "+".join(["1"] * 20000) + ")}",
    "minus-20000": "ASK{FILTER(" + "-".join(["1"] * 20000) + ")}",
    "or-9000": "ASK{FILTER(" + "||".join(["true"] * 9000) + ")}",
    "brackets-1500": "ASK{?s <p> " + "[<p> " * 1500 + "1" + "]" * 1500 + "}",
    "escaped-braces-1500": "ASK{" + "\\u007b" * 1500 + "}",
}


@pytest.fixture(scope="module")
def srv():
    return server()


def alive(srv) -> None:
    assert srv.process.poll() is None, "the server process exited"
    assert requests.get(srv.url + "healthz", timeout=5).status_code == 200


@pytest.mark.parametrize("fmt", ["bogus", "json"])
@pytest.mark.parametrize("name", sorted(NESTED))
def test_deep_nesting_is_refused_not_a_crash(srv, name, fmt):
    query = NESTED[name]
    method = requests.get if len(query) < 6000 else requests.post
    kwargs = {"params": {"query": query, "format": fmt}} if method is requests.get else {
        "data": {"query": query, "format": fmt}}
    response = method(srv.sparql, timeout=30, **kwargs)
    assert response.status_code == 400, response.text[:300]
    assert "deeper than" in response.text or "chains more than" in response.text
    alive(srv)


def test_bounded_nesting_still_answers(srv):
    query = "ASK{" + "{" * 60 + "?s ?p ?o" + "}" * 60 + "}"
    response = requests.get(srv.sparql, params={"query": query}, timeout=30)
    assert response.status_code == 200 and response.json()["boolean"] is True


def _runs_within(code: str, seconds: float) -> None:
    """Run ``code`` in a fresh interpreter; fail if it does not finish in time (a regex holding the GIL)."""
    try:
        subprocess.run([sys.executable, "-c", textwrap.dedent(code)], check=True, timeout=seconds,
                       capture_output=True)
    except subprocess.TimeoutExpired:
        pytest.fail(f"did not finish within {seconds} s: exponential or quadratic matching")


@pytest.mark.parametrize("blank", [" ", "\t", "\n", "\r\n"])
def test_prologue_regex_is_linear(blank):
    # 26 blanks and an X took 8.5 s, doubling per blank; 64 KiB of them must take milliseconds.
    _runs_within(f"""
        from fwgraph.sparql import prepare
        for n in (26, 40, 30000):
            try:
                prepare({blank!r} * n + "X")
            except Exception:
                pass
            try:
                prepare("PREFIX a: <x>" + {blank!r} * n + "X")
            except Exception:
                pass
    """, 20)


def test_blank_runs_do_not_freeze_the_server(srv):
    import concurrent.futures

    query = " " * 40 + "X"
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: requests.get(srv.sparql, params={"query": query}, timeout=20),
                                range(4)))
    assert {a.status_code for a in answers} == {400}
    alive(srv)
