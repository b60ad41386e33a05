"""Metadata about the software for the tools that read it: CITATION.cff (validated by cffconvert, the CFF
reference tool) and codemeta.json, agreeing with each other and with pyproject.toml."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

from .conftest import ROOT

CFFCONVERT = Path(sys.executable).with_name("cffconvert")


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _cff() -> dict:
    run = subprocess.run([str(CFFCONVERT), "-f", "cff", "-i", str(ROOT / "CITATION.cff")], capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    from ruamel.yaml import YAML

    return YAML(typ="safe").load(run.stdout)


def test_citation_file_is_valid_cff():
    run = subprocess.run([str(CFFCONVERT), "--validate", "-i", str(ROOT / "CITATION.cff")], capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "valid according to schema version 1.2.0" in run.stdout


def test_citation_agrees_with_the_project():
    cff, project = _cff(), _project()
    assert cff["version"] == project["version"]
    assert cff["license"] == project["license"]
    assert cff["authors"] == [{"name": project["authors"][0]["name"]}]
    assert cff["url"] == "https://w3id.org/fwgraph/"


def test_codemeta_agrees_with_citation_and_project():
    meta = json.loads((ROOT / "codemeta.json").read_text())
    cff, project = _cff(), _project()
    assert meta["@context"] == "https://w3id.org/codemeta/3.0" and meta["@type"] == "SoftwareSourceCode"
    assert meta["version"] == project["version"] == cff["version"]
    assert meta["name"] == cff["title"]
    assert meta["description"] == " ".join(cff["abstract"].split())
    assert meta["keywords"] == cff["keywords"]
    assert meta["license"] == f"https://spdx.org/licenses/{project['license']}"
    assert meta["softwareRequirements"] == project["dependencies"]
    assert meta["runtimePlatform"] == f"Python {project['requires-python']}"
    for name in (meta["readme"], meta["releaseNotes"]):
        assert (ROOT / name).is_file()
