"""Linked Data: every IRI under the public base dereferences by conneg, downloads, VoID.

The data keeps its canonical IRIs; the server answers for ``base + path`` at ``/path`` for the configured
public base and for the canonical base, so the same data runs on localhost, behind a proxy or at w3id.org.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, current_app, render_template, request
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS

from fwgraph.app import service
from fwgraph.app.http import error_response, negotiate
from fwgraph.build import COMPRESSED, DUMPS, VOID_FILE
from fwgraph.jsonld import to_jsonld
from fwgraph.namespace import BASE, FW, bind_prefixes
from fwgraph.results import to_rdflib
from fwgraph.sparql import prepare

bp = Blueprint("linkeddata", __name__)

#: Media types a resource can be described in, by short name.
MEDIA = {
    "html": "text/html",
    "turtle": "text/turtle",
    "jsonld": "application/ld+json",
    "json": "application/json",
    "nt": "application/n-triples",
}
CONTENT_TYPES = {
    "html": "text/html; charset=utf-8",
    "turtle": "text/turtle; charset=utf-8",
    "jsonld": "application/ld+json",
    "json": "application/json",
    "nt": "application/n-triples",
}
SUFFIXES = {".ttl": "turtle", ".jsonld": "jsonld", ".nt": "nt", ".html": "html"}
_FORMAT_PARAM = {
    "ttl": "text/turtle",
    "turtle": "text/turtle",
    "jsonld": "application/ld+json",
    "json": "application/json",
    "nt": "application/n-triples",
    "html": "text/html",
}
#: Characters allowed in a path that is turned into an IRI (anything else cannot name a resource here).
# IRI path characters, and % only as the start of a percent-escape (a stray % made DESCRIBE fail: 500).
_SAFE_PATH = re.compile(r"^(?:[A-Za-z0-9._~!$&'()*+,;=:@/-]|%[0-9A-Fa-f]{2})*+$")
_MAX_TRIPLES = 100_000


# --------------------------------------------------------------------------- bases and links


def public_base() -> str:
    return str(current_app.config.get("FWGRAPH_BASE_IRI") or BASE)


def bases() -> list[str]:
    """The bases the server answers for: the configured public base first, then the canonical one."""
    return list(dict.fromkeys([public_base(), BASE]))


def local_path(iri: str) -> str | None:
    """The server path (with the script root) where ``iri`` is served, or None if it is not ours."""
    for base in bases():
        if iri.startswith(base):
            rest = iri[len(base) :]
            if rest.startswith("ns#"):
                return f"{request.script_root}/ns#{rest[3:]}"
            if rest.startswith("shapes#"):
                return f"{request.script_root}/shapes#{rest[7:]}"
            return f"{request.script_root}/{rest}"
    return None


def href(iri: str) -> str:
    """A link target for ``iri``: its local page when it is ours, else the IRI itself."""
    return local_path(iri) or iri


# --------------------------------------------------------------------------- caching


def cache_headers(response: Response, etag: str, *, vary: bool = False) -> Response:
    response.set_etag(etag)
    response.headers["Cache-Control"] = (
        f"public, max-age={current_app.config.get('FWGRAPH_CACHE_MAX_AGE', 300)}"
    )
    if vary:
        response.vary.add("Accept")
    return response


def not_modified(etag: str) -> bool:
    inm = request.if_none_match
    return bool(inm) and (inm.star_tag or inm.contains_weak(etag))


def conditional(etag: str, *, vary: bool = False) -> Response | None:
    """A 304 when the client already holds ``etag``, else None."""
    if not_modified(etag):
        return cache_headers(Response(status=304), etag, vary=vary)
    return None


def page_etag(*parts: str) -> str:
    from fwgraph import __version__

    return hashlib.sha256(
        "|".join((service().etag, __version__, public_base(), *parts)).encode()
    ).hexdigest()[:24]


# --------------------------------------------------------------------------- downloads, context, VoID


def download_names() -> list[str]:
    """Every file of the distribution a client may download: the build's list, nothing else."""
    names = [*DUMPS, *(f"{n}.gz" for n in COMPRESSED), VOID_FILE]
    return [n for n in names if (service().dist / n).is_file()]


def content_type_for(name: str) -> str:
    if name.endswith(".gz"):
        return "application/gzip"
    media = DUMPS.get(name, "text/turtle" if name.endswith(".ttl") else "application/octet-stream")
    return media + "; charset=utf-8" if media.startswith("text/") else media


