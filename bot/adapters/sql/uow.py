"""Engine creation and the SQL unit of work."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from bot.adapters.sql.cases import SqlCaseAuditRepository, SqlCaseGuardRepository, SqlCaseRepository
from bot.adapters.sql.dialogue import SqlConversationRepository, SqlProcessedEventRepository
from bot.adapters.sql.editorial import SqlHistoryRepository
from bot.adapters.sql.feedback import SqlFeedbackRepository
from bot.adapters.sql.indexes import SqlIndexRepository
from bot.adapters.sql.repositories import (
    SqlKnowledgeRepository,
    SqlTurnRepository,
    SqlUnansweredRepository,
)


def make_engine(url: str) -> Engine:
    """An engine for SQLite (WAL, foreign keys on) or PostgreSQL (psycopg 3)."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


class SqlUnitOfWork:
    """One transaction; rolls back unless `commit()` is called."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._factory = session_factory

    def __enter__(self) -> SqlUnitOfWork:
        self.session = self._factory()
        self.knowledge = SqlKnowledgeRepository(self.session)
        self.unanswered = SqlUnansweredRepository(self.session)
        self.history = SqlHistoryRepository(self.session)
        self.turns = SqlTurnRepository(self.session)
        self.feedback = SqlFeedbackRepository(self.session)
        self.conversations = SqlConversationRepository(self.session)
        self.events = SqlProcessedEventRepository(self.session)
        self.cases = SqlCaseRepository(self.session)
        self.case_guards = SqlCaseGuardRepository(self.session)
        self.case_audit = SqlCaseAuditRepository(self.session)
        self.indexes = SqlIndexRepository(self.session)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.session.rollback()
        self.session.close()

    def commit(self) -> None:
        self.session.commit()
