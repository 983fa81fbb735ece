"""Reporting periods: whole UTC days from a first to a last date, parsed from `YYYY-MM` or two ISO dates."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

MIN_YEAR, MAX_YEAR = 2000, 2999
MAX_DAYS = 731  # two years: longer ranges are refused (figures per day would be unreadable anyway)
WEEKLY_AFTER_DAYS = 62  # longer periods show the helpful-rate trend per week instead of per day
_MONTH = re.compile(r"(\d{4})-(\d{2})")


class PeriodError(ValueError):
    """A period that cannot be used (the message is safe to show)."""


@dataclass(frozen=True)
class Period:
    """The UTC days `first` … `last` (both included): timestamps in [start, end)."""

    first: dt.date
    last: dt.date

    def __post_init__(self) -> None:
        if not (MIN_YEAR <= self.first.year and self.last.year <= MAX_YEAR):
            raise PeriodError(f"年份須介於 {MIN_YEAR}–{MAX_YEAR} / years from {MIN_YEAR} to {MAX_YEAR} only")
        if self.last < self.first:
            raise PeriodError(f"結束日早於開始日 / the end date {self.last} is before the start date {self.first}")
        if self.length > MAX_DAYS:
            raise PeriodError(f"期間太長（上限 {MAX_DAYS} 天） / the period is longer than {MAX_DAYS} days")

    @classmethod
    def month(cls, text: str) -> Period:
        """A calendar month from `YYYY-MM`."""
        found = _MONTH.fullmatch(text.strip())
        if found is None or not 1 <= int(found.group(2)) <= 12 or not MIN_YEAR <= int(found.group(1)) <= MAX_YEAR:
            raise PeriodError(f"月份格式應為 YYYY-MM / the month must look like 2026-01, not {text[:20]!r}")
        first = dt.date(int(found.group(1)), int(found.group(2)), 1)
        return cls(first, _next_month(first) - dt.timedelta(days=1))

    @classmethod
    def between(cls, first: str, last: str) -> Period:
        """The days from `first` to `last` (ISO dates, both included)."""
        return cls(_date(first, "開始日 from"), _date(last, "結束日 to"))

    @classmethod
    def ending(cls, last: dt.date, days: int) -> Period:
        """The `days` days up to and including `last`."""
        return cls(last - dt.timedelta(days=days - 1), last)

    @property
    def start(self) -> dt.datetime:
        """The first instant (UTC midnight of `first`)."""
        return dt.datetime.combine(self.first, dt.time(), dt.UTC)

    @property
    def end(self) -> dt.datetime:
        """The instant after the period (UTC midnight after `last`)."""
        return dt.datetime.combine(self.last + dt.timedelta(days=1), dt.time(), dt.UTC)

    @property
    def length(self) -> int:
        """Number of days."""
        return (self.last - self.first).days + 1

    @property
    def is_month(self) -> bool:
        """True for exactly one calendar month."""
        return self.first.day == 1 and self.last == _next_month(self.first) - dt.timedelta(days=1)

    def days(self) -> list[dt.date]:
        """Every day of the period, in order."""
        return [self.first + dt.timedelta(days=i) for i in range(self.length)]

    def previous(self) -> Period:
        """The period to compare with: the previous calendar month for a month, else the same number of days before."""
        if self.is_month:
            first = _previous_month(self.first)
            return Period(first, self.first - dt.timedelta(days=1))
        return Period(self.first - dt.timedelta(days=self.length), self.first - dt.timedelta(days=1))

    @property
    def label(self) -> str:
        """`2026-01` for a month, else `2026-01-01 – 2026-01-15`."""
        if self.is_month:
            return f"{self.first:%Y-%m}"
        return f"{self.first.isoformat()} – {self.last.isoformat()}"

    @property
    def slug(self) -> str:
        """A file-name-safe form of the label."""
        return f"{self.first:%Y-%m}" if self.is_month else f"{self.first.isoformat()}_{self.last.isoformat()}"

    @property
    def weekly(self) -> bool:
        """True when the trend is shown per week (long periods)."""
        return self.length > WEEKLY_AFTER_DAYS


def _date(text: str, what: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise PeriodError(f"{what}：日期格式應為 YYYY-MM-DD / dates look like 2026-01-31, not {text[:20]!r}") from None


def _next_month(first: dt.date) -> dt.date:
    return dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)


def _previous_month(first: dt.date) -> dt.date:
    return dt.date(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1)
