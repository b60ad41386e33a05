"""`fwgraph chart`: the seed chart reproduced from its claims, today's view with the chart's disputes, formats."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.cli import fwgraph as run_cli

FIXTURE = Path(__file__).parent / "fixtures" / "chart" / "seed-chart.csv"


def fwgraph(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, check=check)


_CELL_SPLIT = re.compile(r"(?<!\\)\|")


def gfm_rows(markdown: str) -> tuple[list[str], list[list[str]]]:
    """Parse the first GitHub-flavoured Markdown table in ``markdown``; assert its structure is valid."""
    lines = markdown.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith("|"))
    block = []
    for ln in lines[start:]:
        if not ln.startswith("|"):
            break
        block.append(ln)
    assert len(block) >= 2, "a table needs a header and a delimiter row"

    def cells(line: str) -> list[str]:
        assert line.startswith("|") and line.endswith("|"), line
        return [c.strip().replace("\\|", "|").replace("\\\\", "\\") for c in _CELL_SPLIT.split(line[1:-1])]

    header = cells(block[0])
    delimiter = cells(block[1])
    assert len(delimiter) == len(header)
    assert all(re.fullmatch(r":?-{3,}:?", d) for d in delimiter), block[1]
    rows = [cells(ln) for ln in block[2:]]
    for row in rows:
        assert len(row) == len(header), row
    return header, rows


@pytest.fixture(scope="module")
def today_json() -> dict:
    return json.loads(fwgraph("chart", "--as-of", "today", "--format", "json").stdout)


def _cell(doc: dict, framework: str, key: str) -> dict:
    keys = [c["key"] for c in doc["columns"]]
    for row in doc["rows"]:
        if row["cells"][0]["text"] == framework:
            return row["cells"][keys.index(key)]
    raise AssertionError(f"no row for {framework}")


def test_chart_markdown_reproduces_the_seed_chart_value_by_value():
    header, rows = gfm_rows(fwgraph("chart", "--as-of", "chart", "--format", "markdown").stdout)
    with FIXTURE.open(newline="", encoding="utf-8") as fh:
        expected = list(csv.reader(fh))
    assert header == expected[0]
    assert len(rows) == 13
    for got, want in zip(rows, expected[1:], strict=True):
        for title, g, w in zip(header, got, want, strict=True):
            assert g == w, f"{want[0]} / {title}: got {g!r}, the chart says {w!r}"


def test_today_marks_the_known_corrections_with_their_sources(today_json):
    flask = _cell(today_json, "Flask", "async")
    assert flask["text"] == "Yes"
    assert [(d["chart"]["label"], d["today"]["label"]) for d in flask["disputes"]] == [("No", "Yes")]
    assert "https://github.com/pallets/flask/blob/3.1.3/docs/async-await.rst" in flask["disputes"][0]["sources"]

    django = _cell(today_json, "Django", "async")
    assert django["disputes"][0]["chart"]["label"] == "Yes (ASGI in newer versions)"
    assert django["disputes"][0]["today"]["label"] == "Yes"
    assert "https://docs.djangoproject.com/en/5.2/releases/3.1/" in django["disputes"][0]["sources"]

    starlette = _cell(today_json, "Starlette", "features")
    assert "GraphQL" not in starlette["text"]
    graphql = [d for d in starlette["disputes"] if d["chart"] and d["chart"]["label"] == "GraphQL"]
    assert graphql and graphql[0]["today"] is None
    assert "https://github.com/encode/starlette/pull/1198" in graphql[0]["sources"]

    japronto = _cell(today_json, "Japronto", "async")
    assert [(d["chart"]["label"], d["today"]["label"]) for d in japronto["disputes"]] == [("No", "Yes")]
    assert japronto["disputes"][0]["sources"]

    for name, source in [("Klein", "https://github.com/twisted/klein/blob/24.8.0/README.rst"),
                         ("Cyclone", "https://github.com/fiorix/cyclone/blob/v1.3.1/README.md")]:
        cell = _cell(today_json, name, "interface")
        assert cell["text"] == "Twisted"
        assert [v["iri"] for v in cell["values"]] == ["https://w3id.org/fwgraph/interface/twisted"]
        wsgi = [d for d in cell["disputes"] if d["chart"] and d["chart"]["label"] == "WSGI"]
        assert wsgi and source in wsgi[0]["sources"], name


def test_today_markdown_footnotes_name_the_claims_and_sources():
    out = fwgraph("chart", "--framework", "flask", "--framework", "klein", "--format", "markdown").stdout
    header, rows = gfm_rows(out)
    assert [r[0] for r in rows] == ["Flask", "Klein"]
    async_col = header.index("Async Support")
    mark = re.fullmatch(r"Yes \[(\d+)\]", rows[0][async_col])
    assert mark, rows[0][async_col]
    note = next(ln for ln in out.splitlines() if ln.startswith(f"- \\[{mark.group(1)}\\]"))
    assert "Flask, Async Support: the chart says No; today: Yes" in note
    assert "<https://github.com/pallets/flask/blob/3.1.3/CHANGES.rst>" in note
    assert "Klein, Type: the chart says WSGI" in out


def test_today_performance_is_the_charts_rating_or_a_dash(today_json, graph):
    assert _cell(today_json, "FastAPI", "performance")["text"] == "Very High"
    assert _cell(today_json, "Bottle", "performance")["text"] == "—"  # not in the chart
    assert any("chart's subjective rating" in n for n in today_json["notes"])
    assert len(today_json["rows"]) == _framework_count(graph) >= 25
    assert [c["key"] for c in today_json["columns"]] == [
        "framework", "interface", "performance", "async", "features", "homepage", "licence", "first-release",
        "maintenance"]


@pytest.mark.parametrize("args", [["--as-of", "today"], ["--as-of", "chart"], ["--interfaces"],
                                  ["--framework", "sanic", "--columns", "features,licence"]])
def test_csv_reads_back_to_the_json_cells(args):
    rows = list(csv.reader(io.StringIO(fwgraph("chart", *args, "--format", "csv").stdout)))
    doc = json.loads(fwgraph("chart", *args, "--format", "json").stdout)
    assert rows[0] == [c["title"] for c in doc["columns"]]
    assert rows[1:] == [[cell["text"] for cell in row["cells"]] for row in doc["rows"]]
    assert len(rows) > 1


@pytest.mark.parametrize("args", [["--as-of", "today"], ["--as-of", "chart"], ["--interfaces"]])
def test_terminal_table_fits_80_columns(args):
    out = fwgraph("chart", *args).stdout
    lines = out.splitlines()
    too_long = [ln for ln in lines if len(ln) > 80]
    assert not too_long, too_long
    assert len(lines) > 15
    if "--interfaces" not in args:
        for name in ("Sanic", "BlackSheep", "Flask"):
            assert any(ln.startswith(name + " ") for ln in lines), name
        legend = [ln for ln in lines if re.match(r"~\d+ +https?://", ln)]
        assert any("https://www.neoteroi.dev/blacksheep/" in ln for ln in legend)


def test_interfaces_cover_the_charts_interfaces_and_their_frameworks():
    doc = json.loads(fwgraph("chart", "--interfaces", "--format", "json").stdout)
    by_name = {row["cells"][0]["text"]: row["cells"] for row in doc["rows"]}
    assert {"WSGI", "ASGI", "Twisted", "CGI"} <= set(by_name)
    keys = [c["key"] for c in doc["columns"]]
    assert by_name["CGI"][keys.index("execution")]["text"] == "Process per request"
    assert by_name["WSGI"][keys.index("long-lived")]["text"] == "No"
    twisted = by_name["Twisted"][keys.index("frameworks")]["text"].split(", ")
    assert {"Cyclone", "Klein"} <= set(twisted) and twisted == sorted(twisted)
    assert "Flask" in by_name["WSGI"][keys.index("frameworks")]["text"]
    md_header, md_rows = gfm_rows(fwgraph("chart", "--interfaces", "--format", "markdown").stdout)
    assert md_header[:5] == ["Feature", "WSGI", "ASGI", "RSGI", "Twisted"]
    assert ["Execution Model", "Long-lived process", "Event loop", "—", "Event loop", "Process per request",
            "—"] in md_rows


def test_markdown_escapes_pipes_in_cells():
    from fwgraph.views.chart import Cell, Column, Table, render_markdown

    table = Table("t", [Column("a", "A|B"), Column("b", "C")], [[Cell("x|y"), Cell("back\\slash")]], ["s"], "")
    header, rows = gfm_rows(render_markdown(table))
    assert header == ["A|B", "C"]
    assert rows == [["x|y", "back\\slash"]]


@pytest.mark.parametrize("args,message", [
    (["--framework", "no-such-framework"], "unknown framework slug"),
    (["--framework", "flask", "--framework", "nope"], "nope"),
    (["--columns", "framework,colour"], "unknown column 'colour'"),
    (["--as-of", "chart", "--columns", "licence"], "not in the chart"),
])
def test_unknown_slug_or_column_exits_2(args, message):
    proc = fwgraph("chart", *args, check=False)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert proc.stdout == ""


def test_columns_and_frameworks_select_the_view():
    header, rows = gfm_rows(fwgraph("chart", "--framework", "klein", "--framework", "bottle", "--columns",
                                    "type,first-release", "--format", "markdown").stdout)
    assert header == ["Framework", "Type", "First Release"]
    assert sorted(rows) == [["Bottle", "WSGI", "2009"], ["Klein", "Twisted [1]", "2013"]]
    header, rows = gfm_rows(fwgraph("chart", "--as-of", "chart", "--framework", "bottle", "--framework",
                                    "django", "--format", "markdown").stdout)
    assert [r[0] for r in rows] == ["Django"]  # Bottle has no chart row


def _framework_count(graph) -> int:
    from rdflib import RDF, URIRef

    return len(set(graph.subjects(RDF.type, URIRef("https://w3id.org/fwgraph/ns#WebFramework"))))


# ------------------------------------------------------------------------------- servers and new columns (issue 10)

def test_server_comparison_has_every_server_with_its_interfaces(runner, graph):
    import csv as csvmod
    import io as iomod

    from rdflib.namespace import RDF

    from fwgraph.core.namespace import FW

    result = runner("chart", "--servers", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csvmod.DictReader(iomod.StringIO(result.output)))
    servers = set(graph.subjects(RDF.type, FW.ApplicationServer))
    assert len(rows) == len(servers) >= 12
    by_name = {r["Server"]: r for r in rows}
    assert "ASGI" in by_name["Uvicorn"]["Interfaces"] and "WSGI" in by_name["Gunicorn"]["Interfaces"]
    assert "HTTP/2" in by_name["Hypercorn"]["Protocols"]
    assert "FastAPI" in by_name["Uvicorn"]["Frameworks deployed on it"]


def test_every_servers_latest_release_is_in_the_server_chart(runner, graph):
    """The server chart's "Latest release" is each record's fw:latestRelease, revision and date. It was empty for
    every server that states an interface version: both patterns bound the variable ?version."""
    import csv as csvmod
    import io as iomod

    from rdflib.namespace import DOAP, RDF, RDFS

    from fwgraph.core.namespace import FW

    rows = list(csvmod.DictReader(iomod.StringIO(runner("chart", "--servers", "--format", "csv").output)))
    shown = {r["Server"]: r["Latest release"] for r in rows}
    expected = {}
    for server in graph.subjects(RDF.type, FW.ApplicationServer):
        release = graph.value(server, FW.latestRelease)
        revision = graph.value(release, DOAP.revision) if release is not None else None
        created = graph.value(release, DOAP.created) if release is not None else None
        expected[str(graph.value(server, RDFS.label))] = (
            f"{revision} ({created})" if created is not None else str(revision) if revision is not None else "—")
    assert shown == expected
    assert any(graph.value(s, FW.interfaceVersion) is not None and expected[str(graph.value(s, RDFS.label))] != "—"
               for s in graph.subjects(RDF.type, FW.ApplicationServer))  # the case that was broken is covered
    assert shown["Granian"] == "2.8.7 (2026-10)"  # a release known only to the month shows its month


def test_new_framework_columns_come_from_the_records(runner):
    result = runner("chart", "--framework", "fastapi", "--columns", "latest,requires-python,typed,deploys-on",
                    "--format", "json")
    assert result.exit_code == 0, result.output
    import json as jsonmod

    table = jsonmod.loads(result.output)
    assert [c["key"] for c in table["columns"]] == ["framework", "latest", "python", "typed", "servers"]
    row = table["rows"][0]
    assert row["subject"].endswith("/framework/fastapi")
    cells = {c["key"]: cell for c, cell in zip(table["columns"], row["cells"], strict=True)}
    assert cells["typed"]["text"] == "yes" and "Uvicorn" in cells["servers"]["text"]
    assert cells["python"]["text"].startswith(">=")
    assert cells["latest"]["text"] == "0.163.2 (2026-11)"  # month-precise (xsd:gYearMonth), as the record states


def test_server_page_and_downloads(client):
    page = client.get("/compare/servers", headers={"Accept": "text/html"})
    assert page.status_code == 200 and b"Uvicorn" in page.data and b"compare.js" in page.data
    csv_answer = client.get("/compare/servers.csv")
    assert csv_answer.status_code == 200 and csv_answer.headers["Content-Type"].startswith("text/csv")
    assert csv_answer.data.startswith(b"Server,Interfaces")
    assert client.get("/compare/servers.md").data.startswith(b"| Server |")


def test_as_of_chart_refuses_today_only_columns(runner):
    result = runner("chart", "--as-of", "chart", "--columns", "servers")
    assert result.exit_code == 2 and "not in the chart" in result.output


# ------------------------------------------------------------------------------- measured figures (issue 24)

def test_the_measured_column_puts_the_dated_figure_beside_the_charts_tier():
    table = json.loads(fwgraph("chart", "--framework", "fastapi", "--framework", "flask", "--columns",
                               "performance,measured", "--format", "json").stdout)
    assert [c["key"] for c in table["columns"]] == ["framework", "performance", "measured"]
    cells = {row["subject"].rsplit("/", 1)[-1]: row["cells"] for row in table["rows"]}
    assert cells["fastapi"][1]["text"] == "Very High"
    assert cells["fastapi"][2]["text"] == "5882 (2022-03-14, 0.75.0)"
    assert cells["fastapi"][2]["values"][0]["iri"] == (
        "https://github.com/klen/py-frameworks-bench/blob/d4cf8c2b1134c653114384b440b3deb1965fe220/"
        "docs/_posts/2022-03-14-results.md")
    assert cells["flask"][2]["text"] == "—"  # the benchmark never measured Flask
    assert any("not a current one" in note for note in table["notes"])
