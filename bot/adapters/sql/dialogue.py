"""SQL repositories for dialogue state and webhook de-duplication (portable across SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.adapters.sql.orm import ConversationRow, ProcessedEventRow
from bot.domain.conversation import Conversation, State


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


_INSERT_IGNORE: dict[tuple[str, str], Any] = {}  # (dialect, table) -> statement, built once (compiled once)


def _insert_ignore(session: Session, table: Any, values: dict[str, Any]) -> int:
    """INSERT … ON CONFLICT DO NOTHING; returns the number of rows inserted (0 on a duplicate key)."""
    conn = session.connection()
    key = (conn.dialect.name, table.name)
    statement = _INSERT_IGNORE.get(key)
    if statement is None:
        insert = postgresql.insert if key[0] == "postgresql" else sqlite.insert
        statement = _INSERT_IGNORE.setdefault(key, insert(table).on_conflict_do_nothing())
    result = conn.execute(statement, values)
    return int(getattr(result, "rowcount", 0) or 0)


_CONV = cast(Table, ConversationRow.__table__)
# Statements built once and reused: on the per-message hot path SQLAlchemy then skips expression building.
_GET_CONVERSATION = select(_CONV).where(
    and_(_CONV.c.channel == bindparam("k_channel"), _CONV.c.user_key == bindparam("k_user"))
)
_UPDATE_CONVERSATION = (
    update(_CONV)
    .where(
        and_(
            _CONV.c.channel == bindparam("k_channel"),
            _CONV.c.user_key == bindparam("k_user"),
            _CONV.c.version == bindparam("k_version"),
        )
    )
    .values(
        state=bindparam("state"),
        agency=bindparam("agency"),
        language=bindparam("language"),
        data=bindparam("data"),
        fallback_streak=bindparam("fallback_streak"),
        version=bindparam("version"),
        updated_at=bindparam("updated_at"),
    )
)


class SqlConversationRepository:
    """Conversation state rows; saves are optimistic (a stale version is refused, not overwritten)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, channel: str, user_key: str) -> Conversation | None:
        # On the session's connection: the same transaction, without the ORM's per-statement overhead.
        row = self.session.connection().execute(_GET_CONVERSATION, {"k_channel": channel, "k_user": user_key}).first()
        if row is None:
            return None
        return Conversation(
            channel=row.channel,
            user_key=row.user_key,
            state=State(row.state),
            agency=row.agency,
            language=row.language,
            data=dict(row.data or {}),
            fallback_streak=row.fallback_streak,
            version=row.version,
            updated_at=row.updated_at,
        )

    def save(self, conversation: Conversation) -> bool:
        now = _utcnow()
        values = {
            "state": conversation.state.value,
            "agency": conversation.agency,
            "language": conversation.language,
            "data": conversation.data,
            "fallback_streak": conversation.fallback_streak,
            "version": conversation.version + 1,
            "updated_at": now,
        }
        if conversation.version == 0:
            saved = _insert_ignore(
                self.session, _CONV, {"channel": conversation.channel, "user_key": conversation.user_key, **values}
            )
        else:
            keys = {
                "k_channel": conversation.channel,
                "k_user": conversation.user_key,
                "k_version": conversation.version,
            }
            result = self.session.connection().execute(_UPDATE_CONVERSATION, {**keys, **values})
            saved = int(getattr(result, "rowcount", 0) or 0)
        if saved:
            conversation.version += 1
            conversation.updated_at = now
        return bool(saved)


class SqlProcessedEventRepository:
    """Webhook event ids already handled."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def claim(self, channel: str, event_id: str) -> bool:
        values = {"channel": channel, "event_id": event_id[:128], "created_at": _utcnow()}
        return _insert_ignore(self.session, ProcessedEventRow.__table__, values) == 1
