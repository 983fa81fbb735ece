"""The server-drawn SVG charts: well-formed, labelled for screen readers, proportional, and escaped."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from bot.admin import charts

SVG = "{http://www.w3.org/2000/svg}"
EVIL = "<script>alert(1)</script>&\"'"


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # raises on anything that is not well-formed XML
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None and desc is not None
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    return root


def bars(root: ET.Element) -> list[ET.Element]:
    return [r for r in root.iter(f"{SVG}rect") if r.get("data-series") is not None]


def test_stacked_bars_are_proportional_and_stacked() -> None:
    svg = charts.stacked_bars(
        "c1",
        "每日提問數",
        "desc",
        ["03-01", "03-02", "03-03"],
        [charts.Series("answered", [30, 10, 0]), charts.Series("fallback", [10, 0, 5])],
    )
    rects = bars(parse(svg))
    heights = [float(r.get("height", 0)) for r in rects]
    assert len(rects) == 4  # zero values draw nothing
    assert heights[0] == pytest.approx(3 * heights[1]) and heights[0] == pytest.approx(heights[2] * 3)
    assert heights[1] == pytest.approx(2 * heights[3])
    first_answered, first_fallback = rects[0], rects[1]
    assert float(first_fallback.get("y", 0)) + heights[1] == pytest.approx(float(first_answered.get("y", 0)))
    assert heights[0] + heights[1] == pytest.approx(charts.PLOT_HEIGHT)  # the axis top is 40
    assert "03-01 answered: 30" in [t.text for t in first_answered.iter(f"{SVG}title")]


def test_line_chart_leaves_gaps_for_missing_rates() -> None:
    root = parse(charts.line_chart("c2", "有幫助率", "desc", ["a", "b", "c", "d"], [1.0, None, 0.5, 0.25]))
    path = root.find(f"{SVG}path")
    assert path is not None
    moves = path.get("d", "").split()
    assert [m[0] for m in moves if m[0].isalpha()] == ["M", "M", "L"]  # the gap at "b" starts a new segment
    circles = list(root.iter(f"{SVG}circle"))
    ys = [float(c.get("cy", 0)) for c in circles]
    assert len(circles) == 3 and ys[2] - ys[0] == pytest.approx(charts.PLOT_HEIGHT * 0.75)
    assert [c.find(f"{SVG}title").text for c in circles] == ["a: 100%", "c: 50%", "d: 25%"]  # type: ignore[union-attr]


def test_horizontal_bars_are_proportional() -> None:
    root = parse(charts.hbars("c3", "管道", "desc", [("web", 40.0), ("line", 10.0), ("cli", 0.0)]))
    widths = [float(r.get("width", 0)) for r in root.iter(f"{SVG}rect")]
    assert widths[0] == pytest.approx(4 * widths[1]) and widths[2] == 0
    rates = parse(charts.hbars("c4", "rates", "desc", [("a", 0.5), ("b", 1.0)], percent=True))
    w = [float(r.get("width", 0)) for r in rates.iter(f"{SVG}rect")]
    assert w[1] == pytest.approx(2 * w[0])


def test_labels_from_data_are_escaped_everywhere() -> None:
    for svg in (
        charts.stacked_bars("x", EVIL, EVIL, [EVIL], [charts.Series(EVIL, [1])]),
        charts.line_chart("x", EVIL, EVIL, [EVIL], [0.5]),
        charts.hbars("x", EVIL, EVIL, [(EVIL, 3.0)]),
    ):
        root = parse(svg)
        assert "<script" not in svg and root.find(f".//{SVG}script") is None
        texts = [t.text or "" for t in root.iter() if t.text]
        assert any(EVIL in t or EVIL[:13] in t for t in texts)  # shown as text, intact


def test_count_axes_end_on_round_numbers_with_a_whole_middle_tick() -> None:
    assert [charts._nice_max(v) for v in (0, 1, 3, 4, 5, 9, 11, 37, 2999)] == [2, 2, 4, 4, 6, 10, 20, 40, 4000]


def test_empty_charts_say_so() -> None:
    for svg in (
        charts.stacked_bars("e", "t", "d", [], []),
        charts.line_chart("e", "t", "d", ["a"], [None]),
        charts.hbars("e", "t", "d", []),
    ):
        assert "無資料 no data" in svg and parse(svg) is not None
