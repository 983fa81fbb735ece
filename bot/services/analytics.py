"""Service-quality figures for a period: questions, answered and fallback rates, helpfulness, splits, gaps.

Definitions (the dashboard and the monthly report print them too):
- A *turn* is one message the assistant recorded (any kind: greetings, menus, case lookups, ratings …).
- A *question* is a turn that ended in a knowledge-base outcome for the citizen: *answered* (an FAQ
  entry's answer was given — kind `answer`, or `complaint` routed to an entry — typed, or picked from a
  menu, a "did you mean" list or the agency choice) or *fallback* (no reliable answer). So questions =
  answered + fallback, and the two rates add up to 100 %. Greetings, thanks, menus, case lookups,
  hand-offs and ratings are not questions; nor are *clarifications* (the assistant asked "did you mean"
  or which agency): the pick that follows is counted instead, so one question is never counted twice.
- Helpful rate = 👍 ratings / all ratings given in the period (by the day the rating was given).
- Days are UTC days. The agency of a rating is the agency of the turn it rates.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from bot.domain.analytics import (
    Counts,
    Dashboard,
    EntryFigures,
    Filters,
    GapCluster,
    RatingCell,
    Split,
    TrendPoint,
    TurnCell,
)
from bot.domain.period import Period
from bot.domain.records import UnansweredQuestion
from bot.services.clustering import Features, char_features, cluster_questions

ANSWER_KINDS = ("answer", "complaint")  # a turn of these kinds with an FAQ id (not a fallback) is answered
CLARIFY_KINDS = ("did_you_mean", "choose_agency")  # the assistant asked back; the citizen's pick counts
CHANNEL = re.compile(r"[a-z0-9_-]{1,20}")  # what a channel name looks like (filters are checked against it)
CHANNEL_NAMES = {"web": "網頁 Web", "line": "LINE", "telegram": "Telegram", "cli": "命令列 CLI"}
MAX_CLUSTERED = 1000  # the latest unanswered questions of the period clustered for the top-clusters list


def outcome(kind: str, faq_id: str | None, fallback: bool) -> str | None:
    """What one turn counts as: "answered", "fallback", "clarify", or None (not a question)."""
    if fallback:
        return "fallback"
    if faq_id is not None and kind in ANSWER_KINDS:
        return "answered"
    if kind in CLARIFY_KINDS:
        return "clarify"
    return None


class AnalyticsSource(Protocol):
    """Aggregate queries over the stored turns, ratings and unanswered questions (each its own read)."""

    def turn_cells(self, f: Filters) -> list[TurnCell]:
        """Turn outcomes grouped by UTC day, channel and agency."""
        ...

    def rating_cells(self, f: Filters) -> list[RatingCell]:
        """Ratings grouped by UTC day, channel and the rated turn's agency."""
        ...

    def entry_answers(self, f: Filters) -> dict[str, int]:
        """FAQ id -> answered turns."""
        ...

    def entry_ratings(self, f: Filters) -> dict[str, tuple[int, int]]:
        """FAQ id -> (helpful, all ratings)."""
        ...

    def unanswered_counts(self, f: Filters) -> tuple[int, int]:
        """(logged unanswered questions, of which still open)."""
        ...

    def latest_unanswered(self, f: Filters, limit: int) -> list[UnansweredQuestion]:
        """The newest logged unanswered questions (any status)."""
        ...

    def entry_questions(self, ids: Iterable[str]) -> dict[str, str]:
        """FAQ id -> its canonical question (zh-TW), for the ids that exist."""
        ...

    def agency_names(self) -> dict[str, str]:
        """Agency code -> name (zh-TW), in code order."""
        ...


class UnknownAgency(ValueError):
    """No agency has this code (the message is safe to show)."""


