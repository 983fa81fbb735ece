"""In-memory implementations of the storage interfaces, for unit tests and throwaway runs."""

from __future__ import annotations

import builtins
import dataclasses
import datetime as dt
from collections.abc import Collection, Mapping
from types import TracebackType
from typing import Any, Generic, TypeVar

from bot.adapters.memory_cases import (
    CaseTables,
    MemoryCaseAuditRepository,
    MemoryCaseGuardRepository,
    MemoryCaseRepository,
)
from bot.adapters.memory_feedback import MemoryFeedbackRepository
from bot.domain.conversation import Conversation
from bot.domain.editorial import ChangeRecord
from bot.domain.model import FaqEntry, KnowledgeBase
from bot.domain.records import Feedback, SyncReport, Turn, UnansweredQuestion
from bot.domain.serialize import content_hash


class MemoryStore:
    """Committed state shared by the units of work created over it."""

    def __init__(self, kb: KnowledgeBase | None = None) -> None:
        self.kb = kb or KnowledgeBase((), ())
        self.unanswered: list[UnansweredQuestion] = []
        self.turns: list[Turn] = []
        self.feedback: list[Feedback] = []
        self.feedback_reviewed: dict[int, tuple[str, dt.datetime]] = {}  # rating id -> editor, time
        self.conversations: dict[tuple[str, str], Conversation] = {}
        self.events: set[tuple[str, str]] = set()
        self.case_tables = CaseTables()
        self.content_version = 1  # bumped by every commit that changed the knowledge base
        self.history: list[ChangeRecord] = []
        self.files: dict[str, str] = {}  # entry id -> faq/ file
        self.indexes: dict[str, tuple[dict[str, Any], bytes]] = {}  # content fingerprint -> packed index


class _Knowledge:
    def __init__(self, uow: InMemoryUnitOfWork) -> None:
        self._uow = uow

    def get(self) -> KnowledgeBase:
        return self._uow.kb

    def has_entries(self) -> bool:
        return bool(self._uow.kb.entries)

    def version(self) -> int:
        staged = self._uow.kb is not self._uow._kb_before  # SQL reads its own uncommitted bump too
        return self._uow.store.content_version + (1 if staged else 0)

    def files(self) -> dict[str, str]:
        return dict(self._uow.files)

    def save_entry(self, entry: FaqEntry, file: str | None = None) -> None:
        entries = self._uow.kb.entries
        if any(e.id == entry.id for e in entries):
            entries = tuple(entry if e.id == entry.id else e for e in entries)
        else:
            entries = (*entries, entry)
        self._uow.kb = dataclasses.replace(self._uow.kb, entries=entries)
        if file is not None:
            self._uow.files[entry.id] = file

    def sync(self, kb: KnowledgeBase, files: Mapping[str, str] | None = None) -> SyncReport:
        if files is not None:
            self._uow.files.update({e.id: files[e.id] for e in kb.entries if e.id in files})
        old = {e.id: e for e in self._uow.kb.entries}
        report = SyncReport()
        entries = []
        for entry in kb.entries:
            before = old.pop(entry.id, None)
            if before is None:
                report.added.append(entry.id)
            elif content_hash(before) != content_hash(entry):
                report.changed.append(entry.id)
            else:
                report = SyncReport(report.added, report.changed, report.retired, report.unchanged + 1)
            entries.append(entry)
        for entry in old.values():
            if entry.status != "retired":
                report.retired.append(entry.id)
            entries.append(dataclasses.replace(entry, status="retired"))
        new_kb = dataclasses.replace(kb, entries=tuple(entries))
        if _content(new_kb) != _content(self._uow.kb):  # an unchanged load is no content change (no version bump)
            self._uow.kb = new_kb
        return report


def _content(kb: KnowledgeBase) -> KnowledgeBase:
    """The knowledge base in a canonical order (as the SQL store keeps it), for change detection."""
    return dataclasses.replace(
        kb,
        agencies=tuple(sorted(kb.agencies, key=lambda a: a.code)),
        entries=tuple(sorted(kb.entries, key=lambda e: e.id)),
    )


T = TypeVar("T")


class _AppendOnly(Generic[T]):
    def __init__(self, items: list[T]) -> None:
        self.items = items

    def add(self, item: T) -> int:
        self.items.append(item)
        return len(self.items)


class _Unanswered(_AppendOnly[UnansweredQuestion]):
    def add(self, item: UnansweredQuestion) -> int:
        new_id = len(self.items) + 1
        self.items.append(dataclasses.replace(item, id=new_id))
        return new_id

    def list(self, limit: int = 100, status: str | None = "open") -> list[UnansweredQuestion]:
        rows = [q for q in reversed(self.items) if status is None or q.status == status]
        return rows[:limit]

    def get(self, ids: Collection[int]) -> builtins.list[UnansweredQuestion]:
        wanted = set(ids)
        return [q for q in self.items if q.id in wanted]

    def resolve(self, ids: Collection[int], status: str, resolution: str | None, editor: str, at: dt.datetime) -> int:
        wanted, changed = set(ids), 0
        for i, q in enumerate(self.items):
            if q.id in wanted:
                self.items[i] = dataclasses.replace(q, status=status, resolution=resolution)
                changed += 1
        return changed


class _History(_AppendOnly[ChangeRecord]):
    def add(self, item: ChangeRecord) -> int:
        new_id = len(self.items) + 1
        self.items.append(dataclasses.replace(item, id=new_id))
        return new_id

    def list(self, entry_id: str | None = None, limit: int = 100) -> list[ChangeRecord]:
        rows = [r for r in reversed(self.items) if entry_id is None or r.entry_id == entry_id]
        return rows[:limit]


