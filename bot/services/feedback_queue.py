"""The editors' not-helpful queue: answers citizens rated down, grouped by entry, until an editor reviews them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection
from dataclasses import dataclass

from bot.domain.records import FeedbackItem
from bot.services.ports import UnitOfWork

MAX_ITEMS = 2000  # open ratings read per page (far above a real backlog)
SORTS = ("count", "recent")


@dataclass(frozen=True)
class FeedbackGroup:
    """The open not-helpful ratings of one entry, newest first."""

    faq_id: str
    items: tuple[FeedbackItem, ...]

    @property
    def count(self) -> int:
        """How many open ratings the entry has."""
        return len(self.items)

    @property
    def latest(self) -> dt.datetime:
        """When the newest of them was given."""
        return self.items[0].created_at


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class FeedbackQueue:
    """Read the open not-helpful ratings and mark them reviewed (each call is its own transaction)."""

    def __init__(self, uow_factory: Callable[[], UnitOfWork], clock: Callable[[], dt.datetime] = _utcnow) -> None:
        self.uow_factory = uow_factory
        self.clock = clock

    def items(self, limit: int = MAX_ITEMS) -> list[FeedbackItem]:
        """Open not-helpful ratings, newest first."""
        with self.uow_factory() as uow:
            return uow.feedback.not_helpful(limit)

    def groups(self, sort: str = "count") -> list[FeedbackGroup]:
        """Open ratings by entry: most rated-down first ("count") or most recently rated-down first ("recent")."""
        by_entry: dict[str, list[FeedbackItem]] = {}
        for item in self.items():
            by_entry.setdefault(item.faq_id, []).append(item)
        groups = [FeedbackGroup(faq_id, tuple(items)) for faq_id, items in by_entry.items()]
        groups.sort(key=lambda g: g.latest, reverse=True)  # stable: ties in count stay newest first
        if sort != "recent":
            groups.sort(key=lambda g: g.count, reverse=True)
        return groups

    def mark_reviewed(self, ids: Collection[int], editor: str) -> int:
        """Take ratings out of the queue, recording who reviewed them and when; returns how many changed."""
        with self.uow_factory() as uow:
            changed = uow.feedback.mark_reviewed(ids, editor, self.clock())
            uow.commit()
        return changed
