"""Settings: parsed from FWGRAPH_* variables by field type, refused with a precise message, handed on as one value,
and the README's tables, /healthz and the service description generated from the one dataclass."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from fwgraph.core.errors import StartError
from fwgraph.core.settings import README_END, README_START, SETTINGS_VAR, SettingError, Settings, readme_tables

from .conftest import ROOT


def test_every_variable_is_parsed_by_its_field_type():
    parsed = Settings.from_env({"FWGRAPH_MAX_ROWS": "5", "FWGRAPH_QUERY_TIMEOUT": "2.5", "FWGRAPH_NETWORK_GUARD": "off",
                                "FWGRAPH_RATE_LIMIT_LOOPBACK": "Yes", "FWGRAPH_ENGINE_STORE": "disk",
                                "FWGRAPH_CLIENT_ADDRESS_HEADER": "X-Forwarded-For", "FWGRAPH_BASE_IRI": "http://x.org",
                                "FWGRAPH_QUERY_MAX_DEPTH": "7", "FWGRAPH_PORT": ""})
    assert parsed.max_rows == 5 and parsed.query_timeout == 2.5 and parsed.query_max_depth == 7
    assert parsed.network_guard is False and parsed.rate_limit_loopback is True
    assert parsed.engine_store == "disk" and parsed.client_address_header == "X-Forwarded-For"
    assert parsed.base_iri == "http://x.org/"  # paths are appended to it
    assert parsed.port == Settings().port  # an empty variable is an unset one
    assert Settings.from_env({"FWGRAPH_SCREENSHOTS": "1"}) == Settings()  # not a setting: not ours to refuse


@pytest.mark.parametrize(("name", "raw", "message"), [
    ("FWGRAPH_MAX_ROWS", "x", "FWGRAPH_MAX_ROWS: expected an integer, got 'x'"),
    ("FWGRAPH_MAX_ROWS", "1.5", "FWGRAPH_MAX_ROWS: expected an integer, got '1.5'"),
    ("FWGRAPH_QUERY_TIMEOUT", "ten", "FWGRAPH_QUERY_TIMEOUT: expected a number, got 'ten'"),
    ("FWGRAPH_NETWORK_GUARD", "maybe", "FWGRAPH_NETWORK_GUARD: expected a boolean (1, true, yes, on, 0, false, no, "
                                       "off), got 'maybe'"),
    ("FWGRAPH_ENGINE_STORE", "tape", "FWGRAPH_ENGINE_STORE: expected one of auto, memory, disk, got 'tape'"),
])
def test_a_bad_value_is_refused_naming_the_variable_and_the_type(name, raw, message):
    with pytest.raises(SettingError) as caught:
        Settings.from_env({name: raw})
    assert str(caught.value) == message
    assert isinstance(caught.value, StartError)  # `fwgraph serve` stops with exit code 2


def test_the_settings_reach_child_processes_as_one_value():
    changed = Settings.from_env({"FWGRAPH_MAX_ROWS": "7"}).replace({"query_timeout": 1.5, "data_dir": None})
    handed = changed.environ()
    assert list(handed) == [SETTINGS_VAR]
    assert Settings.from_env(handed) == changed
    assert Settings.from_env({**handed, "FWGRAPH_MAX_ROWS": "9"}).max_rows == 7  # resolved once, by the parent
    with pytest.raises(SettingError, match="unknown setting"):
        Settings().replace({"MAX_ROWS": 5})  # one spelling: the field's


def test_a_bad_variable_stops_serve_with_the_message():
    run = subprocess.run([sys.executable, "-m", "fwgraph", "serve", "--port", "1"], capture_output=True, text=True,
                         env={"PATH": "", "PYTHONPATH": str(ROOT / "src"), "FWGRAPH_MAX_ROWS": "x"}, timeout=60)
    assert run.returncode == 2
    assert "FWGRAPH_MAX_ROWS: expected an integer, got 'x'" in run.stderr


def test_the_readme_tables_are_generated_from_settings():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    documented = readme[readme.index(README_START) + len(README_START):readme.index(README_END)]
    assert documented == readme_tables(), ("the README's settings are stale: python -c 'from fwgraph.core.settings "
                                           "import write_readme; write_readme(\"README.md\")'")
    for f in dataclasses.fields(Settings):
        assert f"| `{f.name.upper()}` |" in documented and f.metadata["doc"]


def test_healthz_and_the_service_description_state_the_settings_in_force(client, app):
    settings = app.extensions["fwgraph"].settings
    limits = client.get("/healthz", headers={"Accept": "application/json"}).get_json()["limits"]
    assert {k: v for k, v in limits.items() if k != "bodies_total"} == {
        f.name: getattr(settings, f.name) for f in dataclasses.fields(Settings) if f.metadata["health"]}
    description = client.get("/sparql", headers={"Accept": "application/n-triples"}).data.decode()
    for name, value, _, _ in settings.published():
        assert f"/sparql#{name}> " in description and f'"{value}"' in description, name


def test_a_test_config_overrides_the_environment(dist, monkeypatch):
    from fwgraph.app import create_app

    monkeypatch.setenv("FWGRAPH_MAX_ROWS", "3")
    monkeypatch.setenv("FWGRAPH_CACHE_MAX_AGE", "17")
    app = create_app({"dist_dir": str(dist), "query_workers": 0, "network_guard": False, "cache_max_age": 5})
    settings = app.extensions["fwgraph"].settings
    assert (settings.max_rows, settings.cache_max_age) == (3, 5)
    r = app.test_client().get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p ?o }"},
                              headers={"Accept": "application/sparql-results+json"})
    assert len(json.loads(r.data)["results"]["bindings"]) == 3 and r.headers["Cache-Control"].endswith("max-age=5")


def _descendants(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            found += [int(child), *_descendants(int(child))]
    return found


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads the processes' environments from /proc")
def test_serve_hands_its_web_processes_one_value_with_the_options_over_the_environment():
    """Variables and options are resolved once, by `fwgraph serve`; its web processes get the result as one value
    (they had every setting exported as its own variable), and the limits checked deep in the library (query
    nesting) are the ones set."""
    from tests.server import server

    srv = server("--timeout", "7", env={"FWGRAPH_QUERY_TIMEOUT": "3", "FWGRAPH_MAX_ROWS": "2",
                                        "FWGRAPH_QUERY_MAX_DEPTH": "3", "FWGRAPH_WORKERS": "1"})
    limits = requests.get(srv.url + "healthz", headers={"Accept": "application/json"}, timeout=10).json()["limits"]
    assert (limits["query_timeout"], limits["max_rows"]) == (7.0, 2)
    nested = requests.get(srv.sparql, params={"query": "ASK { { { { ?s ?p ?o } } } }"}, timeout=10)
    assert nested.status_code == 400 and "deeper than 3 levels" in nested.text
    handed = []
    for pid in _descendants(srv.process.pid):
        try:
            environ = dict(v.split("=", 1) for v in (Path(f"/proc/{pid}/environ").read_text().split("\0")) if "=" in v)
        except OSError:  # gone meanwhile
            continue
        if SETTINGS_VAR in environ:
            handed.append(environ)
    assert handed, "no web process got FWGRAPH_SETTINGS"
    for environ in handed:
        assert Settings.from_json(environ[SETTINGS_VAR]).query_timeout == 7.0
        assert "FWGRAPH_DIST_DIR" not in environ and "FWGRAPH_CACHE_BYTES" not in environ  # not exported one by one
