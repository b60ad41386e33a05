"""The landing page: what the dataset is, its counts, downloads, and an editor for the example queries."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, render_template, request
from rdflib import Literal
from rdflib.namespace import DCTERMS, VOID

from fwgraph.app import service
from fwgraph.app.linkeddata import (
    CONTENT_TYPES,
    cache_headers,
    conditional,
    download_names,
    local_path,
    page_etag,
)
from fwgraph.namespace import DATASET_IRI, FW
from fwgraph.sparql import prepare

bp = Blueprint("pages", __name__)

_COUNTS = {
    "frameworks": FW.WebFramework,
    "interfaces": FW.ServerInterface,
    "features": FW.Feature,
}


def _count(cls: Any) -> int:
    result = service().engine.query(
        prepare(f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s a <{cls}> }}"), max_rows=1
    )
    return int(result.rows[0][0].value) if result.rows else 0


def _frameworks() -> list[dict[str, str]]:
    result = service().engine.query(
        prepare(
            "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
            f"SELECT ?f (SAMPLE(?l) AS ?label) WHERE {{ ?f a <{FW.WebFramework}> "
            "OPTIONAL { ?f rdfs:label ?l } } "
            "GROUP BY ?f"
        ),
        max_rows=10_000,
    )
    items = [
        {
            "iri": f.value,
            "label": label.value if label is not None else f.value.rsplit("/", 1)[-1],
            "href": local_path(f.value) or f.value,
        }
        for f, label in result.rows
    ]
    return sorted(items, key=lambda i: i["label"].lower())


def _void_value(prop: Any) -> str | None:
    void = service().void
    values = [o for o in void.objects(None, prop) if isinstance(o, Literal)]
    english = [v for v in values if v.language in (None, "en")]
    return str((english or values)[0]) if values else None


@bp.get("/")
def index() -> Response:
    # A shared editor link (/?query=...&view=...) opens with its query in the editor, also without scripts.
    query = request.args.get("query", "")
    if len(query.encode()) > int(current_app.config["FWGRAPH_MAX_QUERY_BYTES"]):
        query = ""
    etag = page_etag("index", query)
    cached = conditional(etag)
    if cached is not None:
        return cached
    counts = {name: _count(cls) for name, cls in _COUNTS.items()}
    triples = next(iter(service().void.objects(None, VOID.triples)), None)
    counts["triples"] = int(triples) if triples is not None else None
    examples = [
        {"name": e.name, "title": e.title or e.name, "description": e.description, "text": e.text,
         "group": e.group or "Other", "view": e.view}
        for e in service().examples
    ]
    body = render_template(
        "index.html",
        title=_void_value(DCTERMS.title) or "fwgraph",
        description=_void_value(DCTERMS.description),
        counts=counts,
        examples=examples,
        query=query,
        frameworks=_frameworks(),
        downloads=download_names(),
        dataset_href=local_path(str(DATASET_IRI)),
    )
    return cache_headers(Response(body, content_type=CONTENT_TYPES["html"]), etag)
