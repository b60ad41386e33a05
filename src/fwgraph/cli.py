"""The `fwgraph` command line: build, validate, query, serve, chart, harvest; exit codes as documented in README."""

from __future__ import annotations

import errno
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from fwgraph.core import formats
from fwgraph.core.errors import EXIT_ERROR, EXIT_INVALID, EXIT_OK, BuildError, FwgraphError, InputError, exit_code
from fwgraph.core.settings import describe

if TYPE_CHECKING:
    from fwgraph.publish.harvest.downloads import Output



class _Commands(click.Group):
    """The command group; an error no command handled itself ends it with one line on stderr and the exit code
    of :func:`fwgraph.core.errors.exit_code` (2), never a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except (FwgraphError, OSError) as exc:
            if isinstance(exc, OSError) and exc.errno == errno.EPIPE:
                raise  # stdout closed by the reader (| head): click's own quiet exit
            click.echo(f"error: {exc}", err=True)
            ctx.exit(exit_code(exc))


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="fwgraph")
def cli() -> None:
    """fwgraph: a Linked Data knowledge graph of Python web frameworks."""
    from fwgraph.core.settings import Settings, activate

    try:  # the limits library code checks (query nesting, ...) as FWGRAPH_* variables set them
        activate(Settings.from_env())
    except FwgraphError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_ERROR)


@cli.command()
@click.option("--out", "out", default="dist", show_default=True, type=click.Path(file_okay=False, path_type=Path),
              help="Directory to write the distribution into.")
@click.option("--data", "data", default=None, type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="A directory with ontology/ and data/ (default: the shipped sources).")
def build(out: Path, data: Path | None) -> None:
    """Validate the sources and write the dumps, gzip copies and the VoID description."""
    from fwgraph.publish.build import build as do_build

    with _build_errors():
        result = do_build(out, root=data)
    for _name, path in sorted(result.files.items()):
        click.echo(f"wrote {path} ({path.stat().st_size} bytes)")
    click.echo(f"{result.triples} triples; {len(result.report.warnings)} warning(s)")


@contextmanager
def _build_errors() -> Iterator[None]:
    """Exit 1 when the sources do not conform, with the report on stderr (other errors: :class:`_Commands`)."""
    try:
        yield
    except BuildError as exc:
        click.echo(str(exc), err=True)
        sys.exit(EXIT_INVALID)


@cli.command()
@click.argument("version")
@click.option("--data", "data", default=None, type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="A directory with ontology/, data/ and releases/ (default: the shipped sources).")
@click.option("--date", "issued", default=None, metavar="YYYY-MM-DD", help="The release date (default: today, UTC).")
@click.option("--no-changelog", is_flag=True, help="Leave CHANGELOG.md as it is.")
def release(version: str, data: Path | None, issued: str | None, no_changelog: bool) -> None:
    """Cut release VERSION (MAJOR.MINOR.PATCH): validate, build it with version IRIs into releases/VERSION/,
    write its notes with the data diff against the release before, and move the CHANGELOG's Unreleased
    entries under it. Exit 0 released, 1 sources do not conform, 2 bad version, existing release or unreadable
    sources.
    """
    from fwgraph.publish.release import cut_release

    with _build_errors():
        result = cut_release(version, root=data, issued=issued, changelog=not no_changelog)
    click.echo(f"released {result.version} ({result.issued}) into {result.path}")
    click.echo(result.diff.summary() if result.diff else "the first release")
    if result.changelog:
        click.echo(f"updated {result.changelog}")


@cli.command()
@click.argument("old", type=click.Path(exists=True, path_type=Path))
@click.argument("new", type=click.Path(exists=True, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text", show_default=True)
def diff(old: Path, new: Path, fmt: str) -> None:
    """Show what changed from build OLD to build NEW: resources added and removed, and per resource the facts
    added and removed. OLD and NEW are distribution or release directories, or dumps (.nt, .ttl, .jsonld, .gz).
    Blank nodes are compared canonically. Exit 0 (changes or none), 2 when a build cannot be read.
    """
    from fwgraph.publish.diff import diff_builds

    result = diff_builds(old, new)
    text = {"text": result.to_text, "markdown": result.to_markdown, "json": result.to_json}[fmt]()
    click.echo(text, nl=False)


@cli.command()
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json", "turtle"]), default="text", show_default=True)
@click.option("--data", "data", default=None, type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="A directory with ontology/ and data/ (default: the shipped sources).")
@click.option("--dist", "dist", default=None, type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="Check contributions against this build (fwgraph build --out DIR): fast for large graphs.")
def validate(files: tuple[Path, ...], fmt: str, data: Path | None, dist: Path | None) -> None:
    """Validate contribution FILES (Turtle or JSON-LD) with the existing data, or the shipped data.

    Exit 0 when it conforms (warnings are printed but allowed), 1 on violations, 2 when an input
    cannot be read or parsed. Nothing is written but the whole graph's report, kept in
    $XDG_CACHE_HOME/fwgraph/validation under the digest of the data and shapes (unchanged data is
    not validated again).
    """
    from fwgraph.publish.validation import validate as do_validate

    report = do_validate(list(files) or None, root=data, dist=dist)
    if fmt == "json":
        click.echo(report.to_json())
    elif fmt == "turtle":
        click.echo(report.to_turtle())
    else:
        click.echo(report.to_text(), nl=False)
    sys.exit(EXIT_OK if report.conforms else EXIT_INVALID)


@cli.command()
@click.argument("query")
@click.option("--format", "fmt", default="table", show_default=True,
              type=click.Choice(["table", *(f.name for f in (*formats.RESULT_FORMATS, *formats.RDF_FORMATS))]))
@click.option("--endpoint", default=None,
              help="Send the query to this SPARQL endpoint instead (as `serve --store` does; dataset parameters "
                   "such as default-graph-uri written in the URL are kept).")
@click.option("--data", "data", default=None, type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--max-rows", default=10_000, show_default=True, type=int)
def query(query: str, fmt: str, endpoint: str | None, data: Path | None, max_rows: int) -> None:
    """Run QUERY (SPARQL text or a .rq file) on the graph, or on any endpoint with --endpoint.

    Exit 0 on success, 2 on a malformed or refused query or an unreachable endpoint.
    """
    from fwgraph.store import results as res
    from fwgraph.store.engine import OxigraphEngine, run

    text = query
    if query.endswith(".rq") or _names_a_file(query):
        try:
            text = Path(query).read_text(encoding="utf-8")
        except OSError as exc:
            click.echo(f"error: cannot read {query}: {exc.strerror}", err=True)
            sys.exit(EXIT_ERROR)
    if endpoint:
        from fwgraph.store.remote import RemoteEngine

        result = run(RemoteEngine(endpoint, timeout=60), text, max_rows=max_rows)
    else:
        result = run(OxigraphEngine.from_sources(data), text, max_rows=max_rows)
    if fmt == "table":
        click.echo(res.table(result), nl=False)
    elif result.is_graph:  # a results format asked for a graph answers in Turtle, and the other way in JSON
        sys.stdout.buffer.write(res.graph_bytes(result.triples, formats.by_name(fmt, formats.RDF_FORMATS)
                                                or formats.TURTLE))
    else:
        chosen = formats.by_name(fmt, formats.RESULT_FORMATS) or formats.SPARQL_JSON
        sys.stdout.buffer.write(res.SELECT_WRITERS[chosen](result))
        if chosen in (formats.SPARQL_JSON, formats.SPARQL_XML):
            sys.stdout.write("\n")
    if result.truncated:
        click.echo(f"warning: result truncated at {max_rows} rows", err=True)


def _names_a_file(text: str) -> bool:
    try:
        return len(text) < 4096 and Path(text).is_file()
    except OSError:  # no possible file name (a path component over the system's limit): query text
        return False


@cli.command()
@click.option("--host", default=None, help=describe("host"))
@click.option("--port", default=None, type=int, help=describe("port"))
@click.option("--base-iri", default=None, help=describe("base_iri"))
@click.option("--data", "data", default=None, type=click.Path(file_okay=False, exists=True, path_type=Path),
              help=describe("data_dir"))
@click.option("--dist", "dist", default=None, type=click.Path(file_okay=False, exists=True, path_type=Path),
              help=describe("dist_dir"))
@click.option("--store", "store", default=None,
              help=describe("store_url") + " default-graph-uri and named-graph-uri written in the URL apply to "
                                           "every query (README: Deployment).")
@click.option("--timeout", default=None, type=float, help=describe("query_timeout"))
@click.option("--max-rows", default=None, type=int, help=describe("max_rows"))
@click.option("--engine-store", type=click.Choice(["auto", "memory", "disk"]), default=None,
              help=describe("engine_store"))
@click.option("--workers", default=None, type=int, help=describe("workers"))
def serve(host, port, base_iri, data, dist, store, timeout, max_rows, engine_store, workers) -> None:  # noqa: ANN001
    """Serve the graph: SPARQL endpoint, Linked Data pages, downloads, validation (read-only).

    Every setting is also an environment variable (FWGRAPH_<NAME>, README: Limits and safety); an option wins."""
    from fwgraph.core.settings import Settings
    from fwgraph.server import serve as do_serve

    do_serve(Settings.from_env().replace({
        "host": host, "port": port, "base_iri": base_iri, "data_dir": str(data) if data else None,
        "dist_dir": str(dist) if dist else None, "store_url": store, "query_timeout": timeout,
        "max_rows": max_rows, "engine_store": engine_store, "workers": workers}))


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    try:
        cli.main(args=argv, prog_name="fwgraph", standalone_mode=True)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


@cli.command()
@click.option("--framework", "frameworks", multiple=True, metavar="SLUG",
              help="Only this framework (repeatable; default: all). Slugs as in /framework/<slug>.")
@click.option("--columns", default=None, metavar="C1,C2",
              help="Columns, comma-separated: framework, interface, performance, async, features, homepage, "
                   "licence, first-release, maintenance (default: the chart's, plus the last three for today); "
                   "also latest, python, typed, servers, measured (a dated published JSON result).")
@click.option("--as-of", "as_of", type=click.Choice(["chart", "today"]), default="today", show_default=True,
              help="chart: the seed chart's own claims (13 rows); today: current facts, chart disputes footnoted.")
@click.option("--format", "fmt", type=click.Choice(["table", "markdown", "csv", "html", "json"]), default="table",
              show_default=True)
@click.option("--interfaces", is_flag=True, help="Compare the server interfaces (WSGI, ASGI, Twisted, CGI, ...).")
@click.option("--servers", is_flag=True, help="Compare the application servers (interfaces, protocols, workers).")
@click.option("--data", "data", default=None, type=click.Path(file_okay=False, exists=True, path_type=Path))
def chart(frameworks: tuple[str, ...], columns: str | None, as_of: str, fmt: str, interfaces: bool, servers: bool,
          data: Path | None) -> None:
    """Print the framework comparison chart (or the interface or the server comparison).

    Exit 2 for an unknown framework slug or column.
    """
    from fwgraph.store.engine import OxigraphEngine
    from fwgraph.views import chart as ch

    try:
        engine = OxigraphEngine.from_sources(data)
        if (interfaces or servers) and (frameworks or columns or (interfaces and servers)):
            raise ch.ChartError("--interfaces and --servers take no --framework or --columns, and not each other")
        if servers:
            table = ch.server_table(engine)
        elif interfaces:
            table = ch.interface_table(engine)
            if fmt in ("table", "markdown"):
                table = table.transposed()  # aspects as rows, one column per interface, as in the chart
        else:
            table = ch.framework_table(engine, list(frameworks) or None, [columns] if columns else None, as_of)
    except (ch.ChartError, InputError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    click.echo(ch.render(table, fmt), nl=False)


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path), metavar="REPO | [RECORDS...]")
@click.option("--check", "check_mode", is_flag=True,
              help="Compare curated records (RECORDS, default: all shipped records) with their repositories.")
@click.option("--releases", "releases_out", default=None, type=click.Path(file_okay=False, path_type=Path),
              help="Write the release history of every record (RECORDS, default: all) whose repository is under "
                   "--repos into this folder, one <slug>.ttl each (data/releases).")
@click.option("--repos", default=".", show_default=True, type=click.Path(file_okay=False, path_type=Path),
              help="With --check: the folder holding the repositories (OWNER+NAME[/repo], OWNER/NAME or NAME).")
@click.option("--slug", default=None, help="The record's slug (default: found by PyPI name or repository).")
@click.option("--repo-url", default=None, help="The repository's GitHub URL, for permalinks (default: its origin).")
@click.option("--format", "fmt", type=click.Choice(["turtle", "json", "text"]), default=None,
              help="turtle (default) or json; with --check: text (default), json or turtle.")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Count the release cadence up to this day (default: today).")
@click.option("--timeout", default=120.0, show_default=True, type=float, help="Time limit per repository, seconds.")
@click.option("--data", "data", default=None, type=click.Path(file_okay=False, exists=True, path_type=Path))
def harvest(paths: tuple[Path, ...], check_mode: bool, releases_out: Path | None, repos: Path, slug: str | None,
            repo_url: str | None, fmt: str | None, as_of, timeout: float, data: Path | None) -> None:  # noqa: ANN001
    """Derive a project's facts from its local git repository REPO, each with the file and commit that state it.

    With --check, compare curated records with their repositories: exit 0 when consistent, 1 when a record
    is stale or disagrees, 2 for unreadable input. Nothing is fetched, run or written.
    """
    from datetime import UTC, datetime

    from fwgraph.data.graph import Sources, load, parse_file
    from fwgraph.publish.harvest import Catalogue
    from fwgraph.publish.harvest.check import check, release_history_files
    from fwgraph.publish.harvest.record import harvest_bounded
    from fwgraph.publish.sandbox import Sandbox

    day = as_of.date() if as_of else datetime.now(UTC).date()
    sandbox = Sandbox(slots=1, timeout=timeout)
    if releases_out is not None:
        from fwgraph.publish.harvest.history import write_histories

        files = list(paths) or list(Sources.at(data).data)
        lines = write_histories([(f, parse_file(f)) for f in files], repos, releases_out, day,
                                lambda path, **kw: harvest_bounded(path, timeout=timeout, sandbox=sandbox, **kw),
                                every_record=load(data) if paths else None)
        click.echo("\n".join(lines))
        return
    if check_mode:
        files = list(paths) or list(Sources.at(data).data)
        files += [h for f in paths for h in release_history_files(f) if h not in files]
        report = check([(str(f), parse_file(f)) for f in files], repos, day,
                       lambda path, **kw: harvest_bounded(path, timeout=timeout, sandbox=sandbox, **kw))
    else:
        if len(paths) != 1 or fmt == "text":
            raise click.UsageError("give one repository (REPO), or --check; formats: turtle or json")
        result = harvest_bounded(paths[0], timeout=timeout, sandbox=sandbox, slug=slug, repo_url=repo_url,
                                 as_of=day, catalogue=Catalogue.from_graph(load(data)))
    if check_mode:
        out = {"json": report.to_json, "turtle": report.to_turtle}.get(fmt or "text", report.to_text)()
        click.echo(out, nl=False)
        sys.exit(EXIT_ERROR if report.unreadable else EXIT_INVALID if report.stale else EXIT_OK)
    click.echo(result.to_json() if fmt == "json" else result.to_turtle(), nl=fmt == "json")
    for text in result.disagreements:
        click.echo(f"disagreement: {text}", err=True)


@cli.command()
@click.option("--repo", "repo", required=True, type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="A local clone of pypa/advisory-database (work tree or bare); its HEAD commit is the snapshot.")
@click.option("--data", "data", default=None, type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="A directory with ontology/ and data/ (default: the shipped sources).")
@click.option("--out", "out", default=None, type=click.Path(file_okay=False, path_type=Path),
              help="The folder to write (default: data/advisories/ of --data); its .ttl files are the tool's.")
@click.option("--no-libraries", is_flag=True, help="Only frameworks and servers, not the library records.")
@click.option("--check", "check_mode", is_flag=True,
              help="Write nothing: exit 1 when the folder differs from what the snapshot gives.")
def advisories(repo: Path, data: Path | None, out: Path | None, no_libraries: bool, check_mode: bool) -> None:
    """Write data/advisories/<slug>.ttl from the PyPA advisory database at REPO's HEAD: one
    fw:SecurityAdvisory per OSV entry naming a record's PyPI distribution, with its version ranges and whether
    the record's latest release is affected; and the snapshot's description. Read-only on REPO, offline,
    byte-stable. Exit 0 written (or, with --check, up to date), 1 stale with --check, 2 unreadable input.
    """
    from fwgraph.core.namespace import RECORD_KINDS
    from fwgraph.data.graph import Sources, load
    from fwgraph.publish.harvest import advisories as adv

    kinds = tuple(k for k in RECORD_KINDS if not no_libraries or k != "library")
    root = Sources.at(data).root
    graph = load(data)
    names = {p.distribution for p in adv.projects(graph, kinds)}
    result = adv.derive(graph, adv.read_database(repo, names), kinds)
    folder = out or root / "data" / "advisories"
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    db = result.database
    _write_folder(result, folder, check_mode,
                  f"{sum(len(v) for v in result.advisories.values())} advisories for {len(result.advisories)} "
                  f"project(s) from {adv.REPOSITORY} at {db.commit} ({db.day.isoformat()})")


def _harvest_options(upstream: str, folder: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """The options of a harvest that rewrites one folder from a local clone: --repo, --data, --out, --check."""
    def apply(command: Callable[..., None]) -> Callable[..., None]:
        for option in reversed((
            click.option("--repo", "repo", required=True,
                         type=click.Path(file_okay=False, exists=True, path_type=Path),
                         help=f"A local clone of {upstream} (work tree or bare), read at HEAD."),
            click.option("--data", "data", default=None,
                         type=click.Path(file_okay=False, exists=True, path_type=Path),
                         help="A directory with ontology/ and data/ (default: the shipped sources)."),
            click.option("--out", "out", default=None, type=click.Path(file_okay=False, path_type=Path),
                         help=f"The folder to write (default: {folder} of --data); its .ttl files are the tool's."),
            click.option("--check", "check_mode", is_flag=True,
                         help="Write nothing: exit 1 when the folder differs from what the clone gives."),
        )):
            command = option(command)
        return command
    return apply


@cli.command()
@_harvest_options("hugovk/top-pypi-packages", "data/downloads/")
def downloads(repo: Path, data: Path | None, out: Path | None, check_mode: bool) -> None:
    """Write data/downloads/<slug>.ttl from the history of hugovk/top-pypi-packages at REPO: for every framework
    and server record with a PyPI distribution, one qb:Observation per monthly snapshot of the list of the most
    downloaded PyPI projects (its count and rank, or that it is not in the list); and the data set's description.
    Read-only on REPO, offline, byte-stable. Exit 0 written (or, with --check, up to date), 1 stale with --check,
    2 unreadable input.
    """
    from fwgraph.data.graph import Sources
    from fwgraph.publish.harvest import downloads as dl

    with _build_errors():  # unreadable input: exit 2
        root = Sources.at(data).root
        result = dl.harvest_downloads(repo, dl.records_graph(root / "data"))
    folder = out or root / "data" / "downloads"
    for note in result.skipped:
        click.echo(f"note: skipped {note}", err=True)
    _write_folder(result, folder, check_mode, result.summary())


def _write_folder(result: Output, folder: Path, check_mode: bool, summary: str) -> None:
    """Write a harvest's files into its folder (or, with --check, exit 1 when they differ), then the summary."""
    from fwgraph.publish.harvest import downloads as dl

    if check_mode:
        differing = dl.stale(result, folder)
        for name in differing:
            click.echo(f"stale: {folder / name}")
        click.echo(("up to date: " if not differing else f"{len(differing)} file(s) differ: ") + summary)
        sys.exit(EXIT_INVALID if differing else EXIT_OK)
    written, removed = dl.write(result, folder)
    for path in written:
        click.echo(f"wrote {path}")
    for path in removed:
        click.echo(f"removed {path}")
    click.echo(summary)


