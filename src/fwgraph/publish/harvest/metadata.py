"""The packaging metadata one commit states (pyproject.toml, setup.cfg, setup.py), each value with its file.

setup.py is parsed with ``ast`` and never run or imported; values that are not literals (or names bound to
literals in the same file) are left unread. The declared version is read by fwgraph.publish.harvest.version.
"""

from __future__ import annotations

import configparser
import re
import warnings
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement

from fwgraph.publish.harvest.files import SetupPy, literal, read_setup_cfg, read_setup_py, read_toml, subtable
from fwgraph.publish.harvest.project import Project, Value
from fwgraph.publish.harvest.repository import Snapshot
from fwgraph.publish.harvest.version import declared_version

#: URL labels (lower-cased, punctuation removed, as PEP 753 normalises them) by the fact they state.
URL_KINDS = {
    "homepage": {"homepage", "home", "website", "web", "url"},
    "documentation": {"documentation", "docs", "doc", "readthedocs", "manual"},
    "tracker": {"issues", "issue", "issuetracker", "tracker", "bugtracker", "bugs", "bugreports", "bug"},
    "changelog": {"changelog", "changes", "releasenotes", "history", "whatsnew", "news", "changelogs", "release"},
    "source": {"source", "sourcecode", "code", "repository", "github", "repo", "git"},
}


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
    pyproject = read_toml(snap, "pyproject.toml", project.notes)
    cfg = read_setup_cfg(snap, project.notes)
    setup = read_setup_py(snap, project.notes)
    if pyproject is not None:
        _from_pyproject(pyproject, project)
    if cfg is not None:
        _from_setup_cfg(cfg, project)
    if setup is not None:
        _from_setup_py(setup, project)
    project.version = declared_version(snap, project, pyproject or {}, cfg, setup)
    return project


# --------------------------------------------------------------------------- pyproject.toml


def _from_pyproject(data: dict[str, Any], project: Project) -> None:
    path = "pyproject.toml"
    build = subtable(data, "build-system")
    if isinstance(build.get("build-backend"), str):
        project.build_backend = Value(build["build-backend"], path)
    if isinstance(build.get("requires"), list):
        project.build_requires = Value([r for r in build["requires"] if isinstance(r, str)], path)
    table = data.get("project")
    if not isinstance(table, dict):
        poetry = subtable(data, "tool", "poetry")
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
    flit = subtable(data, "tool", "flit", "module")
    if isinstance(flit.get("name"), str):
        project.packages.append(flit["name"])
    packages = subtable(data, "tool", "setuptools").get("packages")
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
    homepage = get("metadata", "url")
    if homepage:
        project.urls.append(("homepage", homepage, path))
    for line in lines("metadata", "project_urls"):
        label, _, url = line.partition("=")
        if url.strip():
            project.urls.append((label.strip(), url.strip(), path))


def _from_setup_py(setup: SetupPy, project: Project) -> None:
    path = "setup.py"
    if not setup.parsed:
        return

    def keyword(key: str) -> Any:
        return literal(setup.keywords.get(key), setup.assigns)

    if project.name is None and isinstance(keyword("name"), str):
        project.name = Value(keyword("name"), path)
    if project.licence_expression is None and project.licence_text is None and isinstance(keyword("license"), str):
        project.licence_text = Value(keyword("license"), path)
    classifiers = keyword("classifiers")
    if project.classifiers is None and isinstance(classifiers, (list, tuple)):
        project.classifiers = Value([c for c in classifiers if isinstance(c, str)], path)
    if project.requires_python is None and isinstance(keyword("python_requires"), str):
        project.requires_python = Value(keyword("python_requires"), path)
    if not project.dependencies:
        requires = keyword("install_requires")
        project.dependencies += _requirements(list(requires) if isinstance(requires, (list, tuple)) else [],
                                              False, path, project)
        extras = keyword("extras_require")
        for reqs in extras.values() if isinstance(extras, dict) else []:
            project.dependencies += _requirements(list(reqs) if isinstance(reqs, (list, tuple)) else [reqs],
                                                  True, path, project)
    if isinstance(keyword("url"), str):
        project.urls.append(("homepage", keyword("url"), path))
    urls = keyword("project_urls")
    if isinstance(urls, dict):
        project.urls += [(str(k), v, path) for k, v in urls.items() if isinstance(v, str)]
    for key in ("packages", "py_modules"):
        names = keyword(key)
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


