"""Move src/fwgraph's modules into their layer packages and rewrite every reference to them: idempotent, re-runnable.

One table (``MOVES``: old dotted name -> new dotted name) drives everything:

1. each layer package (``PACKAGES``) gets its ``__init__.py`` with its purpose line, if it has none yet;
2. each module or package of the table still at its old place is moved with ``git mv``;
3. every reference is rewritten by the table, never by a blind replace: import statements (``import fwgraph.x``,
   ``from fwgraph.x import``, ``from fwgraph import x`` split per new home, relative imports inside the package),
   dotted names in code, strings and prose (``"fwgraph.pool.X"`` monkeypatch targets, ``-m fwgraph.x``, preload
   lists, ``:mod:`` references) and source paths (``src/fwgraph/x.py``). A name matches only as a whole dotted
   name that starts with ``fwgraph.``: an IRI such as ``https://w3id.org/fwgraph/release`` or a file such as
   ``fwgraph.ttl`` is left alone, and so is ``fwgraph.jsonld`` where it names the dump (see ``_FILE_NAMES``);
4. import blocks it touched are sorted again with ruff (``--select I``), when ruff is on PATH.

A second run finds nothing to do (``--check`` exits 1 if anything would change). CHANGELOG.md and
bench/RESULTS.md are history and keep the names of their time. Left by hand: a line the longer names push past
120 characters (``ruff check`` lists them), and a module added flat after the move (tests/test_structure.py names
it: give it a row here, then run again).

Run from anywhere: ``python tools/layers.py`` (``--check`` to only report).
"""

from __future__ import annotations

import argparse
import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"

#: Each layer package and its purpose line; a layer imports only the layers before it in this order
#: (tests/test_structure.py checks it). publish and views are siblings: neither imports the other.
PACKAGES = {
    "fwgraph.core": "The core layer: settings, errors, namespaces, formats, the version and the library's own HTML;\n"
                    "knows no graph. Imports nothing else of fwgraph.",
    "fwgraph.data": "The data layer: locating, parsing and bounding the sources (Turtle, JSON-LD, example queries,\n"
                    "SPARQL text). Imports only fwgraph.core.",
    "fwgraph.store": "The store layer: query engines (in memory, rdflib, remote), killable query workers and result\n"
                     "serialisation. Imports only fwgraph.core and fwgraph.data.",
    "fwgraph.publish": "The publish layer: what makes the graph's files: harvested records, validation, the build and\n"
                       "its distribution, releases, their description and crawler files. Imports core, data and store.",
    "fwgraph.views": "The views layer: what the graph shows and answers, with no HTTP: page models, the chart and\n"
                     "finder, the contribution form, editor terms, reconciliation. Imports core, data and store.",
}

