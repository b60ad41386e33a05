"""The contribution form, generated from the SHACL shapes: a record kind's fields (path, cardinality, kind of value,
choices from the data, the shapes' messages as help), a stored record as field values, and a filled form as Turtle.

Nothing here lists fields by hand: a property shape added to a kind's node shape is a new field.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, SH, XSD

from fwgraph.core.errors import InputError
from fwgraph.core.namespace import (
    BASE,
    PREFIXES,
    RECORD_KINDS,
    SEGMENTS,
    RecordKind,
    bind_prefixes,
    curie_or_iri,
    label_of,
)
from fwgraph.data.graph import check_blank_nesting, parse_bytes

#: The kinds of record the form writes.
KINDS = {name: RECORD_KINDS[name] for name in ("framework", "server")}
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
#: Choices shown as checkboxes up to this many; a longer list is a multiple select.
MAX_CHECKBOXES = 40
_NODE_DEPTH = 1  # node values (a release, a repository, a missing fact) nest one level
#: Largest "other statements" text and record a form may yield (the largest shipped record file is 7 KB).
MAX_EXTRA_BYTES = 64 * 1024
MAX_TRIPLES = 5000


@dataclass
class Field:
    """One property of a record as a form field."""

    key: str  # the path as prefix:local (what validation reports name), the HTML name
    path: str
    label: str
    help: str
    widget: str  # text | longtext | url | year | date | boolean | integer | select | checkboxes | node
    min_count: int = 0
    max_count: int | None = None
    need: str = "optional"  # required | core (required once the record states fw:lastChecked) | recommended | optional
    datatype: str | None = None
    other_datatypes: list[str] = field(default_factory=list)  # also accepted (sh:or of datatypes)
    lang: str | None = None
    pattern: str | None = None
    choices: list[dict[str, str]] = field(default_factory=list)
    fields: list[Field] = field(default_factory=list)  # a node value's own fields
    node_type: str | None = None  # the rdf:type a new node value gets (the property's range)
    messages: list[str] = field(default_factory=list)
    #: What a contributor reads when one of this field's property shapes (by IRI) reports on it, in plain words.
    advice: dict[str, str] = field(default_factory=dict)

    @property
    def html_id(self) -> str:
        """The id of the field's fieldset on the form page."""
        return "f-" + re.sub(r"[:\[\]]", "-", self.key).replace("@", "")

    @property
    def instruction(self) -> str:
        """What to do with the field, in plain words ("Choose one licence from the list."); "" for free text."""
        if self.widget == "text":
            return ""
        ask = _ask(self)
        return ask[:1].upper() + ask[1:] + "."

    @property
    def repeatable(self) -> bool:
        return self.max_count is None or self.max_count > 1

    @property
    def cardinality(self) -> str:
        high = "many" if self.max_count is None else str(self.max_count)
        return f"{self.min_count}..{high}" if self.min_count or self.max_count else "any number"


@dataclass
class FormModel:
    """The fields of one record kind, in the shapes' order: required first, then core facts, then the rest."""

    kind: RecordKind
    shape: str
    fields: list[Field]

    def by_key(self) -> dict[str, Field]:
        return {f.key: f for f in self.fields}


# ------------------------------------------------------------------------------------------------ the model

Choices = Callable[[str], list[dict[str, str]]]


def _node_shape_for(shapes: Graph, kind: RecordKind) -> URIRef:
    for shape in shapes.subjects(SH.targetClass, kind.cls):
        if isinstance(shape, URIRef):
            return shape
    raise LookupError(f"no node shape targets {kind.cls}")


def _label(shapes: Graph, vocabulary: Graph, node_shape: Any, prop_shapes: list[Any], path: URIRef) -> str:
    for ps in prop_shapes:
        name = label_of(shapes, ps, SH.name)
        if name:
            return name
    noun = (label_of(shapes, node_shape, RDFS.label) or "").split()
    for ps in prop_shapes:
        label = label_of(shapes, ps, RDFS.label)
        if label and not any(shapes.objects(ps, SH.sparql)) and (shapes.value(ps, SH.severity) != SH.Warning):
            words = label.split()
            if len(words) > 1 and words[0] in noun:
                words = words[1:]
            text = " ".join(words)
            return text[:1].upper() + text[1:]
    label = label_of(vocabulary, path, RDFS.label) or path.split("#")[-1].split("/")[-1]
    return label[:1].upper() + label[1:]


