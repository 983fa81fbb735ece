"""Analytics figures from plain records (the in-memory source): definitions, rates, splits, trend, CSV, periods."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from bot.adapters.memory_analytics import MemoryAnalytics
from bot.admin.analytics_routes import QueryError, parse_query
from bot.domain.analytics import Counts, Dashboard
from bot.domain.model import KnowledgeBase
from bot.domain.period import Period, PeriodError
from bot.services.analytics import AnalyticsService, UnknownAgency, outcome
from bot.services.analytics_csv import safe_cell, to_csv
from tests import analytics_seed as seed

MARCH = Period.month("2026-03")


@pytest.fixture()
def service(kb: KnowledgeBase) -> AnalyticsService:
    turns, ratings, unanswered = seed.records()
    return AnalyticsService(MemoryAnalytics(turns, ratings, unanswered, kb))


def counts(d: Dashboard, day: str) -> Counts:
    return dict(d.days)[dt.date.fromisoformat(day)]


def test_what_counts_as_a_question() -> None:
    assert outcome("answer", "pay-credit-card", False) == "answered"
    assert outcome("complaint", "cmp-channels", False) == "answered"  # a complaint routed to an entry
    assert outcome("fallback", None, True) == "fallback"
    assert outcome("did_you_mean", "pay-credit-card", False) == "clarify"
    assert outcome("choose_agency", "pay-credit-card", False) == "clarify"
    for kind in ("smalltalk", "feedback", "case", "handoff", "complaint"):
        assert outcome(kind, None, False) is None


def test_month_totals_rates_and_previous_month(service: AnalyticsService) -> None:
    d = service.dashboard(MARCH)
    assert d.totals == Counts(turns=9, answered=4, fallback=2, clarify=1, helpful=3, rated=4)
    assert d.totals.questions == 6
    assert d.totals.answered_rate == pytest.approx(4 / 6) and d.totals.fallback_rate == pytest.approx(2 / 6)
    assert d.totals.helpful_rate == 0.75
    assert d.previous_period == Period.month("2026-02")
    assert d.previous == Counts(turns=2, answered=1, fallback=1, clarify=0, helpful=0, rated=1)
    assert (d.unanswered, d.unanswered_open, d.clustered) == (3, 2, 3)


def test_days_are_utc_days_and_every_day_is_listed(service: AnalyticsService) -> None:
    d = service.dashboard(MARCH)
    assert len(d.days) == 31 and d.days[0][0] == dt.date(2026, 3, 1)
    assert counts(d, "2026-03-01") == Counts(turns=6, answered=3, fallback=1, clarify=1, helpful=2, rated=2)
    assert counts(d, "2026-03-02") == Counts(turns=1, answered=0, fallback=1, clarify=0, helpful=0, rated=1)
    assert counts(d, "2026-03-03") == Counts(turns=2, answered=1, fallback=0, clarify=0, helpful=1, rated=1)
    assert counts(d, "2026-03-31") == Counts()
    assert [(p.first.day, p.helpful, p.rated) for p in d.trend[:4]] == [(1, 2, 2), (2, 0, 1), (3, 1, 1), (4, 0, 0)]
    assert d.trend[3].helpful_rate is None  # no ratings: a gap, not 0 %


def test_splits_by_channel_and_agency(service: AnalyticsService) -> None:
    d = service.dashboard(MARCH)
    channels = {s.key: s.counts for s in d.channels}
    assert [s.key for s in d.channels] == ["web", "line", "telegram"]  # most questions first
    assert channels["web"] == Counts(turns=6, answered=3, fallback=1, clarify=0, helpful=1, rated=2)
    assert channels["line"] == Counts(turns=2, answered=1, fallback=0, clarify=1, helpful=1, rated=1)
    assert channels["telegram"] == Counts(turns=1, answered=0, fallback=1, clarify=0, helpful=1, rated=1)
    agencies = {s.key: s for s in d.agencies}
    assert agencies[seed.HSINCHU].label == "法務部行政執行署新竹分署"
    assert agencies[seed.HSINCHU].counts == channels["web"]
    assert agencies[None].counts == Counts(turns=1, answered=0, fallback=1, clarify=0, helpful=1, rated=1)


def test_top_entries_with_their_ratings(service: AnalyticsService) -> None:
    d = service.dashboard(MARCH)
    top = [(x.faq_id, x.answered, x.helpful, x.rated) for x in d.entries]
    assert top == [(seed.PAY, 2, 2, 3), (seed.DESK, 1, 1, 1), (seed.COMPLAINT, 1, 0, 0)]
    assert d.entries[0].question.startswith("可以用信用卡") and d.entries[0].helpful_rate == pytest.approx(2 / 3)


def test_filters_by_agency_and_channel(service: AnalyticsService) -> None:
    hsinchu = service.dashboard(MARCH, agency=seed.HSINCHU)
    assert hsinchu.totals == Counts(turns=6, answered=3, fallback=1, clarify=0, helpful=1, rated=2)
    assert hsinchu.agency_name == "法務部行政執行署新竹分署" and hsinchu.unanswered == 2
    line = service.dashboard(MARCH, channel="line")
    assert line.totals == Counts(turns=2, answered=1, fallback=0, clarify=1, helpful=1, rated=1)
    assert [x.faq_id for x in line.entries] == [seed.DESK]
    assert service.dashboard(MARCH, agency=seed.TAICHUNG, channel="web").totals == Counts()
    with pytest.raises(UnknownAgency):
        service.dashboard(MARCH, agency="no-such-agency")


def test_unanswered_clusters_count_open_members(service: AnalyticsService) -> None:
    d = service.dashboard(MARCH)
    typhoon = d.clusters[0]
    assert typhoon.representative.startswith("颱風天分署有上班嗎") and (typhoon.count, typhoon.open) == (2, 2)
    assert typhoon.channels == {"web": 1, "telegram": 1}
    assert [(c.count, c.open) for c in d.clusters[1:]] == [(1, 0)]  # the dismissed one


def test_long_periods_trend_by_week(service: AnalyticsService) -> None:
    d = service.dashboard(Period.between("2026-02-01", "2026-04-30"))
    assert d.period.weekly and d.trend[0].first == dt.date(2026, 2, 1) and d.trend[0].last == dt.date(2026, 2, 1)
    weeks = {p.first: p for p in d.trend}
    assert len(weeks) == 14 and all(p.first.weekday() == 0 for p in d.trend[1:])
    assert (weeks[dt.date(2026, 2, 23)].last, weeks[dt.date(2026, 2, 23)].rated) == (dt.date(2026, 3, 1), 2)
    assert (weeks[dt.date(2026, 3, 2)].helpful, weeks[dt.date(2026, 3, 2)].rated) == (1, 2)
    assert d.totals.questions == 6 + 2 + 1  # March, February and the April turn


def test_periods() -> None:
    feb = Period.month("2024-02")
    assert (feb.first, feb.last, feb.length, feb.is_month) == (dt.date(2024, 2, 1), dt.date(2024, 2, 29), 29, True)
    assert Period.month("2026-01").previous() == Period.month("2025-12")
    span = Period.between("2026-01-10", "2026-01-19")
    assert span.previous() == Period.between("2025-12-31", "2026-01-09") and span.label == "2026-01-10 – 2026-01-19"
    assert span.end - span.start == dt.timedelta(days=10) and span.start.tzinfo is dt.UTC
    for bad in ("2026-13", "2026-1", "26-01", "2026-01-01", "", "9999-12", "1999-12"):
        with pytest.raises(PeriodError):
            Period.month(bad)
    with pytest.raises(PeriodError, match="before"):
        Period.between("2026-02-01", "2026-01-01")
    with pytest.raises(PeriodError):
        Period.between("2020-01-01", "2026-01-01")  # longer than two years
    with pytest.raises(PeriodError):
        Period.between("9999-12-31", "9999-12-31")  # the day after would overflow


def test_dashboard_query_parameters() -> None:
    agencies = {seed.HSINCHU: "新竹分署"}
    today = dt.date(2026, 3, 15)
    assert parse_query({}, agencies, today).period == Period.between("2026-02-14", "2026-03-15")
    assert parse_query({"month": "2026-02"}, agencies, today).period == Period.month("2026-02")
    q = parse_query(
        {"from": "2026-03-01", "to": "2026-03-10", "agency": seed.HSINCHU, "channel": "line"}, agencies, today
    )
    assert (q.period.length, q.agency, q.channel) == (10, seed.HSINCHU, "line")
    assert q.params() == {"from": "2026-03-01", "to": "2026-03-10", "agency": seed.HSINCHU, "channel": "line"}
    assert parse_query({"from": "2026-03-01", "agency": "", "channel": ""}, agencies, today).period.last == today
    for bad in (
        {"month": "2026-03", "from": "2026-03-01"},
        {"agency": "nope"},
        {"channel": "<script>"},
        {"from": "yesterday"},
        {"month": "March"},
        {"from": "9999-12-31", "to": "9999-12-31"},
        {"from": "0001-01-01", "to": "0001-01-01"},
    ):
        with pytest.raises((QueryError, PeriodError)):
            parse_query(bad, agencies, today)


def test_csv_has_every_figure_and_defuses_formulas(service: AnalyticsService) -> None:
    rows = list(csv.DictReader(io.StringIO(to_csv(service.dashboard(MARCH)))))
    total = rows[0]
    assert (total["section"], total["key"], total["label"]) == ("total", "2026-03", "all agencies")
    assert (total["questions"], total["answered"], total["fallback"], total["answered_rate"]) == (
        "6",
        "4",
        "2",
        "0.6667",
    )
    assert (total["helpful"], total["not_helpful"], total["helpful_rate"], total["turns"]) == ("3", "1", "0.7500", "9")
    assert rows[1]["section"] == "previous" and rows[1]["key"] == "2026-02" and rows[1]["helpful_rate"] == "0.0000"
    days = [r for r in rows if r["section"] == "day"]
    assert len(days) == 31 and days[1]["key"] == "2026-03-02" and days[1]["fallback_rate"] == "1.0000"
    assert days[3]["answered_rate"] == "" and days[3]["helpful_rate"] == ""  # undefined, not 0
    assert [r["key"] for r in rows if r["section"] == "channel"] == ["web", "line", "telegram"]
    entry = next(r for r in rows if r["section"] == "entry")
    assert (entry["key"], entry["answered"], entry["helpful"], entry["not_helpful"]) == (seed.PAY, "2", "2", "1")
    for risky in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx"):
        assert safe_cell(risky) == "'" + risky
    assert safe_cell("分署") == "分署" and safe_cell(None) == ""
