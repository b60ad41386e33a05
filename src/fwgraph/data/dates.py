"""Release dates of a day (xsd:date) or of a month (xsd:gYearMonth): the span of days each may stand for."""

from __future__ import annotations

import calendar
import re
from datetime import date


def day_span(text: str) -> tuple[date, date] | None:
    """The first and last day a release date may be: an xsd:date (one day) or an xsd:gYearMonth ("2026-10", the
    month the package index gives when no file dates the day); None for any other form."""
    match = re.fullmatch(r"(\d{4})-(\d{2})(?:-(\d{2}))?", text.strip())
    if not match:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    try:
        if match.group(3):
            day = date(year, month, int(match.group(3)))
            return day, day
        return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
    except ValueError:
        return None


def month_label(text: str) -> str:
    """An xsd:date as "18 Feb 2026", an xsd:gYearMonth as "Oct 2026"; other text unchanged."""
    span = day_span(text)
    if span is None:
        return text
    first, last = span
    return first.strftime("%b %Y") if first != last else f"{first.day} {first.strftime('%b %Y')}"
