"""Benchmark results as W3C Data Cube observations: `fwgraph benchmarks` (klen/py-frameworks-bench's published
results) and the Turtle of this project's own runs (bench/run_frameworks.py).

klen/py-frameworks-bench published dated result posts (``docs/_posts/YYYY-MM-DD-results.md``, 2021-04-28 to
2022-03-14), each with one Markdown table per scenario (``## … {#html}``, ``{#api}``, ``{#upload}`` and the
combined ``{#composite}``) and one row per framework: ``| [name](https://pypi.org/project/name/) `version` |
requests/sec | latency 50% | latency 75% | latency avg |`` (the composite table gives requests completed in all
three scenarios instead of requests per second). Its method and hardware are stated in ``docs/methodic.md``.

This module reads a local clone offline (dulwich), and writes one file per post,
``data/benchmarks/py-frameworks-bench/<date>.ttl``, with one ``qb:Observation`` per table row, citing the
post at the commit that last changed it; and ``py-frameworks-bench.ttl``, the ``qb:DataSet`` with the method
read from ``docs/methodic.md``. A row's package is linked to a framework record only when the record's
``fw:pypiDistribution`` is the same PyPI project (PEP 503 names); every row is kept either way.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from dulwich.objects import Commit
from packaging.utils import canonicalize_name
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, XSD

from fwgraph.core.errors import InputError
from fwgraph.core.namespace import BASE, FW, PUBLISHED_BENCH_IRI, QB, RECORD_KINDS, RUNS_IRI
from fwgraph.publish.harvest.catalogue import Catalogue
from fwgraph.publish.harvest.downloads import literal, prefix_lines
from fwgraph.publish.harvest.repository import Repository

UPSTREAM = "https://github.com/klen/py-frameworks-bench"
POSTS_DIR = "docs/_posts"
METHODIC = "docs/methodic.md"
DATASET_FILE = "py-frameworks-bench.ttl"
#: The method node every observation refers to.
METHOD_IRI = f"{PUBLISHED_BENCH_IRI}/method"
#: The scenario concepts (data/concepts.ttl) by the anchor of the post's section.
SCENARIOS = {"html": "pfb-html", "api": "pfb-api", "upload": "pfb-upload", "composite": "pfb-composite"}
POST_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})-results\.md$")
SECTION = re.compile(r"^##\s+.*\{#(?P<anchor>[a-z]+)\}\s*$")
ROW = re.compile(r"^\|\s*\[(?P<name>[^\]]+)\]\((?P<url>[^)]*)\)\s*`(?P<version>[^`]+)`\s*"
                 r"\|\s*(?P<count>\d+)\s*\|\s*(?P<p50>\d+(?:\.\d+)?)\s*\|\s*(?P<p75>\d+(?:\.\d+)?)\s*"
                 r"\|\s*(?P<mean>\d+(?:\.\d+)?)\s*\|?\s*$")
_PREFIXES = {"scenario": BASE + "benchmark-scenario/", "framework": RECORD_KINDS["framework"].namespace}


@dataclass(frozen=True)
class Row:
    """One table row of a post: the package as the post names it, its version and the four figures."""

    scenario: str  # the section anchor: html, api, upload, composite
    package: str
    version: str
    count: int  # requests per second; requests completed for the composite table
    p50: str  # milliseconds, as written
    p75: str
    mean: str


@dataclass(frozen=True)
class Post:
    """One result post: its date, the commit that last changed it, its path and rows."""

    day: str
    commit: str
    path: str
    rows: tuple[Row, ...]

    @property
    def url(self) -> str:
        return f"{UPSTREAM}/blob/{self.commit}/{self.path}"


@dataclass
class BenchmarksResult:
    """What a run read and wrote."""

    head: str
    posts: list[Post]
    linked: dict[str, str]  # PEP 503 package name -> framework record IRI
    files: dict[str, bytes] = field(default_factory=dict)

    def summary(self) -> str:
        rows = sum(len(p.rows) for p in self.posts)
        names = sorted({canonicalize_name(r.package) for p in self.posts for r in p.rows})
        unlinked = ", ".join(n for n in names if n not in self.linked) or "none"
        return (f"{len(self.posts)} posts ({self.posts[0].day} to {self.posts[-1].day}) from klen/py-frameworks-bench "
                f"at {self.head}: {rows} observations of {len(names)} packages; no framework record: {unlinked}")


def parse_post(text: str, source: str) -> list[Row]:
    """The rows of every scenario table of a post, in the post's order; a row that does not parse is an error."""
    rows: list[Row] = []
    anchor: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if (heading := SECTION.match(line)) is not None:
            anchor = heading["anchor"]
            if anchor not in SCENARIOS:
                raise InputError(f"unknown section {{#{anchor}}}", source=source, line=number)
            continue
        if not line.startswith("| ["):
            continue
        match = ROW.match(line)
        if match is None or anchor is None:
            raise InputError("a result row that does not read as | [name](url) `version` | n | n | n | n |",
                             source=source, line=number)
        rows.append(Row(anchor, match["name"], match["version"], int(match["count"]),
                        match["p50"], match["p75"], match["mean"]))
    return rows


