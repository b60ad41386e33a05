"""What the packaging files of one commit state: values with the file that states each, and the declared version."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from packaging.requirements import Requirement

_PYTHON_CLASSIFIER = re.compile(r"^Programming Language :: Python :: (\d+\.\d+)$")


@dataclass(frozen=True)
class Declared:
    """The version a commit declares: the string as written (None when it comes from the tag), where and how."""

    version: str | None
    path: str
    how: str
    from_tag: bool = False


@dataclass(frozen=True)
class Value:
    """A value and the path of the file that states it."""

    value: Any
    path: str


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
