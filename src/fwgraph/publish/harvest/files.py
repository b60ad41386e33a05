"""The packaging files of one commit, read safely: TOML, setup.cfg, and setup.py as an ``ast`` (never run).

Each reader returns None (and appends a note) for a file that is absent, too large or unreadable.
"""

from __future__ import annotations

import ast
import configparser
import tomllib
from dataclasses import dataclass
from typing import Any

from fwgraph.publish.harvest.repository import Snapshot, TooLarge


def read_text(snap: Snapshot, path: str, notes: list[str]) -> str | None:
    try:
        return snap.text(path)
    except TooLarge as exc:
        notes.append(str(exc))
        return None


def read_toml(snap: Snapshot, path: str, notes: list[str]) -> dict[str, Any] | None:
    text = read_text(snap, path, notes)
    if text is None:
        return None
    try:
        return tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError, ValueError) as exc:
        notes.append(f"{path} at {snap.commit[:12]} is not valid TOML: {exc}")
        return None


def read_setup_cfg(snap: Snapshot, notes: list[str]) -> configparser.RawConfigParser | None:
    text = read_text(snap, "setup.cfg", notes)
    if text is None:
        return None
    parser = configparser.RawConfigParser(strict=False)
    try:
        parser.read_string(text, source="setup.cfg")
    except configparser.Error as exc:
        notes.append(f"setup.cfg at {snap.commit[:12]} cannot be read: {exc.message}")
        return None
    return parser


@dataclass
class SetupPy:
    """What setup.py passes to setup(): literal keyword values, plus the raw text for a fallback."""

    keywords: dict[str, ast.expr]
    assigns: dict[str, ast.expr]
    text: str
    parsed: bool
    calls: frozenset[str] = frozenset()  # names of every function the file calls


def read_setup_py(snap: Snapshot, notes: list[str]) -> SetupPy | None:
    text = read_text(snap, "setup.py", notes)
    if text is None:
        return None
    try:
        tree = ast.parse(text, filename="setup.py")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        notes.append(f"setup.py at {snap.commit[:12]} is not Python 3 that ast parses ({type(exc).__name__})")
        return SetupPy({}, {}, text, False)
    assigns = module_assigns(tree)
    keywords: dict[str, ast.expr] = {}
    calls: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and (name := call_name(node.func)):
            calls.add(name)
        if isinstance(node, ast.Call) and call_name(node.func) == "setup":
            for kw in node.keywords:
                if kw.arg is not None:
                    keywords.setdefault(kw.arg, kw.value)
                else:  # setup(**options) with options a dict literal or dict(...) in the same file
                    for key, value in dict_items(resolve(kw.value, assigns)):
                        keywords.setdefault(key, value)
    return SetupPy(keywords, assigns, text, True, frozenset(calls))


def call_name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def module_assigns(tree: ast.Module) -> dict[str, ast.expr]:
    assigns: dict[str, ast.expr] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    assigns[target.id] = node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            assigns[node.target.id] = node.value
    return assigns


def resolve(node: ast.expr | None, assigns: dict[str, ast.expr], depth: int = 0) -> ast.expr | None:
    while isinstance(node, ast.Name) and node.id in assigns and depth < 5:
        node = assigns[node.id]
        depth += 1
    return node


def dict_items(node: ast.expr | None) -> list[tuple[str, ast.expr]]:
    if isinstance(node, ast.Dict):
        return [(k.value, v) for k, v in zip(node.keys, node.values, strict=False)
                if isinstance(k, ast.Constant) and isinstance(k.value, str)]
    if isinstance(node, ast.Call) and call_name(node.func) == "dict":
        return [(kw.arg, kw.value) for kw in node.keywords if kw.arg]
    return []


def literal(node: ast.expr | None, assigns: dict[str, ast.expr]) -> Any:
    """The literal value of ``node`` (following names bound in the same module), else None."""
    node = resolve(node, assigns)
    if node is None:
        return None
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
        return None



def subtable(data: dict[str, Any], *keys: str) -> dict[str, Any]:
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None  # type: ignore[assignment]
    return data if isinstance(data, dict) else {}
