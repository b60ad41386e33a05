"""What the package's files show at a commit: a PEP 561 py.typed marker and a compiled (native) core."""

from __future__ import annotations

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from fwgraph.publish.harvest.project import Project

#: Folders whose files are not part of the shipped package.
_NOT_SHIPPED = {"tests", "test", "testing", "docs", "doc", "examples", "example", "benchmarks", "benchmark",
                "bench", ".github", "scripts", "tools", "ci", "vendor", "third_party"}
_SOURCE_LANGUAGES = {".rs": "Rust", ".c": "C", ".cc": "C++", ".cpp": "C++", ".cxx": "C++", ".hpp": "C++",
                     ".pyx": "Cython"}
#: Build requirements or back-ends that compile a language by themselves.
_BUILDERS = {"maturin": "Rust", "setuptools-rust": "Rust", "cffi": "C", "cython": "Cython"}
#: Build back-ends that compile whatever sources the project has.
_GENERIC_BUILDERS = {"scikit-build", "scikit-build-core", "meson-python", "py-build-cmake"}


def shipped(path: str) -> bool:
    """Whether ``path`` lies outside the folders that tests, docs, examples and tools live in."""
    return not any(part.lower() in _NOT_SHIPPED for part in path.split("/")[:-1])


def typed_marker(paths: list[str]) -> str | None:
    """The path of the package's py.typed marker, or None."""
    return next((p for p in paths if p.rsplit("/", 1)[-1] == "py.typed" and shipped(p)), None)


def native_core(project: Project, paths: list[str]) -> tuple[list[str], str | None]:
    """The languages of the compiled core and the build file that compiles it; ([], None) for pure Python."""
    requires: set[str] = set()
    for text in project.build_requires.value if project.build_requires else []:
        try:
            requires.add(canonicalize_name(Requirement(text).name))
        except InvalidRequirement:
            continue
    backend = project.build_backend.value if project.build_backend else ""
    named = {lang for tool, lang in _BUILDERS.items() if tool in requires or backend.startswith(tool)}
    generic = bool(requires & _GENERIC_BUILDERS) or backend.startswith(("scikit_build", "mesonpy"))
    found_in_sources = {_SOURCE_LANGUAGES[ext] for p in paths if shipped(p)
                        for ext in [("." + p.rsplit(".", 1)[-1]) if "." in p.rsplit("/", 1)[-1] else ""]
                        if ext in _SOURCE_LANGUAGES}
    if "Rust" in found_in_sources and "Cargo.toml" not in paths:
        found_in_sources.discard("Rust")
    path = project.build_backend.path if (named or generic) and project.build_backend else None
    if (named or generic) and path is None and project.build_requires:
        path = project.build_requires.path
    for hint in project.native_hints:
        named.add(hint.value)
        path = path or hint.path
    if generic or "C" in named:
        named |= found_in_sources - {"Rust"}
    if "C" in named and found_in_sources and "C" not in found_in_sources and "cffi" not in requires:
        named.discard("C")  # setup.py's Extension builds Cython or C++ sources here, not C
    return sorted(named), path
