"""What changed between two builds of the graph: resources added and removed, and per resource the facts that changed.

A build is read from its N-Triples dump (a distribution or release directory, or a dump file, gzip or not).
Whether the two graphs are the same is decided on their RDFC-1.0 canonical forms (pyoxigraph), so blank node
labels never count as a change. The report groups facts by the named resource they describe: a blank node
(a latest release, a repository) is shown as part of the resource it hangs from, written as a nested
``[ predicate object ; … ]`` term with sorted members — the same text whatever the blank nodes are called.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from fwgraph.core import formats
from fwgraph.core.errors import InputError
from fwgraph.core.namespace import curie_or_iri
from fwgraph.publish import dist
from fwgraph.publish.dist import VOID_FILE, gunzip, refuse_link, unpack_listed

#: The dump a build directory is compared by.
DUMP_NAMES = ("fwgraph.nt", "fwgraph.nt.gz")
#: Blank nodes nested deeper than this under a resource are written as ``[ … ]`` (cycles included).
MAX_DEPTH = 8
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
#: Where a resource's label is read from, in order.
LABELS = ("http://www.w3.org/2000/01/rdf-schema#label", "http://www.w3.org/2004/02/skos/core#prefLabel",
          "http://purl.org/dc/terms/title")


@dataclass(frozen=True)
class ResourceChange:
    """One resource present in both builds whose facts differ. Facts are ``predicate object`` texts."""

    iri: str
    label: str
    added: tuple[str, ...]
    removed: tuple[str, ...]


@dataclass(frozen=True)
class GraphDiff:
    """The difference between an old and a new build."""

    old: str
    new: str
    old_triples: int
    new_triples: int
    identical: bool
    added: tuple[tuple[str, str], ...] = ()  # (IRI, label) of resources only in the new build
    removed: tuple[tuple[str, str], ...] = ()  # (IRI, label) of resources only in the old build
    changed: tuple[ResourceChange, ...] = field(default=())

    @property
    def facts_added(self) -> int:
        return sum(len(c.added) for c in self.changed)

    @property
    def facts_removed(self) -> int:
        return sum(len(c.removed) for c in self.changed)

    def summary(self) -> str:
        if self.identical:
            return "no changes: the two graphs are the same (compared canonically)"
        return (f"{len(self.added)} resource(s) added, {len(self.removed)} removed, {len(self.changed)} changed "
                f"({self.facts_added} fact(s) added, {self.facts_removed} removed); "
                f"{self.old_triples} -> {self.new_triples} triples")

    def to_text(self) -> str:
        lines = [f"--- {self.old}", f"+++ {self.new}", self.summary()]
        for iri, label in self.added:
            lines.append(f"+ {_name(iri)}  ({label})")
        for iri, label in self.removed:
            lines.append(f"- {_name(iri)}  ({label})")
        for change in self.changed:
            lines.append(f"~ {_name(change.iri)}  ({change.label})")
            lines.extend(f"    - {fact}" for fact in change.removed)
            lines.extend(f"    + {fact}" for fact in change.added)
        return "\n".join(lines) + "\n"

    def to_markdown(self, heading: str = "##") -> str:
        """The diff as a section of release notes."""
        out = [f"{heading} Data changes since {self.old}", "", self.summary() + ".", ""]
        if self.added:
            out += [f"{heading}# Resources added", ""]
            out += [f"- `{_name(iri)}` {label}" for iri, label in self.added] + [""]
        if self.removed:
            out += [f"{heading}# Resources removed", ""]
            out += [f"- `{_name(iri)}` {label}" for iri, label in self.removed] + [""]
        if self.changed:
            out += [f"{heading}# Resources changed", ""]
            for change in self.changed:
                out.append(f"- `{_name(change.iri)}` {change.label}")
                out += [f"  - removed: `{fact}`" for fact in change.removed]
                out += [f"  - added: `{fact}`" for fact in change.added]
            out.append("")
        return "\n".join(out)

    def to_json(self) -> str:
        return json.dumps({
            "old": self.old, "new": self.new, "identical": self.identical,
            "triples": {"old": self.old_triples, "new": self.new_triples},
            "added": [{"iri": i, "label": lab} for i, lab in self.added],
            "removed": [{"iri": i, "label": lab} for i, lab in self.removed],
            "changed": [{"iri": c.iri, "label": c.label, "added": list(c.added), "removed": list(c.removed)}
                        for c in self.changed],
        }, indent=2, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------------------------------------- reading builds


def dump_of(path: Path | str) -> Path:
    """The N-Triples dump a build is compared by: ``path`` itself, or the dump inside a build directory."""
    path = Path(path)
    if path.is_dir():
        for name in DUMP_NAMES:
            if (path / name).is_file():
                refuse_link(path / name)  # a build's or release's own file, never one it points to
                return path / name
        raise InputError(f"holds no {' or '.join(DUMP_NAMES)}: not a build (fwgraph build --out DIR)",
                         source=str(path))
    if not path.is_file():
        raise InputError("no such file or directory", source=str(path))
    return path


def _dump_bytes(path: Path, dump: Path) -> bytes:
    """The bytes of ``dump``, decompressed when gzip: in a build or release directory (``path``) the gzip copy is
    checked against the directory's VoID before it is decompressed; any other gzip dump stops at MAX_DUMP_BYTES
    (read at call time: a test may lower it)."""
    name = dump.name.removesuffix(".gz")
    if dump.name.endswith(".gz") and path.is_dir() and (path / VOID_FILE).is_file():
        return unpack_listed(path, name)
    if dump.name.endswith(".gz"):
        return gunzip(dump, dist.MAX_DUMP_BYTES)
    try:
        return dump.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc}", source=str(dump)) from None


def read_triples(path: Path | str) -> list[ox.Triple]:
    """The triples of a build (directory) or dump file: N-Triples, Turtle, JSON-LD or RDF/XML, gzip or not."""
    dump = dump_of(path)
    data = _dump_bytes(Path(path), dump)
    name = dump.name.removesuffix(".gz")
    fmt = formats.by_suffix(name, formats.RDF_FORMATS)
    if fmt is None:
        raise InputError("not an RDF dump (.nt, .ttl, .jsonld, .rdf, optionally .gz)", source=str(dump))
    try:
        return [q.triple for q in ox.parse(data, format=fmt.ox_rdf())]
    except SyntaxError as exc:
        raise InputError(str(exc), source=str(dump), line=getattr(exc, "lineno", None)) from None


# ---------------------------------------------------------------------------------------------- comparing


def _canonical(triples: list[ox.Triple]) -> set[ox.Quad]:
    dataset = ox.Dataset(ox.Quad(t.subject, t.predicate, t.object) for t in triples)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return set(dataset)


def _name(iri: str) -> str:
    return iri if iri == ORPHANS else curie_or_iri(iri, brackets=True)


class _Index:
    """A graph indexed by subject, able to write any term as canonical text."""

    def __init__(self, triples: list[ox.Triple]) -> None:
        self.by_subject: dict[Any, list[tuple[Any, Any]]] = defaultdict(list)
        for t in triples:
            self.by_subject[t.subject].append((t.predicate, t.object))
        self._memo: dict[Any, str] = {}

    def term(self, term: Any, depth: int = 0, seen: frozenset[Any] = frozenset()) -> str:
        if isinstance(term, ox.NamedNode):
            return curie_or_iri(term.value, brackets=True)
        if isinstance(term, ox.BlankNode):
            if term in self._memo:
                return self._memo[term]
            if depth >= MAX_DEPTH or term in seen:
                return "[ … ]"
            members = sorted(f"{curie_or_iri(p.value, brackets=True)} {self.term(o, depth + 1, seen | {term})}"
                             for p, o in self.by_subject.get(term, ()))
            text = "[ " + " ; ".join(members) + " ]" if members else "[]"
            if depth == 0 and not seen:
                self._memo[term] = text
            return text
        literal = term
        value = json.dumps(literal.value, ensure_ascii=False)
        if literal.language:
            return f"{value}@{literal.language}"
        if literal.datatype.value != "http://www.w3.org/2001/XMLSchema#string":
            return f"{value}^^{curie_or_iri(literal.datatype.value, brackets=True)}"
        return value

    def facts(self, subject: Any) -> set[str]:
        return {f"{curie_or_iri(p.value, brackets=True)} {self.term(o)}" for p, o in self.by_subject.get(subject, ())}

    def resources(self) -> dict[str, set[str]]:
        """Every named subject with its facts."""
        return {s.value: self.facts(s) for s in self.by_subject if isinstance(s, ox.NamedNode)}

    def orphans(self) -> set[str]:
        """Blank-node trees that hang from no named resource (written whole)."""
        objects = {o for pairs in self.by_subject.values() for _, o in pairs if isinstance(o, ox.BlankNode)}
        return {self.term(s) for s in self.by_subject if isinstance(s, ox.BlankNode) and s not in objects}

    def label(self, iri: str) -> str:
        facts = self.by_subject.get(ox.NamedNode(iri), ()) if iri != ORPHANS else ()
        for wanted in LABELS:
            for p, o in facts:
                if p.value == wanted and isinstance(o, ox.Literal):
                    return o.value
        return iri.rstrip("/").rsplit("/", 1)[-1]


#: Where blank-node trees that hang from no named resource are reported.
ORPHANS = "(blank nodes not attached to a resource)"


def diff_triples(old: list[ox.Triple], new: list[ox.Triple], old_name: str = "old", new_name: str = "new") -> GraphDiff:
    """Compare two graphs: identical when their canonical forms are equal; else what changed, per resource."""
    if _canonical(old) == _canonical(new):
        return GraphDiff(old_name, new_name, len(old), len(new), identical=True)
    a, b = _Index(old), _Index(new)
    ra, rb = a.resources(), b.resources()
    ra[ORPHANS], rb[ORPHANS] = a.orphans(), b.orphans()
    added = tuple((i, b.label(i)) for i in sorted(rb.keys() - ra.keys()))
    removed = tuple((i, a.label(i)) for i in sorted(ra.keys() - rb.keys()))
    changed = []
    for iri in sorted(ra.keys() & rb.keys()):
        if ra[iri] != rb[iri]:
            changed.append(ResourceChange(iri=iri, label=b.label(iri), added=tuple(sorted(rb[iri] - ra[iri])),
                                          removed=tuple(sorted(ra[iri] - rb[iri]))))
    return GraphDiff(old_name, new_name, len(old), len(new), identical=False, added=added, removed=removed,
                     changed=tuple(changed))


def diff_builds(old: Path | str, new: Path | str) -> GraphDiff:
    """Compare two builds (distribution or release directories, or dump files)."""
    return diff_triples(read_triples(old), read_triples(new), str(old), str(new))


__all__ = ["GraphDiff", "ResourceChange", "diff_builds", "diff_triples", "dump_of", "read_triples"]
