"""POST /validate: check a contribution (Turtle or JSON-LD) against the shapes, as `fwgraph validate` does.

The contribution is parsed in memory (a remote JSON-LD @context is refused, never fetched), validated with
the stored data it refers to, and discarded: nothing is ever written into the served graph.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, abort, render_template, request

from fwgraph.app.http import error_response, negotiate, service, settings, wants_html
from fwgraph.app.ratelimit import limited_client
from fwgraph.core import formats
from fwgraph.core.errors import FwgraphError, InputError, TimeLimitExceeded, WorkerFailed, WorkStopped, http_status

bp = Blueprint("contribute", __name__)

#: The report is sent as JSON (the default), Turtle (the SHACL report graph) or an HTML page.
_REPORT_OFFERS = formats.offers(formats.JSON, formats.TURTLE, formats.HTML)


def _input_format(name: str) -> str | None:
    """The parser format a form's ``format`` field names (a short name, an alias or a media type)."""
    fmt = formats.by_name(name, formats.INPUT_FORMATS) or formats.by_media_type(name, formats.INPUT_FORMATS)
    return fmt.rdflib if fmt else None


def _limit() -> int:
    return settings().max_body_bytes


def _too_large() -> None:
    abort(413, f"the contribution is larger than the limit of {_limit()} bytes")


def _read_contribution() -> tuple[bytes, str | None, str]:
    """The contribution's bytes, parser format and source name, from a raw body or an HTML form."""
    if request.content_length is not None and request.content_length > _limit():
        _too_large()
    media = (request.mimetype or "").lower()
    body_format = formats.by_media_type(media, formats.INPUT_FORMATS)
    if body_format is not None:
        data = request.get_data(cache=False)
        if len(data) > _limit():
            _too_large()
        return data, str(body_format.rdflib), "<contribution>"
    if media in (formats.FORM_MULTIPART, formats.FORM_URLENCODED):
        fmt_field = (request.form.get("format") or "").strip().lower()
        upload = request.files.get("file")
        if upload is not None and upload.filename:
            data = upload.read(_limit() + 1)
            if len(data) > _limit():
                _too_large()
            name = upload.filename
            fmt = (_input_format(fmt_field) if fmt_field else None) or _input_format(upload.mimetype or "")
            return data, fmt, name  # None: the Service reads the format from the file's name
        text = request.form.get("data")
        if text is not None and text.strip():
            data = text.encode("utf-8")
            if len(data) > _limit():
                _too_large()
            fmt = _input_format(fmt_field or "turtle")
            if fmt is None:
                abort(400, f"unknown format {fmt_field!r}: use turtle or json-ld")
            return data, fmt, "<contribution>"
        abort(400, "the form holds no contribution: upload a file in the field 'file' or paste it in 'data'")
    abort(
        415,
        f"unsupported media type {request.mimetype or '(none)'!r}: send "
        + " or ".join(f.media_type for f in formats.INPUT_FORMATS) + f", or an HTML form ({formats.FORM_MULTIPART})",
    )


def _report_type() -> str | None:
    """The report's media type by Accept (JSON without Accept); ``format`` names the input here, not the report."""
    chosen = negotiate(_REPORT_OFFERS, format_param="")
    return chosen[1].media_type if chosen else None


def _parse_error(exc: InputError) -> Response:
    if wants_html():
        return Response(
            render_template(
                "validate_form.html",
                error=exc,
                data=request.form.get("data", ""),
                fmt=request.form.get("format", "turtle"),
            ),
            status=400,
            content_type=formats.HTML.content_type,
        )
    details = {k: v for k, v in exc.as_dict().items() if k != "message"}
    return error_response(400, exc.message, text=str(exc), conforms=None, **details)


@bp.get("/validate")
def form() -> Response:
    service().validation_sandbox().start()  # the contributor reads the form first: validation gets ready meanwhile
    return Response(
        render_template("validate_form.html", error=None, data="", fmt="turtle"),
        content_type=formats.HTML.content_type,
    )


@bp.post("/validate")
def validate() -> Response:
    data, fmt, source = _read_contribution()
    media = _report_type()
    if media is None:
        abort(406, "the report is available as " + ", ".join(mt for mt, _ in _REPORT_OFFERS))
    svc = service()
    limits = settings()
    client = limited_client(request.environ, limits.client_address_header, limits.rate_limit_loopback)
    try:  # parsed and validated in a killable child process, never in the web process (fwgraph.publish.sandbox)
        outcome = svc.check_contribution(client, data, fmt, source, want_turtle=media == formats.TURTLE.media_type)
    except FwgraphError as exc:  # the sandbox's limits and failures (its errors are reported in the outcome)
        mapped = http_status(exc)  # the one mapping (fwgraph.core.errors): 429 for the client's own share, else 503
        if mapped is None and not isinstance(exc, WorkerFailed):
            raise
        return _unavailable(_why(exc), mapped)
    if "error" in outcome:
        err = outcome["error"]
        return _parse_error(InputError(err["message"], source=err.get("source"), line=err.get("line"),
                                       column=err.get("column")))
    doc = outcome["report"]
    response: Response
    if media == formats.TURTLE.media_type:
        response = Response(outcome["turtle"], content_type=formats.TURTLE.content_type)
    elif media == formats.HTML.media_type:
        response = Response(
            render_template("validate_report.html", report=doc, source=source, triples=outcome["triples"],
                            subjects=outcome["subjects"], advice=_advice()),
            content_type=formats.HTML.content_type,
        )
    else:
        doc["triples"] = outcome["triples"]
        response = Response(json.dumps(doc, ensure_ascii=False, indent=2) + "\n",
                            content_type=formats.JSON.content_type)
    if doc.get("truncated"):
        response.headers["X-Fwgraph-Truncated"] = "true"
    response.headers["Cache-Control"] = "no-store"
    response.vary.add("Accept")
    return response


def _advice() -> dict[str, dict[str, str]]:
    """The contribution forms' plain-words messages by shape, for the report page."""
    return service().form_advice()


def _why(exc: Exception) -> str:
    """What a validation that did not finish tells the contributor."""
    if isinstance(exc, TimeLimitExceeded):
        return (f"validation exceeded the time limit of {exc.limit:g} s and was stopped; send a smaller "
                "contribution (one file per resource)")
    if isinstance(exc, WorkStopped):
        return f"validation stopped: {exc}"
    if isinstance(exc, WorkerFailed):
        return f"validation failed: {exc}"
    return str(exc)


def _unavailable(message: str, mapped: tuple[int, int | None] | None) -> Response:
    """A validation that could not run or finish: the status and Retry-After of ``mapped`` (a failed worker,
    which no mapping covers, is a 500 the contributor may retry)."""
    status, retry_after = mapped or (500, 2)
    response = error_response(status, message)
    if retry_after is not None:
        response.headers["Retry-After"] = str(max(1, retry_after))
    response.headers["Cache-Control"] = "no-store"
    return response
