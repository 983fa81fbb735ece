"""SQL repositories for imported cases, brute-force guards and the case-lookup audit trail."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.adapters.sql.orm import CaseAuditRow, CaseGuardRow, CaseRow
from bot.domain.cases import AuditOutcome, Case, CaseAudit, Guard, StoredCase, VerifierKind


def _utc(value: dt.datetime) -> dt.datetime:
    """Store UTC; SQLite hands datetimes back without a zone, so read them as UTC."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _maybe_utc(value: dt.datetime | None) -> dt.datetime | None:
    return _utc(value) if value is not None else None


class SqlCaseRepository:
    """Imported cases in SQL."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def _row(self, agency: str, case_number: str) -> CaseRow | None:
        query = select(CaseRow).where(CaseRow.agency == agency, CaseRow.case_number == case_number)
        return self.session.scalars(query).one_or_none()

    def get(self, agency: str, case_number: str) -> StoredCase | None:
        """One case, as a domain value."""
        row = self._row(agency, case_number)
        if row is None:
            return None
        case = Case(
            row.agency,
            row.case_number,
            row.status,
            row.amount_outstanding,
            row.handling_unit,
            row.unit_phone,
            row.demo,
        )
        return StoredCase(case, row.id_tail_hash, row.query_code_hash)

    def upsert(self, case: StoredCase) -> str:
        """Insert or update by (agency, case number)."""
        values: dict[str, Any] = {
            "status": case.case.status,
            "amount_outstanding": case.case.amount_outstanding,
            "handling_unit": case.case.handling_unit,
            "unit_phone": case.case.unit_phone,
            "id_tail_hash": case.id_tail_hash,
            "query_code_hash": case.query_code_hash,
            "demo": case.case.demo,
        }
        now = dt.datetime.now(dt.UTC)
        row = self._row(case.case.agency, case.case.case_number)
        if row is None:
            self.session.add(
                CaseRow(agency=case.case.agency, case_number=case.case.case_number, updated_at=now, **values)
            )
            self.session.flush()
            return "added"
        if all(getattr(row, k) == v for k, v in values.items()):
            return "unchanged"
        for k, v in values.items():
            setattr(row, k, v)
        row.updated_at = now
        self.session.flush()
        return "updated"

    def remove_missing(self, agency: str, keep: Collection[str]) -> int:
        """Delete the agency's cases not in `keep`."""
        wanted = set(keep)
        stale = [
            row.id
            for row in self.session.scalars(select(CaseRow).where(CaseRow.agency == agency))
            if row.case_number not in wanted
        ]
        if stale:
            self.session.execute(delete(CaseRow).where(CaseRow.id.in_(stale)))
        return len(stale)

    def has_any(self) -> bool:
        """True when any case is stored."""
        return self.session.scalar(select(CaseRow.id).limit(1)) is not None


class SqlCaseGuardRepository:
    """Guards in SQL; rows are created race-free and locked (PostgreSQL) until the transaction ends."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def _ensure(self, key: str, now: dt.datetime) -> None:
        values = {"guard_key": key, "failures": 0, "locked_until": None, "updated_at": _utc(now)}
        dialect = self.session.get_bind().dialect.name
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            self.session.execute(pg_insert(CaseGuardRow).values(values).on_conflict_do_nothing())
        elif dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            self.session.execute(sqlite_insert(CaseGuardRow).values(values).on_conflict_do_nothing())
        elif self.session.get(CaseGuardRow, key) is None:
            self.session.add(CaseGuardRow(**values))
            self.session.flush()

    def get_for_update(self, key: str, now: dt.datetime) -> Guard:
        """The guard for `key`, created when missing, its row locked until commit or rollback."""
        self._ensure(key, now)
        query = (
            select(CaseGuardRow)
            .where(CaseGuardRow.guard_key == key)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        row = self.session.scalars(query).one()
        return Guard(row.guard_key, row.failures, _maybe_utc(row.locked_until), _maybe_utc(row.updated_at))

    def save(self, guard: Guard) -> None:
        """Write a guard's counters back."""
        row = self.session.get(CaseGuardRow, guard.key)
        updated = _utc(guard.updated_at or dt.datetime.now(dt.UTC))
        if row is None:
            row = CaseGuardRow(guard_key=guard.key, updated_at=updated)
            self.session.add(row)
        row.failures = guard.failures
        row.locked_until = _maybe_utc(guard.locked_until)
        row.updated_at = updated
        self.session.flush()

    def delete(self, key: str) -> None:
        """Forget a guard."""
        self.session.execute(delete(CaseGuardRow).where(CaseGuardRow.guard_key == key))


class SqlCaseAuditRepository:
    """The audit trail in SQL."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, record: CaseAudit) -> int:
        """Append one record."""
        row = CaseAuditRow(
            created_at=_utc(record.created_at),
            channel=record.channel,
            user_key=record.user_key,
            agency=record.agency,
            case_ref=record.case_ref,
            outcome=record.outcome.value,
            verifier_kind=record.verifier_kind.value if record.verifier_kind else None,
        )
        self.session.add(row)
        self.session.flush()
        return row.id

    def list(self, limit: int = 100) -> list[CaseAudit]:
        """Newest first."""
        query = select(CaseAuditRow).order_by(CaseAuditRow.id.desc()).limit(limit)
        return [
            CaseAudit(
                created_at=_utc(r.created_at),
                channel=r.channel,
                user_key=r.user_key,
                agency=r.agency,
                case_ref=r.case_ref,
                outcome=AuditOutcome(r.outcome),
                verifier_kind=VerifierKind(r.verifier_kind) if r.verifier_kind else None,
                id=r.id,
            )
            for r in self.session.scalars(query)
        ]