def _fields(shapes: Graph, vocabulary: Graph, node_shape: Any, choices: Choices, depth: int, gap: str) -> list[Field]:
    by_path: dict[URIRef, list[Any]] = {}
    for ps in shapes.objects(node_shape, SH.property):
        path = shapes.value(ps, SH.path)
        if isinstance(path, URIRef):  # alternative and sequence paths are not fields
            by_path.setdefault(path, []).append(ps)
    rank = {"required": 0, "core": 1, "recommended": 2, "optional": 3}
    ordered = []
    for position, (path, prop_shapes) in enumerate(by_path.items()):
        f = _field(shapes, vocabulary, node_shape, path, prop_shapes, choices, depth, gap)
        # sh:order first; then the name and the description; then by need and label
        explicit = _order_of(shapes, prop_shapes)
        lead = (str(RDFS.label), "http://purl.org/dc/terms/description").index(f.path) if f.path in (
            str(RDFS.label), "http://purl.org/dc/terms/description") else 2
        ordered.append(((explicit if explicit is not None else float("inf"), lead, rank[f.need], f.label.lower(),
                         position), f))
    return [f for _, f in sorted(ordered, key=lambda item: item[0])]


def _order_of(shapes: Graph, prop_shapes: list[Any]) -> float | None:
    for ps in prop_shapes:
        value = shapes.value(ps, SH.order)
        if isinstance(value, Literal):
            try:
                return float(value)
            except (TypeError, ValueError):
                return None
    return None


def _field(shapes: Graph, vocabulary: Graph, node_shape: Any, path: URIRef, prop_shapes: list[Any], choices: Choices,
           depth: int, gap: str) -> Field:
    def first(prop: URIRef) -> Any:
        for ps in prop_shapes:
            value = shapes.value(ps, prop)
            if value is not None:
                return value
        return None

    min_count, recommended, core, max_count = 0, False, False, None
    messages: list[str] = []
    help_text = None
    for ps in prop_shapes:
        warning = shapes.value(ps, SH.severity) == SH.Warning
        low = shapes.value(ps, SH.minCount)
        qualified = shapes.value(ps, SH.qualifiedMinCount)
        if low is not None and int(low) > 0:
            if warning:
                recommended = True
            else:
                min_count = max(min_count, int(low))
        if qualified is not None and int(qualified) > 0:
            recommended = recommended or warning
            if not warning:
                min_count = max(min_count, int(qualified))
        high = shapes.value(ps, SH.maxCount)
        if high is not None:
            max_count = int(high) if max_count is None else min(max_count, int(high))
        if any(shapes.objects(ps, SH.sparql)):
            core = core or not warning
        message = label_of(shapes, ps, SH.message)
        if message and message not in messages:
            messages.append(message)
        if help_text is None and not warning and not any(shapes.objects(ps, SH.sparql)):
            help_text = label_of(shapes, ps, SH.description) or message
    need = "required" if min_count else "core" if core else "recommended" if recommended else "optional"
    f = Field(key=curie_or_iri(str(path)), path=str(path),
              label=_label(shapes, vocabulary, node_shape, prop_shapes, path),
              help=help_text or (messages[0] if messages else label_of(vocabulary, path, RDFS.comment) or ""),
              widget="text", min_count=min_count, max_count=max_count, need=need, messages=messages)
    datatype, cls, kind_of_node = first(SH.datatype), first(SH.node), first(SH.nodeKind)
    alternatives = [] if datatype is not None or first(SH["or"]) is None else [
        d for d in (shapes.value(m, SH.datatype) for m in Collection(shapes, first(SH["or"]))) if d is not None]
    if alternatives:  # sh:or of datatypes (a day or a month): the first is the widget's, the others also accepted
        datatype = alternatives[0]
        f.other_datatypes = [str(d) for d in alternatives[1:]]
    target = cls or next((s for s in shapes.subjects(SH.targetObjectsOf, path)), None)
    in_list = first(SH["in"])
    languages = [Collection(shapes, q) for q in (shapes.value(qv, SH.languageIn) for ps in prop_shapes
                                                 for qv in shapes.objects(ps, SH.qualifiedValueShape)) if q is not None]
    range_ = vocabulary.value(path, RDFS.range)
    if target is not None and depth <= _NODE_DEPTH:
        f.widget = "node"
        f.fields = _fields(shapes, vocabulary, target, choices, depth + 1, gap)
        f.node_type = str(range_) if isinstance(range_, URIRef) else None
    elif in_list is not None:
        values = list(Collection(shapes, in_list))
        f.choices = [{"value": str(v), "label": str(v) if isinstance(v, Literal) else curie_or_iri(str(v))}
                     for v in values]
        f.datatype = str(datatype) if datatype is not None else None
        f.widget = "checkboxes" if f.repeatable else "select"
        if values and isinstance(values[0], URIRef):
            f.datatype = "iri"
    elif first(SH["class"]) is not None:
        allowed = first(SH.pattern)  # only the instances the property's pattern accepts (SPDX licences)
        f.choices = [c for c in choices(str(first(SH["class"])))
                     if allowed is None or re.search(str(allowed), c["value"])]
        f.datatype = "iri"
        if not f.choices:
            f.widget = "url"
        elif f.repeatable:
            f.widget = "checkboxes" if len(f.choices) <= MAX_CHECKBOXES else "multiselect"
        else:
            f.widget = "select"
    elif datatype is not None:
        f.datatype = str(datatype)
        f.widget = {XSD.gYear: "year", XSD.date: "date", XSD.boolean: "boolean", XSD.integer: "integer",
                    RDF.langString: "longtext"}.get(datatype, "text")
        if datatype == RDF.langString:
            f.lang = "en"
    elif kind_of_node == SH.IRI:
        f.widget, f.datatype = "url", "iri"
    elif any(["en"] == [str(x) for x in langs] for langs in languages):
        f.widget, f.lang = "longtext", "en"
    pattern = first(SH.pattern)
    if pattern is not None and f.widget in ("text", "url", "year"):
        f.pattern = str(pattern)
    f.advice = {str(ps): _advice(shapes, ps, f, gap) for ps in prop_shapes}
    return f


