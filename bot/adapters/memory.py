"""In-memory implementations of the storage interfaces, for unit tests and throwaway runs."""

from __future__ import annotations

import dataclasses
from types import TracebackType
from typing import Generic, TypeVar

from bot.domain.model import KnowledgeBase
from bot.domain.records import Feedback, SyncReport, Turn, UnansweredQuestion
from bot.domain.serialize import content_hash


class MemoryStore:
    """Committed state shared by the units of work created over it."""

    def __init__(self, kb: KnowledgeBase | None = None) -> None:
        self.kb = kb or KnowledgeBase((), ())
        self.unanswered: list[UnansweredQuestion] = []
        self.turns: list[Turn] = []
        self.feedback: list[Feedback] = []


class _Knowledge:
    def __init__(self, uow: InMemoryUnitOfWork) -> None:
        self._uow = uow

    def get(self) -> KnowledgeBase:
        return self._uow.kb

    def has_entries(self) -> bool:
        return bool(self._uow.kb.entries)

    def sync(self, kb: KnowledgeBase) -> SyncReport:
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
        self._uow.kb = dataclasses.replace(kb, entries=tuple(entries))
        return report


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


class _Turns(_AppendOnly[Turn]):
    def count(self) -> int:
        return len(self.items)


class InMemoryUnitOfWork:
    """A unit of work over a MemoryStore: changes are staged and applied only on commit."""

    def __init__(self, store: MemoryStore | None = None) -> None:
        self.store = store or MemoryStore()
        self.committed = False

    def __enter__(self) -> InMemoryUnitOfWork:
        self.kb = self.store.kb
        self._unanswered: list[UnansweredQuestion] = list(self.store.unanswered)
        self._turns: list[Turn] = list(self.store.turns)
        self._feedback: list[Feedback] = list(self.store.feedback)
        self.knowledge = _Knowledge(self)
        self.unanswered = _Unanswered(self._unanswered)
        self.turns = _Turns(self._turns)
        self.feedback = _AppendOnly(self._feedback)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Anything not committed is dropped."""

    def commit(self) -> None:
        self.store.kb = self.kb
        self.store.unanswered = self._unanswered
        self.store.turns = self._turns
        self.store.feedback = self._feedback
        self.committed = True
