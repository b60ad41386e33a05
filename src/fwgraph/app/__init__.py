"""The Flask application factory: a thin web layer over the fwgraph library (Service)."""

from __future__ import annotations

import json
import threading
from typing import Any

from flask import Flask
from werkzeug.exceptions import HTTPException

from fwgraph import formats
from fwgraph.app.ratelimit import Deliveries, RateLimit
from fwgraph.app.sparql import FastPath
from fwgraph.config import bodies_total, resolve
from fwgraph.errors import http_status
from fwgraph.service import Service

#: /healthz answers plain text (load balancers) unless JSON is asked for.
HEALTH_OFFERS = formats.offers(formats.TEXT, formats.JSON)


def create_app(test_config: dict[str, Any] | None = None, service: Service | None = None) -> Flask:
    """Build the app: defaults, then FWGRAPH_* environment variables, then ``test_config``.

    The graph is loaded once here; nothing is created at import time.
    """
    app = Flask(__name__)
    settings = resolve(test_config)
    app.config.update({f"FWGRAPH_{k}": v for k, v in settings.items()})
    app.config["MAX_CONTENT_LENGTH"] = settings["MAX_BODY_BYTES"]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    if settings.get("NETWORK_GUARD", True):
        from fwgraph import guard

        guard.install([settings["STORE_URL"]] if settings.get("STORE_URL") else [])
    app.extensions["fwgraph"] = service or Service.load(settings)

    from fwgraph.app import http

    http.init_app(app)
    from fwgraph.dates import month_label

    app.jinja_env.filters["month_label"] = month_label  # "2026-10" as "Oct 2026" in every template
    _register_blueprints(app)
    # The finder's grid (also every profile page's summary) is built once per process from whole-graph queries:
    # started now, in the background, so that the first page does not wait for it (it waits on the property's
    # lock only if it comes first). A failure here is left to the first request, which reports it.
    threading.Thread(target=_warm_catalogue, args=(app.extensions["fwgraph"],), name="fwgraph-warm",
                     daemon=True).start()
    # The common query request skips Flask (same core as the view); inside the per-client limits.
    app.wsgi_app = FastPath(app.wsgi_app, app)  # type: ignore[method-assign]
    # Per-client limits: body slots always, the request rate when RATE_LIMIT > 0.
    # Threads slow clients may hold, sending a body or reading a large answer: fewer than the process has.
    held = threading.BoundedSemaphore(bodies_total(settings))
    app.wsgi_app = RateLimit(app.wsgi_app, per_minute=settings["RATE_LIMIT"],  # type: ignore[method-assign]
                             burst=settings["RATE_BURST"], limit_loopback=settings["RATE_LIMIT_LOOPBACK"],
                             client_header=settings["CLIENT_ADDRESS_HEADER"], bodies=settings["BODIES_PER_CLIENT"],
                             bodies_total=bodies_total(settings), held=held, buckets_file=settings["LIMITS_FILE"])
    if settings["CACHE_ENTRIES"] > 0:
        from fwgraph.app.frontcache import FrontCache

        app.wsgi_app = FrontCache(app.wsgi_app, entries=settings["CACHE_ENTRIES"],  # type: ignore[method-assign]
                                  max_bytes=settings["CACHE_BYTES"] // 2, max_entry_bytes=settings["CACHE_ENTRY_BYTES"])
    # gzip and Brotli for clients that accept them, outside the caches (they keep identity answers).
    from fwgraph.app import compression

    compression.init_app(app)
    # Outermost, so cached and compressed answers are delivered under the same bounds: large answers by pieces.
    app.wsgi_app = Deliveries(app.wsgi_app, per_client=settings["BODIES_PER_CLIENT"],  # type: ignore[method-assign]
                              held=held, total=bodies_total(settings), limit_loopback=settings["RATE_LIMIT_LOOPBACK"],
                              client_header=settings["CLIENT_ADDRESS_HEADER"], write_timeout=settings["WRITE_TIMEOUT"])

    @app.get("/healthz")
    def _healthz():  # liveness for load balancers: cheap, never cached; the limits in force as JSON
        if http.negotiate(HEALTH_OFFERS, format_param="") == (formats.JSON.media_type, formats.JSON):
            limits = {k.lower(): settings[k] for k in ("QUERY_TIMEOUT", "MAX_ROWS", "MAX_ANSWER_BYTES",
                                                      "MAX_QUERY_BYTES", "MAX_BODY_BYTES",
                                                      "CACHE_ENTRIES", "CACHE_BYTES", "CACHE_ENTRY_BYTES",
                                                      "RATE_LIMIT", "RATE_BURST", "BODIES_PER_CLIENT",
                                                      "WRITE_TIMEOUT")}
            limits["bodies_total"] = bodies_total(settings)
            return app.response_class(json.dumps({"status": "ok", "limits": limits}),
                                      content_type=formats.JSON.content_type, headers={"Cache-Control": "no-store"})
        return app.response_class("ok\n", content_type=formats.TEXT.content_type, headers={"Cache-Control": "no-store"})

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):  # every error says what went wrong, in the client's format
        return http.error_response(exc.code or 500, exc.description or exc.name)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        mapped = http_status(exc)  # a page's own queries meeting a limit: the limit's answer, not a 500
        if mapped is not None:
            response = http.error_response(mapped[0], str(exc))
            if mapped[1] is not None:
                response.headers["Retry-After"] = str(mapped[1])
            response.headers["Cache-Control"] = "no-store"
            return response
        app.logger.exception("unhandled error")
        return http.error_response(500, "internal error; the request was not processed")

    return app


def _register_blueprints(app: Flask) -> None:
    """The routes, one blueprint per job; the resource catch-all (``/<path>``) comes last."""
    from fwgraph.app import (
        compare,
        contribute,
        crawlers,
        editor,
        finder,
        form,
        linkeddata,
        pages,
        reconcile,
        sparql,
    )

    for module in (sparql, editor, contribute, form, pages, finder, compare, crawlers, reconcile, linkeddata):
        app.register_blueprint(module.bp)


__all__ = ["create_app"]


def _warm_catalogue(service: Service) -> None:
    try:
        service.catalogue  # noqa: B018  (computed and kept by the cached property)
    except Exception:  # noqa: BLE001  (the first request that needs it computes it again and reports the error)
        pass
