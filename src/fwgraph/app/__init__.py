"""The Flask application factory: a thin web layer over the fwgraph library (Service)."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from typing import Any

from flask import Flask
from werkzeug.exceptions import HTTPException

from fwgraph.app.ratelimit import Deliveries, RateLimit
from fwgraph.app.sparql import FastPath
from fwgraph.core import formats
from fwgraph.core.errors import http_status
from fwgraph.core.settings import Settings, activate
from fwgraph.service import Service

#: /healthz answers plain text (load balancers) unless JSON is asked for.
HEALTH_OFFERS = formats.offers(formats.TEXT, formats.JSON)


def create_app(test_config: Settings | Mapping[str, Any] | None = None, service: Service | None = None) -> Flask:
    """Build the app with ``test_config`` (Settings, or changes by field name to the environment's settings),
    else the settings of the environment (``FWGRAPH_SETTINGS`` from ``fwgraph serve``, or FWGRAPH_* variables).

    The graph is loaded once here; nothing is created at import time.
    """
    app = Flask(__name__)
    settings = activate(test_config if isinstance(test_config, Settings) else
                        Settings.from_env().replace(test_config))
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]
    if settings.network_guard:
        from fwgraph.core import guard

        guard.install([settings.store_url] if settings.store_url else [])
    app.extensions["fwgraph"] = service or Service.load(settings)

    from fwgraph.app import http

    http.init_app(app)
    from fwgraph.app import sparql

    sparql.init_app(app, app.extensions["fwgraph"])
    from fwgraph.data.dates import month_label

    app.jinja_env.filters["month_label"] = month_label  # "2026-10" as "Oct 2026" in every template
    _register_blueprints(app)
    # The finder's grid (also every profile page's summary) is built once per process from whole-graph queries:
    # started now, in the background, so that the first page does not wait for it (it waits on the Service's
    # lock for it only if it comes first). A failure here is left to the first request, which reports it.
    threading.Thread(target=_warm_catalogue, args=(app.extensions["fwgraph"],), name="fwgraph-warm",
                     daemon=True).start()
    # The common query request skips Flask (same core as the view); inside the per-client limits.
    app.wsgi_app = FastPath(app.wsgi_app, app)  # type: ignore[method-assign]
    # Per-client limits: body slots always, the request rate when RATE_LIMIT > 0.
    # Threads slow clients may hold, sending a body or reading a large answer: fewer than the process has.
    held = threading.BoundedSemaphore(settings.body_slots)
    app.wsgi_app = RateLimit(app.wsgi_app, per_minute=settings.rate_limit,  # type: ignore[method-assign]
                             burst=settings.rate_burst, limit_loopback=settings.rate_limit_loopback,
                             client_header=settings.client_address_header, bodies=settings.bodies_per_client,
                             bodies_total=settings.body_slots, held=held, buckets_file=settings.limits_file)
    if settings.cache_entries > 0:
        from fwgraph.app.frontcache import FrontCache

        # Not /sparql: its answers are kept once, by the Service's answer cache, which also serves POST and every
        # spelling of Accept (bench/query_caches.py); this one keeps pages.
        app.wsgi_app = FrontCache(app.wsgi_app, passes=frozenset({"/sparql"}))  # type: ignore[method-assign]
    # gzip and Brotli for clients that accept them, outside the caches (they keep identity answers).
    from fwgraph.app import compression

    compression.init_app(app)
    # Outermost, so cached and compressed answers are delivered under the same bounds: large answers by pieces.
    app.wsgi_app = Deliveries(app.wsgi_app, per_client=settings.bodies_per_client,  # type: ignore[method-assign]
                              held=held, total=settings.body_slots, limit_loopback=settings.rate_limit_loopback,
                              client_header=settings.client_address_header, write_timeout=settings.write_timeout)

    @app.get("/healthz")
    def _healthz():  # liveness for load balancers: cheap, never cached; the limits in force as JSON
        if http.negotiate(HEALTH_OFFERS, format_param="") == (formats.JSON.media_type, formats.JSON):
            return app.response_class(json.dumps({"status": "ok", "limits": settings.health()}),
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
    from fwgraph.store.engine import own_time_limit

    try:
        with own_time_limit(service.settings.warm_timeout):  # its own limit, not a request's (fwgraph.server.warm)
            service.catalogue  # noqa: B018  (computed and kept by the Service)
    except Exception:  # noqa: BLE001  (the first request that needs it computes it again and reports the error)
        pass
