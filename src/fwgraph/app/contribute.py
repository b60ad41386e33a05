"""POST /validate: check a contribution (Turtle or JSON-LD) against the shapes, as `fwgraph validate` does.

The contribution is parsed in memory (a remote JSON-LD @context is refused, never fetched), validated with
the stored data it refers to, and discarded: nothing is ever written into the served graph.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, abort, current_app, render_template, request
from rdflib import Graph

from fwgraph.app import service
from fwgraph.app.http import wants_html
from fwgraph.errors import InputError
from fwgraph.graph import MEDIA_FORMATS, parse_bytes
from fwgraph.namespace import bind_prefixes

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
    try:
        contribution = parse_bytes(data, fmt, source=source)
    except InputError as exc:
        return _parse_error(exc)
    if len(contribution) == 0:
        return _parse_error(InputError("the contribution holds no triples", source=source))
    origin = {s: source for s in contribution.subjects()}
    report = service().validate(contribution, origin)
    response: Response
    if media == "text/turtle":
        response = Response(report.to_turtle(), content_type="text/turtle; charset=utf-8")
    elif media == "text/html":
        rows = report.as_dict()
        response = Response(
            render_template(
                "validate_report.html",
                report=rows,
                source=source,
                triples=len(contribution),
                subjects=_subjects(contribution),
            ),
            content_type="text/html; charset=utf-8",
        )
    else:
        doc: dict[str, Any] = report.as_dict()
        doc["triples"] = len(contribution)
        response = Response(
            json.dumps(doc, ensure_ascii=False, indent=2) + "\n", content_type="application/json"
        )
    response.headers["Cache-Control"] = "no-store"
    response.vary.add("Accept")
    return response


def _subjects(graph: Graph) -> list[str]:
    g = bind_prefixes(Graph())
    out = []
    for s in sorted(set(graph.subjects()), key=str):
        try:
            out.append(g.namespace_manager.curie(s, generate=False))
        except (ValueError, KeyError, TypeError):
            out.append(str(s))
    return out
