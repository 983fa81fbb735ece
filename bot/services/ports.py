"""Storage interfaces the services depend on; SQL and in-memory implementations live in adapters."""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import Collection, Mapping
from types import TracebackType
from typing import Any, Protocol

from bot.domain.cases import CaseAudit, DirectoryAnswer, Guard, StoredCase, VerifierKind
from bot.domain.conversation import Conversation
from bot.domain.editorial import ChangeRecord
from bot.domain.model import FaqEntry, KnowledgeBase
from bot.domain.records import Feedback, FeedbackItem, SyncReport, Turn, UnansweredQuestion


class KnowledgeRepository(Protocol):
    """Stored knowledge-base content."""

    def get(self) -> KnowledgeBase:
        """The stored knowledge base (agencies, entries of every status, lexicon, out-of-scope examples)."""
        ...

    def has_entries(self) -> bool:
        """True when any FAQ entry is stored (cheap; used at start-up)."""
        ...

    def sync(self, kb: KnowledgeBase, files: Mapping[str, str] | None = None) -> SyncReport:
        """Make stored content equal to `kb` (entry id -> file from `files`); missing entries are retired.

        Bumps the content version when anything changed.
        """
        ...

    def version(self) -> int:
        """The content version (one cheap read; every process polls it)."""
        ...

    def save_entry(self, entry: FaqEntry, file: str | None = None) -> None:
        """Insert or replace one entry (keeping its file unless `file` is given) and bump the content version."""
        ...

    def files(self) -> dict[str, str]:
        """Entry id -> the faq/ file it belongs to, in folder order (entries without a file are absent)."""
        ...


class UnansweredRepository(Protocol):
    """The unanswered-question log."""

    def add(self, question: UnansweredQuestion) -> int:
        """Store one question; returns its id."""
        ...

    def list(self, limit: int = 100, status: str | None = "open") -> list[UnansweredQuestion]:
        """Newest first."""
        ...

    def get(self, ids: Collection[int]) -> builtins.list[UnansweredQuestion]:
        """The questions with these ids (any status), oldest first."""
        ...

    def resolve(self, ids: Collection[int], status: str, resolution: str | None, editor: str, at: dt.datetime) -> int:
        """Set status ("resolved" / "dismissed") and the entry it went to; returns how many changed."""
        ...


class HistoryRepository(Protocol):
    """The editorial change history (append-only)."""

    def add(self, record: ChangeRecord) -> int:
        """Store one change; returns its id."""
        ...

    def list(self, entry_id: str | None = None, limit: int = 100) -> list[ChangeRecord]:
        """Newest first; only one entry's changes when `entry_id` is given."""
        ...


class TurnRepository(Protocol):
    """Conversation turns."""

    def add(self, turn: Turn) -> int:
        """Store one turn; returns its id."""
        ...

    def count(self) -> int:
        """How many turns are stored."""
        ...

    def get(self, turn_id: int) -> Turn | None:
        """One stored turn (with its id), or None."""
        ...


class FeedbackRepository(Protocol):
    """Answer feedback."""

    def add(self, feedback: Feedback) -> int:
        """Store one rating; returns its id."""
        ...

    def not_helpful(self, limit: int = 1000) -> builtins.list[FeedbackItem]:
        """Not-helpful ratings no editor has reviewed yet, with the question asked, newest first."""
        ...

    def mark_reviewed(self, ids: Collection[int], editor: str, at: dt.datetime) -> int:
        """Mark not-helpful ratings as reviewed (they leave the queue); returns how many changed."""
        ...


class ConversationRepository(Protocol):
    """Dialogue state per channel user."""

    def get(self, channel: str, user_key: str) -> Conversation | None:
        """The stored conversation, or None for a new user."""
        ...

    def save(self, conversation: Conversation) -> bool:
        """Store it if nobody else saved a newer version meanwhile (returns False then); bumps `version`."""
        ...


class ProcessedEventRepository(Protocol):
    """Webhook deliveries already handled, so a redelivered event is processed once."""

    def claim(self, channel: str, event_id: str) -> bool:
        """Record the event; False when it was already recorded (a redelivery)."""
        ...


class CaseRepository(Protocol):
    """Cases imported from agency exports (verifiers hashed)."""

    def get(self, agency: str, case_number: str) -> StoredCase | None:
        """One case by agency and canonical number, or None."""
        ...

    def upsert(self, case: StoredCase) -> str:
        """Insert or update one case; returns "added", "updated" or "unchanged"."""
        ...

    def remove_missing(self, agency: str, keep: Collection[str]) -> int:
        """Delete the agency's cases whose number is not in `keep`; returns how many."""
        ...

    def has_any(self) -> bool:
        """True when any case is stored (cheap; used at start-up)."""
        ...


class CaseGuardRepository(Protocol):
    """Failure counters and locks against guessing verifiers or case numbers."""

    def get_for_update(self, key: str, now: dt.datetime) -> Guard:
        """The guard for `key` (a fresh one is created), locked against concurrent writers until commit."""
        ...

    def save(self, guard: Guard) -> None:
        """Store a guard returned by get_for_update and changed."""
        ...

    def delete(self, key: str) -> None:
        """Forget a guard (after a successful verification)."""
        ...


class CaseAuditRepository(Protocol):
    """The case-lookup audit trail (append-only)."""

    def add(self, record: CaseAudit) -> int:
        """Store one record; returns its id."""
        ...

    def list(self, limit: int = 100) -> list[CaseAudit]:
        """Newest first."""
        ...


class IndexRepository(Protocol):
    """Built search indexes shared between processes, keyed by the knowledge base's content fingerprint."""

    def get(self, key: str) -> tuple[dict[str, Any], bytes] | None:
        """The stored index (metadata, packed arrays) for a fingerprint, or None."""
        ...

    def put(self, key: str, meta: dict[str, Any], data: bytes) -> None:
        """Store an index in this transaction (an existing one for the key is kept); prune old ones."""
        ...


class CaseDirectory(Protocol):
    """Where cases are looked up: our store (imported exports) or an agency's own case system."""

    def lookup(self, agency: str, case_number: str, kind: VerifierKind, verifier: str) -> DirectoryAnswer:
        """Verify `verifier` (normalised) for the case and return it; errors become Unavailable, never raise."""
        ...


class UnitOfWork(Protocol):
    """A transaction over all repositories; rolls back unless `commit()` was called."""

    @property
    def knowledge(self) -> KnowledgeRepository: ...

    @property
    def unanswered(self) -> UnansweredRepository: ...

    @property
    def history(self) -> HistoryRepository: ...

    @property
    def turns(self) -> TurnRepository: ...

    @property
    def feedback(self) -> FeedbackRepository: ...

    @property
    def conversations(self) -> ConversationRepository: ...

    @property
    def events(self) -> ProcessedEventRepository: ...

    @property
    def cases(self) -> CaseRepository: ...

    @property
    def case_guards(self) -> CaseGuardRepository: ...

    @property
    def case_audit(self) -> CaseAuditRepository: ...

    @property
    def indexes(self) -> IndexRepository: ...

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    def commit(self) -> None:
        """Make the work durable."""
        ...