@cli.group()
def link() -> None:
    """Propose owl:sameAs links to other datasets, by identifiers both hold, for a curator to review."""


@link.command("wikidata")
@click.option("--endpoint", default=None, metavar="URL",
              help="Wikidata's SPARQL endpoint, or a store holding Wikidata's RDF [default: "
                   "https://query.wikidata.org/sparql].")
@click.option("--dump", default=None, type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Read Wikidata's RDF from this N-Triples (.nt) or Turtle file instead of an endpoint.")
@click.option("--output", "output", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="Write the proposals here (default: stdout); never inside data/.")
@click.option("--data", "data", default=None, type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="A directory with ontology/ and data/ (default: the shipped sources).")
@click.option("--timeout", default=60.0, show_default=True, type=float, help="Seconds for one request.")
@click.option("--batch", default=100, show_default=True, type=click.IntRange(1, 500),
              help="Identifier spellings sent in one query's VALUES.")
def link_wikidata(endpoint: str | None, dump: Path | None, output: Path | None, data: Path | None,
                  timeout: float, batch: int) -> None:
    """Propose owl:sameAs links to Wikidata items whose PyPI project (P5568), source code repository (P1324) or
    official website (P856) equals a record's, normalised (case, http/https, www., .git, trailing slash), never
    by label; and to DBpedia through an item's English Wikipedia article. Writes Turtle with each link's
    provenance (the matching statements, the source, the retrieval time) and reports conflicts (a record
    matching several items, an item matching several records, a PyPI name or repository that disagrees,
    another link already there), which withhold a link. Nothing is written into data/. Exit 0 proposals
    written and no conflicts, 1 written with conflicts reported (on stderr and in the Turtle's header),
    2 an unreachable endpoint, an unreadable dump or a refused --output.
    """
    from fwgraph.data.graph import Sources
    from fwgraph.store.engine import Engine, OxigraphEngine
    from fwgraph.store.remote import RemoteEngine
    from fwgraph.views.link import WIKIDATA_ENDPOINT, run_link, wikidata_endpoint

    if endpoint and dump:
        click.echo("error: give --endpoint or --dump, not both", err=True)
        sys.exit(EXIT_ERROR)
    data_dir = (Sources.at(data).root / "data").resolve()
    if output is not None and output.resolve().is_relative_to(data_dir):
        click.echo(f"error: --output {output} is inside {data_dir}: proposals are reviewed, not written as data",
                   err=True)
        sys.exit(EXIT_ERROR)
    engine: Engine | None = None
    try:
        if dump is not None:
            source, engine = str(dump), OxigraphEngine.from_file(dump)
        else:
            source = endpoint or WIKIDATA_ENDPOINT
            engine = wikidata_endpoint(source, timeout)
        links = run_link(engine, source, data, batch)
    except (InputError, OSError, SyntaxError, ValueError, FwgraphError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    finally:
        if isinstance(engine, RemoteEngine):
            engine.close()
    text = links.turtle()
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)
    click.echo(links.report(), err=True, nl=False)
    sys.exit(EXIT_INVALID if links.conflicts else EXIT_OK)


@cli.command()
@click.option("--host", required=True, metavar="URL",
              help="Where the service runs: http(s)://name[:port][/path], e.g. https://fwgraph.example.net.")
@click.option("--out", "out", default=None, type=click.Path(file_okay=False, path_type=Path),
              help="Write the folder as DIR/fwgraph/ (default: print both files).")
def w3id(host: str, out: Path | None) -> None:
    """The fwgraph/ folder for a pull request to https://github.com/perma-id/w3id.org: deploy/w3id/'s .htaccess
    and README.md with HOST written in for the placeholder. Exit 0 printed or written, 2 a host that is not a
    plain http(s) URL.
    """
    from fwgraph.publish.w3id import FILES, folder, write

    files = folder(host)
    if out is not None:
        for path in write(files, out):
            click.echo(f"wrote {path}")
        return
    for name in FILES:
        click.echo(f"==> fwgraph/{name} <==")
        click.echo(files[name].rstrip("\n") + "\n")


@cli.command()
@_harvest_options("klen/py-frameworks-bench", "data/benchmarks/py-frameworks-bench/")
def benchmarks(repo: Path, data: Path | None, out: Path | None, check_mode: bool) -> None:
    """Write data/benchmarks/py-frameworks-bench/<date>.ttl from the result posts of klen/py-frameworks-bench at
    REPO: one qb:Observation per table row (scenario, package and version, requests per second, latencies), each
    citing its post at a commit; and the data set with the method from docs/methodic.md. Read-only on REPO,
    offline, byte-stable. Exit 0 written (or, with --check, up to date), 1 stale with --check, 2 unreadable input.
    """
    from fwgraph.data.graph import Sources
    from fwgraph.publish.harvest import benchmarks as bm
    from fwgraph.publish.harvest import downloads as dl

    with _build_errors():  # unreadable input: exit 2
        root = Sources.at(data).root
        result = bm.harvest_benchmarks(repo, dl.records_graph(root / "data"))
    folder = out or root / "data" / "benchmarks" / "py-frameworks-bench"
    _write_folder(result, folder, check_mode, result.summary())
