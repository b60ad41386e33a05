"""The version a commit's package declares: a literal in its metadata, its ``__version__``, Cargo.toml for maturin,
or "from the tag" when a VCS-versioning tool writes it at build time.
"""

from __future__ import annotations

import ast
import configparser
import re
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from fwgraph.publish.harvest.files import SetupPy, literal, module_assigns, read_text, read_toml, resolve, subtable
from fwgraph.publish.harvest.project import Declared, Project
from fwgraph.publish.harvest.repository import Snapshot

#: Build requirements whose presence makes the version come from the git tag (when none is written down).
_VCS_VERSIONING = {"setuptools-scm": "setuptools-scm", "hatch-vcs": "hatch-vcs", "versioningit": "versioningit",
                   "poetry-dynamic-versioning": "poetry-dynamic-versioning", "dunamai": "dunamai",
                   "setuptools-git-versioning": "setuptools-git-versioning", "pbr": "pbr",
                   "vcversioner": "vcversioner", "uv-dynamic-versioning": "uv-dynamic-versioning"}
_VERSION_FILES = ("__init__.py", "__about__.py", "_version.py", "version.py", "__version__.py", "about.py")
_PY2_VERSION = re.compile(r"""^__version__\s*=\s*(['"])([^'"\n]+)\1""", re.MULTILINE)
_SETUP_VERSION = re.compile(r"""\bversion\s*=\s*(['"])([^'"\n]+)\1""")


def declared_version(snap: Snapshot, project: Project, pyproject: dict[str, Any],
                     cfg: configparser.RawConfigParser | None, setup: SetupPy | None) -> Declared | None:
    """The declared version: [project], [tool.poetry], the dynamic-version tool, setup.cfg, setup.py, __version__."""
    table = pyproject.get("project") if isinstance(pyproject.get("project"), dict) else None
    requires: set[str] = {str(canonicalize_name(Requirement(r).name)) for r in (project.build_requires.value
                          if project.build_requires else []) if _is_requirement(r)}
    backend = project.build_backend.value if project.build_backend else ""
    if table is not None and isinstance(table.get("version"), str):
        return Declared(table["version"], "pyproject.toml", "pyproject.toml [project] version")
    poetry = subtable(pyproject, "tool", "poetry")
    if table is None and isinstance(poetry.get("version"), str):
        if subtable(pyproject, "tool", "poetry-dynamic-versioning").get("enable"):
            return Declared(None, "pyproject.toml", "from the tag (poetry-dynamic-versioning)", True)
        return Declared(poetry["version"], "pyproject.toml", "pyproject.toml [tool.poetry] version")
    if table is not None and "version" in (table.get("dynamic") or []):
        found = _dynamic_version(snap, project, pyproject, requires, backend)
        if found:
            return found
    if cfg is not None:
        raw = cfg.get("metadata", "version", fallback=None)
        if isinstance(raw, str) and raw.strip():
            found = _setuptools_directive(snap, project, raw.strip(), "setup.cfg", "setup.cfg [metadata] version")
            if found:
                return found
        if cfg.has_section("versioneer"):
            return Declared(None, "setup.cfg", "from the tag (versioneer)", True)
    if setup is not None:
        found = _setup_py_version(snap, project, setup)
        if found:
            return found
    tag_tool = next((tool for req, tool in _VCS_VERSIONING.items() if req in requires), None)
    if tag_tool or "setuptools_scm" in subtable(pyproject, "tool"):
        return Declared(None, "pyproject.toml", f"from the tag ({tag_tool or 'setuptools-scm'})", True)
    return _package_version(snap, project)


def _is_requirement(text: str) -> bool:
    try:
        Requirement(text)
    except InvalidRequirement:
        return False
    return True


def _dynamic_version(snap: Snapshot, project: Project, pyproject: dict[str, Any], requires: set[str],
                     backend: str) -> Declared | None:
    hatch = subtable(pyproject, "tool", "hatch", "version")
    if hatch.get("source") == "vcs" or (backend.startswith("hatchling") and "hatch-vcs" in requires and not hatch):
        return Declared(None, "pyproject.toml", "from the tag (hatch-vcs)", True)
    if isinstance(hatch.get("path"), str):
        return _version_in_file(snap, project, hatch["path"], "[tool.hatch.version] path")
    pdm = subtable(pyproject, "tool", "pdm", "version")
    if pdm.get("source") == "scm":
        return Declared(None, "pyproject.toml", "from the tag (pdm-backend scm)", True)
    if pdm.get("source") == "file" and isinstance(pdm.get("path"), str):
        return _version_in_file(snap, project, pdm["path"], "[tool.pdm.version] path")
    dynamic = subtable(pyproject, "tool", "setuptools", "dynamic").get("version")
    if isinstance(dynamic, dict):
        if isinstance(dynamic.get("attr"), str):
            return _setuptools_directive(snap, project, f"attr: {dynamic['attr']}", "pyproject.toml",
                                         "[tool.setuptools.dynamic] version")
        if isinstance(dynamic.get("file"), str):
            return _setuptools_directive(snap, project, f"file: {dynamic['file']}", "pyproject.toml",
                                         "[tool.setuptools.dynamic] version")
    if "maturin" in backend:
        return _cargo_version(snap, project, pyproject)
    if "setuptools-scm" in requires or "setuptools_scm" in subtable(pyproject, "tool"):
        return Declared(None, "pyproject.toml", "from the tag (setuptools-scm)", True)
    for req, tool in _VCS_VERSIONING.items():
        if req in requires:
            return Declared(None, "pyproject.toml", f"from the tag ({tool})", True)
    return None


