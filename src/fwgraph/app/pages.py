"""The landing page: what the dataset is, its counts, downloads, and an editor for the example queries."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request
from rdflib.namespace import DCTERMS

from fwgraph import formats, schemaorg
from fwgraph.app.http import (
    cache_headers,
    conditional,
    endpoint_url,
    href,
    local_path,
    page_etag,
    public_iri,
    served,
    service,
    settings,
)
from fwgraph.namespace import DATASET_IRI, FW

bp = Blueprint("pages", __name__)

#: The counts the page shows, by the class they count.
COUNTED = {"frameworks": FW.WebFramework, "interfaces": FW.ServerInterface, "features": FW.Feature}


@bp.get("/")
def index() -> Response:
    # A shared editor link (/?query=...&view=...) opens with its query in the editor, also without scripts.
    query = request.args.get("query", "")
    if len(query.encode()) > settings().max_query_bytes:
        query = ""
    etag = page_etag("index", query, endpoint_url())
    cached = conditional(etag)
    if cached is not None:
        return cached
    svc = service()
    counts: dict[str, int | None] = {name: svc.count(cls) for name, cls in COUNTED.items()}
    counts["triples"] = svc.triples()
    examples = [{"name": e.name, "title": e.title or e.name, "description": e.description, "text": e.text,
                 "group": e.group or "Other", "view": e.view} for e in svc.examples]
    body = render_template(
        "index.html",
        title=svc.void_text(DCTERMS.title) or "fwgraph",
        description=svc.void_text(DCTERMS.description),
        counts=counts,
        examples=examples,
        query=query,
        frameworks=[{"iri": iri, "label": label, "href": href(iri)} for iri, label in svc.frameworks()],
        downloads=svc.download_names(),
        dataset_href=local_path(str(DATASET_IRI)),
        structured_data=schemaorg.script_json(schemaorg.dataset(served(svc.void, dataset=True),
                                                                public_iri(str(DATASET_IRI)),
                                                                canonical=str(DATASET_IRI))),
    )
    return cache_headers(Response(body, content_type=formats.HTML.content_type), etag)