MISSING_FACT = URIRef(PREFIXES["fw"] + "missingFact")
#: What to do with a field, by its kind of control ("{noun}": the field's label in lower case).
_ASK = {
    "select": "choose one {noun} from the list",
    "checkboxes": "choose one {noun} from the list",
    "multiselect": "choose one {noun} from the list",
    "boolean": "choose yes or no",
    "url": "give a web address starting with https://",
    "year": "give the year in four digits, e.g. 2010",
    "date": "give a day as year-month-day, e.g. 2026-02-18",
    "integer": "give a whole number",
    "longtext": "write it in English",
    "text": "fill it in",
    "node": "fill in its parts",
}


_VALUE_CHECKS = (SH.datatype, SH.pattern, SH["class"], SH["in"], SH.nodeKind, SH.node, SH["or"], SH.languageIn)


def _ask(f: Field) -> str:
    ask = _ASK[f.widget].format(noun=f.label.lower())
    return ask + (", or a month, e.g. 2026-10" if f.widget == "date" and f.other_datatypes else "")


def _advice(shapes: Graph, ps: Any, f: Field, gap: str) -> str:
    """The plain-words message for a result of property shape ``ps`` on field ``f``: what to do, by the kind of
    constraint (a value missing, one too many, a missing value a record may explain, a value of the wrong kind)."""
    warning = shapes.value(ps, SH.severity) == SH.Warning
    high = shapes.value(ps, SH.maxCount)
    queries = " ".join(str(shapes.value(c, SH.select) or "") for c in shapes.objects(ps, SH.sparql))
    low = max(int(shapes.value(ps, SH.minCount) or 0), int(shapes.value(ps, SH.qualifiedMinCount) or 0))
    if queries and MISSING_FACT.fragment in queries:  # missing unless a missing-fact note explains the gap
        text = ("fill it in" if f.widget in ("text", "longtext") else _ask(f)) + \
            f", or, if no source states it, say why under “{gap}”"
    elif low:
        text = "fill it in" if f.widget in ("text", "longtext") else _ask(f)
    elif high is not None and not queries:  # one shape may check the count and the kind of value together
        count = "only one value" if int(high) == 1 else f"at most {int(high)} values"
        checks_value = any(shapes.value(ps, c) is not None for c in _VALUE_CHECKS)
        text = f"{_ask(f)}; {count}" if checks_value else f"give {count}"
    elif f.widget == "text" and f.pattern:
        text = "this value does not have the expected form (see the help above)"
    else:
        text = _ask(f)
    return f"{f.label}: " + ("recommended — " if warning else "") + text