class AnalyticsService:
    """Computes the dashboard from a source's aggregates; the source does the counting."""

    def __init__(
        self,
        source: AnalyticsSource,
        features: Features = char_features,
        *,
        top_entries: int = 10,
        top_clusters: int = 10,
        max_clustered: int = MAX_CLUSTERED,
    ) -> None:
        self.source = source
        self.features = _cached(features)  # questions repeat from one page view to the next
        self.top_entries = top_entries
        self.top_clusters = top_clusters
        self.max_clustered = max_clustered

    def agencies(self) -> dict[str, str]:
        """Agency code -> name (zh-TW)."""
        return self.source.agency_names()

    def dashboard(self, period: Period, agency: str | None = None, channel: str | None = None) -> Dashboard:
        """Every figure for `period`, optionally for one agency and/or channel; refuses an unknown agency."""
        names = self.source.agency_names()
        if agency is not None and agency not in names:
            raise UnknownAgency(f"未知的機關代碼 / unknown agency code: {agency[:40]!r}")
        f = Filters(period.start, period.end, agency, channel)
        before = period.previous()
        turns, ratings = self.source.turn_cells(f), self.source.rating_cells(f)
        prev = Filters(before.start, before.end, agency, channel)
        previous = _sum(self.source.turn_cells(prev), self.source.rating_cells(prev))
        by_day = _by_day(period, turns, ratings)
        unanswered, still_open = self.source.unanswered_counts(f)
        latest = self.source.latest_unanswered(f, self.max_clustered)
        return Dashboard(
            period=period,
            previous_period=before,
            agency=agency,
            agency_name=names.get(agency) if agency else None,
            channel=channel,
            totals=_sum(turns, ratings),
            previous=previous,
            days=tuple(by_day.items()),
            trend=_trend(period, by_day),
            channels=_split(turns, ratings, lambda c: c.channel, lambda k: CHANNEL_NAMES.get(k or "", k or "—")),
            agencies=_split(turns, ratings, lambda c: c.agency, lambda k: names.get(k or "", k or "（未指定 none）")),
            entries=self._entries(f),
            unanswered=unanswered,
            unanswered_open=still_open,
            clusters=self._clusters(latest),
            clustered=len(latest),
        )

    def _entries(self, f: Filters) -> tuple[EntryFigures, ...]:
        answered = self.source.entry_answers(f)
        ratings = self.source.entry_ratings(f)
        ranked = sorted(
            set(answered) | set(ratings), key=lambda k: (-answered.get(k, 0), -ratings.get(k, (0, 0))[1], k)
        )
        top = ranked[: self.top_entries]
        questions = self.source.entry_questions(top)
        return tuple(EntryFigures(k, questions.get(k, ""), answered.get(k, 0), *ratings.get(k, (0, 0))) for k in top)

    def _clusters(self, questions: Sequence[UnansweredQuestion]) -> tuple[GapCluster, ...]:
        status = {q.id: q.status for q in questions}
        found = cluster_questions(questions, self.features)[: self.top_clusters]
        return tuple(
            GapCluster(
                id=c.id,
                representative=c.representative,
                count=c.count,
                open=sum(1 for i in c.member_ids if status.get(i) == "open"),
                channels=c.channels,
                agencies=c.agencies,
                last_seen=c.last_seen,
            )
            for c in found
        )


def _sum(turns: Iterable[TurnCell], ratings: Iterable[RatingCell]) -> Counts:
    """The counts of some cells added up."""
    cells, rated = list(turns), list(ratings)
    return Counts(
        turns=sum(c.turns for c in cells),
        answered=sum(c.answered for c in cells),
        fallback=sum(c.fallback for c in cells),
        clarify=sum(c.clarify for c in cells),
        helpful=sum(r.helpful for r in rated),
        rated=sum(r.rated for r in rated),
    )


def _by_day(period: Period, turns: Sequence[TurnCell], ratings: Sequence[RatingCell]) -> dict[dt.date, Counts]:
    """Counts for every day of the period (days without turns or ratings included, as zeros)."""
    turns_of: dict[dt.date, list[TurnCell]] = {}
    ratings_of: dict[dt.date, list[RatingCell]] = {}
    for c in turns:
        turns_of.setdefault(c.day, []).append(c)
    for r in ratings:
        ratings_of.setdefault(r.day, []).append(r)
    return {day: _sum(turns_of.get(day, ()), ratings_of.get(day, ())) for day in period.days()}


def _split(
    turns: Sequence[TurnCell],
    ratings: Sequence[RatingCell],
    key: Callable[[TurnCell | RatingCell], str | None],
    label: Callable[[str | None], str],
) -> tuple[Split, ...]:
    """Figures per key, most questions first (then most turns, then key)."""
    keys = {key(c) for c in turns} | {key(r) for r in ratings}
    rows = [
        Split(k, label(k), _sum([c for c in turns if key(c) == k], [r for r in ratings if key(r) == k])) for k in keys
    ]
    rows.sort(key=lambda s: (-s.counts.questions, -s.counts.turns, s.key or "\uffff"))
    return tuple(rows)


def _trend(period: Period, by_day: dict[dt.date, Counts]) -> tuple[TrendPoint, ...]:
    """Helpful rate per day, or per ISO week (Monday first, clipped to the period) for long periods."""
    if not period.weekly:
        return tuple(TrendPoint(d, d, c.helpful, c.rated) for d, c in by_day.items())
    weeks: dict[dt.date, list[dt.date]] = {}
    for day in by_day:
        weeks.setdefault(day - dt.timedelta(days=day.weekday()), []).append(day)
    return tuple(
        TrendPoint(days[0], days[-1], sum(by_day[d].helpful for d in days), sum(by_day[d].rated for d in days))
        for days in weeks.values()
    )


def _cached(features: Features) -> Features:
    """The same features, remembered per text (tokenising is most of the clustering time)."""
    remember = functools.lru_cache(maxsize=50_000)(lambda text: tuple(features(text)))
    return remember
