"""In-memory answer feedback: ratings (id = position + 1) and which not-helpful ones an editor reviewed."""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import Collection

from bot.domain.records import Feedback, FeedbackItem, Turn


class MemoryFeedbackRepository:
    """Ratings in a list, reviews in a dict (rating id -> editor and time), turns read for the question asked."""

    def __init__(self, items: list[Feedback], reviewed: dict[int, tuple[str, dt.datetime]], turns: list[Turn]) -> None:
        self.items = items
        self.reviewed = reviewed
        self.turns = turns

    def add(self, feedback: Feedback) -> int:
        """Store one rating; returns its id."""
        self.items.append(feedback)
        return len(self.items)

    def not_helpful(self, limit: int = 1000) -> builtins.list[FeedbackItem]:
        """Not-helpful ratings no editor has reviewed yet, with the question asked, newest first."""
        out = []
        for fid in range(len(self.items), 0, -1):
            rating = self.items[fid - 1]
            if rating.helpful or fid in self.reviewed:
                continue
            turn = self._turn(rating.turn_id)
            out.append(
                FeedbackItem(
                    id=fid,
                    faq_id=rating.faq_id,
                    channel=rating.channel,
                    created_at=rating.created_at,
                    question=turn.masked_text if turn else None,
                    agency=turn.agency if turn else None,
                    comment=rating.comment,
                )
            )
        return out[:limit]

    def mark_reviewed(self, ids: Collection[int], editor: str, at: dt.datetime) -> int:
        """Mark not-helpful ratings as reviewed (they leave the queue); returns how many changed."""
        changed = 0
        for fid in set(ids):
            if 0 < fid <= len(self.items) and not self.items[fid - 1].helpful and fid not in self.reviewed:
                self.reviewed[fid] = (editor, at)
                changed += 1
        return changed

    def _turn(self, turn_id: int | None) -> Turn | None:
        return self.turns[turn_id - 1] if turn_id is not None and 0 < turn_id <= len(self.turns) else None