def build_model(kind: RecordKind, shapes: Graph, vocabulary: Graph, choices: Choices) -> FormModel:
    """The form for ``kind``: every property shape of the node shape that targets its class is a field."""
    shape = _node_shape_for(shapes, kind)
    gap_shapes = [ps for ps in shapes.objects(shape, SH.property) if shapes.value(ps, SH.path) == MISSING_FACT]
    gap = _label(shapes, vocabulary, shape, gap_shapes, MISSING_FACT)  # the field that explains a missing fact
    return FormModel(kind=kind, shape=str(shape), fields=_fields(shapes, vocabulary, shape, choices, 1, gap))


def choices_query(cls: str) -> str:
    """The SPARQL query listing the instances of ``cls`` with an English (or plain) label."""
    return ("SELECT ?value (SAMPLE(?l) AS ?label) WHERE { ?value a <" + cls + "> OPTIONAL { ?value "
            "<http://www.w3.org/2000/01/rdf-schema#label>|<http://www.w3.org/2004/02/skos/core#prefLabel> ?l "
            "FILTER(LANG(?l) = \"\" || LANGMATCHES(LANG(?l), \"en\")) } FILTER(isIRI(?value)) } GROUP BY ?value")


def choices_from_rows(rows: Iterable[tuple[Any, ...]]) -> list[dict[str, str]]:
    """(value, label) rows of ``choices_query`` as choices sorted by label; a missing label is the compact IRI."""
    out = [{"value": str(v.value), "label": str(label.value) if label is not None else curie_or_iri(str(v.value))}
           for v, label in rows if v is not None]
    return sorted(out, key=lambda c: (c["label"].lower(), c["value"]))


def advice_map(model: FormModel) -> dict[str, dict[str, str]]:
    """For the form page: each property shape (by IRI and by compact name, as validation reports name it) ->
    the fieldset its results belong beside and the plain-words message; a node value's own shapes go to its field."""
    out: dict[str, dict[str, str]] = {}
    for f in model.fields:
        entries = [(shape, text) for shape, text in f.advice.items()]
        entries += [(shape, f"{f.label}, {text[:1].lower()}{text[1:]}") for sub in f.fields
                    for shape, text in sub.advice.items()]
        for shape, text in entries:
            for name in (shape, curie_or_iri(shape)):
                out.setdefault(name, {"field": f.html_id, "text": text})
    return out


# ------------------------------------------------------------------------------------------------ records

Values = dict[str, list[Any]]  # field key -> values (str, or a dict of sub-field values for a node)


def _value_fits(f: Field, value: Any) -> bool:
    if f.widget == "node":
        return isinstance(value, (BNode, URIRef))
    if f.datatype == "iri" or f.widget == "url":
        return isinstance(value, URIRef)
    if not isinstance(value, Literal):
        return False
    if f.lang:
        return value.language == f.lang
    if f.datatype:
        return value.language is None and str(value.datatype or XSD.string) in (f.datatype, *f.other_datatypes)
    return value.language is None