#: Old dotted name -> new dotted name. A package (harvest, chart) moves with everything in it.
MOVES = {
    # core
    "fwgraph._version": "fwgraph.core._version",
    "fwgraph.errors": "fwgraph.core.errors",
    "fwgraph.settings": "fwgraph.core.settings",
    "fwgraph.namespace": "fwgraph.core.namespace",
    "fwgraph.formats": "fwgraph.core.formats",
    "fwgraph.markup": "fwgraph.core.markup",
    "fwgraph.guard": "fwgraph.core.guard",
    # data
    "fwgraph.graph": "fwgraph.data.graph",
    "fwgraph.examples": "fwgraph.data.examples",
    "fwgraph.sparql": "fwgraph.data.querycheck",  # the example queries (data) are checked with it
    "fwgraph.convert": "fwgraph.data.convert",
    "fwgraph.bnodes": "fwgraph.data.bnodes",
    "fwgraph.jsonld": "fwgraph.data.jsonld",
    "fwgraph.dates": "fwgraph.data.dates",
    # store
    "fwgraph.engine": "fwgraph.store.engine",
    "fwgraph.pool": "fwgraph.store.pool",
    "fwgraph.remote": "fwgraph.store.remote",
    "fwgraph.results": "fwgraph.store.results",
    "fwgraph.query": "fwgraph.store.query",
    # publish
    "fwgraph.dist": "fwgraph.publish.dist",  # opens a store from disk: above store
    "fwgraph.canonical": "fwgraph.publish.canonical",
    "fwgraph.validation": "fwgraph.publish.validation",  # runs checks on an engine and reads dist: above store
    "fwgraph.sandbox": "fwgraph.publish.sandbox",  # its forkserver warms fwgraph.validation
    "fwgraph.harvest": "fwgraph.publish.harvest",  # harvest.record runs a harvest in the sandbox
    "fwgraph.build": "fwgraph.publish.build",
    "fwgraph.description": "fwgraph.publish.description",
    "fwgraph.diff": "fwgraph.publish.diff",
    "fwgraph.release": "fwgraph.publish.release",
    "fwgraph.schemaorg": "fwgraph.publish.schemaorg",
    "fwgraph.sitemap": "fwgraph.publish.sitemap",
    "fwgraph.w3id": "fwgraph.publish.w3id",
    # views
    "fwgraph.resource": "fwgraph.views.resource",
    "fwgraph.vocabulary": "fwgraph.views.vocabulary",
    "fwgraph.chart": "fwgraph.views.chart",
    "fwgraph.finder": "fwgraph.views.finder",
    "fwgraph.form": "fwgraph.views.form",
    "fwgraph.terms": "fwgraph.views.terms",
    "fwgraph.reconcile": "fwgraph.views.reconcile",
    "fwgraph.extension": "fwgraph.views.extension",
    "fwgraph.suggest": "fwgraph.views.suggest",
    "fwgraph.link": "fwgraph.views.link",  # matches by reconcile's identifier keys
}

#: Text files whose references are rewritten, by suffix (plus the extensionless CI script).
SUFFIXES = {".py", ".md", ".toml", ".cfg", ".ini", ".yaml", ".yml", ".txt", ".html", ".sh", ".conf", ".rst"}
EXTRA_FILES = {".ci/run"}
#: History keeps the names of its time; this script and its test hold the old names on purpose.
SKIP = {"CHANGELOG.md", "bench/RESULTS.md", "tools/layers.py", "tests/test_layers_tool.py"}
SKIP_DIRS = ("data/", "releases/", "ontology/", "queries/", "src/fwgraph/app/static/", "tools/vendor/")
#: Dotted module names that are also the names of files fwgraph writes (dist/fwgraph.jsonld): as text they are
#: rewritten only when an attribute or a ``:`` follows, or on an import line.
_FILE_NAMES = {"fwgraph.jsonld"}


def _path(name: str) -> Path:
    """The file or folder of a dotted module name under src/ (``fwgraph.harvest`` -> src/fwgraph/harvest)."""
    base = SRC.joinpath(*name.split("."))
    return base if base.is_dir() else base.with_suffix(".py")


def exists(name: str) -> bool:
    base = SRC.joinpath(*name.split("."))
    return base.is_dir() or base.with_suffix(".py").is_file()


def new_name(name: str) -> str | None:
    """The new dotted name of ``name`` (a moved module, or anything inside a moved package), else None."""
    for old, new in MOVES.items():
        if name == old or name.startswith(old + "."):
            return new + name[len(old):]
    return None


# ---------------------------------------------------------------------------------------------------- moves

def ensure_packages(dry: bool) -> list[str]:
    done = []
    for name, purpose in PACKAGES.items():
        init = SRC.joinpath(*name.split(".")) / "__init__.py"
        if init.is_file():
            continue
        done.append(f"create {init.relative_to(ROOT)}")
        if not dry:
            init.parent.mkdir(parents=True, exist_ok=True)
            init.write_text(f'"""{purpose}\n"""\n', encoding="utf-8")
            subprocess.run(["git", "add", str(init)], cwd=ROOT, check=True)
    return done


