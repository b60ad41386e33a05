"""The packaging metadata one commit states (pyproject.toml, setup.cfg, setup.py, the package's __version__).

setup.py is parsed with ``ast`` and never run or imported; values that are not literals (or names bound to
literals in the same file) are left unread. Each value keeps the path of the file that states it.
"""

from __future__ import annotations

import ast
import configparser
import re
import tomllib
import warnings
from dataclasses import dataclass, field
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from fwgraph.harvest.repository import Snapshot, TooLarge

#: Build requirements whose presence makes the version come from the git tag (when none is written down).
_VCS_VERSIONING = {"setuptools-scm": "setuptools-scm", "hatch-vcs": "hatch-vcs", "versioningit": "versioningit",
                   "poetry-dynamic-versioning": "poetry-dynamic-versioning", "dunamai": "dunamai",
                   "setuptools-git-versioning": "setuptools-git-versioning", "pbr": "pbr",
                   "vcversioner": "vcversioner", "uv-dynamic-versioning": "uv-dynamic-versioning"}
_VERSION_FILES = ("__init__.py", "__about__.py", "_version.py", "version.py", "__version__.py", "about.py")
_PY2_VERSION = re.compile(r"""^__version__\s*=\s*(['"])([^'"\n]+)\1""", re.MULTILINE)
_SETUP_VERSION = re.compile(r"""\bversion\s*=\s*(['"])([^'"\n]+)\1""")
_PYTHON_CLASSIFIER = re.compile(r"^Programming Language :: Python :: (\d+\.\d+)$")

#: URL labels (lower-cased, punctuation removed, as PEP 753 normalises them) by the fact they state.
URL_KINDS = {
    "homepage": {"homepage", "home", "website", "web", "url"},
    "documentation": {"documentation", "docs", "doc", "readthedocs", "manual"},
    "tracker": {"issues", "issue", "issuetracker", "tracker", "bugtracker", "bugs", "bugreports", "bug"},
    "changelog": {"changelog", "changes", "releasenotes", "history", "whatsnew", "news", "changelogs", "release"},
    "source": {"source", "sourcecode", "code", "repository", "github", "repo", "git"},
}


@dataclass(frozen=True)
class Value:
    """A value and the path of the file that states it."""

    value: Any
    path: str


@dataclass(frozen=True)
class Declared:
    """The version a commit declares: the string as written (None when it comes from the tag), where and how."""

    version: str | None
    path: str
    how: str
    from_tag: bool = False


@dataclass
class Project:
    """What the packaging files of one commit state."""

    name: Value | None = None
    version: Declared | None = None
    licence_expression: Value | None = None  # PEP 639 SPDX expression
    licence_text: Value | None = None  # legacy free-text licence field
    licence_files: list[Value] = field(default_factory=list)  # paths or globs the metadata names
    classifiers: Value | None = None
    requires_python: Value | None = None
    dependencies: list[tuple[Requirement, bool, str]] = field(default_factory=list)  # (req, optional, path)
    urls: list[tuple[str, str, str]] = field(default_factory=list)  # (label, url, path)
    build_backend: Value | None = None
    build_requires: Value | None = None
    native_hints: list[Value] = field(default_factory=list)  # languages a build file compiles
    packages: list[str] = field(default_factory=list)  # import names the files name
    notes: list[str] = field(default_factory=list)

    @property
    def python_versions(self) -> list[str]:
        if not self.classifiers:
            return []
        found = {m.group(1) for c in self.classifiers.value if (m := _PYTHON_CLASSIFIER.match(c))}
        return sorted(found, key=lambda v: tuple(int(p) for p in v.split(".")))


def url_kind(label: str) -> str | None:
    key = re.sub(r"[^a-z0-9]", "", label.lower())
    for kind, labels in URL_KINDS.items():
        if key in labels:
            return kind
    return None


# --------------------------------------------------------------------------- reading the files


def read_project(snap: Snapshot) -> Project:
    """Read pyproject.toml, setup.cfg and setup.py at ``snap``; the first file that states a field wins."""
    project = Project()
    pyproject = _toml(snap, "pyproject.toml", project)
    cfg = _setup_cfg(snap, project)
    setup = _setup_py(snap, project)
    if pyproject is not None:
        _from_pyproject(pyproject, project)
    if cfg is not None:
        _from_setup_cfg(cfg, project)
    if setup is not None:
        _from_setup_py(setup, project)
    project.version = _declared_version(snap, project, pyproject or {}, cfg, setup)
    return project