def record_values(model: FormModel, graph: Graph, subject: URIRef) -> tuple[Values, Graph]:
    """The form's values for ``subject`` in ``graph``, and every triple of ``graph`` the fields do not hold."""
    rest = bind_prefixes(Graph())
    for triple in graph:
        rest.add(triple)
    rest.remove((subject, RDF.type, model.kind.cls))
    values: Values = {}
    for f in model.fields:
        for value in sorted(graph.objects(subject, URIRef(f.path)), key=str):
            if not _value_fits(f, value):
                continue
            rest.remove((subject, URIRef(f.path), value))
            if f.widget == "node":
                node: dict[str, Any] = {"@type": [str(t) for t in graph.objects(value, RDF.type)]}
                rest.remove((value, RDF.type, None))
                for sub in f.fields:
                    node[sub.key] = []
                    for v in sorted(graph.objects(value, URIRef(sub.path)), key=str):
                        if _value_fits(sub, v):
                            node[sub.key].append(str(v))
                            rest.remove((value, URIRef(sub.path), v))
                if any(rest.triples((value, None, None))) or any(rest.triples((None, None, value))):
                    rest.add((subject, URIRef(f.path), value))  # it holds more than the form shows: kept whole
                    for t in node["@type"]:
                        rest.add((value, RDF.type, URIRef(t)))
                    for sub in f.fields:
                        for v in graph.objects(value, URIRef(sub.path)):
                            rest.add((value, URIRef(sub.path), v))
                    continue
                values.setdefault(f.key, []).append(node)
            else:
                values.setdefault(f.key, []).append(str(value))
    return values, rest


_NESTED = re.compile(r"^(?P<key>[^\[\]]+)\[(?P<index>\d{1,3})\](?P<sub>[^\[\]]+)$")


def _literal(f: Field, text: str) -> Any:
    if f.datatype == "iri" or f.widget == "url":
        if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]+$", text):
            return URIRef(text)
        return Literal(text)  # not an IRI: kept as text, so that validation says so beside the field
    if f.lang:
        return Literal(text, lang=f.lang)
    if f.datatype and f.datatype != str(XSD.string):
        if str(XSD.gYearMonth) in f.other_datatypes and re.fullmatch(r"\d{4}-\d{2}", text.strip()):
            return Literal(text.strip(), datatype=XSD.gYearMonth)  # a month: the package index's precision
        return Literal(text, datatype=URIRef(f.datatype))
    return Literal(text)


def record_graph(model: FormModel, form: Mapping[str, list[str]], slug: str, extra: str = "") -> Graph:
    """The record a filled form states (values by field key, node values as ``key[n]sub``), plus ``extra`` Turtle.

    Raises InputError for a slug that is not lowercase-words-with-hyphens and for unreadable extra Turtle
    (its line and column as the contributor sees them): the first of ``read_record``'s problems.
    """
    graph, problems = read_record(model, form, slug, extra)
    if problems:
        raise problems[0]
    return graph


def placeholder_slug(model: FormModel) -> str:
    """The identifier a record is checked under while the one typed is not usable yet."""
    return "your-" + model.kind.name


