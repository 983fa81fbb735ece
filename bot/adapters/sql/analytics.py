"""The analytics source over SQLAlchemy Core: GROUP BY queries that run the same on SQLite and PostgreSQL.

Rows are never loaded one by one: each figure is one aggregate query over the period's index range.
Days are UTC days; `utc_day()` compiles to what each engine needs (SQLite stores UTC text, PostgreSQL
a timestamptz whose day depends on the session time zone unless converted).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, Connection, Date, Engine, and_, case, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from bot.adapters.sql.orm import AgencyRow, FaqEntryRow, FeedbackRow, TurnRow, UnansweredRow
from bot.domain.analytics import Filters, RatingCell, TurnCell
from bot.domain.records import UnansweredQuestion
from bot.services.analytics import ANSWER_KINDS, CLARIFY_KINDS, AnalyticsService
from bot.services.clustering import Features, char_features


class utc_day(FunctionElement[dt.date]):  # noqa: N801 - named like the SQL function it stands for
    """The UTC calendar day of a timestamp column (a date on both engines)."""

    type = Date()
    inherit_cache = True


@compiles(utc_day)
def _utc_day_sqlite(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLAlchemy stores DateTime on SQLite as 'YYYY-MM-DD HH:MM:SS.ffffff' text (every writer passes UTC);
    # the Date type reads the 'YYYY-MM-DD' prefix back as a date.
    return f"substr({compiler.process(element.clauses, **kw)}, 1, 10)"


@compiles(utc_day, "postgresql")
def _utc_day_postgresql(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(({compiler.process(element.clauses, **kw)}) AT TIME ZONE 'UTC' AS DATE)"


class unindexed(FunctionElement[Any]):  # noqa: N801 - reads as the SQL it becomes
    """A column SQLite may not use an index for (`+column`); other engines get the column itself."""

    inherit_cache = True

    def __init__(self, column: Any) -> None:
        super().__init__(column)
        self.type = column.type  # binds compared with it are converted as for the column


@compiles(unindexed)
def _unindexed_sqlite(element: unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    return f"+{compiler.process(element.clauses, **kw)}"


@compiles(unindexed, "postgresql")
def _unindexed_postgresql(element: unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


SCAN_SHARE = 6  # SQLite reads the whole table when the period covers over a sixth of the stored time range
_FALLBACK = TurnRow.fallback.is_(True)
_ANSWERED = and_(TurnRow.fallback.is_(False), TurnRow.faq_id.is_not(None), TurnRow.kind.in_(ANSWER_KINDS))
_CLARIFY = and_(TurnRow.fallback.is_(False), TurnRow.kind.in_(CLARIFY_KINDS))


def _turn_filters(f: Filters, scan: bool = False) -> list[ColumnElement[bool]]:
    created: Any = unindexed(TurnRow.created_at) if scan else TurnRow.created_at
    where = [created >= f.start, created < f.end]
    if f.agency is not None:
        where.append(TurnRow.agency == f.agency)
    if f.channel is not None:
        where.append(TurnRow.channel == f.channel)
    return where


def _rating_filters(f: Filters) -> list[ColumnElement[bool]]:
    where = [FeedbackRow.created_at >= f.start, FeedbackRow.created_at < f.end]
    if f.agency is not None:
        where.append(TurnRow.agency == f.agency)  # the rated turn's agency (ratings carry none of their own)
    if f.channel is not None:
        where.append(FeedbackRow.channel == f.channel)
    return where


def _unanswered_filters(f: Filters) -> list[ColumnElement[bool]]:
    where = [UnansweredRow.created_at >= f.start, UnansweredRow.created_at < f.end]
    if f.agency is not None:
        where.append(UnansweredRow.agency == f.agency)
    if f.channel is not None:
        where.append(UnansweredRow.channel == f.channel)
    return where


class SqlAnalytics:
    """Aggregates over conversation_turns, answer_feedback and unanswered_questions (one read each)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _scan(self, conn: Connection, f: Filters) -> bool:
        """True on SQLite when the period spans a large share of the stored turns' time range.

        SQLite's planner walks the created_at index for any range, then reads each row from the table;
        over most of the table that is several times slower than reading the table straight through.
        PostgreSQL's planner makes this choice itself from its statistics.
        """
        if self.engine.dialect.name != "sqlite":
            return False
        oldest = select(func.min(TurnRow.created_at)).scalar_subquery()  # each one index probe
        newest = select(func.max(TurnRow.created_at)).scalar_subquery()
        first, last = conn.execute(select(oldest, newest)).one()
        if first is None or last is None:
            return False
        first, last = _aware(first), _aware(last)
        stored = (last - first).total_seconds()
        covered = (min(last, f.end) - max(first, f.start)).total_seconds()
        return stored <= 0 or covered * SCAN_SHARE > stored

    def turn_cells(self, f: Filters) -> list[TurnCell]:
        """Turn outcomes grouped by UTC day, channel and agency."""
        day = utc_day(TurnRow.created_at).label("day")
        query = select(
            day,
            TurnRow.channel,
            TurnRow.agency,
            func.count(),
            _count_if(_ANSWERED),
            _count_if(_FALLBACK),
            _count_if(_CLARIFY),
        ).group_by(day, TurnRow.channel, TurnRow.agency)
        with self.engine.connect() as conn:
            rows = conn.execute(query.where(*_turn_filters(f, self._scan(conn, f)))).all()
        return [TurnCell(_day(r[0]), r[1], r[2], int(r[3]), int(r[4]), int(r[5]), int(r[6])) for r in rows]

    def rating_cells(self, f: Filters) -> list[RatingCell]:
        """Ratings grouped by UTC day, channel and the rated turn's agency."""
        day = utc_day(FeedbackRow.created_at).label("day")
        query = (
            select(day, FeedbackRow.channel, TurnRow.agency, _count_if(FeedbackRow.helpful.is_(True)), func.count())
            .select_from(FeedbackRow)
            .outerjoin(TurnRow, TurnRow.id == FeedbackRow.turn_id)
            .where(*_rating_filters(f))
            .group_by(day, FeedbackRow.channel, TurnRow.agency)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [RatingCell(_day(r[0]), r[1], r[2], int(r[3]), int(r[4])) for r in rows]

    def entry_answers(self, f: Filters) -> dict[str, int]:
        """FAQ id -> answered turns."""
        query = select(TurnRow.faq_id, func.count()).where(_ANSWERED).group_by(TurnRow.faq_id)
        with self.engine.connect() as conn:
            found = conn.execute(query.where(*_turn_filters(f, self._scan(conn, f))))
            return {str(k): int(n) for k, n in found}

    def entry_ratings(self, f: Filters) -> dict[str, tuple[int, int]]:
        """FAQ id -> (helpful, all ratings)."""
        query = (
            select(FeedbackRow.faq_id, _count_if(FeedbackRow.helpful.is_(True)), func.count())
            .select_from(FeedbackRow)
            .outerjoin(TurnRow, TurnRow.id == FeedbackRow.turn_id)
            .where(*_rating_filters(f))
            .group_by(FeedbackRow.faq_id)
        )
        with self.engine.connect() as conn:
            return {str(k): (int(h), int(n)) for k, h, n in conn.execute(query)}

    def unanswered_counts(self, f: Filters) -> tuple[int, int]:
        """(logged unanswered questions, of which still open)."""
        query = select(func.count(), _count_if(UnansweredRow.status == "open")).where(*_unanswered_filters(f))
        with self.engine.connect() as conn:
            total, still_open = conn.execute(query).one()
        return int(total), int(still_open)

    def latest_unanswered(self, f: Filters, limit: int) -> list[UnansweredQuestion]:
        """The newest logged unanswered questions (any status)."""
        query = (
            select(UnansweredRow)
            .where(*_unanswered_filters(f))
            .order_by(UnansweredRow.created_at.desc(), UnansweredRow.id.desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            UnansweredQuestion(
                masked_text=r.masked_text,
                channel=r.channel,
                agency=r.agency,
                reason=r.reason,
                candidates=tuple(r.candidates or ()),
                created_at=_aware(r.created_at),
                id=r.id,
                status=r.status,
                resolution=r.resolution,
            )
            for r in rows
        ]

    def entry_questions(self, ids: Iterable[str]) -> dict[str, str]:
        """FAQ id -> its canonical question (zh-TW)."""
        wanted = list(ids)
        if not wanted:
            return {}
        query = select(FaqEntryRow.id, FaqEntryRow.question_zh).where(FaqEntryRow.id.in_(wanted))
        with self.engine.connect() as conn:
            return {str(k): str(q) for k, q in conn.execute(query)}

    def agency_names(self) -> dict[str, str]:
        """Agency code -> name (zh-TW), in code order."""
        query = select(AgencyRow.code, AgencyRow.name_zh).order_by(AgencyRow.code)
        with self.engine.connect() as conn:
            return {str(k): str(n) for k, n in conn.execute(query)}


def _day(value: object) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _aware(value: dt.datetime) -> dt.datetime:
    """SQLite hands timestamps back naive (they were stored as UTC)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def sql_analytics(engine: Engine, features: Features = char_features) -> AnalyticsService:
    """The analytics service over this database (clusters with `features`, e.g. the matcher's tokenizer)."""
    return AnalyticsService(SqlAnalytics(engine), features)
