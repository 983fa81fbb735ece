"""SQL repositories for dialogue state and webhook de-duplication (portable across SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.adapters.sql.hot_path import hot_path
from bot.adapters.sql.orm import ProcessedEventRow
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


class SqlConversationRepository:
    """Conversation state rows; saves are optimistic (a stale version is refused, not overwritten)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, channel: str, user_key: str) -> Conversation | None:
        sql = hot_path(self.session)
        row = sql.row(self.session, "select_conversation", {"channel": channel, "user_key": user_key})
        if row is None:
            return None
        state, agency, language, data, fallback_streak, version, updated_at = row
        return Conversation(
            channel=channel,
            user_key=user_key,
            state=State(state),
            agency=agency,
            language=language,
            data=dict(sql.from_json(data) or {}),
            fallback_streak=fallback_streak,
            version=version,
            updated_at=sql.from_datetime(updated_at),
        )

    def save(self, conversation: Conversation) -> bool:
        sql = hot_path(self.session)
        now = _utcnow()
        values = {
            "channel": conversation.channel,
            "user_key": conversation.user_key,
            "state": conversation.state.value,
            "agency": conversation.agency,
            "language": conversation.language,
            "data": sql.to_json(conversation.data),
            "fallback_streak": conversation.fallback_streak,
            "version": conversation.version + 1,
            "updated_at": sql.to_datetime(now),
        }
        if conversation.version == 0:
            saved = sql.count(self.session, "insert_conversation", values)
        else:
            saved = sql.count(self.session, "update_conversation", {**values, "old_version": conversation.version})
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
