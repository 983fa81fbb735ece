"""In-memory case, guard and audit repositories (used by InMemoryUnitOfWork)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field

from bot.domain.cases import CaseAudit, Guard, StoredCase


@dataclass
class CaseTables:
    """The committed (or staged) case data of a MemoryStore."""

    cases: dict[tuple[str, str], StoredCase] = field(default_factory=dict)
    guards: dict[str, Guard] = field(default_factory=dict)
    audit: list[CaseAudit] = field(default_factory=list)

    def copy(self) -> CaseTables:
        """A staging copy for one unit of work (the values are immutable)."""
        return CaseTables(dict(self.cases), dict(self.guards), list(self.audit))


class MemoryCaseRepository:
    """Imported cases."""

    def __init__(self, tables: CaseTables) -> None:
        self._t = tables

    def get(self, agency: str, case_number: str) -> StoredCase | None:
        return self._t.cases.get((agency, case_number))

    def upsert(self, case: StoredCase) -> str:
        key = (case.case.agency, case.case.case_number)
        before = self._t.cases.get(key)
        self._t.cases[key] = case
        return "added" if before is None else "unchanged" if before == case else "updated"

    def remove_missing(self, agency: str, keep: Collection[str]) -> int:
        gone = [k for k in self._t.cases if k[0] == agency and k[1] not in keep]
        for k in gone:
            del self._t.cases[k]
        return len(gone)

    def has_any(self) -> bool:
        return bool(self._t.cases)


class MemoryCaseGuardRepository:
    """Failure counters and locks."""

    def __init__(self, tables: CaseTables) -> None:
        self._t = tables

    def get_for_update(self, key: str, now: dt.datetime) -> Guard:
        return self._t.guards.setdefault(key, Guard(key, updated_at=now))

    def save(self, guard: Guard) -> None:
        self._t.guards[guard.key] = guard

    def delete(self, key: str) -> None:
        self._t.guards.pop(key, None)


class MemoryCaseAuditRepository:
    """The audit trail."""

    def __init__(self, tables: CaseTables) -> None:
        self._t = tables

    def add(self, record: CaseAudit) -> int:
        new_id = len(self._t.audit) + 1
        self._t.audit.append(dataclasses.replace(record, id=new_id))
        return new_id

    def list(self, limit: int = 100) -> list[CaseAudit]:
        return list(reversed(self._t.audit))[:limit]
