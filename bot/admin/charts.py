"""Inline SVG charts drawn on the server (no scripts, nothing fetched): stacked bars, a rate line, split bars.

Each chart is `<svg role="img">` labelled by its own `<title>` and `<desc>`; every label is escaped, and
every bar or point carries a `<title>` with its exact figure. Pages put the numbers in a table beside it.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 720
PLOT_HEIGHT = 180
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 28, 34  # margins of the plot area
MAX_X_LABELS = 12
COLORS = ("#2b6cb0", "#c05621", "#2f855a", "#6b46c1")  # blue, orange, green, purple: told apart without red/green
TEXT = 'font-family="system-ui, sans-serif" font-size="11" fill="#333"'


def e(value: object) -> str:
    """Escape for SVG text and attribute values (XML-safe)."""
    return html.escape(str(value), quote=True)


@dataclass(frozen=True)
class Series:
    """One named series of values (None: no value for that label)."""

    name: str
    values: Sequence[float | None]


def _open(chart_id: str, title: str, desc: str, height: int) -> str:
    cid = e(chart_id)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="{cid}-title {cid}-desc" '
        f'id="{cid}" class="chart" viewBox="0 0 {WIDTH} {height}" width="100%" '
        f'style="max-width:{WIDTH}px;height:auto" preserveAspectRatio="xMinYMin meet">'
        f'<title id="{cid}-title">{e(title)}</title><desc id="{cid}-desc">{e(desc)}</desc>'
    )


def _nice_max(value: float) -> float:
    """The axis top for counts: 2, 4, 6, 8 or 10 times a power of ten at or above `value` (whole mid tick)."""
    if value <= 0:
        return 2.0
    step = 1.0
    while step * 10 <= value:
        step *= 10
    return next(m * step for m in (2, 4, 6, 8, 10) if m * step >= value)


def _fmt(value: float, percent: bool) -> str:
    if percent:
        return f"{value * 100:.0f}%"
    return f"{int(value):,}" if value == int(value) else f"{value:,.1f}"


def _y_axis(top: float, percent: bool) -> str:
    parts = []
    for i in range(3):
        value = top * i / 2
        y = TOP + PLOT_HEIGHT - PLOT_HEIGHT * i / 2
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d5d9e0" stroke-width="1"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" {TEXT}>{e(_fmt(value, percent))}</text>'
        )
    return "".join(parts)


def _x_labels(labels: Sequence[str], slot: float) -> str:
    every = max(1, -(-len(labels) // MAX_X_LABELS))
    return "".join(
        f'<text x="{LEFT + slot * (i + 0.5):.1f}" y="{TOP + PLOT_HEIGHT + 16}" text-anchor="middle" {TEXT}>'
        f"{e(label)}</text>"
        for i, label in enumerate(labels)
        if i % every == 0
    )


def _legend(names: Sequence[str]) -> str:
    parts, x = [], LEFT
    for i, name in enumerate(names):
        color = COLORS[i % len(COLORS)]
        parts.append(
            f'<rect x="{x}" y="8" width="10" height="10" fill="{color}"/>'
            f'<text x="{x + 14}" y="17" {TEXT}>{e(name)}</text>'
        )
        x += 24 + 7 * len(name.encode("utf-8"))  # roughly: CJK characters are wider
    return "".join(parts)


def _empty(height: int) -> str:
    return f'<text x="{WIDTH / 2}" y="{height / 2}" text-anchor="middle" {TEXT}>（無資料 no data）</text>'


def stacked_bars(chart_id: str, title: str, desc: str, labels: Sequence[str], series: Sequence[Series]) -> str:
    """Vertical bars per label, the series stacked bottom-up; bar heights are proportional to the values."""
    height = TOP + PLOT_HEIGHT + BOTTOM
    totals = [sum(s.values[i] or 0 for s in series) for i in range(len(labels))]
    top = _nice_max(max(totals, default=0))
    slot = (WIDTH - LEFT - RIGHT) / max(1, len(labels))
    bar = max(1.0, slot * 0.7)
    parts = [_open(chart_id, title, desc, height), _legend([s.name for s in series]), _y_axis(top, False)]
    if not any(totals):
        parts.append(_empty(height))
    for i, label in enumerate(labels):
        base = float(TOP + PLOT_HEIGHT)
        for n, s in enumerate(series):
            value = s.values[i] or 0
            if value <= 0:
                continue
            h = PLOT_HEIGHT * value / top
            base -= h
            parts.append(
                f'<rect x="{LEFT + slot * i + (slot - bar) / 2:.2f}" y="{base:.2f}" width="{bar:.2f}" '
                f'height="{h:.2f}" fill="{COLORS[n % len(COLORS)]}" data-series="{n}">'
                f"<title>{e(label)} {e(s.name)}: {e(_fmt(value, False))}</title></rect>"
            )
    parts += [_x_labels(labels, slot), "</svg>"]
    return "".join(parts)


def line_chart(chart_id: str, title: str, desc: str, labels: Sequence[str], values: Sequence[float | None]) -> str:
    """A rate (0 … 1) per label as a line with points; None leaves a gap."""
    height = TOP + PLOT_HEIGHT + BOTTOM
    slot = (WIDTH - LEFT - RIGHT) / max(1, len(labels))
    parts = [_open(chart_id, title, desc, height), _y_axis(1.0, True)]
    points = [
        (LEFT + slot * (i + 0.5), TOP + PLOT_HEIGHT * (1 - v), labels[i], v)
        for i, v in enumerate(values)
        if v is not None
    ]
    if not points:
        parts.append(_empty(height))
    path, gap = [], True
    for i, v in enumerate(values):
        if v is None:
            gap = True
            continue
        path.append(f"{'M' if gap else 'L'}{LEFT + slot * (i + 0.5):.2f} {TOP + PLOT_HEIGHT * (1 - v):.2f}")
        gap = False
    if path:
        parts.append(f'<path d="{" ".join(path)}" fill="none" stroke="{COLORS[0]}" stroke-width="2"/>')
    parts += [
        f'<circle cx="{x:.2f}" cy="{y:.2f}" r="3" fill="{COLORS[0]}"><title>{e(label)}: {e(_fmt(v, True))}</title>'
        "</circle>"
        for x, y, label, v in points
    ]
    parts += [_x_labels(labels, slot), "</svg>"]
    return "".join(parts)


def hbars(chart_id: str, title: str, desc: str, rows: Sequence[tuple[str, float]], *, percent: bool = False) -> str:
    """Horizontal bars, one per (label, value) row; lengths are proportional (to 100 % for rates)."""
    row_h, label_w = 24, 190
    height = TOP + row_h * max(1, len(rows)) + 8
    top = 1.0 if percent else _nice_max(max((v for _, v in rows), default=0))
    span = WIDTH - label_w - RIGHT - 60
    parts = [_open(chart_id, title, desc, height)]
    if not rows:
        parts.append(_empty(height))
    for i, (label, value) in enumerate(rows):
        y = TOP + row_h * i
        w = span * value / top if top else 0
        short = label if len(label) <= 14 else label[:13] + "…"
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end" {TEXT}>{e(short)}<title>{e(label)}</title></text>'
            f'<rect x="{label_w}" y="{y + 4}" width="{w:.2f}" height="{row_h - 8}" fill="{COLORS[0]}">'
            f"<title>{e(label)}: {e(_fmt(value, percent))}</title></rect>"
            f'<text x="{label_w + w + 6:.2f}" y="{y + 15}" {TEXT}>{e(_fmt(value, percent))}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
