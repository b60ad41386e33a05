"""The README's promises: CI runs exactly its test command, and the documented commands exist."""

from __future__ import annotations

import re

from tests.cli import fwgraph

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
    for name in documented:  # in-process: tests/test_cli.py runs the console script itself
        run = fwgraph(name, "--help")
        assert run.returncode == 0 and "Usage: fwgraph " + name in run.stdout, f"fwgraph {name}: {run.stderr}"


def graph_summary(graph) -> str:
    """The README's "What is in the graph" tables, computed from the graph (the test shows them when stale)."""
    from rdflib import Literal
    from rdflib.namespace import DOAP, OWL, RDF, SKOS

    from fwgraph.core.namespace import FW

    def of(cls):
        return set(graph.subjects(RDF.type, cls))

    frameworks, servers = of(FW.WebFramework), of(FW.ApplicationServer)
    libraries = of(FW.TemplateEngine) | of(FW.ValidationLibrary) | of(FW.ORM)
    statuses: dict[str, int] = {}
    for f in frameworks:
        for s in graph.objects(f, FW.maintenanceStatus):
            label = str(next(iter(graph.objects(s, SKOS.prefLabel)), Literal(s))).lower()
            statuses[label] = statuses.get(label, 0) + 1
    by_status = ", ".join(f"{n} {label}" for label, n in sorted(statuses.items(), key=lambda t: (-t[1], t[0])))
    rows = [("Web frameworks", f"{len(frameworks)} ({by_status})"),
            ("Application servers", str(len(servers))),
            ("Libraries (template engines, validation libraries, ORMs)", str(len(libraries))),
            ("Server interfaces", str(len(of(FW.ServerInterface)))),
            ("Features", str(len(of(FW.Feature))))]
    out = ["| what | how many |", "|---|---:|", *(f"| {a} | {b} |" for a, b in rows), ""]

    def share(nodes, pred, prefix=None):
        n = sum(1 for x in nodes if any(prefix is None or str(o).startswith(prefix) for o in graph.objects(x, pred)))
        return f"{n} of {len(nodes)} ({round(100 * n / len(nodes)) if nodes else 0} %)"

    links = [("Wikidata (`owl:sameAs`)", OWL.sameAs, "http://www.wikidata.org/entity/"),
             ("DBpedia (`owl:sameAs`)", OWL.sameAs, "http://dbpedia.org/resource/"),
             ("PyPI project (`fw:pypiDistribution`)", FW.pypiDistribution, None),
             ("Source repository (`doap:repository`)", DOAP.repository, None),
             ("TechEmpower implementation (`fw:techEmpowerImplementation`)", FW.techEmpowerImplementation, None),
             ("Checked on a stated date (`fw:lastChecked`)", FW.lastChecked, None)]
    out += ["| linked to | frameworks | servers |", "|---|---|---|",
            *(f"| {name} | {share(frameworks, p, pre)} | {share(servers, p, pre)} |" for name, p, pre in links)]
    return "\n".join(out)


def test_the_readme_states_what_is_in_the_graph(graph):
    expected = graph_summary(graph)
    assert expected in README, "README's 'What is in the graph' is stale; it should read:\n\n" + expected
