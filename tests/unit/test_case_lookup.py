"""CaseLookupService over in-memory fakes: verification, locks, audit, and what is never revealed or kept."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from bot.adapters.memory import InMemoryUnitOfWork, MemoryStore
from bot.bootstrap import build_case_service
from bot.config import Settings
from bot.core.verifier import CaseHasher
from bot.domain.cases import (
    AuditOutcome,
    BadVerifier,
    DirectoryAnswer,
    Guard,
    GuardPolicy,
    InvalidNumber,
    Locked,
    LookupOutcome,
    NotVerified,
    SystemUnavailable,
    Unavailable,
    Unsupported,
    Verified,
    VerifierKind,
)
from bot.services.case_import import load_demo_cases
from bot.services.case_lookup import CaseLookupService, StoredCaseDirectory

T0 = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
NUMBER, ID_TAIL, CODE = "113營稅執12345", "1234", "TC7K2M9P"  # a demo case of aea-taichung


class Clock:
    """A settable clock."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += dt.timedelta(**kw)


class Counting:
    """Wraps a directory and counts how often it is asked."""

    def __init__(self, inner: StoredCaseDirectory) -> None:
        self.inner, self.calls = inner, 0

    def lookup(self, agency: str, case_number: str, kind: VerifierKind, verifier: str) -> DirectoryAnswer:
        self.calls += 1
        return self.inner.lookup(agency, case_number, kind, verifier)


@pytest.fixture()
def setup() -> tuple[CaseLookupService, MemoryStore, Clock, Counting]:
    store, clock, hasher = MemoryStore(), Clock(), CaseHasher("unit-test-pepper-0123")
    uow = lambda: InMemoryUnitOfWork(store)  # noqa: E731
    load_demo_cases(Settings().demo_cases, uow, hasher)
    directory = Counting(StoredCaseDirectory(uow, hasher))
    return CaseLookupService(directory, uow, hasher, clock=clock), store, clock, directory


def ask(service: CaseLookupService, verifier: str, number: str = NUMBER, user: str = "u1") -> LookupOutcome:
    return service.lookup(channel="web", user_key=user, agency="aea-taichung", case_number=number, verifier=verifier)


def test_right_verifier_reveals_the_case_and_is_audited(setup) -> None:  # type: ignore[no-untyped-def]
    service, store, _, _ = setup
    for verifier in (ID_TAIL, "tc7k-2m9p", "A123451234"):
        outcome = ask(service, verifier)
        assert isinstance(outcome, Verified)
        case = outcome.case
        assert (case.case_number, case.amount_outstanding, case.handling_unit) == (
            "113年度營稅執字第00012345號",
            36000,
            "執行科第3股",
        )
        assert case.unit_phone and case.status and case.demo
    audit = store.case_tables.audit
    assert [a.outcome for a in audit] == [AuditOutcome.VERIFIED] * 3
    assert [a.verifier_kind for a in audit] == [VerifierKind.ID_TAIL, VerifierKind.QUERY_CODE, VerifierKind.ID_TAIL]
    record = audit[0]
    assert record.user_key != "u1" and len(record.user_key) == 64
    assert record.case_ref.startswith("113年度營稅執字第0001****號#") and "12345" not in record.case_ref


def test_not_found_and_wrong_verifier_look_the_same_to_the_citizen(setup) -> None:  # type: ignore[no-untyped-def]
    service, store, _, _ = setup
    wrong = ask(service, "9999", user="a")
    missing = ask(service, ID_TAIL, number="113營稅執99999", user="b")
    assert wrong == missing == NotVerified()
    case_guards = [g for key, g in store.case_tables.guards.items() if key.startswith("case:")]
    assert [g.failures for g in case_guards] == [1, 1]  # a number that does not exist is counted the same
    # Only the audit trail (internal) tells them apart.
    assert [a.outcome for a in store.case_tables.audit] == [AuditOutcome.MISMATCH, AuditOutcome.NOT_FOUND]