@lru_cache(maxsize=64)
def _file_digest(path: str, mtime_ns: int, size: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _serve_file(name: str) -> Response:
    path = service().dist / name
    stat = path.stat()
    etag = _file_digest(str(path), stat.st_mtime_ns, stat.st_size)
    cached = conditional(etag)
    if cached is not None:
        return cached
    response = Response(path.read_bytes(), content_type=content_type_for(name))
    return cache_headers(response, etag)


@bp.get("/download/")
def downloads_index() -> Response:
    names = download_names()
    etag = page_etag("downloads", *names)
    cached = conditional(etag, vary=True)
    if cached is not None:
        return cached
    if negotiate(["text/html", "application/json"], default="application/json") == "text/html":
        files = [(n, content_type_for(n), (service().dist / n).stat().st_size) for n in names]
        body = render_template("downloads.html", files=files)
        return cache_headers(Response(body, content_type=CONTENT_TYPES["html"]), etag, vary=True)
    return cache_headers(current_app.json.response({"files": names}), etag, vary=True)


@bp.get("/download/<name>")
def download(name: str) -> Response:
    if name not in download_names():
        abort(404, f"no file {name!r} in the distribution; see {request.script_root}/download/")
    return _serve_file(name)


@bp.get("/context.jsonld")
def jsonld_context() -> Response:
    return _serve_file("fwgraph.context.jsonld")


def rebase(graph: Graph, base: str) -> Graph:
    """``graph`` with the canonical base replaced by ``base`` in IRIs and in void:uriSpace."""
    if base == BASE:
        return graph
    out = bind_prefixes(Graph())

    def move(term: Any) -> Any:
        if isinstance(term, URIRef) and str(term).startswith(BASE):
            return URIRef(base + str(term)[len(BASE) :])
        if isinstance(term, Literal) and str(term) == BASE:
            return Literal(base, lang=term.language, datatype=term.datatype)
        return term

    for s, p, o in graph:
        out.add((move(s), move(p), move(o)))
    return out


@bp.get("/.well-known/void")
def void() -> Response:
    offers = [MEDIA["turtle"], MEDIA["jsonld"], MEDIA["json"], MEDIA["nt"]]
    media = negotiate(offers, default=MEDIA["turtle"], fmt_map=_FORMAT_PARAM)
    if media is None:
        abort(406, "the VoID description is available as " + ", ".join(offers))
    fmt = _short(media)
    etag = page_etag("void", fmt)
    cached = conditional(etag, vary=True)
    if cached is not None:
        return cached
    graph = rebase(service().void, public_base())
    return cache_headers(Response(serialize(graph, fmt), content_type=CONTENT_TYPES[fmt]), etag, vary=True)


# --------------------------------------------------------------------------- resources


def _short(media: str) -> str:
    return {v: k for k, v in MEDIA.items()}[media]


def serialize(graph: Graph, fmt: str) -> bytes:
    if fmt in ("jsonld", "json"):
        return to_jsonld(graph)
    if fmt == "nt":
        lines = sorted(graph.serialize(format="nt", encoding="utf-8").decode("utf-8").splitlines())
        return ("\n".join(line for line in lines if line.strip()) + "\n").encode("utf-8")
    return bind_prefixes(graph).serialize(format="turtle", encoding="utf-8")


def _query(text: str, max_rows: int = _MAX_TRIPLES) -> Any:
    return service().engine.query(prepare(text), max_rows=max_rows)


def describe(iri: str) -> Graph:
    """The resource's Concise Bounded Description (its triples, blank-node closure included)."""
    return to_rdflib(_query(f"DESCRIBE <{iri}>").triples)


def _choose(path: str) -> tuple[str, str | None]:
    """Split a suffix URL (``flask.ttl``) into the resource path and a forced format."""
    for suffix, fmt in SUFFIXES.items():
        if path.endswith(suffix) and len(path) > len(suffix):
            return path[: -len(suffix)], fmt
    return path, None


def _format(forced: str | None) -> str:
    if forced:
        return forced
    offers = [MEDIA["turtle"], MEDIA["html"], MEDIA["jsonld"], MEDIA["json"], MEDIA["nt"]]
    media = negotiate(offers, default=MEDIA["turtle"], fmt_map=_FORMAT_PARAM)
    if media is None:
        abort(406, "this resource is available as " + ", ".join(offers))
    return _short(media)


def _not_found(iri: str, fmt: str) -> Response:
    message = f"{iri} is not described in this dataset"
    if fmt in ("turtle", "nt"):
        return Response(f"# 404 Not Found: {message}\n", status=404, content_type=CONTENT_TYPES[fmt])
    if fmt in ("jsonld", "json"):
        import json

        body = {"error": "Not Found", "status": 404, "message": message}
        return Response(json.dumps(body) + "\n", status=404, content_type=CONTENT_TYPES[fmt])
    if fmt == "html":
        return Response(
            render_template("notfound.html", iri=iri, message=message),
            status=404,
            content_type=CONTENT_TYPES["html"],
        )
    return error_response(404, message)


def _answer(graph_of: Any, fmt: str, key: str, html: Any, *, vary: bool) -> Response:
    etag = page_etag(key, fmt)
    cached = conditional(etag, vary=vary)
    if cached is not None:
        return cached
    if fmt == "html":
        body: bytes | str = html()
    else:
        body = serialize(graph_of(), fmt)
    response = Response(body, content_type=CONTENT_TYPES[fmt])
    if fmt != "html":
        response.headers["Link"] = f'<{request.base_url}>; rel="describedby"'
    return cache_headers(response, etag, vary=vary)


@bp.get("/<path:path>")
def resource(path: str) -> Response:
    stem, forced = _choose(path)
    vary = forced is None
    if not _SAFE_PATH.match(stem):
        return _not_found(request.base_url, _format(forced))
    if stem in ("ns", "shapes"):
        fmt = _format(forced)
        doc = service().ontology if stem == "ns" else service().shapes
        iri = BASE + stem
        return _answer(lambda: doc, fmt, stem, lambda: render_document(iri, doc), vary=vary)
    fmt = _format(forced)
    for base in bases():
        iri = base + stem
        graph = describe(iri)
        if len(graph):
            return _answer(
                lambda g=graph: g, fmt, iri, lambda i=iri, g=graph: render_resource(i, g), vary=vary
            )
    return cache_headers(_not_found(public_base() + stem, fmt), page_etag("404", stem, fmt), vary=vary)


# --------------------------------------------------------------------------- HTML model


@dataclass
class Value:
    """One object of a fact, ready for the template."""

    text: str
    href: str | None = None
    local: bool = False
    lang: str | None = None
    datatype: str | None = None
    nested: list[Fact] = field(default_factory=list)


@dataclass
class Fact:
    key: str
    title: str
    values: list[Value]


_PREFERRED_LABELS = (RDFS.label, SKOS.prefLabel, DCTERMS.title)


class Labels:
    """Labels of IRIs, read from the store in one query (English or untagged preferred)."""

    def __init__(self, iris: set[str]) -> None:
        self.map: dict[str, str] = {}
        iris = {i for i in iris if i and _SAFE_IRI.match(i)}
        ranked: dict[str, tuple[int, str]] = {}
        for _start, chunk in _chunks(sorted(iris), 400):
            values = " ".join(f"<{i}>" for i in chunk)
            result = _query(
                "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
                "PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
                f"SELECT ?x ?l WHERE {{ VALUES ?x {{ {values} }} "
                "?x rdfs:label|skos:prefLabel ?l }"
            )
            for x, label in result.rows:
                rank = 0 if label.language in (None, "", "en") else 1
                key = (rank, label.value)
                if x.value not in ranked or key < ranked[x.value]:
                    ranked[x.value] = key
        self.map = {k: v[1] for k, v in ranked.items()}

    def __call__(self, iri: str) -> str:
        if iri in self.map:
            return self.map[iri]
        return _curie(iri)


_SAFE_IRI = re.compile(r'^[^<>"{}|^`\\\x00-\x20]+$')


def _chunks(items: list[str], size: int) -> Any:
    for start in range(0, len(items), size):
        yield start, items[start : start + size]


@lru_cache(maxsize=4096)
def _curie(iri: str) -> str:
    g = bind_prefixes(Graph())
    try:
        return g.namespace_manager.curie(iri, generate=False)
    except (ValueError, KeyError):
        return iri


def _label_of(graph: Graph, node: Any) -> str | None:
    for pred in _PREFERRED_LABELS:
        values = list(graph.objects(node, pred))
        english = [v for v in values if isinstance(v, Literal) and v.language in (None, "en")]
        if english or values:
            return str(sorted(english or values)[0])
    return None


def _value(graph: Graph, term: Any, labels: Labels, depth: int = 0) -> Value:
    if isinstance(term, URIRef):
        iri = str(term)
        local = local_path(iri)
        return Value(text=labels(iri), href=local or iri, local=local is not None)
    if isinstance(term, BNode):
        return Value(text="", nested=_facts(graph, term, labels, depth + 1) if depth < 4 else [])
    lit: Literal = term
    datatype = _curie(str(lit.datatype)) if lit.datatype else None
    return Value(text=str(lit), lang=lit.language, datatype=datatype)


def _facts(
    graph: Graph, subject: Any, labels: Labels, depth: int = 0, skip: frozenset[Any] = frozenset()
) -> list[Fact]:
    by_pred: dict[Any, list[Any]] = {}
    for p, o in graph.predicate_objects(subject):
        if p in skip:
            continue
        by_pred.setdefault(p, []).append(o)
    facts = []
    for p, objects in by_pred.items():
        values = [
            _value(graph, o, labels, depth) for o in sorted(objects, key=lambda t: (type(t).__name__, str(t)))
        ]
        values.sort(key=lambda v: v.text.lower())
        facts.append(Fact(key=str(p), title=labels(str(p)), values=values))
    facts.sort(key=lambda f: f.title.lower())
    return facts


#: The groups of a framework page, in reading order, with their headings.
FRAMEWORK_GROUPS: list[tuple[str, list[URIRef]]] = [
    ("Server interfaces", [FW.interface]),
    ("Async support", [FW.asyncSupport, FW.asyncSince]),
    ("Features", [FW.feature, FW.extensionFeature]),
    ("Licence", [URIRef("http://usefulinc.com/ns/doap#license")]),
    ("Releases", [FW.firstReleaseYear, FW.latestRelease]),
    ("Maintenance status", [FW.maintenanceStatus]),
    (
        "Repository",
        [URIRef("http://usefulinc.com/ns/doap#repository"), URIRef("https://schema.org/codeRepository")],
    ),
    (
        "Homepage and downloads",
        [
            URIRef("http://usefulinc.com/ns/doap#homepage"),
            URIRef("http://usefulinc.com/ns/doap#download-page"),
            FW.pypiDistribution,
        ],
    ),
    ("Relations", [FW.buildsOn, FW.reimplementsApiOf]),
    ("Same as", [OWL.sameAs]),
]


@dataclass
class Claim:
    iri: str
    href: str
    title: str
    kind: str  # "row" or "correction"
    facts: list[Fact]
    about: str | None = None
    chart: list[Value] = field(default_factory=list)
    now: list[Value] = field(default_factory=list)
    sources: list[Value] = field(default_factory=list)
    comment: str | None = None


def _iris_in(graph: Graph) -> set[str]:
    return {str(t) for triple in graph for t in triple if isinstance(t, URIRef)}


def render_resource(iri: str, graph: Graph) -> str:
    node = URIRef(iri)
    types = {str(t) for t in graph.objects(node, RDF.type)}
    # Inverse links (who points here), and the claims (chart rows, corrections) about this resource.
    inverse = _query(
        f"SELECT DISTINCT ?s ?p ?t WHERE {{ ?s ?p <{iri}> FILTER(isIRI(?s)) OPTIONAL {{ ?s a ?t }} }}"
    ).rows
    claims = to_rdflib(
        _query(f"CONSTRUCT {{ ?c ?p ?o }} WHERE {{ ?c <{FW.claimAbout}> <{iri}> ; ?p ?o }}").triples
    )
    iris = (
        _iris_in(graph)
        | _iris_in(claims)
        | {iri}
        | {t.value for row in inverse for t in row if t is not None}
    )
    labels = Labels(iris)
    title = _label_of(graph, node) or labels(iri)
    # sorted: a graph's order follows the process's string hashing, and replicas must agree
    description = [
        text for p in (DCTERMS.description, RDFS.comment, SKOS.definition)
        for text in sorted(map(str, graph.objects(node, p)))
    ]
    heading_preds = frozenset(
        {
            RDFS.label,
            SKOS.prefLabel,
            DCTERMS.description,
            RDFS.comment,
            RDF.type,
            DCTERMS.source,
            SKOS.definition,
        }
    )
    facts = _facts(graph, node, labels, skip=heading_preds)
    groups: list[tuple[str, list[Fact]]] = []
    if str(FW.WebFramework) in types:
        by_key = {f.key: f for f in facts}
        for heading, preds in FRAMEWORK_GROUPS:
            members = [by_key.pop(str(p)) for p in preds if str(p) in by_key]
            if members:
                groups.append((heading, members))
        if str(FW.pypiDistribution) in [f.key for _, fs in groups for f in fs]:
            for _, fs in groups:
                for f in fs:
                    if f.key == str(FW.pypiDistribution):
                        for v in f.values:
                            v.href = f"https://pypi.org/project/{v.text}/"
        rest = [f for f in facts if f.key in by_key]
        if rest:
            groups.append(("Other facts", rest))
    elif facts:
        groups.append(("Facts", facts))
    sources = [_value(graph, o, labels) for o in sorted(graph.objects(node, DCTERMS.source), key=str)]
    type_values = [_value(graph, URIRef(t), labels) for t in sorted(types)]

    # "Used by" and the rest of the inverse links, grouped by property.
    used_by: dict[str, Value] = {}
    having: dict[str, Value] = {}
    referenced: dict[str, dict[str, Value]] = {}
    frameworks = {
        row[0].value for row in inverse if row[2] is not None and row[2].value == str(FW.WebFramework)
    }
    for s, p, _t in inverse:
        value = _value(graph, URIRef(s.value), labels)
        if s.value in frameworks and p.value == str(FW.interface):
            used_by[s.value] = value
        elif s.value in frameworks and p.value in (str(FW.feature), str(FW.extensionFeature)):
            having[s.value] = value
        elif p.value != str(FW.claimAbout) and p.value != str(RDF.type):
            referenced.setdefault(labels(p.value), {})[s.value] = value
    claim_list = _claims(claims, labels)
    return render_template(
        "resource.html",
        iri=iri,
        title=title,
        description=description,
        types=type_values,
        groups=groups,
        sources=sources,
        claims=claim_list,
        used_by=sorted(used_by.values(), key=lambda v: v.text.lower()),
        having=sorted(having.values(), key=lambda v: v.text.lower()),
        referenced={
            k: sorted(v.values(), key=lambda x: x.text.lower()) for k, v in sorted(referenced.items())
        },
        is_interface=str(FW.ServerInterface) in types,
        is_feature=str(FW.Feature) in types,
        is_framework=str(FW.WebFramework) in types,
        alternates=_alternates(iri),
    )


def _claims(claims: Graph, labels: Labels) -> list[Claim]:
    out = []
    for c in sorted(set(claims.subjects(FW.claimAbout, None)), key=str):
        types = set(claims.objects(c, RDF.type))
        kind = "correction" if FW.Correction in types else "row"
        skip = frozenset({RDF.type, FW.claimAbout, RDFS.label})
        claim = Claim(
            iri=str(c),
            href=href(str(c)),
            title=_label_of(claims, c) or labels(str(c)),
            kind=kind,
            facts=_facts(claims, c, labels, skip=skip),
        )
        if kind == "correction":
            prop = claims.value(c, FW.onProperty)
            claim.about = labels(str(prop)) if prop is not None else None
            claim.chart = [
                _value(claims, o, labels) for o in sorted(claims.objects(c, FW.chartValue), key=str)
            ]
            claim.now = [
                _value(claims, o, labels) for o in sorted(claims.objects(c, FW.currentValue), key=str)
            ]
            claim.sources = [
                _value(claims, o, labels) for o in sorted(claims.objects(c, DCTERMS.source), key=str)
            ]
            comment = claims.value(c, RDFS.comment)
            claim.comment = str(comment) if comment is not None else None
        out.append(claim)
    out.sort(key=lambda c: (c.kind != "row", c.title))
    return out


def _alternates(iri: str) -> list[tuple[str, str]]:
    path = local_path(iri) or ""
    return [(f"{path}.ttl", "Turtle"), (f"{path}.jsonld", "JSON-LD"), (f"{path}.nt", "N-Triples")]


def render_document(iri: str, doc: Graph) -> str:
    """A page for the vocabulary (/ns) or the shapes (/shapes): every term with its label and comment."""
    labels = Labels(set())
    node = URIRef(iri)
    terms = []
    for s in sorted({s for s in doc.subjects() if isinstance(s, URIRef) and str(s) != iri}, key=str):
        anchor = str(s).split("#", 1)[1] if "#" in str(s) else None
        facts = _facts(doc, s, labels, skip=frozenset({RDFS.label, RDFS.comment, RDFS.isDefinedBy}))
        terms.append(
            {
                "iri": str(s),
                "anchor": anchor,
                "label": _label_of(doc, s) or _curie(str(s)),
                "comment": " ".join(sorted(str(c) for c in doc.objects(s, RDFS.comment))),
                "facts": facts,
            }
        )
    title = _label_of(doc, node) or iri
    description = sorted(str(o) for o in doc.objects(node, DCTERMS.description))
    return render_template(
        "document.html",
        iri=iri,
        title=title,
        description=description,
        terms=terms,
        alternates=_alternates(iri),
    )


@bp.after_request
def _vary(response: Response) -> Response:
    if request.endpoint in ("linkeddata.resource", "linkeddata.void") and not _choose(request.path)[1]:
        response.vary.add("Accept")
    return response


@bp.app_context_processor
def _helpers() -> dict[str, Any]:
    return {"href": href, "local_path": local_path, "public_base": public_base}


__all__ = [
    "bp",
    "describe",
    "download_names",
    "local_path",
    "href",
    "cache_headers",
    "conditional",
    "page_etag",
]
