"""SQL side of editorial work: the content version every process polls, and the change history."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.adapters.sql.orm import ContentVersionRow, FaqChangeRow
from bot.domain.editorial import ChangeRecord


def read_version(session: Session) -> int:
    """The current content version (0 when the row is missing)."""
    return int(session.scalar(select(ContentVersionRow.version).where(ContentVersionRow.id == 1)) or 0)


def bump_version(session: Session) -> int:
    """Increment the content version in this transaction; returns the new value.

    An in-place `version = version + 1` so concurrent writers serialise on the row instead of losing a bump.
    """
    now = dt.datetime.now(dt.UTC)
    done = session.execute(
        update(ContentVersionRow)
        .where(ContentVersionRow.id == 1)
        .values(version=ContentVersionRow.version + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if not getattr(done, "rowcount", 0):
        session.add(ContentVersionRow(id=1, version=1, updated_at=now))
        session.flush()
    return read_version(session)


class SqlHistoryRepository:
    """The editorial change history in SQL (append-only)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, record: ChangeRecord) -> int:
        """Store one change; returns its id."""
        row = FaqChangeRow(
            created_at=record.created_at,
            editor=record.editor,
            action=record.action,
            entry_id=record.entry_id,
            before=record.before,
            after=record.after,
            details=dict(record.details),
            content_version=record.content_version,
        )
        self.session.add(row)
        self.session.flush()
        return row.id

    def list(self, entry_id: str | None = None, limit: int = 100) -> list[ChangeRecord]:
        """Newest first; only one entry's changes when `entry_id` is given."""
        query = select(FaqChangeRow).order_by(FaqChangeRow.id.desc()).limit(limit)
        if entry_id is not None:
            query = query.where(FaqChangeRow.entry_id == entry_id)
        return [
            ChangeRecord(
                editor=r.editor,
                action=r.action,
                created_at=r.created_at,
                entry_id=r.entry_id,
                before=r.before,
                after=r.after,
                details=dict(r.details or {}),
                content_version=r.content_version,
                id=r.id,
            )
            for r in self.session.scalars(query)
        ]