def read_record(model: FormModel, form: Mapping[str, list[str]], slug: str,
                extra: str = "") -> tuple[Graph, list[InputError]]:
    """The record a filled form states, and every problem that keeps it from being written, all at once: an
    unusable identifier (the record is then stated under ``placeholder_slug``) and unreadable extra Turtle (then
    left out), so that the fields are still checked. Raises InputError for a form or record over the size limits.
    """
    problems: list[InputError] = []
    slug = slug.strip()
    if not SLUG.match(slug):
        problems.append(InputError("Identifier: use lowercase letters and digits, words joined by hyphens, e.g. "
                                   f"my-{model.kind.name}" + (f" (not {slug!r})" if slug else ""), source="slug"))
        slug = placeholder_slug(model)
    if sum(len(texts) for texts in form.values()) > MAX_TRIPLES:
        raise InputError(f"the form holds more than {MAX_TRIPLES} values: one record per file", source="form")
    subject = model.kind.iri(slug)
    g = bind_prefixes(Graph())
    g.add((subject, RDF.type, model.kind.cls))
    fields = model.by_key()
    nodes: dict[tuple[str, int], dict[str, list[str]]] = {}
    for name, texts in form.items():
        m = _NESTED.match(name)
        if m and m["key"] in fields and fields[m["key"]].widget == "node":
            nodes.setdefault((m["key"], int(m["index"])), {})[m["sub"]] = texts
            continue
        f = fields.get(name)
        if f is None or f.widget == "node":
            continue
        for text in texts:
            if text.strip():
                g.add((subject, URIRef(f.path), _literal(f, text.strip())))
    for (key, _index), sub_values in sorted(nodes.items()):
        f = fields[key]
        subs = {s.key: s for s in f.fields}
        filled = [(subs[k], t.strip()) for k, texts in sub_values.items() if k in subs for t in texts if t.strip()]
        if not filled:
            continue
        node = BNode()
        g.add((subject, URIRef(f.path), node))
        if "@type" in sub_values:  # an existing node value keeps its own types, even none
            types = [t for t in sub_values["@type"] if t.strip()]
        else:  # a new one gets the property's range
            types = [f.node_type] if f.node_type else []
        for t in types:
            g.add((node, RDF.type, URIRef(t)))
        for sub, text in filled:
            g.add((node, URIRef(sub.path), _literal(sub, text)))
    if len(extra.encode("utf-8")) > MAX_EXTRA_BYTES:
        raise InputError(f"the other statements exceed {MAX_EXTRA_BYTES // 1024} KiB: one record per file",
                         source="extra")
    if extra.strip():
        prologue = "".join(f"@prefix {p}: <{ns}> .\n" for p, ns in _prefixes().items())
        try:
            more = parse_bytes((prologue + extra).encode("utf-8"), "turtle", source="extra")
        except InputError as exc:
            line = exc.line - prologue.count("\n") if exc.line else None
            problems.append(InputError(exc.message, source="extra", line=line, column=exc.column))
            more = Graph()
        for triple in more:
            g.add(triple)
        check_blank_nesting(g, source="extra")  # before the record is written (a serialiser recurses on them)
    if len(g) > MAX_TRIPLES:
        raise InputError(f"the record holds {len(g)} statements; at most {MAX_TRIPLES}: one record per file",
                         source="extra")
    return g, problems


def _prefixes() -> dict[str, str]:
    """The project's prefixes plus one per kind of resource below the base (server:, library:, protocol:, …)."""
    out = dict(PREFIXES)
    for name in SEGMENTS:
        ns = BASE + name + "/"
        if ns not in out.values():
            out[name] = ns
    return out


def _turtle(graph: Graph) -> list[str]:
    """``graph`` as Turtle lines, declaring only the prefixes it uses."""
    g = Graph()
    for prefix, ns in _prefixes().items():
        g.bind(prefix, ns, override=True, replace=True)
    for triple in graph:
        g.add(triple)
    lines = g.serialize(format="turtle").splitlines()
    body = "\n".join(line for line in lines if not line.startswith("@prefix "))
    used = {p for p in _prefixes() if re.search(rf"(?<![\w-]){re.escape(p)}:", body)}
    return [line for line in lines if not line.startswith("@prefix ") or line.split()[1][:-1] in used]


def record_turtle(model: FormModel, graph: Graph, slug: str) -> str:
    """The record as a Turtle file for data/<folder>/<slug>.ttl, with a purpose line first."""
    label = graph.value(model.kind.iri(slug), RDFS.label)
    head = f"# {label or slug}: a {model.kind.name} record written with the fwgraph contribution form."
    return head + "\n" + "\n".join(_turtle(graph)).strip() + "\n"


def file_name(model: FormModel, slug: str) -> str:
    return f"data/{model.kind.folder}/{slug}.ttl"


def stored_record(kind: RecordKind, slug: str, root: Any, describe: Callable[[list[URIRef]], Graph]) -> Graph | None:
    """The file a record lives in (data/<folder>/<slug>.ttl, with the chart's row and corrections about it), or
    the stored description of its IRI when the sources hold no such file; None when neither knows it."""
    from fwgraph.data.graph import Sources, parse_file

    if not SLUG.match(slug):
        return None
    iri = kind.iri(slug)
    path = Sources.at(root).root / "data" / kind.folder / f"{slug}.ttl"
    if path.is_file():
        graph = parse_file(path)
        if (iri, None, None) in graph:
            return graph
    graph = describe([iri])
    return graph if (iri, None, None) in graph else None


def turtle_of(graph: Graph) -> str:
    """``graph`` as Turtle without its prefix lines (the form's "other statements" box)."""
    if not len(graph):
        return ""
    return "\n".join(line for line in _turtle(graph) if not line.startswith("@prefix ")).strip() + "\n"
