"""The analytics GROUP BY queries on real SQLite and PostgreSQL: exact figures, UTC days, filters, and the same
answers as the in-memory reference."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, delete

from bot.adapters.memory_analytics import MemoryAnalytics
from bot.adapters.sql.analytics import SqlAnalytics
from bot.adapters.sql.orm import FeedbackRow, TurnRow, UnansweredRow
from bot.adapters.sql.uow import make_engine
from bot.bootstrap import sql_uow_factory
from bot.config import Settings
from bot.domain.analytics import Counts, Filters
from bot.domain.model import KnowledgeBase
from bot.domain.period import Period
from bot.services.analytics import AnalyticsService
from tests import analytics_seed as seed

MARCH = Period.month("2026-03")


@pytest.fixture()
def engine(store_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """The module's store with the seed month written through the repositories; emptied afterwards."""
    built, uow_factory = sql_uow_factory(Settings(database_url=store_url, data_dir=tmp_path_factory.getbasetemp()))
    seed.seed(uow_factory)
    yield built
    with built.begin() as conn:
        for table in (FeedbackRow, UnansweredRow, TurnRow):
            conn.execute(delete(table))
    built.dispose()


def test_month_figures_are_exact(engine: Engine) -> None:
    d = AnalyticsService(SqlAnalytics(engine)).dashboard(MARCH)
    assert d.totals == Counts(turns=9, answered=4, fallback=2, clarify=1, helpful=3, rated=4)
    assert d.previous == Counts(turns=2, answered=1, fallback=1, clarify=0, helpful=0, rated=1)
    days = {day.isoformat(): c for day, c in d.days}
    assert len(days) == 31
    assert days["2026-03-01"] == Counts(turns=6, answered=3, fallback=1, clarify=1, helpful=2, rated=2)
    assert days["2026-03-02"] == Counts(turns=1, answered=0, fallback=1, clarify=0, helpful=0, rated=1)  # 23:59:59
    assert days["2026-03-03"] == Counts(turns=2, answered=1, fallback=0, clarify=0, helpful=1, rated=1)  # 00:00:00
    assert {s.key: s.counts.questions for s in d.channels} == {"web": 4, "line": 1, "telegram": 1}
    assert {s.key: (s.counts.helpful, s.counts.rated) for s in d.agencies} == {
        seed.HSINCHU: (1, 2),
        seed.TAICHUNG: (1, 1),
        None: (1, 1),
    }
    assert [(x.faq_id, x.answered, x.helpful, x.rated) for x in d.entries] == [
        (seed.PAY, 2, 2, 3),
        (seed.DESK, 1, 1, 1),
        (seed.COMPLAINT, 1, 0, 0),
    ]
    assert (d.unanswered, d.unanswered_open) == (3, 2)
    assert [(c.count, c.open) for c in d.clusters] == [(2, 2), (1, 0)]


def test_filters_by_agency_and_channel(engine: Engine) -> None:
    service = AnalyticsService(SqlAnalytics(engine))
    hsinchu = service.dashboard(MARCH, agency=seed.HSINCHU)
    assert hsinchu.totals == Counts(turns=6, answered=3, fallback=1, clarify=0, helpful=1, rated=2)
    assert hsinchu.previous.questions == 2 and hsinchu.unanswered == 2
    telegram = service.dashboard(MARCH, channel="telegram")
    assert telegram.totals == Counts(turns=1, answered=0, fallback=1, clarify=0, helpful=1, rated=1)
    assert [(x.faq_id, x.answered, x.rated) for x in telegram.entries] == [(seed.PAY, 0, 1)]
    both = service.dashboard(MARCH, agency=seed.TAICHUNG, channel="line")
    assert both.totals == Counts(turns=2, answered=1, fallback=0, clarify=1, helpful=1, rated=1)


def test_the_sql_source_agrees_with_the_in_memory_reference(engine: Engine, kb: KnowledgeBase) -> None:
    turns, ratings, unanswered = seed.records()
    memory, sql = MemoryAnalytics(turns, ratings, unanswered, kb), SqlAnalytics(engine)
    for period in (MARCH, Period.month("2026-02"), Period.between("2026-02-15", "2026-04-15")):
        for agency, channel in ((None, None), (seed.HSINCHU, None), (None, "web"), (None, "telegram")):
            f = Filters(period.start, period.end, agency, channel)
            key = lambda c: (c.day, c.channel, c.agency or "")  # noqa: E731
            assert sorted(sql.turn_cells(f), key=key) == sorted(memory.turn_cells(f), key=key)
            assert sorted(sql.rating_cells(f), key=key) == sorted(memory.rating_cells(f), key=key)
            assert sql.entry_answers(f) == memory.entry_answers(f)
            assert sql.entry_ratings(f) == memory.entry_ratings(f)
            assert sql.unanswered_counts(f) == memory.unanswered_counts(f)
            texts = [q.masked_text for q in sql.latest_unanswered(f, 10)]
            assert texts == [q.masked_text for q in memory.latest_unanswered(f, 10)]
    assert sql.agency_names() == memory.agency_names()


@pytest.mark.postgres
@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)  # SQLite has no session time zone
def test_postgresql_days_stay_utc_whatever_the_session_time_zone(engine: Engine, store_url: str) -> None:
    local = make_engine(store_url + "?options=-c%20timezone%3DAsia%2FTaipei")
    try:
        with local.connect() as conn:
            assert conn.exec_driver_sql("SHOW TIME ZONE").scalar() == "Asia/Taipei"
        f = Filters(MARCH.start, MARCH.end)
        assert sorted(SqlAnalytics(local).turn_cells(f), key=str) == sorted(SqlAnalytics(engine).turn_cells(f), key=str)
        days = {c.day.isoformat() for c in SqlAnalytics(local).turn_cells(f)}
        assert days == {"2026-03-01", "2026-03-02", "2026-03-03"}  # 23:59:59 UTC is 07:59 on 3 March in Taipei
    finally:
        local.dispose()
