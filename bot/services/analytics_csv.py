"""The dashboard's figures as CSV (totals, days, channels, agencies, entries), safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from bot.domain.analytics import Counts, Dashboard

COLUMNS = (
    "section",
    "key",
    "label",
    "questions",
    "answered",
    "fallback",
    "answered_rate",
    "fallback_rate",
    "clarify",
    "turns",
    "helpful",
    "not_helpful",
    "helpful_rate",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """The cell as text; text a spreadsheet would run as a formula is prefixed with a quote (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _rate(rate: float | None) -> str:
    return "" if rate is None else f"{rate:.4f}"


def _counts(c: Counts) -> list[object]:
    return [
        c.questions,
        c.answered,
        c.fallback,
        _rate(c.answered_rate),
        _rate(c.fallback_rate),
        c.clarify,
        c.turns,
        c.helpful,
        c.not_helpful,
        _rate(c.helpful_rate),
    ]


def rows(d: Dashboard) -> Iterable[list[object]]:
    """Every CSV row after the header."""
    scope = d.agency_name or "all agencies"
    yield ["total", d.period.label, scope, *_counts(d.totals)]
    yield ["previous", d.previous_period.label, scope, *_counts(d.previous)]
    for day, counts in d.days:
        yield ["day", day.isoformat(), "", *_counts(counts)]
    for s in d.channels:
        yield ["channel", s.key or "", s.label, *_counts(s.counts)]
    for s in d.agencies:
        yield ["agency", s.key or "", s.label, *_counts(s.counts)]
    for x in d.entries:
        ratings = [x.helpful, x.rated - x.helpful, _rate(x.helpful_rate)]
        yield ["entry", x.faq_id, x.question, "", x.answered, "", "", "", "", "", *ratings]


def to_csv(d: Dashboard) -> str:
    """The whole CSV text (header first, CRLF line ends as spreadsheets expect)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for row in rows(d):
        writer.writerow([safe_cell(v) for v in row])
    return out.getvalue()
