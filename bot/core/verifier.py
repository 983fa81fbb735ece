"""Verification factors: what citizens may type, one normal form, and keyed hashes compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata

from bot.domain.cases import VerifierKind

MAX_VERIFIER_CHARS = 64

_ID_TAIL = re.compile(r"[0-9]{4}")
_QUERY_CODE = re.compile(r"[A-Z0-9]{8}")
# A whole national ID (A123456789) or resident certificate number (AB12345678, A812345678):
# accepted so a citizen who types all of it is not turned away; only its last four are used.
_FULL_ID = re.compile(r"[A-Z](?:[A-D]|[0-9])[0-9]{8}")
_SEPARATORS = re.compile(r"[\s\-_.·‐‑‒–—―−]+")


def normalise_verifier(text: str, kind: VerifierKind | None = None) -> tuple[VerifierKind, str] | None:
    """The kind and normal form of a verifier (inferred when `kind` is None); None when unrecognised. Never raises.

    `id_tail` is four digits (the last four of the ID); `query_code` is eight letters or digits as
    printed on the notice (dashes and spaces ignored, case-insensitive).
    """
    if not isinstance(text, str) or len(text) > MAX_VERIFIER_CHARS:
        return None
    value = _SEPARATORS.sub("", unicodedata.normalize("NFKC", text)).upper()
    if kind in (None, VerifierKind.ID_TAIL):
        if _ID_TAIL.fullmatch(value):
            return VerifierKind.ID_TAIL, value
        if _FULL_ID.fullmatch(value):
            return VerifierKind.ID_TAIL, value[-4:]
    if kind in (None, VerifierKind.QUERY_CODE) and _QUERY_CODE.fullmatch(value):
        return VerifierKind.QUERY_CODE, value
    return None


class CaseHasher:
    """Keyed (HMAC-SHA256) hashes of verifiers, user keys and case references, with a server-side pepper."""

    def __init__(self, pepper: str) -> None:
        if not pepper:
            raise ValueError("the case verifier pepper must not be empty")
        self._key = pepper.encode("utf-8")
        self._dummy = self._mac("dummy")

    def _mac(self, *parts: str) -> str:
        return hmac.new(self._key, "\x1f".join(parts).encode("utf-8"), hashlib.sha256).hexdigest()

    def verifier(self, agency: str, case_number: str, kind: VerifierKind, value: str) -> str:
        """The stored form of a normalised verifier, bound to its case so hashes cannot be reused across cases."""
        return self._mac("verifier-v1", agency, case_number, kind.value, value)

    def matches(self, stored: str | None, agency: str, case_number: str, kind: VerifierKind, value: str) -> bool:
        """Constant-time check of a verifier against a stored hash; a missing hash costs the same and fails."""
        computed = self.verifier(agency, case_number, kind, value)
        same = hmac.compare_digest((stored if stored is not None else self._dummy).encode(), computed.encode())
        return same and stored is not None

    def user(self, channel: str, user_key: str) -> str:
        """A keyed hash of the caller's user key (what guards and audit records store)."""
        return self._mac("user-v1", channel, user_key)

    def case(self, agency: str, case_number: str) -> str:
        """A keyed hash of a case number: guards are keyed by it, so they never hold the number itself."""
        return self._mac("case-v1", agency, case_number)

    def case_tag(self, agency: str, case_number: str) -> str:
        """A short keyed tag that lets audit records of one case be correlated without storing its number."""
        return self.case(agency, case_number)[:10]