def method_sections(text: str) -> dict[str, str]:
    """The ``## Hardware`` and ``## Software`` sections of methodic.md as single-spaced text, by heading."""
    out: dict[str, list[str]] = {}
    current: str | None = None
    for line in text.splitlines():
        if line.startswith("## "):
            current = line[3:].strip()
            out[current] = []
        elif current is not None:
            out[current].append(line.strip())
    return {k: " ".join(" ".join(v).split()) for k, v in out.items() if k in ("Hardware", "Software")}


def read_posts(repo: Repository, head: str) -> list[Post]:
    """Every result post at HEAD, oldest first, each pinned to the commit of the first-parent history that last
    changed it."""
    top = repo.snapshot(head)
    names = sorted(name for name, is_dir in top.listdir(POSTS_DIR) if not is_dir and POST_NAME.match(name))
    history = list(repo.first_parent_history(head))
    posts: list[Post] = []
    for name in names:
        path = f"{POSTS_DIR}/{name}"
        commit = last_change(repo, head, path, history)
        text = top.text(path) or ""
        match = POST_NAME.match(name)
        assert match is not None
        rows = parse_post(text, path)
        if not rows:
            raise InputError("a result post without result rows", source=path)
        posts.append(Post(match[1], commit, path, tuple(rows)))
    return posts


def _slug(package: str) -> str:
    return canonicalize_name(package)


def observation(post: Post, row: Row, linked: dict[str, str]) -> str:
    """One row as a Turtle observation."""
    slug = _slug(row.package)
    count = ("fw:requestsCompleted" if row.scenario == "composite" else "fw:requestsPerSecond")
    lines = [f"<{PUBLISHED_BENCH_IRI}/{post.day}/{row.scenario}/{slug}> a qb:Observation ;",
             f"    qb:dataSet <{PUBLISHED_BENCH_IRI}> ;",
             f"    fw:resultDate \"{post.day}\"^^xsd:date ;",
             f"    fw:benchmarkScenario scenario:{SCENARIOS[row.scenario]} ;",
             f"    fw:benchmarkedPackage {literal(row.package)} ;",
             f"    fw:packageVersion {literal(row.version)} ;"]
    if slug in linked:
        lines.append(f"    fw:benchmarkedFramework framework:{linked[slug].rsplit('/', 1)[-1]} ;")
    lines += [f"    {count} {row.count} ;",
              f"    fw:latencyP50 {row.p50} ;",
              f"    fw:latencyP75 {row.p75} ;",
              f"    fw:latencyMean {row.mean} ;",
              f"    fw:benchmarkMethod <{METHOD_IRI}> ;",
              f"    dcterms:source <{post.url}> ."]
    return "\n".join(lines) + "\n"


def post_file(post: Post, linked: dict[str, str]) -> bytes:
    head = (f"# klen/py-frameworks-bench results of {post.day} ({post.path} at {post.commit[:12]}): one observation "
            "per table row. Results of that day, not current figures. Written by `fwgraph benchmarks`; do not "
            "edit.\n")
    body = "\n".join(observation(post, row, linked) for row in post.rows)
    return (head + prefix_lines(_PREFIXES) + "\n" + body).encode("utf-8")