def test_five_failures_lock_the_case_for_fifteen_minutes(setup) -> None:  # type: ignore[no-untyped-def]
    service, store, clock, directory = setup
    for i in range(5):  # different users, so only the case's own counter is at work
        assert ask(service, "0000", user=f"user{i}") == NotVerified()
        clock.advance(seconds=10)
    locked = ask(service, ID_TAIL, user="owner")  # even the right verifier, even another user
    assert locked == Locked(T0 + dt.timedelta(seconds=40, minutes=15))
    assert directory.calls == 5  # a locked case is not even asked about
    clock.now = T0 + dt.timedelta(seconds=40, minutes=15) - dt.timedelta(seconds=1)
    assert isinstance(ask(service, ID_TAIL, user="owner"), Locked)
    clock.advance(seconds=2)
    assert isinstance(ask(service, ID_TAIL, user="owner"), Verified)
    outcomes = [a.outcome for a in store.case_tables.audit]
    assert outcomes == [AuditOutcome.MISMATCH] * 5 + [AuditOutcome.LOCKED] * 2 + [AuditOutcome.VERIFIED]


def test_success_resets_the_case_counter(setup) -> None:  # type: ignore[no-untyped-def]
    service, _, _, _ = setup
    for i in range(4):
        ask(service, "0000", user=f"x{i}")
    assert isinstance(ask(service, ID_TAIL, user="owner"), Verified)
    for i in range(4):
        assert ask(service, "0000", user=f"y{i}") == NotVerified()
    assert isinstance(ask(service, ID_TAIL, user="owner"), Verified)


def test_one_user_trying_many_case_numbers_is_locked(setup) -> None:  # type: ignore[no-untyped-def]
    service, _, clock, directory = setup
    for serial in range(1, 6):
        assert ask(service, "0000", number=f"113營稅執{serial}", user="prober") == NotVerified()
    assert isinstance(ask(service, ID_TAIL, user="prober"), Locked)
    assert directory.calls == 5
    assert isinstance(ask(service, ID_TAIL, user="someone-else"), Verified)  # the case itself is not locked
    clock.advance(minutes=15, seconds=1)
    assert isinstance(ask(service, ID_TAIL, user="prober"), Verified)


def test_a_users_success_does_not_wipe_their_failures(setup) -> None:  # type: ignore[no-untyped-def]
    service, _, _, _ = setup
    for round_ in range(2):  # interleaving one known case must not buy unlimited guesses elsewhere
        for serial in range(1, 3):
            ask(service, "0000", number=f"113營稅執{round_}{serial}", user="prober")
        assert isinstance(ask(service, ID_TAIL, user="prober"), Verified)
    ask(service, "0000", number="113營稅執99", user="prober")  # fifth failure
    assert isinstance(ask(service, ID_TAIL, user="prober"), Locked)


def test_user_failures_are_forgotten_after_a_quiet_hour(setup) -> None:  # type: ignore[no-untyped-def]
    service, _, clock, _ = setup
    for serial in range(1, 5):
        ask(service, "0000", number=f"113營稅執{serial}", user="forgetful")
    clock.advance(hours=1, seconds=1)
    ask(service, "0000", number="113營稅執5", user="forgetful")
    assert isinstance(ask(service, ID_TAIL, user="forgetful"), Verified)


def test_invalid_numbers_and_verifiers_are_audited_but_cost_nothing(setup) -> None:  # type: ignore[no-untyped-def]
    service, store, _, directory = setup
    for _ in range(10):
        invalid = ask(service, ID_TAIL, number="請問我的案子")
        assert isinstance(invalid, InvalidNumber)
        assert invalid.example == "113年度營稅執字第00012345號" and invalid.example in invalid.message_zh
        assert "113營稅執12345" in invalid.message_en
        assert isinstance(ask(service, "my birthday"), BadVerifier)
    assert directory.calls == 0 and store.case_tables.guards == {}
    audit = store.case_tables.audit
    assert {a.outcome for a in audit} == {AuditOutcome.INVALID_NUMBER, AuditOutcome.BAD_VERIFIER}
    assert all(a.case_ref == "-" for a in audit if a.outcome is AuditOutcome.INVALID_NUMBER)
    assert isinstance(ask(service, ID_TAIL), Verified)