def _read_text(snap: Snapshot, path: str, project: Project) -> str | None:
    try:
        return snap.text(path)
    except TooLarge as exc:
        project.notes.append(str(exc))
        return None


def _toml(snap: Snapshot, path: str, project: Project) -> dict[str, Any] | None:
    text = _read_text(snap, path, project)
    if text is None:
        return None
    try:
        return tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError, ValueError) as exc:
        project.notes.append(f"{path} at {snap.commit[:12]} is not valid TOML: {exc}")
        return None


def _setup_cfg(snap: Snapshot, project: Project) -> configparser.RawConfigParser | None:
    text = _read_text(snap, "setup.cfg", project)
    if text is None:
        return None
    parser = configparser.RawConfigParser(strict=False)
    try:
        parser.read_string(text, source="setup.cfg")
    except configparser.Error as exc:
        project.notes.append(f"setup.cfg at {snap.commit[:12]} cannot be read: {exc.message}")
        return None
    return parser


@dataclass
class _SetupPy:
    """What setup.py passes to setup(): literal keyword values, plus the raw text for a fallback."""

    keywords: dict[str, ast.expr]
    assigns: dict[str, ast.expr]
    text: str
    parsed: bool
    calls: frozenset[str] = frozenset()  # names of every function the file calls


def _setup_py(snap: Snapshot, project: Project) -> _SetupPy | None:
    text = _read_text(snap, "setup.py", project)
    if text is None:
        return None
    try:
        tree = ast.parse(text, filename="setup.py")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        project.notes.append(f"setup.py at {snap.commit[:12]} is not Python 3 that ast parses ({type(exc).__name__})")
        return _SetupPy({}, {}, text, False)
    assigns = _module_assigns(tree)
    keywords: dict[str, ast.expr] = {}
    calls: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and (name := _call_name(node.func)):
            calls.add(name)
        if isinstance(node, ast.Call) and _call_name(node.func) == "setup":
            for kw in node.keywords:
                if kw.arg is not None:
                    keywords.setdefault(kw.arg, kw.value)
                else:  # setup(**options) with options a dict literal or dict(...) in the same file
                    for key, value in _dict_items(_resolve(kw.value, assigns)):
                        keywords.setdefault(key, value)
    return _SetupPy(keywords, assigns, text, True, frozenset(calls))


def _call_name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _module_assigns(tree: ast.Module) -> dict[str, ast.expr]:
    assigns: dict[str, ast.expr] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    assigns[target.id] = node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            assigns[node.target.id] = node.value
    return assigns


def _resolve(node: ast.expr | None, assigns: dict[str, ast.expr], depth: int = 0) -> ast.expr | None:
    while isinstance(node, ast.Name) and node.id in assigns and depth < 5:
        node = assigns[node.id]
        depth += 1
    return node


def _dict_items(node: ast.expr | None) -> list[tuple[str, ast.expr]]:
    if isinstance(node, ast.Dict):
        return [(k.value, v) for k, v in zip(node.keys, node.values, strict=False)
                if isinstance(k, ast.Constant) and isinstance(k.value, str)]
    if isinstance(node, ast.Call) and _call_name(node.func) == "dict":
        return [(kw.arg, kw.value) for kw in node.keywords if kw.arg]
    return []


def _literal(node: ast.expr | None, assigns: dict[str, ast.expr]) -> Any:
    """The literal value of ``node`` (following names bound in the same module), else None."""
    node = _resolve(node, assigns)
    if node is None:
        return None
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
        return None


# --------------------------------------------------------------------------- pyproject.toml


