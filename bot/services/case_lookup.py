"""Case-progress lookup: validate the number, guard against guessing, ask the directory, audit every attempt."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import replace

from bot.core.case_number import parse_case_number, scheme_for
from bot.core.verifier import CaseHasher, normalise_verifier
from bot.domain.cases import (
    AuditOutcome,
    BadVerifier,
    CaseAudit,
    DirectoryAnswer,
    Found,
    GuardPolicy,
    InvalidNumber,
    Locked,
    LookupOutcome,
    Mismatch,
    NotFound,
    NotVerified,
    SystemUnavailable,
    Unavailable,
    Unsupported,
    Verified,
    VerifierKind,
)
from bot.services.ports import CaseDirectory, UnitOfWork

log = logging.getLogger(__name__)

# Agencies without case numbers in this sense, and where the dialogue should point instead.
NO_CASE_LOOKUP: dict[str, tuple[str, str, str]] = {
    "mvs-tainan": (
        "臺南監理站的申辦案件沒有可在這裡查詢的案號；辦理進度請向監理站現場、電話或監理站網站查詢。",
        "The Tainan Motor Vehicles Station's applications have no case number that can be looked up here;"
        " please check their progress at the station, by phone or on the station's website.",
        "prog-how-to-check",
    ),
}
BAD_VERIFIER = BadVerifier(
    "請輸入身分證或居留證號碼的末4碼（4位數字），或通知書上印的8碼查詢碼。",
    "Please enter the last 4 digits of your national ID or resident certificate number,"
    " or the 8-character query code printed on your notice.",
)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class CaseLookupService:
    """What the dialogue calls for case progress; no case detail leaves it before verification."""

    def __init__(
        self,
        directory: CaseDirectory,
        uow_factory: Callable[[], UnitOfWork],
        hasher: CaseHasher,
        *,
        clock: Callable[[], dt.datetime] = _utcnow,
        policy: GuardPolicy | None = None,
    ) -> None:
        self.directory = directory
        self._uow_factory = uow_factory
        self._hasher = hasher
        self._clock = clock
        self.policy = policy or GuardPolicy()

    def supports(self, agency: str | None) -> bool:
        """True when cases of `agency` can be looked up here."""
        return scheme_for(agency) is not None

    def unsupported(self, agency: str | None) -> Unsupported:
        """Why `agency` has no lookup here and where to ask (an unknown or missing agency asks to choose one)."""
        if agency in NO_CASE_LOOKUP:
            zh, en, faq_id = NO_CASE_LOOKUP[agency]
            return Unsupported(agency, zh, en, faq_id)
        return Unsupported(
            agency or "",
            "請先選擇案件所屬的機關：行政執行署臺中、宜蘭或新竹分署，或臺東地檢署。",
            "Please first choose the agency handling the case: the Taichung, Yilan or Hsinchu Branch of the"
            " Administrative Enforcement Agency, or the Taitung District Prosecutors Office.",
        )

    def check_number(self, agency: str | None, text: str) -> str | InvalidNumber | Unsupported:
        """The canonical case number, or why `text` is not one (format only: reveals nothing, stores nothing)."""
        scheme = scheme_for(agency)
        if scheme is None:
            return self.unsupported(agency)
        parsed = parse_case_number(text, agency)
        if parsed is None:
            zh, en = scheme.hint()
            return InvalidNumber("這不是有效的案號。" + zh, "That is not a valid case number. " + en, scheme.example)
        return parsed.canonical

    def lookup(
        self,
        *,
        channel: str,
        user_key: str,
        agency: str | None,
        case_number: str,
        verifier: str,
        kind: VerifierKind | None = None,
    ) -> LookupOutcome:
        """Verify and look up one case; every call is audited and failures count towards the locks.

        `user_key` identifies the caller on `channel` (the dialogue's hashed user key); it is hashed
        again before storage. `kind` is inferred from `verifier` when None.
        """
        now = self._clock()
        user = self._hasher.user(channel, user_key)
        checked = self.check_number(agency, case_number)
        if not isinstance(checked, str):
            outcome = AuditOutcome.UNSUPPORTED if isinstance(checked, Unsupported) else AuditOutcome.INVALID_NUMBER
            self._audit_only(CaseAudit(now, channel, user, agency, "-", outcome))
            return checked
        assert agency is not None  # check_number accepted it
        parsed = parse_case_number(checked, agency)
        assert parsed is not None
        ref = f"{parsed.masked}#{self._hasher.case_tag(agency, checked)}"
        normal = normalise_verifier(verifier, kind)
        if normal is None:
            self._audit_only(CaseAudit(now, channel, user, agency, ref, AuditOutcome.BAD_VERIFIER, kind))
            return BAD_VERIFIER
        kind, value = normal

        keys = (f"case:{self._hasher.case(agency, checked)}", f"user:{user}")  # sorted: the locking order
        with self._uow_factory() as uow:
            guards = [uow.case_guards.get_for_update(k, now) for k in keys]
            locks = [g.locked_until for g in guards if g.is_locked(now) and g.locked_until is not None]
            if locks:
                uow.case_audit.add(CaseAudit(now, channel, user, agency, ref, AuditOutcome.LOCKED, kind))
                uow.commit()
                log.info("case lookup locked agency=%s ref=%s", agency, ref)
                return Locked(max(locks))
            # Charge before asking, so parallel attempts cannot get more than their share of guesses.
            uow.case_guards.save(guards[0].charge(now, self.policy))
            uow.case_guards.save(guards[1].charge(now, self.policy, self.policy.user_window))
            uow.commit()

        answer = self._ask(agency, checked, kind, value)
        done = self._clock()
        with self._uow_factory() as uow:
            case_guard, user_guard = (uow.case_guards.get_for_update(k, done) for k in keys)
            result: LookupOutcome
            if isinstance(answer, Found):
                uow.case_guards.delete(keys[0])  # success resets the case's count
                uow.case_guards.save(user_guard.refund(done, self.policy))
                audit, result = AuditOutcome.VERIFIED, Verified(answer.case)
            elif isinstance(answer, Unavailable):
                uow.case_guards.save(case_guard.refund(done, self.policy))
                uow.case_guards.save(user_guard.refund(done, self.policy))
                audit, result = AuditOutcome.UNAVAILABLE, SystemUnavailable()
            else:
                audit = AuditOutcome.NOT_FOUND if isinstance(answer, NotFound) else AuditOutcome.MISMATCH
                result = NotVerified()
            uow.case_audit.add(CaseAudit(done, channel, user, agency, ref, audit, kind))
            uow.commit()
        log.info("case lookup %s agency=%s ref=%s", audit.value, agency, ref)
        return result

    def _ask(self, agency: str, case_number: str, kind: VerifierKind, value: str) -> DirectoryAnswer:
        """The directory's answer, with its case pinned to the number asked; a failing directory is unavailable."""
        try:
            answer = self.directory.lookup(agency, case_number, kind, value)
        except Exception as exc:  # a broken adapter must not become a traceback or a counted failure
            log.warning("case directory failed agency=%s: %s", agency, type(exc).__name__)
            return Unavailable(type(exc).__name__)
        if isinstance(answer, Found):
            return Found(replace(answer.case, agency=agency, case_number=case_number))
        return answer

    def _audit_only(self, record: CaseAudit) -> None:
        with self._uow_factory() as uow:
            uow.case_audit.add(record)
            uow.commit()
        log.info("case lookup %s agency=%s", record.outcome.value, record.agency)


class StoredCaseDirectory:
    """A CaseDirectory over cases imported into our own store (`civicbot cases import`)."""

    def __init__(self, uow_factory: Callable[[], UnitOfWork], hasher: CaseHasher) -> None:
        self._uow_factory = uow_factory
        self._hasher = hasher

    def lookup(self, agency: str, case_number: str, kind: VerifierKind, verifier: str) -> DirectoryAnswer:
        """Found when the stored hash for `kind` matches; the hash is computed even for unknown cases."""
        with self._uow_factory() as uow:
            stored = uow.cases.get(agency, case_number)
        expected = stored.verifier_hash(kind) if stored is not None else None
        matched = self._hasher.matches(expected, agency, case_number, kind, verifier)
        if stored is None:
            return NotFound()
        return Found(stored.case) if matched else Mismatch()
