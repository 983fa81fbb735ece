"""A CaseDirectory that asks an agency's own case system over HTTP (JSON contract below).

Request — `POST {CIVICBOT_CASE_API_URL}/cases/lookup`, `Content-Type: application/json`,
`Authorization: Bearer {CIVICBOT_CASE_API_TOKEN}` when a token is set:

    {"agency": "aea-hsinchu", "case_number": "113年度營稅執字第00012345號",
     "verifier_kind": "id_tail", "verifier": "6789"}

`case_number` is canonical (bot.core.case_number); `verifier_kind` is `id_tail` (last four of the
national ID / resident certificate number, four digits) or `query_code` (eight letters/digits from
the notice, upper case). The agency system verifies; the verifier travels only in this body.

Response — status 200 and one of:

    {"result": "verified", "case": {"status": "分期繳納中", "amount_outstanding": 12000,
                                     "handling_unit": "執行科第3股", "unit_phone": "03-1234567"}}
    {"result": "mismatch"}      # wrong verifier
    {"result": "not_found"}     # no such case (a system may answer "mismatch" for this too)

`amount_outstanding` is whole NT$ or null. Anything else — another status, a redirect, a body
that is not this JSON, a timeout or a refused connection — means "case system unavailable": the
citizen is told so and the attempt does not count as a failed verification.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from bot.domain.cases import Case, DirectoryAnswer, Found, Mismatch, NotFound, Unavailable, VerifierKind

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
MAX_TEXT_CHARS = 1000


class HttpCaseDirectory:
    """Looks cases up in an agency system; every failure becomes Unavailable, never an exception."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        timeout: float = 5.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"Accept": "application/json", "User-Agent": "civicbot"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._client = httpx.Client(
            base_url=base_url, headers=headers, timeout=timeout, transport=transport, follow_redirects=False
        )

    def lookup(self, agency: str, case_number: str, kind: VerifierKind, verifier: str) -> DirectoryAnswer:
        """Ask the agency system to verify and return the case."""
        body = {"agency": agency, "case_number": case_number, "verifier_kind": kind.value, "verifier": verifier}
        try:
            response = self._client.post("cases/lookup", json=body)
        except httpx.TimeoutException:
            return self._unavailable(agency, "timeout")
        except httpx.HTTPError as exc:
            return self._unavailable(agency, f"transport error ({type(exc).__name__})")
        if response.status_code != 200:
            return self._unavailable(agency, f"status {response.status_code}")
        if len(response.content) > MAX_BODY_BYTES:
            return self._unavailable(agency, "answer too large")
        try:
            data = response.json()
        except ValueError:
            return self._unavailable(agency, "answer is not JSON")
        answer = _parse(data, agency, case_number)
        return answer if answer is not None else self._unavailable(agency, "answer does not follow the contract")

    def close(self) -> None:
        """Release the connection pool."""
        self._client.close()

    @staticmethod
    def _unavailable(agency: str, reason: str) -> Unavailable:
        log.warning("case system unavailable agency=%s: %s", agency, reason)
        return Unavailable(reason)


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() and len(value) <= MAX_TEXT_CHARS else None


def _parse(data: Any, agency: str, case_number: str) -> DirectoryAnswer | None:
    """The directory answer for a decoded body, or None when it does not follow the contract."""
    if not isinstance(data, dict):
        return None
    result = data.get("result")
    if result == "mismatch":
        return Mismatch()
    if result == "not_found":
        return NotFound()
    if result != "verified" or not isinstance(data.get("case"), dict):
        return None
    case = data["case"]
    amount = case.get("amount_outstanding")
    if amount is not None and (isinstance(amount, bool) or not isinstance(amount, int) or amount < 0):
        return None
    status, unit, phone = _text(case.get("status")), _text(case.get("handling_unit")), _text(case.get("unit_phone"))
    if status is None or unit is None or phone is None:
        return None
    return Found(Case(agency, case_number, status, amount, unit, phone))
