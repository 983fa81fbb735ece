"""`faq validate` and `faq load`: check the YAML knowledge base and sync it into the store."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from pathlib import Path

from bot.domain.records import SyncReport
from bot.services.editing import record_change
from bot.services.kb_files import LoadReport, load_kb
from bot.services.ports import UnitOfWork
from bot.services.validate import validate_kb


class InvalidKnowledgeBase(ValueError):
    """The folder's content fails validation; `problems` lists why."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the knowledge base")
        self.problems = problems


def read_and_check(faq_dir: Path) -> tuple[LoadReport, list[str]]:
    """Read the folder once; return it with every validation problem (empty when it may go live)."""
    report = load_kb(faq_dir)
    return report, report.problems + validate_kb(report.kb, report.entry_files)


def check_folder(faq_dir: Path) -> list[str]:
    """Every validation problem of the folder."""
    return read_and_check(faq_dir)[1]


def load_folder_into_store(
    faq_dir: Path, uow_factory: Callable[[], UnitOfWork], editor: str = "faq load"
) -> SyncReport:
    """Validate the folder and make the store equal to it, in one transaction; each entry change is recorded."""
    report, problems = read_and_check(faq_dir)
    if problems:
        raise InvalidKnowledgeBase(problems)
    with uow_factory() as uow:
        before = {e.id: e for e in uow.knowledge.get().entries} if uow.knowledge.has_entries() else {}
        sync = uow.knowledge.sync(report.kb, report.entry_files)
        now = dt.datetime.now(dt.UTC)
        after = {e.id: e for e in report.kb.entries}
        for entry_id in (*sync.added, *sync.changed):
            record_change(uow, editor, "load", before.get(entry_id), after[entry_id], now)
        for entry_id in sync.retired:
            old = before[entry_id]
            record_change(uow, editor, "load", old, dataclasses.replace(old, status="retired"), now)
        uow.commit()
    return sync
