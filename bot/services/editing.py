"""Entry editing for FAQ editors: create, edit, publish (review step), retire; every change goes in the history."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from bot.core.normalize import normalize
from bot.domain.editorial import ChangeRecord
from bot.domain.model import STATUSES, FaqEntry, KnowledgeBase
from bot.domain.serialize import content_hash, entry_to_dict
from bot.services.ports import UnitOfWork
from bot.services.validate import validate_kb


class EditError(ValueError):
    """The change cannot be made as asked; `problems` lists why (safe to show the editor)."""

    def __init__(self, message: str, problems: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)


class UnknownEntry(EditError):
    """No entry has this id."""


class EditConflict(EditError):
    """The stored entry is no longer the one the editor started from (someone else changed it meanwhile)."""


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def colliding_texts(kb: KnowledgeBase, entry_id: str, texts: Iterable[str]) -> dict[str, str]:
    """Texts that normalise to a question or variant of another entry (the validator's rule): text -> owner id."""
    owner: dict[str, str] = {}
    for entry in kb.entries:
        if entry.id == entry_id:
            continue
        for text in (entry.question_zh, *entry.variants):
            owner.setdefault(normalize(text), entry.id)
    return {t: owner[normalize(t)] for t in texts if normalize(t) in owner}


def entry_problems(kb: KnowledgeBase, entry: FaqEntry) -> list[str]:
    """What the validator would report about `entry` saved into `kb` (a draft is only checked for id and overlaps)."""
    others = tuple(e for e in kb.entries if e.id != entry.id)
    candidate = dataclasses.replace(kb, entries=(*others, entry))  # last, so overlaps are reported on it
    prefix = f"?: {entry.id or '<no id>'}: "
    problems = [p.removeprefix("?: ") for p in validate_kb(candidate) if p.startswith(prefix)]
    if entry.status not in STATUSES:
        problems.append(f"{entry.id}: unknown status {entry.status!r}")
    return problems


def guess_file(files: dict[str, str], kb: KnowledgeBase, topic: str) -> str:
    """The faq/ file a new entry belongs in: where most entries of its topic live, else `<topic>.yaml`."""
    topic_of = {e.id: e.topic for e in kb.entries}
    counts = Counter(f for entry_id, f in files.items() if topic_of.get(entry_id) == topic)
    if counts:
        return counts.most_common(1)[0][0]
    return (re.sub(r"[^a-z0-9_-]+", "_", topic.lower()).strip("_") or "drafts") + ".yaml"


def record_change(
    uow: UnitOfWork,
    editor: str,
    action: str,
    before: FaqEntry | None,
    after: FaqEntry | None,
    at: dt.datetime,
    details: dict[str, Any] | None = None,
) -> ChangeRecord:
    """Append one change to the history in `uow` (the caller commits)."""
    subject = after or before
    record = ChangeRecord(
        editor=editor,
        action=action,
        created_at=at,
        entry_id=subject.id if subject else None,
        before=entry_to_dict(before) if before else None,
        after=entry_to_dict(after) if after else None,
        details=details or {},
        content_version=uow.knowledge.version(),
    )
    return dataclasses.replace(record, id=uow.history.add(record))


class EditorService:
    """Create, edit, publish and retire entries; each change is validated, versioned and recorded."""

    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        clock: Callable[[], dt.datetime] = _utcnow,
        prepare: Callable[[KnowledgeBase, UnitOfWork], None] | None = None,
    ) -> None:
        self.uow_factory = uow_factory
        self.clock = clock
        self.prepare = prepare  # LiveKnowledge.prepare: index built and cached before the change is visible

    def get(self, entry_id: str) -> FaqEntry | None:
        """One stored entry (any status)."""
        with self.uow_factory() as uow:
            return uow.knowledge.get().entry(entry_id)

    def knowledge(self) -> KnowledgeBase:
        """The stored knowledge base: agencies and entries of every status, in folder order."""
        with self.uow_factory() as uow:
            return uow.knowledge.get()

    def create(self, entry: FaqEntry, editor: str, *, file: str | None = None) -> FaqEntry:
        """Store a new entry (normally as a draft); `file` defaults to where its topic's entries live."""
        with self.uow_factory() as uow:
            kb = uow.knowledge.get()
            if kb.entry(entry.id) is not None:
                raise EditError(f"{entry.id}: an entry with this id exists (ids are never reused)")
            entry = self._stamp(entry)
            self._check(kb, entry)
            uow.knowledge.save_entry(entry, file or guess_file(uow.knowledge.files(), kb, entry.topic))
            self._prepare(uow)
            record_change(uow, editor, "create", None, entry, self.clock())
            uow.commit()
        return entry

    def update(self, entry: FaqEntry, editor: str, *, expected: str | None = None) -> FaqEntry:
        """Replace an entry's content (its status too: a published entry edited stays checked as published).

        `expected` is the content hash of the entry the editor started from: EditConflict when it was changed since.
        """
        return self._change(entry.id, editor, "edit", lambda _: self._stamp(entry), expected)

    def publish(self, entry_id: str, editor: str, *, expected: str | None = None) -> FaqEntry:
        """The review step: a draft goes live once it passes every check (answers, sources, variants)."""
        return self._change(
            entry_id,
            editor,
            "publish",
            lambda e: dataclasses.replace(e, status="published", last_reviewed=self._today()),
            expected,
        )

    def retire(self, entry_id: str, editor: str, *, expected: str | None = None) -> FaqEntry:
        """Stop answering with an entry (kept, never deleted; its id is never reused)."""
        return self._change(entry_id, editor, "retire", lambda e: dataclasses.replace(e, status="retired"), expected)

    def history(self, entry_id: str | None = None, limit: int = 100) -> list[ChangeRecord]:
        """Recorded changes, newest first (one entry's when `entry_id` is given)."""
        with self.uow_factory() as uow:
            return uow.history.list(entry_id, limit)

    def _change(
        self,
        entry_id: str,
        editor: str,
        action: str,
        change: Callable[[FaqEntry], FaqEntry],
        expected: str | None = None,
    ) -> FaqEntry:
        with self.uow_factory() as uow:
            kb = uow.knowledge.get()
            before = kb.entry(entry_id)
            if before is None:
                raise UnknownEntry(f"no FAQ entry {entry_id!r}")
            if expected is not None and content_hash(before) != expected:
                raise EditConflict(f"{entry_id}: changed by someone else since you opened it")
            after = change(before)
            if after == before:
                return before
            self._check(kb, after)
            uow.knowledge.save_entry(after)
            self._prepare(uow)
            record_change(uow, editor, action, before, after, self.clock())
            uow.commit()
        return after

    def _prepare(self, uow: UnitOfWork) -> None:
        if self.prepare is not None:
            self.prepare(uow.knowledge.get(), uow)

    def _check(self, kb: KnowledgeBase, entry: FaqEntry) -> None:
        problems = entry_problems(kb, entry)
        if problems:
            raise EditError(f"{entry.id}: {len(problems)} problem(s)", problems)

    def _stamp(self, entry: FaqEntry) -> FaqEntry:
        """A published entry counts as reviewed today."""
        if entry.status == "published" and entry.last_reviewed is None:
            return dataclasses.replace(entry, last_reviewed=self._today())
        return entry

    def _today(self) -> dt.date:
        return self.clock().date()
