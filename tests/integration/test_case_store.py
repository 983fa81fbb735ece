"""Cases, guards and audit on real SQLite and PostgreSQL: import, verification, locks, concurrency."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.orm import sessionmaker

from bot.adapters.sql import migrate
from bot.adapters.sql.orm import CaseAuditRow, CaseGuardRow, CaseRow
from bot.adapters.sql.uow import SqlUnitOfWork, make_engine
from bot.config import Settings
from bot.core.verifier import CaseHasher
from bot.domain.cases import (
    AuditOutcome,
    DirectoryAnswer,
    Found,
    GuardPolicy,
    Locked,
    Mismatch,
    NotFound,
    NotVerified,
    Verified,
    VerifierKind,
)
from bot.services.case_import import import_cases, load_demo_cases, read_cases_csv
from bot.services.case_lookup import CaseLookupService, StoredCaseDirectory
from bot.services.ports import UnitOfWork

HASHER = CaseHasher("integration-pepper-0123")
T0 = dt.datetime(2026, 3, 1, 1, 0, tzinfo=dt.UTC)
NUMBER = "113年度綜所稅執字第00054321號"  # demo case of aea-hsinchu, id_tail 4321, query code HC2P9V5L


@pytest.fixture()
def sql(database_url: str) -> Iterator[tuple[Callable[[], UnitOfWork], sessionmaker]]:  # type: ignore[type-arg]
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    factory = sessionmaker(engine, expire_on_commit=False)
    load_demo_cases(Settings().demo_cases, lambda: SqlUnitOfWork(factory), HASHER)
    yield (lambda: SqlUnitOfWork(factory)), factory
    engine.dispose()


def test_schema_has_the_case_tables(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    names = inspect(engine)
    assert {"cases", "case_guards", "case_audit"} <= set(names.get_table_names())
    assert "verifier_kind" in {c["name"] for c in names.get_columns("case_audit")}
    assert [c["name"] for c in names.get_columns("case_guards")][0] == "guard_key"
    engine.dispose()


def test_stored_directory_verifies_against_hashes(sql) -> None:  # type: ignore[no-untyped-def]
    uow_factory, factory = sql
    directory = StoredCaseDirectory(uow_factory, HASHER)
    found = directory.lookup("aea-hsinchu", NUMBER, VerifierKind.ID_TAIL, "4321")
    assert isinstance(found, Found) and found.case.amount_outstanding == 96400 and found.case.demo
    assert directory.lookup("aea-hsinchu", NUMBER, VerifierKind.QUERY_CODE, "HC2P9V5L") == found
    assert directory.lookup("aea-hsinchu", NUMBER, VerifierKind.ID_TAIL, "0000") == Mismatch()
    assert directory.lookup("aea-yilan", NUMBER, VerifierKind.ID_TAIL, "4321") == NotFound()
    # The yilan case that has only a query code cannot be opened with any id_tail.
    assert directory.lookup("aea-yilan", "114年度勞保執字第00000888號", VerifierKind.ID_TAIL, "0000") == Mismatch()
    with factory() as session:
        row = session.scalars(select(CaseRow).where(CaseRow.case_number == NUMBER)).one()
        assert row.id_tail_hash and "4321" not in row.id_tail_hash and row.query_code_hash


def test_import_is_idempotent_and_updates_in_place(sql) -> None:  # type: ignore[no-untyped-def]
    uow_factory, factory = sql
    again = load_demo_cases(Settings().demo_cases, uow_factory, HASHER)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 12)
    header = "agency,case_number,status,amount_outstanding,handling_unit,unit_phone,id_tail\n"
    changed, _ = read_cases_csv(
        (header + "aea-hsinchu,113綜所稅執54321,已結案,0,執行科第4股,03-0000-0304,4321\n").encode()
    )
    report = import_cases(changed, uow_factory, HASHER, replace_agencies=("aea-hsinchu",))
    assert (report.updated, report.removed) == (1, 2)
    with factory() as session:
        rows = session.scalars(select(CaseRow).where(CaseRow.agency == "aea-hsinchu")).all()
        assert [(r.case_number, r.status, r.query_code_hash) for r in rows] == [(NUMBER, "已結案", None)]
        assert session.scalars(select(CaseRow).where(CaseRow.agency == "aea-yilan")).all()


def test_locks_and_audit_survive_in_sql(sql) -> None:  # type: ignore[no-untyped-def]
    uow_factory, factory = sql
    now = [T0]
    taipei = dt.timezone(dt.timedelta(hours=8))
    service = CaseLookupService(StoredCaseDirectory(uow_factory, HASHER), uow_factory, HASHER, clock=lambda: now[0])

    def ask(verifier: str, user: str) -> object:
        return service.lookup(
            channel="web", user_key=user, agency="aea-hsinchu", case_number="113綜所稅執54321", verifier=verifier
        )

    for i in range(5):
        assert ask("0000", f"u{i}") == NotVerified()
    locked = ask("4321", "owner")
    assert locked == Locked(T0 + dt.timedelta(minutes=15))
    now[0] = (T0 + dt.timedelta(minutes=16)).astimezone(taipei)  # zone-aware clocks in any zone work
    assert isinstance(ask("4321", "owner"), Verified)
    with uow_factory() as uow:
        audit = uow.case_audit.list()
    assert [a.outcome for a in audit] == [AuditOutcome.VERIFIED, AuditOutcome.LOCKED] + [AuditOutcome.MISMATCH] * 5
    assert audit[0].created_at == T0 + dt.timedelta(minutes=16) and audit[0].created_at.tzinfo is not None
    with factory() as session:
        refs = session.scalars(select(CaseAuditRow.case_ref)).all()
        assert all(r.startswith("113年度綜所稅執字第0005****號#") for r in refs)
        keys = session.scalars(select(CaseGuardRow.guard_key)).all()
        assert all(k.startswith(("case:", "user:")) and "54321" not in k for k in keys)


def test_guard_rows_are_created_once(sql) -> None:  # type: ignore[no-untyped-def]
    uow_factory, _ = sql
    with uow_factory() as uow:
        first = uow.case_guards.get_for_update("case:x", T0)
        assert first.failures == 0 and first.updated_at == T0
        uow.case_guards.save(first.charge(T0, GuardPolicy()))
        again = uow.case_guards.get_for_update("case:x", T0 + dt.timedelta(seconds=1))
        assert again.failures == 1
        uow.commit()
    with uow_factory() as uow:
        uow.case_guards.delete("case:x")
        assert uow.case_guards.get_for_update("case:x", T0).failures == 0


class Slow:
    """A directory that takes a while, so concurrent attempts overlap."""

    def __init__(self, inner: StoredCaseDirectory) -> None:
        self.inner, self.calls, self._lock = inner, 0, threading.Lock()

    def lookup(self, agency: str, case_number: str, kind: VerifierKind, verifier: str) -> DirectoryAnswer:
        with self._lock:
            self.calls += 1
        time.sleep(0.2)
        return self.inner.lookup(agency, case_number, kind, verifier)


def test_a_burst_of_parallel_guesses_gets_no_more_than_five(sql) -> None:  # type: ignore[no-untyped-def]
    uow_factory, _ = sql
    directory = Slow(StoredCaseDirectory(uow_factory, HASHER))
    service = CaseLookupService(directory, uow_factory, HASHER)
    outcomes: list[object] = []

    def guess(i: int) -> None:
        outcomes.append(
            service.lookup(
                channel="web", user_key=f"bot{i}", agency="aea-hsinchu", case_number=NUMBER, verifier=f"{i:04d}"
            )
        )

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert directory.calls == 5
    assert sum(isinstance(o, Locked) for o in outcomes) == 5 and outcomes.count(NotVerified()) == 5
