"""The README's promises: CI runs exactly its test command, and the documented commands exist."""

from __future__ import annotations

import re
import subprocess
import sys

from .conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _indented_commands():
    return [line.strip() for line in README.splitlines() if line.startswith("    ") and "&&" in line]


def test_ci_runs_the_readme_test_command():
    test_command = next(c for c in _indented_commands() if "pytest" in c)
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert test_command in ci_lines


def test_main_job_command_serves():
    main_command = next(c for c in _indented_commands() if "fwgraph serve" in c)
    assert main_command.endswith("fwgraph serve")


def test_every_documented_subcommand_exists():
    documented = set(re.findall(r"`fwgraph (\w+)", README))
    assert {"validate", "build", "query", "serve", "chart"} <= documented
    for name in documented:
        run = subprocess.run([sys.executable, "-m", "fwgraph", name, "--help"], capture_output=True, text=True)
        assert run.returncode == 0, f"fwgraph {name}: {run.stderr}"