def _from_pyproject(data: dict[str, Any], project: Project) -> None:
    path = "pyproject.toml"
    build = data.get("build-system") if isinstance(data.get("build-system"), dict) else {}
    if isinstance(build.get("build-backend"), str):
        project.build_backend = Value(build["build-backend"], path)
    if isinstance(build.get("requires"), list):
        project.build_requires = Value([r for r in build["requires"] if isinstance(r, str)], path)
    table = data.get("project")
    if not isinstance(table, dict):
        poetry = _table(data, "tool", "poetry")
        if poetry:
            _from_poetry(poetry, project)
        return
    meta = _standard_metadata(data, table, project)
    name = table.get("name")
    if isinstance(name, str) and project.name is None:
        project.name = Value(name, path)
    licence = table.get("license")
    if isinstance(licence, str):
        project.licence_expression = Value(licence, path)
    elif isinstance(licence, dict):
        if isinstance(licence.get("text"), str):
            project.licence_text = Value(licence["text"], path)
        if isinstance(licence.get("file"), str):
            project.licence_files.append(Value(licence["file"], path))
    for pattern in table.get("license-files", []) if isinstance(table.get("license-files"), list) else []:
        if isinstance(pattern, str):
            project.licence_files.append(Value(pattern, path))
    classifiers = table.get("classifiers")
    if isinstance(classifiers, list):
        project.classifiers = Value([c for c in classifiers if isinstance(c, str)], path)
    if meta is not None and meta.requires_python is not None:
        project.requires_python = Value(str(meta.requires_python), path)
    elif isinstance(table.get("requires-python"), str):
        project.requires_python = Value(table["requires-python"], path)
    if meta is not None:
        project.dependencies += [(req, False, path) for req in meta.dependencies]
        for reqs in meta.optional_dependencies.values():
            project.dependencies += [(req, True, path) for req in reqs]
    else:
        project.dependencies += _requirements(table.get("dependencies"), False, path, project)
        extras = table.get("optional-dependencies")
        for reqs in extras.values() if isinstance(extras, dict) else []:
            project.dependencies += _requirements(reqs, True, path, project)
    urls = table.get("urls")
    if isinstance(urls, dict):
        project.urls += [(label, url, path) for label, url in urls.items() if isinstance(url, str)]
    flit = _table(data, "tool", "flit", "module")
    if isinstance(flit.get("name"), str):
        project.packages.append(flit["name"])
    packages = _table(data, "tool", "setuptools").get("packages")
    if isinstance(packages, list):
        project.packages += [p for p in packages if isinstance(p, str) and "." not in p]


def _standard_metadata(data: dict[str, Any], table: dict[str, Any], project: Project) -> Any:
    """Validate [project] with pyproject-metadata (files it would read from disk are left out: none here)."""
    from pyproject_metadata import StandardMetadata

    cleaned = dict(table)
    for key in ("readme", "license-files"):
        cleaned.pop(key, None)
    if isinstance(cleaned.get("license"), dict):
        cleaned.pop("license")
        if "license" in cleaned.get("dynamic", []):
            cleaned["dynamic"] = [d for d in cleaned["dynamic"] if d != "license"]
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            meta = StandardMetadata.from_pyproject({**data, "project": cleaned}, project_dir="/nonexistent",
                                                   allow_extra_keys=True)
        for warning in caught:
            project.notes.append(f"pyproject.toml: {warning.message}")
        return meta
    except Exception as exc:  # noqa: BLE001  (ConfigurationError or an ExceptionGroup of them)
        project.notes.append(f"pyproject.toml [project] does not validate: {exc}")
        return None


def _from_poetry(poetry: dict[str, Any], project: Project) -> None:
    path = "pyproject.toml"
    if isinstance(poetry.get("name"), str):
        project.name = Value(poetry["name"], path)
    if isinstance(poetry.get("license"), str):
        project.licence_text = Value(poetry["license"], path)
    if isinstance(poetry.get("classifiers"), list):
        project.classifiers = Value([c for c in poetry["classifiers"] if isinstance(c, str)], path)
    for label in ("homepage", "documentation", "repository"):
        if isinstance(poetry.get(label), str):
            project.urls.append((label, poetry[label], path))
    if isinstance(poetry.get("urls"), dict):
        project.urls += [(k, v, path) for k, v in poetry["urls"].items() if isinstance(v, str)]
    deps = poetry.get("dependencies")
    if isinstance(deps, dict):
        if isinstance(deps.get("python"), str):
            project.requires_python = Value(_poetry_specifier(deps["python"]), path)
        for name, spec in deps.items():
            if name != "python":
                optional = isinstance(spec, dict) and bool(spec.get("optional"))
                project.dependencies += _requirements([name], optional, path, project)


def _poetry_specifier(text: str) -> str:
    """Poetry's ``^3.8`` and ``~3.8`` as the PEP 440 specifiers they stand for (``>=3.8,<4.0``, ``>=3.8,<3.9``)."""
    match = re.fullmatch(r"\s*([\^~])\s*(\d+)\.(\d+)(?:\.\d+)?\s*", text)
    if not match:
        return text
    op, major, minor = match.group(1), int(match.group(2)), int(match.group(3))
    upper = f"{major + 1}.0" if op == "^" and major > 0 else f"{major}.{minor + 1}"
    return f">={major}.{minor},<{upper}"


def _table(data: dict[str, Any], *keys: str) -> dict[str, Any]:
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None  # type: ignore[assignment]
    return data if isinstance(data, dict) else {}