class _Turns(_AppendOnly[Turn]):
    def add(self, item: Turn) -> int:
        new_id = len(self.items) + 1
        self.items.append(dataclasses.replace(item, id=new_id))
        return new_id

    def count(self) -> int:
        return len(self.items)

    def get(self, turn_id: int) -> Turn | None:
        return self.items[turn_id - 1] if 0 < turn_id <= len(self.items) else None


class _Conversations:
    def __init__(self, rows: dict[tuple[str, str], Conversation]) -> None:
        self.rows = rows

    def get(self, channel: str, user_key: str) -> Conversation | None:
        found = self.rows.get((channel, user_key))
        return dataclasses.replace(found, data=dict(found.data)) if found else None

    def save(self, conversation: Conversation) -> bool:
        stored = self.rows.get((conversation.channel, conversation.user_key))
        if (stored.version if stored else 0) != conversation.version:
            return False
        conversation.version += 1
        self.rows[(conversation.channel, conversation.user_key)] = dataclasses.replace(
            conversation, data=dict(conversation.data)
        )
        return True


class _Events:
    def __init__(self, seen: set[tuple[str, str]]) -> None:
        self.seen = seen

    def claim(self, channel: str, event_id: str) -> bool:
        if (channel, event_id) in self.seen:
            return False
        self.seen.add((channel, event_id))
        return True


class _Indexes:
    """Packed indexes by content fingerprint; written straight to the store (same key = same content)."""

    def __init__(self, blobs: dict[str, tuple[dict[str, Any], bytes]]) -> None:
        self.blobs = blobs

    def get(self, key: str) -> tuple[dict[str, Any], bytes] | None:
        return self.blobs.get(key)

    def put(self, key: str, meta: dict[str, Any], data: bytes) -> None:
        self.blobs.setdefault(key, (meta, data))


class InMemoryUnitOfWork:
    """A unit of work over a MemoryStore: changes are staged and applied only on commit."""

    def __init__(self, store: MemoryStore | None = None) -> None:
        self.store = store or MemoryStore()
        self.committed = False

    def __enter__(self) -> InMemoryUnitOfWork:
        self.kb = self.store.kb
        self._kb_before = self.store.kb
        self._unanswered: list[UnansweredQuestion] = list(self.store.unanswered)
        self._unanswered_before = tuple(self._unanswered)
        self._history: list[ChangeRecord] = list(self.store.history)
        self._n_history = len(self._history)
        self.files = dict(self.store.files)
        self._turns: list[Turn] = list(self.store.turns)
        self._feedback: list[Feedback] = list(self.store.feedback)
        self._reviewed = dict(self.store.feedback_reviewed)
        self._conversations = dict(self.store.conversations)
        self._events = set(self.store.events)
        self._lengths = (len(self._unanswered), len(self._turns), len(self._feedback))
        self.knowledge = _Knowledge(self)
        self.unanswered = _Unanswered(self._unanswered)
        self.history = _History(self._history)
        self.turns = _Turns(self._turns)
        self.feedback = MemoryFeedbackRepository(self._feedback, self._reviewed, self._turns)
        self.conversations = _Conversations(self._conversations)
        self.events = _Events(self._events)
        self._case_before = self.store.case_tables.copy()
        self._case_tables = self.store.case_tables.copy()
        self.cases = MemoryCaseRepository(self._case_tables)
        self.case_guards = MemoryCaseGuardRepository(self._case_tables)
        self.case_audit = MemoryCaseAuditRepository(self._case_tables)
        self.indexes = _Indexes(self.store.indexes)
        self._conv_before = dict(self.store.conversations)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Anything not committed is dropped."""

    def commit(self) -> None:
        """Apply this unit's own changes, merged over whatever other units committed meanwhile (like rows)."""
        store = self.store
        if self.kb is not self._kb_before:
            store.kb = self.kb
            store.content_version += 1
        store.files.update(self.files)
        n_unanswered, n_turns, n_feedback = self._lengths
        for i, original in enumerate(self._unanswered_before):  # resolutions change existing rows
            if self._unanswered[i] is not original:
                store.unanswered[i] = self._unanswered[i]
        self._unanswered_before = tuple(self._unanswered)
        store.unanswered.extend(self._unanswered[n_unanswered:])
        store.history.extend(self._history[self._n_history :])
        self._n_history = len(self._history)
        store.turns.extend(self._turns[n_turns:])
        store.feedback.extend(self._feedback[n_feedback:])
        store.feedback_reviewed.update(self._reviewed)
        _merge(store.conversations, self._conv_before, self._conversations)
        store.events |= self._events
        tables, before = store.case_tables, self._case_before
        _merge(tables.cases, before.cases, self._case_tables.cases)
        _merge(tables.guards, before.guards, self._case_tables.guards)
        tables.audit.extend(self._case_tables.audit[len(before.audit) :])
        self._lengths = (len(self._unanswered), len(self._turns), len(self._feedback))
        self._conv_before = dict(self._conversations)
        self._case_before = self._case_tables.copy()
        self._kb_before = self.kb
        self.committed = True


K = TypeVar("K")
V = TypeVar("V")


def _merge(target: dict[K, V], before: dict[K, V], after: dict[K, V]) -> None:
    """Apply the difference between `before` and `after` to `target` (keys added, changed or removed)."""
    for key, value in after.items():
        if key not in before or before[key] is not value:
            target[key] = value
    for key in before.keys() - after.keys():
        target.pop(key, None)
