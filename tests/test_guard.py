"""The process-wide network guard: Python code in a server process cannot connect except where allowed."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
import threading


def _listener():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    seen = []

    def accept():
        sock.settimeout(5)
        try:
            conn, _ = sock.accept()
            seen.append(conn)
        except OSError:
            pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    return sock, seen, thread


def test_guard_blocks_urllib_and_sockets_but_allows_the_store():
    blocked, seen_blocked, t1 = _listener()
    allowed, seen_allowed, t2 = _listener()
    code = textwrap.dedent(f"""
        import socket, urllib.request
        from fwgraph.core import guard
        guard.install(["http://127.0.0.1:{allowed.getsockname()[1]}/query"])
        for attempt in (lambda: urllib.request.urlopen("http://127.0.0.1:{blocked.getsockname()[1]}/x", timeout=2),
                        lambda: socket.create_connection(("127.0.0.1", {blocked.getsockname()[1]}), timeout=2)):
            try:
                attempt()
                print("CONNECTED")
            except PermissionError as exc:
                print("DENIED", exc)
        socket.create_connection(("127.0.0.1", {allowed.getsockname()[1]}), timeout=2).close()
        print("STORE OK")
    """)
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    t1.join(6)
    t2.join(6)
    assert run.stdout.count("DENIED") == 2, run.stdout + run.stderr
    assert "CONNECTED" not in run.stdout and "STORE OK" in run.stdout
    assert seen_blocked == [] and len(seen_allowed) == 1
    blocked.close()
    allowed.close()
