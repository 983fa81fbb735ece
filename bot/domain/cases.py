"""Case-progress lookup types: what is imported, stored, answered by a directory, and handed to the dialogue."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, replace


class VerifierKind(enum.StrEnum):
    """The factor a citizen proves they hold before any case detail is shown."""

    ID_TAIL = "id_tail"  # last four characters of the national ID / resident certificate number
    QUERY_CODE = "query_code"  # the query code printed on the agency's notice


@dataclass(frozen=True)
class Case:
    """What a verified citizen may see about one case (out type; never an ORM row)."""

    agency: str
    case_number: str  # canonical form, see bot.core.case_number
    status: str
    amount_outstanding: int | None  # NT$; None when the agency does not say
    handling_unit: str
    unit_phone: str
    demo: bool = False  # fictional demonstration data


@dataclass(frozen=True)
class CaseImport:
    """One case as read from an agency export (in type): verifiers still in plain text, already normalised."""

    case: Case
    id_tail: str | None
    query_code: str | None


@dataclass(frozen=True)
class StoredCase:
    """One case as stored: verifiers only as keyed hashes."""

    case: Case
    id_tail_hash: str | None
    query_code_hash: str | None

    def verifier_hash(self, kind: VerifierKind) -> str | None:
        """The stored hash for `kind`, or None when the agency gave no such factor."""
        return self.id_tail_hash if kind is VerifierKind.ID_TAIL else self.query_code_hash


# --- what a CaseDirectory answers -------------------------------------------------------------


@dataclass(frozen=True)
class Found:
    """The case exists and the verifier matched."""

    case: Case


@dataclass(frozen=True)
class NotFound:
    """No such case (the citizen is told the same as for a wrong verifier)."""


@dataclass(frozen=True)
class Mismatch:
    """The case exists but the verifier did not match."""


@dataclass(frozen=True)
class Unavailable:
    """The case system could not be asked (timeout, error status, malformed answer); not the citizen's fault."""

    reason: str  # for logs: never contains the verifier or personal data


DirectoryAnswer = Found | NotFound | Mismatch | Unavailable


# --- what CaseLookupService returns to the dialogue -------------------------------------------


@dataclass(frozen=True)
class Verified:
    """Verification succeeded: the case details may be shown."""

    case: Case


@dataclass(frozen=True)
class NotVerified:
    """No case matched this number and verifier (deliberately not saying which was wrong)."""


@dataclass(frozen=True)
class Locked:
    """Too many failed verifications (for this case number or this user): try again after `until`."""

    until: dt.datetime


@dataclass(frozen=True)
class InvalidNumber:
    """The text is not a case number of this agency's format; the messages say the format with an example."""

    message_zh: str
    message_en: str
    example: str


@dataclass(frozen=True)
class BadVerifier:
    """The verifier is not in a recognised form (4 digits, or an 8-character query code)."""

    message_zh: str
    message_en: str


@dataclass(frozen=True)
class Unsupported:
    """This agency has no case lookup here; `faq_id` is the FAQ entry that says where to ask."""

    agency: str
    message_zh: str
    message_en: str
    faq_id: str | None = None


@dataclass(frozen=True)
class SystemUnavailable:
    """The agency's case system did not answer; nothing was counted against the citizen."""


LookupOutcome = Verified | NotVerified | Locked | InvalidNumber | BadVerifier | Unsupported | SystemUnavailable


# --- brute-force guards and the audit trail ---------------------------------------------------


@dataclass(frozen=True)
class GuardPolicy:
    """How many failures lock a case number or a user, and for how long."""

    max_failures: int = 5
    lock_for: dt.timedelta = dt.timedelta(minutes=15)
    # A user's failures across different cases are forgotten after this much quiet time.
    user_window: dt.timedelta = dt.timedelta(hours=1)


@dataclass(frozen=True)
class Guard:
    """Failure counter and lock for one key: "case:<keyed hash of agency+number>" or "user:<keyed hash>"."""

    key: str
    failures: int = 0
    locked_until: dt.datetime | None = None
    updated_at: dt.datetime | None = None

    def is_locked(self, now: dt.datetime) -> bool:
        """True while a lock is in force."""
        return self.locked_until is not None and self.locked_until > now

    def charge(self, now: dt.datetime, policy: GuardPolicy, window: dt.timedelta | None = None) -> Guard:
        """Count one attempt as failed (before asking the directory, so parallel attempts cannot overrun).

        An expired lock, or (with `window`) failures older than the window, start the count afresh.
        """
        failures = self.failures
        if self.locked_until is not None and self.locked_until <= now:
            failures = 0
        elif window is not None and self.updated_at is not None and now - self.updated_at > window:
            failures = 0
        failures += 1
        until = now + policy.lock_for if failures >= policy.max_failures else None
        return Guard(self.key, failures, until, now)

    def refund(self, now: dt.datetime, policy: GuardPolicy) -> Guard:
        """Take back one charged attempt (it succeeded, or the system was unavailable); lifts a lock it caused."""
        failures = max(0, self.failures - 1)
        until = self.locked_until if failures >= policy.max_failures else None
        return replace(self, failures=failures, locked_until=until, updated_at=now)


class AuditOutcome(enum.StrEnum):
    """What happened in one lookup attempt (internal: the citizen sees not_found and mismatch alike)."""

    VERIFIED = "verified"
    NOT_FOUND = "not_found"
    MISMATCH = "mismatch"
    LOCKED = "locked"
    INVALID_NUMBER = "invalid_number"
    BAD_VERIFIER = "bad_verifier"
    UNSUPPORTED = "unsupported"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class CaseAudit:
    """One audited lookup attempt: never the verifier, never the full case number or raw user id."""

    created_at: dt.datetime
    channel: str
    user_key: str  # keyed hash of the caller's user key
    agency: str | None
    case_ref: str  # masked case number plus a short keyed hash, or "-" when the number was invalid
    outcome: AuditOutcome
    verifier_kind: VerifierKind | None = None
    id: int | None = None