def test_unsupported_agencies_point_elsewhere(setup) -> None:  # type: ignore[no-untyped-def]
    service, store, _, _ = setup
    mvs = service.lookup(channel="line", user_key="u", agency="mvs-tainan", case_number=NUMBER, verifier=ID_TAIL)
    assert isinstance(mvs, Unsupported) and mvs.faq_id == "prog-how-to-check" and "監理站" in mvs.message_zh
    none = service.lookup(channel="line", user_key="u", agency=None, case_number=NUMBER, verifier=ID_TAIL)
    assert isinstance(none, Unsupported) and none.faq_id is None and "機關" in none.message_zh
    assert [a.outcome for a in store.case_tables.audit] == [AuditOutcome.UNSUPPORTED] * 2
    assert not service.supports("mvs-tainan") and service.supports("tpo-taitung")


def test_check_number_is_pure(setup) -> None:  # type: ignore[no-untyped-def]
    service, store, _, directory = setup
    assert service.check_number("aea-taichung", "１１３營稅執１２３４５") == "113年度營稅執字第00012345號"
    assert isinstance(service.check_number("aea-taichung", "113偵1"), InvalidNumber)
    assert isinstance(service.check_number("mvs-tainan", NUMBER), Unsupported)
    assert store.case_tables.audit == [] and directory.calls == 0


class Broken:
    """A directory that is down, one way or another."""

    def __init__(self, raises: bool) -> None:
        self.raises = raises

    def lookup(self, agency: str, case_number: str, kind: VerifierKind, verifier: str) -> DirectoryAnswer:
        if self.raises:
            raise ConnectionError("boom")
        return Unavailable("status 503")


@pytest.mark.parametrize("raises", [False, True])
def test_an_unavailable_system_is_not_the_citizens_fault(setup, raises: bool) -> None:  # type: ignore[no-untyped-def]
    service, store, _, real = setup
    service.directory = Broken(raises)
    for _ in range(8):
        assert ask(service, ID_TAIL) == SystemUnavailable()
    assert all(g.failures == 0 and g.locked_until is None for g in store.case_tables.guards.values())
    assert {a.outcome for a in store.case_tables.audit} == {AuditOutcome.UNAVAILABLE}
    service.directory = real
    assert isinstance(ask(service, ID_TAIL), Verified)


def test_attempts_are_charged_before_the_directory_answers(setup) -> None:  # type: ignore[no-untyped-def]
    service, store, _, real = setup
    seen: list[int] = []

    class Peeking:
        def lookup(self, agency: str, case_number: str, kind: VerifierKind, verifier: str) -> DirectoryAnswer:
            seen.extend(g.failures for k, g in store.case_tables.guards.items() if k.startswith("case:"))
            return real.lookup(agency, case_number, kind, verifier)

    service.directory = Peeking()
    ask(service, "0000", user="a")
    ask(service, "0000", user="b")
    assert seen == [1, 2]  # committed before asking: parallel attempts cannot all see a clean count


def test_the_verifier_is_never_stored_or_logged(setup, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    service, store, _, _ = setup
    caplog.set_level(logging.DEBUG)
    ask(service, CODE)
    ask(service, "ZZ99YY88")
    ask(service, "A123456789")
    kept = repr(store.case_tables.audit) + repr(store.case_tables.guards) + caplog.text
    for secret in (CODE, "ZZ99YY88", "A123456789", "12345"):
        assert secret not in kept


def test_guard_arithmetic() -> None:
    policy = GuardPolicy()
    g = Guard("k")
    for i in range(4):
        g = g.charge(T0, policy)
        assert not g.is_locked(T0) and g.failures == i + 1
    g = g.charge(T0, policy)
    assert g.is_locked(T0) and g.locked_until == T0 + dt.timedelta(minutes=15)
    assert not g.refund(T0, policy).is_locked(T0)  # the attempt that tripped the lock succeeded after all
    later = T0 + dt.timedelta(minutes=15)
    assert not g.is_locked(later) and g.charge(later, policy).failures == 1
    quiet = Guard("u", 4, None, T0).charge(T0 + dt.timedelta(hours=2), policy, dt.timedelta(hours=1))
    assert quiet.failures == 1


def test_bootstrap_picks_the_directory_from_settings() -> None:
    from bot.adapters.case_http import HttpCaseDirectory

    store = MemoryStore()
    plain = build_case_service(Settings(), lambda: InMemoryUnitOfWork(store))
    assert isinstance(plain.directory, StoredCaseDirectory)
    remote = build_case_service(Settings(case_api_url="http://127.0.0.1:9/api"), lambda: InMemoryUnitOfWork(store))
    assert isinstance(remote.directory, HttpCaseDirectory)
    remote.directory.close()