def dataset_file(head: str, methodic_commit: str, sections: dict[str, str], posts: list[Post]) -> bytes:
    """The qb:DataSet, its rights and the method node, read from methodic.md at the commit that last changed it."""
    first, last = posts[0].day, posts[-1].day
    rows = sum(len(p.rows) for p in posts)
    description = (
        f"Every result row of the {len(posts)} result posts of klen/py-frameworks-bench ({first} to {last}), "
        f"{rows} observations: per post, scenario and package, the requests per second (requests completed in all "
        "three scenarios for the composite table), the 50% and 75% latency and the mean latency in milliseconds, "
        "and the package version the post names. Each observation is dated by its post and cites the post at the "
        "commit that last changed it. These are the figures of those days on GitHub Actions runners, not current "
        "measurements.")
    methodic = f"{UPSTREAM}/blob/{methodic_commit}/{METHODIC}"
    lines = [
        "# The published results of klen/py-frameworks-bench (a W3C Data Cube data set): what it holds, its "
        "source, rights and method. Written by `fwgraph benchmarks`; do not edit.",
        prefix_lines({"rdfs": "http://www.w3.org/2000/01/rdf-schema#", "dcat": "http://www.w3.org/ns/dcat#",
                      "prov": "http://www.w3.org/ns/prov#"}),
        f"<{PUBLISHED_BENCH_IRI}> a qb:DataSet ;",
        '    rdfs:label "py-frameworks-bench results" ;',
        '    dcterms:title "Published results of klen/py-frameworks-bench (2021–2022)"@en ;',
        f"    dcterms:description {literal(description)}@en ;",
        "    qb:structure fw:benchmarkStructure ;",
        f"    dcterms:source <{UPSTREAM}/tree/{head}/{POSTS_DIR}> ;",
        f"    prov:wasDerivedFrom <{UPSTREAM}> ;",
        f'    dcterms:temporal [ a dcterms:PeriodOfTime ; dcat:startDate "{first}"^^xsd:date ; '
        f'dcat:endDate "{last}"^^xsd:date ] ;',
        "    dcterms:rights [ a dcterms:RightsStatement ;",
        f"        rdfs:label {literal(f'klen/py-frameworks-bench is under the MIT licence (LICENSE at commit {head}); the figures are republished as facts, each observation citing the post and commit it was read from.')}@en ;",  # noqa: E501
        f"        dcterms:source <{UPSTREAM}/blob/{head}/LICENSE>",
        "    ] .",
        "",
        f"<{METHOD_IRI}> a fw:BenchmarkMethod ;",
        '    rdfs:label "py-frameworks-bench method (docs/methodic.md)"@en ;',
        f"    fw:machine {literal(sections.get('Hardware', ''))}@en ;",
        f"    dcterms:description {literal(sections.get('Software', ''))}@en ;",
        f"    rdfs:comment {literal(f'The method page as it stands since commit {methodic_commit}; posts made before that commit were run when the page read otherwise.')}@en ;",  # noqa: E501
        f"    dcterms:source <{methodic}> .",
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")


def last_change(repo: Repository, head: str, path: str, history: list[str]) -> str:
    """The commit that last changed ``path``: the oldest of the unbroken run of ``history`` (first parents back
    from HEAD) whose ``path`` is HEAD's."""
    blob = repo.snapshot(head).blob_id(path)
    commit = head
    for sha in history[1:]:
        if repo.snapshot(sha).blob_id(path) != blob:
            break
        commit = sha
    return commit


def harvest_benchmarks(repo_path: Path, graph: Graph) -> BenchmarksResult:
    """Read the clone at ``repo_path`` and compute the files of data/benchmarks/py-frameworks-bench/."""
    with Repository(Path(repo_path)) as repo:
        head = repo.head()
        if head is None or not isinstance(repo.object(head), Commit):
            raise InputError("the repository has no commits", source=str(repo_path))
        posts = read_posts(repo, head)
        methodic_commit = last_change(repo, head, METHODIC, list(repo.first_parent_history(head)))
        sections = method_sections(repo.snapshot(head).text(METHODIC) or "")
    if not posts:
        raise InputError(f"no result posts in {POSTS_DIR}", source=str(repo_path))
    if set(sections) != {"Hardware", "Software"}:
        raise InputError("no ## Hardware and ## Software sections", source=METHODIC)
    catalogue = Catalogue.from_graph(graph)
    linked: dict[str, str] = {canonicalize_name(e.pypi): e.iri for e in catalogue.entries.values()
              if e.kind == "framework" and e.pypi}
    result = BenchmarksResult(head=head, posts=posts, linked=linked)
    result.files = {f"{p.day}.ttl": post_file(p, linked) for p in posts}
    result.files[DATASET_FILE] = dataset_file(head, methodic_commit, sections, posts)
    return result


# ---------------------------------------------------------------------------------------------- own runs


#: The concepts of fw:serverRole (data/concepts.ttl) by the harness's name for the role.
SERVER_ROLES = ("common", "recommended", "own")


def _records(graph: Graph | None) -> Graph:
    from fwgraph.data.graph import Sources
    from fwgraph.publish.harvest.downloads import records_graph

    return graph if graph is not None else records_graph(Sources.at().root / "data")


def _framework_iris(records: Graph) -> dict[str, str]:
    """Framework record IRIs by their PyPI distribution (PEP 503 name)."""
    return {canonicalize_name(e.pypi): e.iri for e in Catalogue.from_graph(records).entries.values()
            if e.kind == "framework" and e.pypi}


def recommended_servers(graph: Graph | None = None) -> dict[str, list[str]]:
    """The servers each framework's record recommends (fw:recommendedServer), as server slugs (the last segment
    of ``https://w3id.org/fwgraph/server/<slug>``) by the framework's PyPI distribution (PEP 503 name): the
    harness's one source for which servers to run a framework under besides the common one.
    ``graph``: the records (default: the shipped ones)."""
    records = _records(graph)
    return {pypi: sorted(str(s).rsplit("/", 1)[-1] for s in records.objects(URIRef(iri), FW.recommendedServer))
            for pypi, iri in _framework_iris(records).items()}


def _decimal(value: float, places: int) -> Literal:
    return Literal(Decimal(f"{value:.{places}f}"), datatype=XSD.decimal)


def run_turtle(day: str, machine: str, settings: str, commit: str, results: list[dict[str, Any]],
               failures: list[str], graph: Graph | None = None, *, run_id: str | None = None,
               note: str = "") -> bytes:
    """A run of bench/run_frameworks.py as Turtle: the method node (machine, settings, harness commit, what could
    not be measured) and one observation per framework × server × scenario with the median of its rounds.
    ``run_id``: the run's segment of its IRIs (default the day; the day and a suffix for another run that day).
    ``note``: what the runner says about the machine during the run (e.g. that others' jobs shared it).
    ``results``: dicts with framework, version, server, server_version, python, scenario, rps, p50, p99 (one
    value per round), errors and role (one of SERVER_ROLES). ``graph``: the records, to link frameworks
    (default: the shipped ones)."""
    linked = _framework_iris(_records(graph))
    out = Graph()
    for prefix, ns in (("qb", QB), ("fw", FW), ("dcterms", DCTERMS), ("xsd", XSD), ("rdfs", RDFS),
                       ("scenario", BASE + "benchmark-scenario/"), ("framework", RECORD_KINDS["framework"].namespace),
                       ("role", BASE + "server-role/")):
        out.bind(prefix, ns)
    run_id = run_id or day
    method = URIRef(f"{RUNS_IRI}/{run_id}")
    out.add((method, RDF.type, FW.BenchmarkMethod))
    out.add((method, RDFS.label, Literal(f"fwgraph benchmark run {run_id}", lang="en")))
    out.add((method, FW.machine, Literal(machine, lang="en")))
    out.add((method, DCTERMS.description, Literal(settings, lang="en")))
    out.add((method, FW.harnessCommit, Literal(commit)))
    out.add((method, RDFS.comment, Literal(
        "Measured on one shared machine with server and load generator on it: noisy figures of that day, "
        "comparable only within this run." + (f" {note.strip()}" if note.strip() else "")
        + (" Not measured: " + "; ".join(failures) + "." if failures else ""),
        lang="en")))
    for r in results:
        server = "own-server" if r["server"].endswith("(own server)") else canonicalize_name(r["server"])
        obs = URIRef(f"{RUNS_IRI}/{run_id}/{canonicalize_name(r['framework'])}/{server}/{r['scenario']}")
        out.add((obs, RDF.type, QB.Observation))
        out.add((obs, QB.dataSet, RUNS_IRI))
        out.add((obs, FW.resultDate, Literal(day, datatype=XSD.date)))
        out.add((obs, FW.benchmarkScenario, URIRef(f"{BASE}benchmark-scenario/{r['scenario']}")))
        out.add((obs, FW.benchmarkedPackage, Literal(r["framework"])))
        out.add((obs, FW.packageVersion, Literal(r["version"])))
        if (iri := linked.get(canonicalize_name(r["framework"]))) is not None:
            out.add((obs, FW.benchmarkedFramework, URIRef(iri)))
        out.add((obs, FW.serverPackage, Literal(r["server"])))
        out.add((obs, FW.serverVersion, Literal(r["server_version"])))
        out.add((obs, FW.serverRole, URIRef(f"{BASE}server-role/{r['role']}")))
        out.add((obs, FW.pythonRuntime, Literal(r["python"])))
        out.add((obs, FW.requestsPerSecond, _decimal(statistics.median(r["rps"]), 1)))
        out.add((obs, FW.requestsPerSecondMin, _decimal(min(r["rps"]), 1)))
        out.add((obs, FW.requestsPerSecondMax, _decimal(max(r["rps"]), 1)))
        out.add((obs, FW.latencyP50, _decimal(statistics.median(r["p50"]), 3)))
        out.add((obs, FW.latencyP99, _decimal(statistics.median(r["p99"]), 3)))
        out.add((obs, FW.errorCount, Literal(int(r["errors"]))))
        out.add((obs, FW.rounds, Literal(len(r["rps"]))))
        out.add((obs, FW.benchmarkMethod, method))
    head = (f"# fwgraph's own benchmark run of {day} (bench/run_frameworks.py): one observation per framework, server "
            "and scenario. Noisy figures of one shared machine on that day, not current facts.\n")
    return head.encode() + out.serialize(format="turtle").encode()
