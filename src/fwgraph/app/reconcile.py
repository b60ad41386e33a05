"""The reconciliation service at /reconcile (W3C Entity Reconciliation Service API 0.2, as OpenRefine uses it):
the manifest, query batches (``queries=``) and data extension (``extend=``) by GET or POST, property proposals,
suggest services for entities, types and properties, and HTML previews. Every JSON answer can be JSONP
(``callback=``, a checked name); every error below /reconcile is JSON to a JSON client. The Service's verbs
(fwgraph.views.reconcile, fwgraph.views.extension and fwgraph.views.suggest) do the work."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, abort, render_template, request

from fwgraph.app.http import (
    PREVIEW_POLICY,
    cache_headers,
    conditional,
    error_response,
    is_callback_name,
    json_response,
    page_etag,
    public_base,
    service,
    settings,
)
from fwgraph.core import formats
from fwgraph.core.errors import InputError, TooManyIds
from fwgraph.service import MAX_TYPE, PREVIEW_PATH, PROPOSE_PATH, SUGGEST_PATHS

bp = Blueprint("reconcile", __name__)


def _type() -> str | None:
    """The request's ``type`` (checked by :func:`_checked`)."""
    return request.args.get("type")


def _kib(size: int) -> str:
    return f"{size // 1024} KiB" if size % 1024 == 0 else f"{size} bytes"


def _too_large() -> Response | None:
    """413 (body) or 414 (query string) when the request as received, before any decoding, is over the limit:
    a limit on the decoded text let three times as many url-encoded bytes through."""
    limit = settings().max_query_bytes
    if len(request.query_string) > limit:
        return error_response(414, f"the query string is {len(request.query_string)} bytes long; /reconcile "
                                   f"accepts at most {_kib(limit)} (POST a larger batch, up to the same size)")
    if request.method == "POST":
        length = request.content_length
        if length is not None and length > limit:
            return error_response(413, f"the request body is {length} bytes long; /reconcile accepts at most "
                                       f"{_kib(limit)}: send fewer queries or ids per request")
        request.max_content_length = limit  # a body without Content-Length is cut there too (413)
    return None


@bp.before_request
def _checked() -> Response | None:
    """Every /reconcile request: within the size bound, with a type of bounded length and a callback that is a
    plain name if any."""
    refused = _too_large()
    if refused is not None:
        return refused
    type_ = request.args.get("type")
    if type_ is not None and len(type_) > MAX_TYPE:
        return error_response(400, f"type is {len(type_)} characters long; at most {MAX_TYPE}")
    callback = request.args.get("callback")
    if callback is not None and not is_callback_name(callback):
        return error_response(400, "callback must be a JavaScript name (letters, digits, _ and $, not starting "
                                   "with a digit; at most four joined by dots, each at most 64 characters)")
    return None


def _json(doc: object) -> Response:
    return json_response(doc, callback=request.args.get("callback"))


def _cached(key: str, make: Callable[[], object]) -> Response:
    """A GET answer that depends only on the data and the URL (callback included): conditional, public."""
    etag = page_etag(key, request.query_string.decode("latin-1"))
    cached = conditional(etag)
    if cached is not None:
        return cached
    return cache_headers(_json(make()), etag)


def _manifest() -> Response:
    """The manifest names this service by the host the client asked for: cached by that client only."""
    etag = page_etag("reconcile-manifest", request.url_root, request.args.get("callback", ""))
    cached = conditional(etag, private=True)
    if cached is not None:
        return cached
    return cache_headers(_json(service().reconcile_manifest(public_base(), request.url_root)), etag, private=True)


@bp.route("/reconcile", methods=["GET", "POST"])
@bp.route("/reconcile/", methods=["GET", "POST"])  # the service URL as some clients write it
def reconcile() -> Response:
    queries, extend = request.values.get("queries"), request.values.get("extend")
    if queries is None and extend is None:
        return _manifest()
    if queries is not None and extend is not None:
        return error_response(400, "send either queries (reconciliation) or extend (data extension), not both")
    etag = page_etag("reconcile", request.query_string.decode("latin-1"))
    if request.method == "GET" and (cached := conditional(etag)) is not None:
        return cached  # only a 200 for this very URL gave the client that tag
    try:
        doc = service().extend(extend) if extend is not None else service().reconcile(str(queries))
    except TooManyIds as exc:
        return error_response(413, str(exc))
    except InputError as exc:
        return error_response(400, str(exc))
    if request.method == "GET":
        return cache_headers(_json(doc), etag)
    return _json(doc)


@bp.get(PROPOSE_PATH)
def propose_properties() -> Response:
    """The properties entities of a type can be extended with (``type=``, ``limit=``)."""
    try:
        proposal = service().proposal(_type(), request.args.get("limit"))
    except InputError as exc:
        return error_response(400, str(exc))
    return _cached("reconcile-propose", proposal)


@bp.get("/reconcile/suggest/<kind>")
def suggestions(kind: str) -> Response:
    """Auto-completion of entities, types or properties by ``prefix`` (``cursor``, ``limit``)."""
    if kind not in SUGGEST_PATHS:
        return error_response(404, f"no suggest service {kind[:50]!r}; there are " + ", ".join(SUGGEST_PATHS.values()))
    args = request.args
    try:
        suggester = service().suggester(kind, args.get("prefix"), args.get("cursor"), args.get("limit"), _type())
    except InputError as exc:
        return error_response(400, str(exc))
    assert suggester is not None  # a known kind
    return _cached(f"reconcile-suggest-{kind}", suggester)


@bp.get(PREVIEW_PATH)
def preview() -> Response:
    """A candidate, or an entity a data extension gave as a value (an interface, a feature, a status)."""
    cid = request.args.get("id", "")
    found = service().preview(cid)
    if found is None:
        abort(404, f"no entity {cid[:100]!r} to preview; ids are paths below {public_base()}")
    etag = page_etag("reconcile-preview", cid)
    cached = conditional(etag)
    if cached is not None:
        return cached
    shown, types = found
    body = render_template("reconcile_preview.html", candidate=shown, iri=public_base() + cid, types=types)
    response = Response(body, content_type=formats.HTML.content_type)
    response.headers["Content-Security-Policy"] = PREVIEW_POLICY
    return cache_headers(response, etag)


@bp.get("/reconcile/<path:rest>")
def unknown(rest: str) -> Response:
    """Any other path below /reconcile: a JSON 404 naming the services (never the Linked Data catch-all's
    Turtle "not described in this dataset"). Another method on a service's path is a 405, in JSON too."""
    services = ["/reconcile", PROPOSE_PATH, PREVIEW_PATH, *SUGGEST_PATHS.values()]
    return error_response(404, f"/reconcile/{rest[:100]} is no service of this reconciliation API; the services "
                               "are " + ", ".join(services))