def move_modules(dry: bool) -> list[str]:
    done = []
    for old, new in MOVES.items():
        src_dir, dst_dir = SRC.joinpath(*old.split(".")), SRC.joinpath(*new.split("."))
        src = src_dir if src_dir.is_dir() else src_dir.with_suffix(".py")
        dst = dst_dir if src.is_dir() else dst_dir.with_suffix(".py")
        if not src.exists():
            continue  # moved already
        if dst.exists():
            raise SystemExit(f"both {src.relative_to(ROOT)} and {dst.relative_to(ROOT)} exist: merge them by hand")
        done.append(f"git mv {src.relative_to(ROOT)} {dst.relative_to(ROOT)}")
        if not dry:
            subprocess.run(["git", "mv", str(src), str(dst)], cwd=ROOT, check=True)
            if src.is_dir():  # git mv leaves untracked files (__pycache__) behind
                shutil.rmtree(src)
    return done


# ---------------------------------------------------------------------------------------------------- references

_OLD = "|".join(re.escape(o.removeprefix("fwgraph.")) for o in sorted(MOVES, key=len, reverse=True))
#: fwgraph.<old>[.more], not inside a longer dotted name, a path or an IRI (no word, dot, slash, dash before it)
_DOTTED = re.compile(rf"(?<![\w./\-])fwgraph\.({_OLD})(?![\w])((?:\.\w+)*)")
#: src/fwgraph/<old path>.py or src/fwgraph/<old package>/
_SRC_PATH = re.compile(r"(?<![\w/])((?:src/)?fwgraph/)([\w/]+?)(\.py\b|/)")
_IMPORT_LINE = re.compile(r"^\s*(from|import)\s")
#: A Flask extension's key (``app.extensions["fwgraph.terms"]``) names per-process state, not a module.
_EXTENSION_KEY = re.compile(r"extensions(?:\[|\.get\(|\.setdefault\()[\"']$")


def _dotted(match: re.Match[str], line: str) -> str:
    old, rest = "fwgraph." + match.group(1), match.group(2)
    if _EXTENSION_KEY.search(line[:match.start()]):
        return match.group(0)
    if old in _FILE_NAMES and not _IMPORT_LINE.match(line):
        if rest.startswith(".gz") or not rest and line[match.end():match.end() + 1] != ":":
            return match.group(0)  # the dump file, not the module
    return MOVES[old] + rest


def _src_path(match: re.Match[str]) -> str:
    prefix, path, end = match.groups()
    if not prefix.startswith("src/") and end == "/":
        return match.group(0)  # fwgraph/<word>/ without src/ is an IRI path far more often than a folder
    new = new_name("fwgraph." + path.replace("/", "."))
    if new is None:
        return match.group(0)
    return prefix + new.removeprefix("fwgraph.").replace(".", "/") + end


def rewrite_text(text: str) -> str:
    lines = text.splitlines(keepends=True)
    out = []
    for line in lines:
        line = _DOTTED.sub(lambda m, ln=line: _dotted(m, ln), line)
        out.append(_SRC_PATH.sub(_src_path, line))
    return "".join(out)


def _module_of(path: Path) -> str | None:
    """The dotted name of a .py file under src/, else None."""
    try:
        rel = path.relative_to(SRC)
    except ValueError:
        return None
    return ".".join(rel.with_suffix("").parts).removesuffix(".__init__")


def _old_of(name: str) -> str:
    """The name a module had before the moves (the inverse of the table)."""
    for old, new in MOVES.items():
        if name == new or name.startswith(new + "."):
            return old + name[len(new):]
    return name


def _resolve(module: str, is_package: bool, level: int, target: str | None) -> str:
    parts = module.split(".") if is_package else module.split(".")[:-1]
    base = parts[:len(parts) - (level - 1)]
    return ".".join(base + ([target] if target else []))


def rewrite_imports(text: str, path: Path) -> str:
    """``from fwgraph import x`` split by new home; relative imports inside the package made right."""
    if "from fwgraph import" not in text and "from ." not in text:
        return text  # nothing for this pass (the dotted forms are rewritten as text)
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return text
    module = _module_of(path)
    lines = text.splitlines(keepends=True)
    edits: list[tuple[int, int, str]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom) or node.end_lineno is None:
            continue
        absolute = node.module or ""
        if node.level:
            if module is None:
                continue
            is_package = path.name == "__init__.py"
            here = _resolve(module, is_package, node.level, node.module)
            if exists(here) or any(exists(f"{here}.{a.name}") for a in node.names):
                continue  # resolves to a module that is there: right as it stands
            absolute = _resolve(_old_of(module), is_package, node.level, node.module)
        elif absolute != "fwgraph" and not absolute.startswith("fwgraph.") or new_name(absolute):
            continue  # not fwgraph's, or a moved module named whole: rewritten as text, comments and wrapping kept
        statements = _split(absolute, node.names, bool(node.level))
        if statements is None:
            continue
        first = lines[node.lineno - 1]
        indent = first[:len(first) - len(first.lstrip())]
        comment = lines[node.end_lineno - 1][node.end_col_offset:].rstrip("\n")  # "  # noqa: E402 (why)"
        statements[-1] += comment if comment.lstrip().startswith("#") else ""
        edits.append((node.lineno - 1, node.end_lineno, "".join(f"{indent}{s}\n" for s in statements)))
    for start, end, new in sorted(edits, reverse=True):
        lines[start:end] = [new]
    return "".join(lines)


def _split(module: str, names: list[ast.alias], relative: bool) -> list[str] | None:
    """The import statements ``from <module> import <names>`` becomes, or None if it stays as it is."""
    home_default = new_name(module) or module
    changed = relative or home_default != module
    groups: dict[str, list[str]] = {}
    for alias in names:
        moved = None if new_name(module) else new_name(f"{module}.{alias.name}")  # from fwgraph import graph
        bound = alias.asname or alias.name
        if moved:
            home, name = moved.rsplit(".", 1)
            changed = True
        else:
            home, name = home_default, alias.name
        groups.setdefault(home, []).append(name if bound == name else f"{name} as {bound}")
    if not changed:
        return None
    return [f"from {home} import {', '.join(items)}" for home, items in groups.items()]


def files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, check=True, capture_output=True, text=True).stdout
    chosen = []
    for rel in listed.splitlines():
        if rel in SKIP or rel.startswith(SKIP_DIRS):
            continue
        if Path(rel).suffix in SUFFIXES or rel in EXTRA_FILES:
            path = ROOT / rel
            if path.is_file():
                chosen.append(path)
    return chosen


def rewrite_references(dry: bool) -> list[Path]:
    changed = []
    for path in files():
        text = path.read_text(encoding="utf-8")
        new = rewrite_imports(text, path) if path.suffix == ".py" else text
        new = rewrite_text(new)
        if new != text:
            changed.append(path)
            if not dry:
                path.write_text(new, encoding="utf-8")
    return changed


def sort_imports(paths: list[Path]) -> None:
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    py = [str(p) for p in paths if p.suffix == ".py"]
    if py and Path(ruff).exists():
        subprocess.run([ruff, "check", "--quiet", "--select", "I", "--fix", *py], cwd=ROOT, check=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if anything is left to do")
    args = parser.parse_args(argv)
    report = ensure_packages(args.check) + move_modules(args.check)
    changed = rewrite_references(args.check)
    if not args.check:
        sort_imports(changed)
    report += [f"rewrite {p.relative_to(ROOT)}" for p in changed]
    print("\n".join(report) or "nothing to do")
    return 1 if args.check and report else 0


if __name__ == "__main__":
    sys.exit(main())