def _requirements(values: Any, optional: bool, path: str, project: Project) -> list[tuple[Requirement, bool, str]]:
    out = []
    for value in values if isinstance(values, list) else []:
        if not isinstance(value, str) or not value.strip() or value.strip().startswith("#"):
            continue
        try:
            out.append((Requirement(value.strip()), optional, path))
        except InvalidRequirement:
            project.notes.append(f"{path}: {value.strip()!r} is not a requirement")
    return out


# --------------------------------------------------------------------------- setup.cfg and setup.py


def _from_setup_cfg(cfg: configparser.RawConfigParser, project: Project) -> None:
    path = "setup.cfg"

    def get(section: str, key: str) -> str | None:
        value = cfg.get(section, key, fallback=None)
        return value.strip() if isinstance(value, str) else None

    def lines(section: str, key: str) -> list[str]:
        value = get(section, key)
        return [v.strip() for v in re.split(r"[\n;]" if key.endswith("requires") else r"\n", value or "")
                if v.strip()] if value and not value.startswith("file:") else []

    if project.name is None and get("metadata", "name"):
        project.name = Value(get("metadata", "name"), path)
    licence = get("metadata", "license")
    if licence and project.licence_expression is None and project.licence_text is None:
        project.licence_text = Value(licence, path)
    for key in ("license_files", "license_file"):
        for item in lines("metadata", key):
            project.licence_files += [Value(p.strip(), path) for p in item.split(",") if p.strip()]
    if project.classifiers is None and lines("metadata", "classifiers"):
        project.classifiers = Value(lines("metadata", "classifiers"), path)
    if project.requires_python is None and get("options", "python_requires"):
        project.requires_python = Value(get("options", "python_requires"), path)
    if not any(p == path for _, _, p in project.dependencies):
        project.dependencies += _requirements(lines("options", "install_requires"), False, path, project)
        if cfg.has_section("options.extras_require"):
            for key in cfg.options("options.extras_require"):
                project.dependencies += _requirements(lines("options.extras_require", key), True, path, project)
    if get("metadata", "url"):
        project.urls.append(("homepage", get("metadata", "url"), path))
    for line in lines("metadata", "project_urls"):
        label, _, url = line.partition("=")
        if url.strip():
            project.urls.append((label.strip(), url.strip(), path))


def _from_setup_py(setup: _SetupPy, project: Project) -> None:
    path = "setup.py"
    if not setup.parsed:
        return

    def literal(key: str) -> Any:
        return _literal(setup.keywords.get(key), setup.assigns)

    if project.name is None and isinstance(literal("name"), str):
        project.name = Value(literal("name"), path)
    if project.licence_expression is None and project.licence_text is None and isinstance(literal("license"), str):
        project.licence_text = Value(literal("license"), path)
    classifiers = literal("classifiers")
    if project.classifiers is None and isinstance(classifiers, (list, tuple)):
        project.classifiers = Value([c for c in classifiers if isinstance(c, str)], path)
    if project.requires_python is None and isinstance(literal("python_requires"), str):
        project.requires_python = Value(literal("python_requires"), path)
    if not project.dependencies:
        requires = literal("install_requires")
        project.dependencies += _requirements(list(requires) if isinstance(requires, (list, tuple)) else [],
                                              False, path, project)
        extras = literal("extras_require")
        for reqs in extras.values() if isinstance(extras, dict) else []:
            project.dependencies += _requirements(list(reqs) if isinstance(reqs, (list, tuple)) else [reqs],
                                                  True, path, project)
    if isinstance(literal("url"), str):
        project.urls.append(("homepage", literal("url"), path))
    urls = literal("project_urls")
    if isinstance(urls, dict):
        project.urls += [(str(k), v, path) for k, v in urls.items() if isinstance(v, str)]
    for key in ("packages", "py_modules"):
        names = literal(key)
        if isinstance(names, (list, tuple)):
            project.packages += [n for n in names if isinstance(n, str) and "." not in n]
    calls = setup.calls
    if "RustExtension" in calls:
        project.native_hints.append(Value("Rust", path))
    if "Extension" in calls or "cffi_modules" in setup.keywords or "ext_modules" in setup.keywords \
            or "build_ext" in setup.text:
        project.native_hints.append(Value("C", path))
    if "cythonize" in calls or ".pyx" in setup.text:
        project.native_hints.append(Value("Cython", path))


# --------------------------------------------------------------------------- the declared version