def _cargo_version(snap: Snapshot, project: Project, pyproject: dict[str, Any]) -> Declared | None:
    manifest = subtable(pyproject, "tool", "maturin").get("manifest-path", "Cargo.toml")
    cargo = read_toml(snap, manifest if isinstance(manifest, str) else "Cargo.toml", project.notes)
    package = subtable(cargo or {}, "package")
    version = package.get("version")
    if isinstance(version, str):
        return Declared(version, manifest, f"{manifest} [package] version (maturin)")
    if isinstance(version, dict) and version.get("workspace"):
        root = read_toml(snap, "Cargo.toml", project.notes) or {}
        workspace = subtable(root, "workspace", "package").get("version")
        if isinstance(workspace, str):
            return Declared(workspace, "Cargo.toml", "Cargo.toml [workspace.package] version (maturin)")
    return None


def _setuptools_directive(snap: Snapshot, project: Project, raw: str, path: str, how: str) -> Declared | None:
    """A setuptools version value: a literal, ``attr: pkg.mod.__version__`` or ``file: VERSION``."""
    if raw.startswith("attr:"):
        dotted = raw[5:].strip().split(".")
        attr, module = dotted[-1], dotted[:-1]
        for base in ("src/", ""):
            stem = base + "/".join(module)
            for candidate in (f"{stem}.py", f"{stem}/__init__.py"):
                found = _assigned_string(snap, project, candidate, (attr,))
                if found:
                    return Declared(found, candidate, f"{attr} in {candidate} ({how}: {raw})")
        return None
    if raw.startswith("file:"):
        target = raw[5:].strip().split(",")[0].strip()
        text = read_text(snap, target, project.notes)
        if text and text.strip():
            return Declared(text.strip().splitlines()[0].strip(), target, f"{target} ({how}: {raw})")
        return None
    return Declared(raw, path, how)


def _setup_py_version(snap: Snapshot, project: Project, setup: SetupPy) -> Declared | None:
    if not setup.parsed:
        match = _SETUP_VERSION.search(setup.text)
        return Declared(match.group(2), "setup.py", "setup.py version= (read as text)") if match else None
    if "use_scm_version" in setup.keywords and literal(setup.keywords["use_scm_version"], setup.assigns) is not False:
        return Declared(None, "setup.py", "from the tag (setuptools-scm, use_scm_version)", True)
    node = resolve(setup.keywords.get("version"), setup.assigns)
    value = literal(node, setup.assigns)
    if isinstance(value, str):
        return Declared(value, "setup.py", "setup.py version=")
    if isinstance(node, ast.Attribute) and node.attr == "__version__":
        return _package_version(snap, project)
    return None


def _version_in_file(snap: Snapshot, project: Project, path: str, how: str) -> Declared | None:
    found = _assigned_string(snap, project, path, ("__version__", "VERSION", "version"))
    return Declared(found, path, f"__version__ in {path} ({how})") if found else None


def _package_version(snap: Snapshot, project: Project) -> Declared | None:
    """``__version__ = "..."`` in the package's own modules (src/ layout or flat, package or single module)."""
    names: list[str] = []
    if project.name:
        raw = str(project.name.value)
        names += [raw.replace("-", "_").replace(".", "_"), canonicalize_name(raw).replace("-", "_")]
    names += project.packages
    names += [n for n, is_dir in snap.listdir("src") if is_dir and snap.exists(f"src/{n}/__init__.py")]
    seen: set[str] = set()
    for name in names:
        if not name or name in seen or "/" in name:
            continue
        seen.add(name)
        for base in ("src/", ""):
            for candidate in [f"{base}{name}/{f}" for f in _VERSION_FILES] + [f"{base}{name}.py"]:
                found = _assigned_string(snap, project, candidate, ("__version__",))
                if found:
                    return Declared(found, candidate, f"__version__ in {candidate}")
    return None


def _assigned_string(snap: Snapshot, project: Project, path: str, names: tuple[str, ...]) -> str | None:
    """The string a module assigns to one of ``names`` at its top level (ast; a regex for Python 2 files)."""
    text = read_text(snap, path, project.notes)
    if text is None:
        return None
    try:
        tree = ast.parse(text, filename=path)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        match = _PY2_VERSION.search(text) if "__version__" in names else None
        return match.group(2) if match else None
    assigns = module_assigns(tree)
    for name in names:
        if name in assigns:
            value = literal(assigns[name], assigns)
            if isinstance(value, str) and value.strip():
                return value.strip()
    return None
