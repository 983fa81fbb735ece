"""HttpCaseDirectory against a real fake agency case system on 127.0.0.1 (http.server in a thread)."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from bot.adapters.case_http import HttpCaseDirectory
from bot.adapters.memory import InMemoryUnitOfWork, MemoryStore
from bot.core.verifier import CaseHasher
from bot.domain.cases import (
    AuditOutcome,
    Case,
    Found,
    Mismatch,
    NotFound,
    NotVerified,
    SystemUnavailable,
    Unavailable,
    Verified,
    VerifierKind,
)
from bot.services.case_lookup import CaseLookupService

NUMBER = "113年度營稅執字第00012345號"
CASE = {
    "status": "分期繳納中",
    "amount_outstanding": 12000,
    "handling_unit": "執行科第3股",
    "unit_phone": "03-5555-0103",
}


@dataclass
class AgencySystem:
    """What the fake agency system answers next, and every request it received."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)

    def answer(self, obj: Any, status: int = 200) -> None:
        self.status, self.body = status, json.dumps(obj, ensure_ascii=False).encode()


@pytest.fixture()
def agency() -> Iterator[tuple[AgencySystem, str]]:
    system = AgencySystem()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            length = int(self.headers.get("Content-Length", 0))
            system.requests.append(
                {"path": self.path, "headers": dict(self.headers), "body": json.loads(self.rfile.read(length))}
            )
            time.sleep(system.delay)
            self.send_response(system.status)
            for key, value in system.headers.items():
                self.send_header(key, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(system.body)))
            self.end_headers()
            self.wfile.write(system.body)

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield system, f"http://127.0.0.1:{server.server_address[1]}/api/v1"
    server.shutdown()
    server.server_close()


def test_verified_case_and_the_request_contract(agency) -> None:  # type: ignore[no-untyped-def]
    system, url = agency
    system.answer({"result": "verified", "case": CASE})
    directory = HttpCaseDirectory(url, token="s3cret-token", timeout=2)
    answer = directory.lookup("aea-hsinchu", NUMBER, VerifierKind.ID_TAIL, "6789")
    assert answer == Found(Case("aea-hsinchu", NUMBER, "分期繳納中", 12000, "執行科第3股", "03-5555-0103"))
    (request,) = system.requests
    assert request["path"] == "/api/v1/cases/lookup"  # no verifier in the URL
    assert request["headers"]["Authorization"] == "Bearer s3cret-token"
    assert request["body"] == {
        "agency": "aea-hsinchu",
        "case_number": NUMBER,
        "verifier_kind": "id_tail",
        "verifier": "6789",
    }
    directory.close()


def test_mismatch_and_not_found(agency) -> None:  # type: ignore[no-untyped-def]
    system, url = agency
    directory = HttpCaseDirectory(url)
    system.answer({"result": "mismatch"})
    assert directory.lookup("aea-hsinchu", NUMBER, VerifierKind.QUERY_CODE, "AB12CD34") == Mismatch()
    system.answer({"result": "not_found"})
    assert directory.lookup("aea-hsinchu", NUMBER, VerifierKind.QUERY_CODE, "AB12CD34") == NotFound()
    assert "Authorization" not in system.requests[0]["headers"]
    directory.close()


@pytest.mark.parametrize(
    ("status", "body", "headers"),
    [
        (500, b'{"result": "verified"}', {}),
        (503, b"", {}),
        (404, b'{"result": "not_found"}', {}),  # the contract answers with 200 only
        (302, b"", {"Location": "http://127.0.0.1:9/elsewhere"}),  # redirects are not followed
        (200, b"<html>maintenance</html>", {}),
        (200, b'["verified"]', {}),
        (200, b'{"result": "yes"}', {}),
        (200, b'{"result": "verified"}', {}),
        (200, json.dumps({"result": "verified", "case": {**CASE, "amount_outstanding": -1}}).encode(), {}),
        (200, json.dumps({"result": "verified", "case": {**CASE, "amount_outstanding": "12000"}}).encode(), {}),
        (200, json.dumps({"result": "verified", "case": {**CASE, "status": ""}}).encode(), {}),
        (200, b"{" * 70_000, {}),
    ],
)
def test_anything_off_contract_is_unavailable(agency, status: int, body: bytes, headers: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    system, url = agency
    system.status, system.body, system.headers = status, body, headers
    directory = HttpCaseDirectory(url, timeout=2)
    assert isinstance(directory.lookup("aea-hsinchu", NUMBER, VerifierKind.ID_TAIL, "6789"), Unavailable)
    assert len(system.requests) == 1
    directory.close()


def test_timeouts_and_refused_connections_are_unavailable(agency) -> None:  # type: ignore[no-untyped-def]
    system, url = agency
    system.answer({"result": "mismatch"})
    system.delay = 1.0
    slow = HttpCaseDirectory(url, timeout=0.2)
    assert slow.lookup("aea-hsinchu", NUMBER, VerifierKind.ID_TAIL, "6789") == Unavailable("timeout")
    slow.close()
    closed = HttpCaseDirectory("http://127.0.0.1:9/api", timeout=1)  # discard port: nothing listens
    answer = closed.lookup("aea-hsinchu", NUMBER, VerifierKind.ID_TAIL, "6789")
    assert isinstance(answer, Unavailable) and "transport error" in answer.reason
    closed.close()


def test_through_the_service_outages_cost_the_citizen_nothing(agency, caplog) -> None:  # type: ignore[no-untyped-def]
    system, url = agency
    caplog.set_level(logging.DEBUG)
    store = MemoryStore()
    hasher = CaseHasher("http-test-pepper-0123")
    directory = HttpCaseDirectory(url, timeout=2)
    service = CaseLookupService(directory, lambda: InMemoryUnitOfWork(store), hasher)

    def ask() -> object:
        return service.lookup(
            channel="web", user_key="u", agency="aea-hsinchu", case_number="113營稅執12345", verifier="ab12-cd34"
        )

    system.status, system.body = 502, b"bad gateway"
    for _ in range(7):
        assert ask() == SystemUnavailable()
    system.answer({"result": "mismatch"})
    assert ask() == NotVerified()
    system.answer({"result": "verified", "case": CASE})
    outcome = ask()
    assert isinstance(outcome, Verified) and outcome.case.case_number == NUMBER and not outcome.case.demo
    assert system.requests[-1]["body"]["verifier"] == "AB12CD34"  # normalised before it is sent
    assert [a.outcome for a in store.case_tables.audit] == [AuditOutcome.UNAVAILABLE] * 7 + [
        AuditOutcome.MISMATCH,
        AuditOutcome.VERIFIED,
    ]
    assert "AB12CD34" not in caplog.text and "ab12" not in caplog.text.lower()
    directory.close()
