"""The analytics source over plain records (the in-memory store's lists): the fake for tests, and the reference
the SQL queries are checked against."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence

from bot.domain.analytics import Filters, RatingCell, TurnCell
from bot.domain.model import KnowledgeBase
from bot.domain.records import Feedback, Turn, UnansweredQuestion
from bot.services.analytics import outcome


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _within(at: dt.datetime, f: Filters) -> bool:
    return f.start <= _utc(at) < f.end


class MemoryAnalytics:
    """Counts by looping over the records; the same definitions as the SQL source."""

    def __init__(
        self,
        turns: Sequence[Turn],
        feedback: Sequence[Feedback],
        unanswered: Sequence[UnansweredQuestion],
        kb: KnowledgeBase,
    ) -> None:
        self.turns = turns
        self.feedback = feedback
        self.unanswered = unanswered
        self.kb = kb

    def _turns(self, f: Filters) -> list[Turn]:
        return [
            t
            for t in self.turns
            if _within(t.created_at, f)
            and (f.agency is None or t.agency == f.agency)
            and (f.channel is None or t.channel == f.channel)
        ]

    def _ratings(self, f: Filters) -> list[tuple[Feedback, str | None]]:
        agency_of = {t.id: t.agency for t in self.turns}
        rated = [(r, agency_of.get(r.turn_id)) for r in self.feedback]
        return [
            (r, agency)
            for r, agency in rated
            if _within(r.created_at, f)
            and (f.agency is None or agency == f.agency)
            and (f.channel is None or r.channel == f.channel)
        ]

    def turn_cells(self, f: Filters) -> list[TurnCell]:
        """Turn outcomes grouped by UTC day, channel and agency."""
        cells: Counter[tuple[dt.date, str, str | None, str | None]] = Counter()
        for t in self._turns(f):
            cells[(_utc(t.created_at).date(), t.channel, t.agency, outcome(t.kind, t.faq_id, t.fallback))] += 1
        keys = {k[:3] for k in cells}
        return [
            TurnCell(
                *key,
                turns=sum(n for k, n in cells.items() if k[:3] == key),
                answered=cells[(*key, "answered")],
                fallback=cells[(*key, "fallback")],
                clarify=cells[(*key, "clarify")],
            )
            for key in sorted(keys, key=str)
        ]

    def rating_cells(self, f: Filters) -> list[RatingCell]:
        """Ratings grouped by UTC day, channel and the rated turn's agency."""
        helpful: Counter[tuple[dt.date, str, str | None]] = Counter()
        rated: Counter[tuple[dt.date, str, str | None]] = Counter()
        for r, agency in self._ratings(f):
            key = (_utc(r.created_at).date(), r.channel, agency)
            rated[key] += 1
            helpful[key] += int(r.helpful)
        return [RatingCell(*key, helpful=helpful[key], rated=n) for key, n in rated.items()]

    def entry_answers(self, f: Filters) -> dict[str, int]:
        """FAQ id -> answered turns."""
        return dict(
            Counter(
                t.faq_id
                for t in self._turns(f)
                if t.faq_id is not None and outcome(t.kind, t.faq_id, t.fallback) == "answered"
            )
        )

    def entry_ratings(self, f: Filters) -> dict[str, tuple[int, int]]:
        """FAQ id -> (helpful, all ratings)."""
        out: dict[str, tuple[int, int]] = {}
        for r, _ in self._ratings(f):
            helpful, rated = out.get(r.faq_id, (0, 0))
            out[r.faq_id] = (helpful + int(r.helpful), rated + 1)
        return out

    def _unanswered(self, f: Filters) -> list[UnansweredQuestion]:
        return [
            q
            for q in self.unanswered
            if _within(q.created_at, f)
            and (f.agency is None or q.agency == f.agency)
            and (f.channel is None or q.channel == f.channel)
        ]

    def unanswered_counts(self, f: Filters) -> tuple[int, int]:
        """(logged unanswered questions, of which still open)."""
        found = self._unanswered(f)
        return len(found), sum(1 for q in found if q.status == "open")

    def latest_unanswered(self, f: Filters, limit: int) -> list[UnansweredQuestion]:
        """The newest logged unanswered questions (any status)."""
        found = sorted(self._unanswered(f), key=lambda q: (_utc(q.created_at), q.id or 0), reverse=True)
        return found[:limit]

    def entry_questions(self, ids: Iterable[str]) -> dict[str, str]:
        """FAQ id -> its canonical question (zh-TW)."""
        wanted = set(ids)
        return {e.id: e.question_zh for e in self.kb.entries if e.id in wanted}

    def agency_names(self) -> dict[str, str]:
        """Agency code -> name (zh-TW), in code order."""
        return {a.code: a.name_zh for a in sorted(self.kb.agencies, key=lambda a: a.code)}