def _declared_version(snap: Snapshot, project: Project, pyproject: dict[str, Any],
                      cfg: configparser.RawConfigParser | None, setup: _SetupPy | None) -> Declared | None:
    table = pyproject.get("project") if isinstance(pyproject.get("project"), dict) else None
    requires = {canonicalize_name(Requirement(r).name) for r in (project.build_requires.value
                if project.build_requires else []) if _is_requirement(r)}
    backend = project.build_backend.value if project.build_backend else ""
    if table is not None and isinstance(table.get("version"), str):
        return Declared(table["version"], "pyproject.toml", "pyproject.toml [project] version")
    poetry = _table(pyproject, "tool", "poetry")
    if table is None and isinstance(poetry.get("version"), str):
        if _table(pyproject, "tool", "poetry-dynamic-versioning").get("enable"):
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
    if tag_tool or "setuptools_scm" in _table(pyproject, "tool"):
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
    hatch = _table(pyproject, "tool", "hatch", "version")
    if hatch.get("source") == "vcs" or (backend.startswith("hatchling") and "hatch-vcs" in requires and not hatch):
        return Declared(None, "pyproject.toml", "from the tag (hatch-vcs)", True)
    if isinstance(hatch.get("path"), str):
        return _version_in_file(snap, project, hatch["path"], "[tool.hatch.version] path")
    pdm = _table(pyproject, "tool", "pdm", "version")
    if pdm.get("source") == "scm":
        return Declared(None, "pyproject.toml", "from the tag (pdm-backend scm)", True)
    if pdm.get("source") == "file" and isinstance(pdm.get("path"), str):
        return _version_in_file(snap, project, pdm["path"], "[tool.pdm.version] path")
    dynamic = _table(pyproject, "tool", "setuptools", "dynamic").get("version")
    if isinstance(dynamic, dict):
        if isinstance(dynamic.get("attr"), str):
            return _setuptools_directive(snap, project, f"attr: {dynamic['attr']}", "pyproject.toml",
                                         "[tool.setuptools.dynamic] version")
        if isinstance(dynamic.get("file"), str):
            return _setuptools_directive(snap, project, f"file: {dynamic['file']}", "pyproject.toml",
                                         "[tool.setuptools.dynamic] version")
    if "maturin" in backend:
        return _cargo_version(snap, project, pyproject)
    if "setuptools-scm" in requires or "setuptools_scm" in _table(pyproject, "tool"):
        return Declared(None, "pyproject.toml", "from the tag (setuptools-scm)", True)
    for req, tool in _VCS_VERSIONING.items():
        if req in requires:
            return Declared(None, "pyproject.toml", f"from the tag ({tool})", True)
    return None


def _cargo_version(snap: Snapshot, project: Project, pyproject: dict[str, Any]) -> Declared | None:
    manifest = _table(pyproject, "tool", "maturin").get("manifest-path", "Cargo.toml")
    cargo = _toml(snap, manifest if isinstance(manifest, str) else "Cargo.toml", project)
    package = _table(cargo or {}, "package")
    version = package.get("version")
    if isinstance(version, str):
        return Declared(version, manifest, f"{manifest} [package] version (maturin)")
    if isinstance(version, dict) and version.get("workspace"):
        root = _toml(snap, "Cargo.toml", project) or {}
        workspace = _table(root, "workspace", "package").get("version")
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
        text = _read_text(snap, target, project)
        if text and text.strip():
            return Declared(text.strip().splitlines()[0].strip(), target, f"{target} ({how}: {raw})")
        return None
    return Declared(raw, path, how)


def _setup_py_version(snap: Snapshot, project: Project, setup: _SetupPy) -> Declared | None:
    if not setup.parsed:
        match = _SETUP_VERSION.search(setup.text)
        return Declared(match.group(2), "setup.py", "setup.py version= (read as text)") if match else None
    if "use_scm_version" in setup.keywords and _literal(setup.keywords["use_scm_version"], setup.assigns) is not False:
        return Declared(None, "setup.py", "from the tag (setuptools-scm, use_scm_version)", True)
    node = _resolve(setup.keywords.get("version"), setup.assigns)
    value = _literal(node, setup.assigns)
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
    text = _read_text(snap, path, project)
    if text is None:
        return None
    try:
        tree = ast.parse(text, filename=path)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        match = _PY2_VERSION.search(text) if "__version__" in names else None
        return match.group(2) if match else None
    assigns = _module_assigns(tree)
    for name in names:
        if name in assigns:
            value = _literal(assigns[name], assigns)
            if isinstance(value, str) and value.strip():
                return value.strip()
    return None
