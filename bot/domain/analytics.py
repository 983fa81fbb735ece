"""The figures of the analytics dashboard and the monthly report (what `bot.services.analytics` computes)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

from bot.domain.period import Period


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class Filters:
    """What the figures cover: timestamps in [start, end), optionally one agency and one channel."""

    start: dt.datetime
    end: dt.datetime
    agency: str | None = None
    channel: str | None = None


@dataclass(frozen=True)
class Counts:
    """Turn outcomes and ratings for one day, channel, agency or the whole period."""

    turns: int = 0
    answered: int = 0
    fallback: int = 0
    clarify: int = 0
    helpful: int = 0
    rated: int = 0

    @property
    def questions(self) -> int:
        """Answered + fallback."""
        return self.answered + self.fallback

    @property
    def not_helpful(self) -> int:
        """👎 ratings."""
        return self.rated - self.helpful

    @property
    def answered_rate(self) -> float | None:
        """Answered / questions (None without questions)."""
        return _rate(self.answered, self.questions)

    @property
    def fallback_rate(self) -> float | None:
        """Fallback / questions (None without questions)."""
        return _rate(self.fallback, self.questions)

    @property
    def helpful_rate(self) -> float | None:
        """Helpful / all ratings (None without ratings)."""
        return _rate(self.helpful, self.rated)

    def __add__(self, other: Counts) -> Counts:
        return Counts(*(a + b for a, b in zip(dataclasses.astuple(self), dataclasses.astuple(other), strict=True)))


@dataclass(frozen=True)
class TurnCell:
    """Turn outcomes of one (UTC day, channel, agency) group, as the store aggregates them."""

    day: dt.date
    channel: str
    agency: str | None
    turns: int
    answered: int
    fallback: int
    clarify: int


@dataclass(frozen=True)
class RatingCell:
    """Ratings given on one (UTC day, channel, agency of the rated turn) group."""

    day: dt.date
    channel: str
    agency: str | None
    helpful: int
    rated: int


@dataclass(frozen=True)
class Split:
    """Figures of one channel or agency (`key` None: the turn had no agency)."""

    key: str | None
    label: str
    counts: Counts


@dataclass(frozen=True)
class EntryFigures:
    """One FAQ entry: how often it answered, and how it was rated."""

    faq_id: str
    question: str
    answered: int
    helpful: int
    rated: int

    @property
    def helpful_rate(self) -> float | None:
        """Helpful / all ratings of this entry."""
        return _rate(self.helpful, self.rated)


@dataclass(frozen=True)
class TrendPoint:
    """Ratings of one day or week (`first` … `last`)."""

    first: dt.date
    last: dt.date
    helpful: int
    rated: int

    @property
    def helpful_rate(self) -> float | None:
        """Helpful / all ratings (None without ratings)."""
        return _rate(self.helpful, self.rated)


@dataclass(frozen=True)
class GapCluster:
    """Similar unanswered questions of the period; `open` of them still wait for an editor."""

    id: int
    representative: str
    count: int
    open: int
    channels: dict[str, int]
    agencies: dict[str, int]
    last_seen: dt.datetime


@dataclass(frozen=True)
class Dashboard:
    """Every figure of the dashboard and the monthly report, for one period and filter."""

    period: Period
    previous_period: Period
    agency: str | None
    agency_name: str | None
    channel: str | None
    totals: Counts
    previous: Counts
    days: tuple[tuple[dt.date, Counts], ...]
    trend: tuple[TrendPoint, ...]
    channels: tuple[Split, ...]
    agencies: tuple[Split, ...]
    entries: tuple[EntryFigures, ...]
    unanswered: int
    unanswered_open: int
    clusters: tuple[GapCluster, ...]
    clustered: int  # how many of the latest unanswered questions the clusters were built from
