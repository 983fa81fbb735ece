"""Storage interfaces the services depend on; SQL and in-memory implementations live in adapters."""

from __future__ import annotations

from types import TracebackType
from typing import Protocol

from bot.domain.model import KnowledgeBase
from bot.domain.records import Feedback, SyncReport, Turn, UnansweredQuestion


class KnowledgeRepository(Protocol):
    """Stored knowledge-base content."""

    def get(self) -> KnowledgeBase:
        """The stored knowledge base (agencies, entries of every status, lexicon, out-of-scope examples)."""
        ...

    def has_entries(self) -> bool:
        """True when any FAQ entry is stored (cheap; used at start-up)."""
        ...

    def sync(self, kb: KnowledgeBase) -> SyncReport:
        """Make stored content equal to `kb`; entries missing from `kb` are retired, not deleted."""
        ...


class UnansweredRepository(Protocol):
    """The unanswered-question log."""

    def add(self, question: UnansweredQuestion) -> int:
        """Store one question; returns its id."""
        ...

    def list(self, limit: int = 100, status: str | None = "open") -> list[UnansweredQuestion]:
        """Newest first."""
        ...


class TurnRepository(Protocol):
    """Conversation turns."""

    def add(self, turn: Turn) -> int:
        """Store one turn; returns its id."""
        ...

    def count(self) -> int:
        """How many turns are stored."""
        ...


class FeedbackRepository(Protocol):
    """Answer feedback."""

    def add(self, feedback: Feedback) -> int:
        """Store one rating; returns its id."""
        ...


class UnitOfWork(Protocol):
    """A transaction over all repositories; rolls back unless `commit()` was called."""

    @property
    def knowledge(self) -> KnowledgeRepository: ...

    @property
    def unanswered(self) -> UnansweredRepository: ...

    @property
    def turns(self) -> TurnRepository: ...

    @property
    def feedback(self) -> FeedbackRepository: ...

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    def commit(self) -> None:
        """Make the work durable."""
        ...
