"""The library's own HTML, from Jinja templates in src/fwgraph/templates: pages and fragments written outside Flask
(in query workers, by the command line), every value escaped as :func:`html.escape` escapes it."""

from __future__ import annotations

import html
from functools import lru_cache
from typing import Any

import jinja2
from markupsafe import Markup


def _escaped(value: Any) -> Markup:
    """A value as a page writes it: escaped by :func:`html.escape` (``&quot;``, the entities clients read)."""
    return value if isinstance(value, Markup) else Markup(html.escape(str(value)))


@lru_cache(maxsize=1)
def _templates() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.PackageLoader("fwgraph", "templates"), autoescape=True,
                              undefined=jinja2.StrictUndefined, finalize=_escaped, trim_blocks=True,
                              lstrip_blocks=True)


def render(name: str, **values: Any) -> str:
    """Template ``name`` rendered with ``values``.

    >>> "<p>Answer: <strong>true</strong></p>" in render("results.html", query="<q>", truncated=False, count=0,
    ...     max_rows=None, form="ask", boolean=True, variables=[], rows=[])
    True
    """
    return _templates().get_template(name).render(**values)
