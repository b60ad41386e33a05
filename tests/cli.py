"""The `fwgraph` command line run in-process (click's runner), answered as a CompletedProcess.

tests/test_cli.py runs the real console script in a subprocess; other suites test what a command does and
save an interpreter start per call by running it here.
"""

from __future__ import annotations

import subprocess

from click.testing import CliRunner

from fwgraph.cli import cli


def fwgraph(*args: object, check: bool = False) -> subprocess.CompletedProcess[str]:
    """Run ``fwgraph ARGS`` in this process; with ``check``, assert that it exits 0."""
    argv = [str(arg) for arg in args]
    result = CliRunner().invoke(cli, argv, prog_name="fwgraph")  # usage lines as the console script prints them
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # a crash is a test failure with its traceback, not an exit code
    proc = subprocess.CompletedProcess(["fwgraph", *argv], result.exit_code, result.stdout, result.stderr)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc
