"""The code's shape, checked: layers, no import cycles, a purpose line in every file, one format table, thin routes."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "fwgraph"
MODULES = sorted(p for p in SRC.rglob("*.py"))


MEDIA_TYPES = {"text/turtle", "application/ld+json", "application/n-triples", "application/sparql-results+json",
               "application/sparql-results+xml", "text/csv", "application/rdf+xml", "text/tab-separated-values",
               "application/json", "text/html", "text/plain", "text/markdown", "application/gzip"}


def _name(path: Path) -> str:
    return ("fwgraph." + ".".join(path.relative_to(SRC).with_suffix("").parts)).removesuffix(".__init__")


def _imports() -> dict[str, set[str]]:
    """Every fwgraph module and the fwgraph modules it imports (at module level or inside functions)."""
    names = {_name(p) for p in MODULES}
    graph: dict[str, set[str]] = {}
    for path in MODULES:
        deps: set[str] = set()
        package = _name(path) if path.name == "__init__.py" else _name(path).rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level:  # from . import x, from ..store import pool
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module if isinstance(node, ast.ImportFrom) else None
            if module and module.startswith("fwgraph"):
                subs = {f"{module}.{a.name}" for a in node.names} & names  # from fwgraph import formats
                deps |= subs or {module}
            elif isinstance(node, ast.Import):
                deps |= {a.name for a in node.names if a.name.startswith("fwgraph")}
        graph[_name(path)] = deps & names
    return graph


def test_no_import_cycles():
    graph = _imports()
    cycles = []
    for start in graph:
        stack = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for dep in graph[node]:
                if dep == start:
                    cycles.append(" -> ".join([*path, start]))
                elif dep not in path:
                    stack.append((dep, [*path, dep]))
    assert not cycles, cycles[:5]


def test_no_blueprint_imports_another():
    graph = _imports()
    blueprints = {n for n in graph if n.startswith("fwgraph.app.") and n not in
                  ("fwgraph.app.http", "fwgraph.app.frontcache", "fwgraph.app.ratelimit")}
    for name in blueprints:
        assert not (graph[name] & blueprints), f"{name} imports {graph[name] & blueprints}"


#: What a blueprint may import of fwgraph: the web layer's toolkit and its per-client limits (middleware), and of
#: the library only its façade, the format table and the errors (issue 25). Anything else is a Service verb.
BLUEPRINT_IMPORTS = {"fwgraph.app.http", "fwgraph.app.ratelimit", "fwgraph.core.formats", "fwgraph.core.errors",
                     "fwgraph.service"}


def _blueprint_modules() -> list[Path]:
    """The modules of fwgraph.app that define a Flask blueprint (``bp = Blueprint(...)``)."""
    found = []
    for path in sorted((SRC / "app").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if any(isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
               and getattr(node.value.func, "id", "") == "Blueprint" for node in tree.body):
            found.append(path)
    return found


def _fwgraph_imports(path: Path) -> list[str]:
    """Every fwgraph module ``path`` imports, one entry per imported module (``from fwgraph import a, b`` is two)."""
    names = {_name(p) for p in MODULES}
    out: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "fwgraph":
            subs = [f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in names]
            out += subs or [node.module]
        elif isinstance(node, ast.Import):
            out += [a.name for a in node.names if a.name.split(".")[0] == "fwgraph"]
    return out


def test_blueprints_reach_the_library_only_through_the_service():
    blueprints = _blueprint_modules()
    assert len(blueprints) >= 10, [p.name for p in blueprints]  # the check finds the blueprints it guards
    wrong = [f"{p.name} imports {m}" for p in blueprints for m in _fwgraph_imports(p) if m not in BLUEPRINT_IMPORTS]
    assert not wrong, wrong


#: The layers, lowest first (README "Layout"): a module imports only its own layer package and the layers before
#: it. publish and views share a rank and import neither each other nor anything above; the entry points above
#: service (the web app, the Granian runner, the command line) each import only what sits below them.
LAYERS = (("fwgraph.core",), ("fwgraph.data",), ("fwgraph.store",), ("fwgraph.publish", "fwgraph.views"),
          ("fwgraph.service",), ("fwgraph.app",), ("fwgraph.server",), ("fwgraph.cli",), ("fwgraph.__main__",))


def _layer(name: str) -> tuple[int, str] | None:
    """The rank and the layer package of module ``name``, or None if it sits in no layer."""
    for rank, homes in enumerate(LAYERS):
        for home in homes:
            if name == home or name.startswith(home + "."):
                return rank, home
    return None


def _upward(graph: dict[str, set[str]]) -> list[str]:
    """The imports of ``graph`` that reach a later layer or a sibling layer."""
    wrong = []
    for name, deps in sorted(graph.items()):
        here = _layer(name)
        for dep in sorted(deps):
            there = _layer(dep)
            if here and there and (there[0] > here[0] or there[0] == here[0] and there[1] != here[1]):
                wrong.append(f"{name} imports {dep}")
    return wrong


def test_every_module_sits_in_a_layer():
    """No flat module: each lives in a layer package or is one of the entry points; only the package's own
    ``__init__`` (its documented API, ``fwgraph.load`` and friends) stands above the layers."""
    loose = sorted(n for n in _imports() if n != "fwgraph" and _layer(n) is None)
    assert not loose, f"modules in no layer (give each a home in tools/layers.py and LAYERS): {loose}"


def test_a_layer_imports_only_the_layers_before_it():
    wrong = _upward(_imports())
    assert not wrong, wrong


def test_the_layer_rule_sees_an_upward_import():
    """The check above can fail: a store module importing a view, or a view importing publish, is reported."""
    graph = _imports()
    graph["fwgraph.store.engine"] = graph["fwgraph.store.engine"] | {"fwgraph.views.resource"}
    graph["fwgraph.views.form"] = graph["fwgraph.views.form"] | {"fwgraph.publish.dist"}
    assert _upward(graph) == ["fwgraph.store.engine imports fwgraph.views.resource",
                              "fwgraph.views.form imports fwgraph.publish.dist"]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_every_module_states_its_purpose(path):
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    assert doc and len(doc.split()) >= 4, f"{path.name} has no purpose line"


@pytest.mark.parametrize("path", [p for p in MODULES if p.name != "formats.py"], ids=lambda p: str(p.relative_to(SRC)))
def test_media_types_are_stated_only_in_formats(path):
    """Every media type lives in fwgraph.core.formats; other modules name formats, never their types."""
    text = path.read_text(encoding="utf-8")
    tree = ast.parse(text)
    found = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
             and n.value.split(";")[0].strip() in MEDIA_TYPES]
    assert not found, found


def test_the_typed_namespace_names_every_term_of_the_vocabulary():
    """fwgraph.core.namespace.FW fails on unknown terms; it must know every term ontology/fwgraph.ttl defines."""
    from rdflib import Graph, URIRef

    from fwgraph.core.namespace import FW

    ns = str(FW._NS)
    vocabulary = Graph().parse(SRC.parents[1] / "ontology" / "fwgraph.ttl")
    terms = {str(s)[len(ns):] for s in vocabulary.subjects() if isinstance(s, URIRef) and str(s).startswith(ns)}
    terms.discard("")
    assert terms == set(FW.__annotations__)


#: The one FWGRAPH_ variable outside fwgraph.core.settings: not a setting but the build a validation forkserver
#: prepares, which a forkserver can only be told through its environment (fwgraph.publish.sandbox).
_FORKSERVER_VARIABLE = "FWGRAPH_SANDBOX_WARM"


@pytest.mark.parametrize("path", [p for p in MODULES if p.name != "settings.py"], ids=lambda p: str(p.relative_to(SRC)))
def test_settings_are_read_as_attributes_of_settings_only(path):
    """Every setting is a typed attribute of fwgraph.core.settings.Settings: no module reads one by a string key
    (``cfg["MAX_ROWS"]``, ``config.get("FWGRAPH_MAX_ROWS")``, ``settings["max_rows"]``) or from the environment."""
    import dataclasses

    from fwgraph.core.settings import Settings

    names = {f.name for f in dataclasses.fields(Settings)}
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("FWGRAPH_")
                and node.value != _FORKSERVER_VARIABLE):
            found.append(f"line {node.lineno}: {node.value!r}")
        key, holder = None, None
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
            key, holder = node.slice.value, node.value
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
              and node.args and isinstance(node.args[0], ast.Constant)):
            key, holder = node.args[0].value, node.func.value
        if not isinstance(key, str):
            continue
        # a setting's name in capitals anywhere; in lower case on a mapping that holds settings (other tables
        # have keys such as "workers" or "port" of their own)
        held = ast.unparse(holder).rsplit(".", 1)[-1] in ("settings", "cfg", "config", "limits") if holder else False
        if key.upper() in {n.upper() for n in names} and (key.isupper() or held):
            found.append(f"line {node.lineno}: [{key!r}]")
    assert not found, found
