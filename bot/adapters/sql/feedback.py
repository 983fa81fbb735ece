"""Answer feedback in SQL: citizens' ratings, and the editors' queue of not-helpful answers."""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import Collection

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.adapters.sql.orm import FeedbackRow, TurnRow
from bot.domain.records import Feedback, FeedbackItem


class SqlFeedbackRepository:
    """Answer feedback in SQL."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, feedback: Feedback) -> int:
        """Store one rating; returns its id."""
        row = FeedbackRow(
            turn_id=feedback.turn_id,
            faq_id=feedback.faq_id,
            helpful=feedback.helpful,
            comment=feedback.comment,
            channel=feedback.channel,
            created_at=feedback.created_at,
        )
        self.session.add(row)
        self.session.flush()
        return row.id

    def not_helpful(self, limit: int = 1000) -> builtins.list[FeedbackItem]:
        """Not-helpful ratings no editor has reviewed yet, with the question asked, newest first."""
        query = (
            select(FeedbackRow, TurnRow.masked_text, TurnRow.agency)
            .outerjoin(TurnRow, TurnRow.id == FeedbackRow.turn_id)
            .where(FeedbackRow.helpful.is_(False), FeedbackRow.reviewed_at.is_(None))
            .order_by(FeedbackRow.id.desc())
            .limit(limit)
        )
        return [
            FeedbackItem(
                id=row.id,
                faq_id=row.faq_id,
                channel=row.channel,
                created_at=row.created_at,
                question=question,
                agency=agency,
                comment=row.comment,
            )
            for row, question, agency in self.session.execute(query)
        ]

    def mark_reviewed(self, ids: Collection[int], editor: str, at: dt.datetime) -> int:
        """Mark not-helpful ratings as reviewed (they leave the queue); returns how many changed."""
        if not ids:
            return 0
        done = self.session.execute(
            update(FeedbackRow)
            .where(FeedbackRow.id.in_(list(ids)), FeedbackRow.helpful.is_(False), FeedbackRow.reviewed_at.is_(None))
            .values(reviewed_at=at, reviewed_by=editor)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(done, "rowcount", 0) or 0)
