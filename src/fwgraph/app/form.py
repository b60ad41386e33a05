"""/contribute: the contribution form generated from the shapes (fwgraph.views.form), for a new or an existing record.

GET renders the form (starting from the stored record when editing); POST turns a filled form into the Turtle
file for data/<folder>/: as JSON for the page's script (which validates it through /validate as you type), as a
download, or, without scripts, as a page that hands the record to /validate.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, abort, render_template, request

from fwgraph.app.http import service
from fwgraph.core import formats
from fwgraph.core.errors import InputError
from fwgraph.service import FormModel

bp = Blueprint("form", __name__)


def _model(kind_name: str) -> FormModel:
    model = service().form_model(kind_name)
    if model is None:
        abort(404, f"no form for {kind_name!r}: choose one of " + ", ".join(service().form_kinds()))
    return model


@bp.get("/contribute")
def form() -> Response:
    kind_name = request.args.get("kind", "")
    if not kind_name:
        kinds = service().form_kinds()
        body = render_template("contribute_start.html", kinds=kinds, records={k: service().records(k) for k in kinds})
        return Response(body, content_type=formats.HTML.content_type)
    model = _model(kind_name)
    service().validation_sandbox().start()  # the form's report comes from /validate: its process gets ready meanwhile
    slug = request.args.get("edit", "").strip()
    values: dict = {}
    extra = ""
    if slug:
        stored = service().form_values(model, slug)
        if stored is None:
            abort(404, f"there is no {kind_name} {slug!r} to edit")
        values, extra = stored
    body = render_template("contribute.html", model=model, values=values, extra=extra, slug=slug,
                           advice=service().form_advice(model),
                           editing=bool(slug), file_name=service().file_name(model, slug or "your-" + kind_name))
    response = Response(body, content_type=formats.HTML.content_type)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/contribute")
def record() -> Response:
    model = _model(request.form.get("kind", ""))
    slug = request.form.get("slug", "")
    fields = {k: request.form.getlist(k) for k in request.form if k not in ("kind", "slug", "extra", "action")}
    wants_json = request.accept_mimetypes.best == formats.JSON.media_type
    try:
        filled = service().filled_form(model, fields, slug, request.form.get("extra", ""))
    except InputError as exc:
        if wants_json:
            problem = dict(exc.as_dict(), field=exc.source, status=400)
            return Response(json.dumps(problem, ensure_ascii=False), status=400, content_type=formats.JSON.content_type)
        abort(400, str(exc))
    slug, turtle, name, problems = filled["slug"], filled["turtle"], filled["file"], filled["problems"]
    if wants_json:  # every problem at once, and the record without them, which the page still validates
        doc = {"file": name, "turtle": turtle, "triples": filled["triples"], "subject": filled["subject"],
               "problems": [dict(p.as_dict(), field=p.source) for p in problems]}
        return Response(json.dumps(doc, ensure_ascii=False), status=422 if problems else 200,
                        content_type=formats.JSON.content_type, headers={"Cache-Control": "no-store"})
    if problems:
        abort(400, "; ".join(str(p) for p in problems))
    if request.form.get("action") == "download":
        return Response(turtle, content_type=formats.TURTLE.content_type, headers={
            "Content-Disposition": f'attachment; filename="{slug}.ttl"', "Cache-Control": "no-store"})
    body = render_template("contribute_record.html", turtle=turtle, file_name=name, model=model)
    return Response(body, content_type=formats.HTML.content_type, headers={"Cache-Control": "no-store"})
