"""The statements every chat message runs (conversation state, turn, unanswered question), on the DBAPI connection.

Through SQLAlchemy Core these four statements cost about 0.6 ms of Python per message; run on the session's own
DBAPI connection (the same transaction) about 0.27 ms (measured on SQLite, 3,000 turns). The chat API's load
target is CPU-bound on one core, so this path is hand-written once per dialect. It stores exactly what SQLAlchemy
would: JSON as `json.dumps` text and datetimes as SQLAlchemy's SQLite text format; on PostgreSQL the driver's own
types. The rest of the SQL adapter keeps using SQLAlchemy.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from sqlalchemy.orm import Session

_SELECT_CONVERSATION = (
    "SELECT state, agency, language, data, fallback_streak, version, updated_at FROM conversations"
    " WHERE channel = :channel AND user_key = :user_key"
)
_INSERT_CONVERSATION = (
    "INSERT INTO conversations (channel, user_key, state, agency, language, data, fallback_streak, version,"
    " updated_at) VALUES (:channel, :user_key, :state, :agency, :language, :data, :fallback_streak, :version,"
    " :updated_at) ON CONFLICT DO NOTHING"
)
_UPDATE_CONVERSATION = (
    "UPDATE conversations SET state = :state, agency = :agency, language = :language, data = :data,"
    " fallback_streak = :fallback_streak, version = :version, updated_at = :updated_at"
    " WHERE channel = :channel AND user_key = :user_key AND version = :old_version"
)
_INSERT_TURN = (
    "INSERT INTO conversation_turns (channel, session_key, masked_text, faq_id, topic, agency, fallback, score,"
    " created_at, kind) VALUES (:channel, :session_key, :masked_text, :faq_id, :topic, :agency, :fallback, :score,"
    " :created_at, :kind) RETURNING id"
)
_INSERT_UNANSWERED = (
    "INSERT INTO unanswered_questions (masked_text, channel, agency, reason, candidates, status, created_at)"
    " VALUES (:masked_text, :channel, :agency, :reason, :candidates, :status, :created_at) RETURNING id"
)
_STATEMENTS = {
    "select_conversation": _SELECT_CONVERSATION,
    "insert_conversation": _INSERT_CONVERSATION,
    "update_conversation": _UPDATE_CONVERSATION,
    "insert_turn": _INSERT_TURN,
    "insert_unanswered": _INSERT_UNANSWERED,
}
_DBAPI_KEY = "civicbot.hot_path.dbapi"
_SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S.%f"  # SQLAlchemy's storage format for DateTime on SQLite


class HotPath:
    """The per-message statements for one dialect: parameter style and column conversions."""

    def __init__(self, dialect: str) -> None:
        self.sqlite = dialect == "sqlite"
        if self.sqlite:
            self.sql = dict(_STATEMENTS)
            self._json: Any = json.dumps
        else:  # psycopg 3: pyformat parameters, JSON through its adapter
            from psycopg.types.json import Json

            self.sql = {name: re.sub(r":(\w+)", r"%(\1)s", text) for name, text in _STATEMENTS.items()}
            self._json = Json

    def row(self, session: Session, name: str, params: dict[str, Any]) -> tuple[Any, ...] | None:
        """Run SELECT or INSERT … RETURNING `name` in the session's transaction; its first row."""
        cursor = self._cursor(session)
        try:
            cursor.execute(self.sql[name], params)
            found = cursor.fetchone()
            return None if found is None else tuple(found)
        finally:
            cursor.close()

    def new_id(self, session: Session, name: str, params: dict[str, Any]) -> int:
        """Run INSERT … RETURNING id `name` in the session's transaction; the new row's id."""
        returned = self.row(session, name, params)
        assert returned is not None, "INSERT … RETURNING id returns a row"
        return int(returned[0])

    def count(self, session: Session, name: str, params: dict[str, Any]) -> int:
        """Run INSERT or UPDATE `name` in the session's transaction; the number of rows it changed."""
        cursor = self._cursor(session)
        try:
            cursor.execute(self.sql[name], params)
            return int(cursor.rowcount)
        finally:
            cursor.close()

    @staticmethod
    def _cursor(session: Session) -> Any:
        # The DBAPI connection of the session's current transaction, looked up once per transaction.
        transaction = session.get_transaction()
        cached = session.info.get(_DBAPI_KEY)
        if cached is None or transaction is None or cached[0] is not transaction:
            dbapi: Any = session.connection().connection.dbapi_connection
            cached = session.info[_DBAPI_KEY] = (session.get_transaction(), dbapi)
        return cached[1].cursor()

    def to_json(self, value: Any) -> Any:
        """A JSON column's parameter."""
        return self._json(value)

    def from_json(self, value: Any) -> Any:
        """A JSON column's value as read (psycopg decodes JSON itself)."""
        return json.loads(value) if self.sqlite and isinstance(value, str) else value

    def to_datetime(self, value: dt.datetime) -> Any:
        """A DateTime column's parameter (SQLite: SQLAlchemy's text format, which drops the zone as it does)."""
        return value.strftime(_SQLITE_DATETIME) if self.sqlite else value

    def from_datetime(self, value: Any) -> dt.datetime | None:
        """A DateTime column's value as read (naive on SQLite, as SQLAlchemy returns it)."""
        if value is None or isinstance(value, dt.datetime):
            return value
        return dt.datetime.fromisoformat(str(value))


_BY_DIALECT: dict[str, HotPath] = {}


def hot_path(session: Session) -> HotPath:
    """The statements for the session's database (built once per dialect)."""
    name = session.get_bind().dialect.name
    found = _BY_DIALECT.get(name)
    if found is None:
        found = _BY_DIALECT.setdefault(name, HotPath(name))
    return found
