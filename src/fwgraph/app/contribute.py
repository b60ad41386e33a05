"""POST /validate: check a contribution (Turtle or JSON-LD) against the shapes, as `fwgraph validate` does.

The contribution is parsed in memory (a remote JSON-LD @context is refused, never fetched), validated with
the stored data it refers to, and discarded: nothing is ever written into the served graph.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, abort, current_app, render_template, request

from fwgraph.app import service
from fwgraph.app.http import error_response, wants_html
from fwgraph.errors import InputError, ServiceBusy, TimeLimitExceeded, WorkerFailed
from fwgraph.graph import MEDIA_FORMATS
from fwgraph.sandbox import Sandbox
from fwgraph.validation import check_contribution

bp = Blueprint("contribute", __name__)

_TYPES = MEDIA_FORMATS
_FORM_FORMATS = {
    "turtle": "turtle",
    "ttl": "turtle",
    "text/turtle": "turtle",
    "json-ld": "json-ld",
    "jsonld": "json-ld",
    "application/ld+json": "json-ld",
}
_REPORT_TYPES = ["application/json", "text/turtle", "text/html"]


def _limit() -> int:
    return int(current_app.config.get("FWGRAPH_MAX_BODY_BYTES", 1024 * 1024))


def _too_large() -> None:
    abort(413, f"the contribution is larger than the limit of {_limit()} bytes")


def _read_contribution() -> tuple[bytes, str, str]:
    """The contribution's bytes, parser format and source name, from a raw body or an HTML form."""
    if request.content_length is not None and request.content_length > _limit():
        _too_large()
    media = (request.mimetype or "").lower()
    if media in _TYPES:
        data = request.get_data(cache=False)
        if len(data) > _limit():
            _too_large()
        return data, _TYPES[media], "<contribution>"
    if media in ("multipart/form-data", "application/x-www-form-urlencoded"):
        fmt_field = (request.form.get("format") or "").strip().lower()
        upload = request.files.get("file")
        if upload is not None and upload.filename:
            data = upload.read(_limit() + 1)
            if len(data) > _limit():
                _too_large()
            name = upload.filename
            fmt = _FORM_FORMATS.get(fmt_field) or _TYPES.get((upload.mimetype or "").lower())
            if fmt is None:
                fmt = "json-ld" if name.lower().endswith((".jsonld", ".json")) else "turtle"
            return data, fmt, name
        text = request.form.get("data")
        if text is not None and text.strip():
            data = text.encode("utf-8")
            if len(data) > _limit():
                _too_large()
            fmt = _FORM_FORMATS.get(fmt_field or "turtle")
            if fmt is None:
                abort(400, f"unknown format {fmt_field!r}: use turtle or json-ld")
            return data, fmt, "<contribution>"
        abort(400, "the form holds no contribution: upload a file in the field 'file' or paste it in 'data'")
    abort(
        415,
        f"unsupported media type {request.mimetype or '(none)'!r}: send text/turtle or "
        "application/ld+json, or an HTML form (multipart/form-data)",
    )


def _report_type() -> str | None:
    """The report's media type by Accept (JSON on ties or without Accept); ``format`` names the input here."""
    if not request.headers.get("Accept", "").strip():
        return "application/json"
    accept = request.accept_mimetypes
    best = accept.best_match(_REPORT_TYPES, default=None)
    if best is not None and accept.quality("application/json") >= accept.quality(best):
        return "application/json"
    return best


def _parse_error(exc: InputError) -> Response:
    body = exc.as_dict()
    body.update({"status": 400, "conforms": None})
    if wants_html():
        return Response(
            render_template(
                "validate_form.html",
                error=exc,
                data=request.form.get("data", ""),
                fmt=request.form.get("format", "turtle"),
            ),
            status=400,
            content_type="text/html; charset=utf-8",
        )
    accept = request.accept_mimetypes
    if accept.quality("text/plain") > accept.quality("application/json"):
        return Response(str(exc) + "\n", status=400, content_type="text/plain; charset=utf-8")
    return Response(json.dumps(body, ensure_ascii=False) + "\n", status=400, content_type="application/json")


@bp.get("/validate")
def form() -> Response:
    return Response(
        render_template("validate_form.html", error=None, data="", fmt="turtle"),
        content_type="text/html; charset=utf-8",
    )


@bp.post("/validate")
def validate() -> Response:
    data, fmt, source = _read_contribution()
    media = _report_type()
    if media is None:
        abort(406, "the report is available as " + ", ".join(_REPORT_TYPES))
    svc = service()
    cfg = current_app.config
    try:  # parsed and validated in a killable child process, never in the web process (fwgraph.sandbox)
        outcome = _sandbox().run(check_contribution, data, fmt, source, str(svc.dist),
                                 max_triples=int(cfg["FWGRAPH_VALIDATE_MAX_TRIPLES"]),
                                 max_results=int(cfg["FWGRAPH_VALIDATE_MAX_RESULTS"]),
                                 want_turtle=media == "text/turtle")
    except ServiceBusy as exc:
        return _unavailable(str(exc), retry_after=2)
    except TimeLimitExceeded as exc:
        return _unavailable(f"validation exceeded the time limit of {exc.limit:g} s and was stopped; send a "
                            "smaller contribution (one file per resource)", retry_after=int(exc.limit))
    except WorkerFailed as exc:
        return _unavailable(f"validation failed: {exc}", retry_after=2, status=500)
    if "error" in outcome:
        err = outcome["error"]
        return _parse_error(InputError(err["message"], source=err.get("source"), line=err.get("line"),
                                       column=err.get("column")))
    doc = outcome["report"]
    response: Response
    if media == "text/turtle":
        response = Response(outcome["turtle"], content_type="text/turtle; charset=utf-8")
    elif media == "text/html":
        response = Response(
            render_template("validate_report.html", report=doc, source=source, triples=outcome["triples"],
                            subjects=outcome["subjects"]),
            content_type="text/html; charset=utf-8",
        )
    else:
        doc["triples"] = outcome["triples"]
        response = Response(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", content_type="application/json")
    if doc.get("truncated"):
        response.headers["X-Fwgraph-Truncated"] = "true"
    response.headers["Cache-Control"] = "no-store"
    response.vary.add("Accept")
    return response


def _sandbox() -> Sandbox:
    box = current_app.extensions.get("fwgraph.validate")
    if box is None:
        cfg = current_app.config
        box = current_app.extensions["fwgraph.validate"] = Sandbox(
            slots=int(cfg["FWGRAPH_VALIDATE_CONCURRENCY"]), timeout=float(cfg["FWGRAPH_VALIDATE_TIMEOUT"]),
            memory=int(cfg["FWGRAPH_VALIDATE_MEMORY"]))
    return box


def _unavailable(message: str, *, retry_after: int, status: int = 503) -> Response:
    response = error_response(status, message)
    response.headers["Retry-After"] = str(max(1, retry_after))
    response.headers["Cache-Control"] = "no-store"
    return response
