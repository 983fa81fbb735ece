"""The chat API over the real store (SQLite and PostgreSQL): contract, limits, bad input, shared state."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot.adapters.sql.orm import ConversationRow, FeedbackRow, TurnRow, UnansweredRow
from bot.bootstrap import App, bootstrap
from bot.config import Settings
from bot.entrypoints.web import create_app

SID = "session-0001"


MUTABLE = (FeedbackRow, UnansweredRow, TurnRow, ConversationRow)


@pytest.fixture()
def settings(store_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    cache = tmp_path_factory.getbasetemp() / "web-api-index-cache"
    return Settings(database_url=store_url, data_dir=cache)


@pytest.fixture()
def app(settings: Settings) -> Iterator[App]:
    built = bootstrap(settings)
    yield built
    assert built.engine is not None
    with built.engine.begin() as conn:
        for table in MUTABLE:
            conn.execute(table.__table__.delete())
    built.engine.dispose()


@pytest.fixture()
def client(app: App) -> Iterator[TestClient]:
    with TestClient(create_app(app)) as c:
        yield c


def count(app: App, table: type) -> int:
    assert app.engine is not None
    with app.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar() or 0)


def test_chat_answers_with_source_and_feedback_is_stored(client: TestClient, app: App) -> None:
    r = client.post("/api/chat", json={"session_id": SID, "text": "可以刷卡繳嗎？", "agency": "aea-hsinchu"})
    assert r.status_code == 200
    body = r.json()
    assert body["faq_id"] == "pay-credit-card" and body["topic"] == "payment" and body["fallback"] is False
    assert body["sources"][0]["document"].startswith("新竹分署") and body["sources"][0]["section"]
    assert body["feedback"] is True and isinstance(body["turn_id"], int)
    assert set(body) >= {"text", "quick_replies", "faq_id", "topic", "fallback", "sources", "state"}
    fb = client.post("/api/feedback", json={"session_id": SID, "turn_id": body["turn_id"], "helpful": True})
    assert fb.status_code == 200 and fb.json() == {"ok": True}
    assert count(app, FeedbackRow) == 1
    missing = client.post("/api/feedback", json={"session_id": SID, "turn_id": 10**6, "helpful": True})
    assert missing.status_code == 404
    assert count(app, FeedbackRow) == 1


def test_quick_reply_round_trip_and_state_in_the_database(client: TestClient, app: App) -> None:
    first = client.post("/api/chat", json={"session_id": SID, "text": "可以分期繳納嗎？"}).json()
    assert first["kind"] == "choose_agency" and first["state"] == "choosing_agency"
    payload = first["quick_replies"][0]["payload"]
    second = client.post("/api/chat", json={"session_id": SID, "payload": payload}).json()
    assert second["kind"] == "answer" and second["agency"] == payload.split(":", 1)[1]
    assert count(app, ConversationRow) == 1


def test_state_is_shared_between_server_processes(app: App, settings: Settings) -> None:
    """Two independently bootstrapped apps (as two workers would be) continue the same conversation."""
    other = bootstrap(settings)
    try:
        with TestClient(create_app(app)) as one, TestClient(create_app(other)) as two:
            first = one.post("/api/chat", json={"session_id": SID, "text": "可以分期繳納嗎？"}).json()
            assert first["state"] == "choosing_agency"
            second = two.post("/api/chat", json={"session_id": SID, "text": "宜蘭分署"}).json()
            assert second["kind"] == "answer" and second["agency"] == "aea-yilan"
    finally:
        assert other.engine is not None
        other.engine.dispose()


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"content": b"{not json", "headers": {"content-type": "application/json"}}, 422),
        ({"content": b"text=hi", "headers": {"content-type": "application/x-www-form-urlencoded"}}, 415),
        ({"content": json.dumps({"session_id": SID, "text": "hi"}), "headers": {"content-type": "text/plain"}}, 415),
        ({"json": {"session_id": SID, "text": "x" * 20_000}}, 413),
        ({"json": {"session_id": SID, "text": "x" * 2001}}, 422),
        ({"json": {"session_id": SID, "text": ""}}, 422),
        ({"json": {"session_id": SID, "text": "   \u200b  "}}, 422),
        ({"json": {"session_id": SID}}, 422),
        ({"json": {"session_id": SID, "text": "hi", "payload": "menu"}}, 422),
        ({"json": {"session_id": "x", "text": "hi"}}, 422),
        ({"json": {"session_id": "../../etc/passwd", "text": "hi"}}, 422),
        ({"json": {"session_id": SID, "text": "hi", "agency": "nowhere"}}, 422),
        ({"json": {"session_id": SID, "text": "hi", "admin": True}}, 422),
        ({"json": {"session_id": SID, "text": 42}}, 422),
        ({"json": [1, 2, 3]}, 422),
    ],
)
def test_bad_requests_get_a_clear_4xx_and_store_nothing(
    client: TestClient, app: App, kwargs: dict[str, object], status: int
) -> None:
    r = client.post("/api/chat", **kwargs)  # type: ignore[arg-type]
    assert r.status_code == status, r.text
    assert "detail" in r.json()
    assert "Traceback" not in r.text
    assert count(app, TurnRow) == 0 and count(app, ConversationRow) == 0 and count(app, UnansweredRow) == 0


def test_script_and_sql_injection_are_plain_text(client: TestClient, app: App) -> None:
    evil = "<script>alert(1)</script>' OR 1=1; DROP TABLE conversation_turns; --"
    r = client.post("/api/chat", json={"session_id": SID, "text": evil})
    assert r.status_code == 200 and r.json()["fallback"] is True
    assert r.headers["content-type"].startswith("application/json")
    assert count(app, TurnRow) == 1 and count(app, UnansweredRow) == 1


def test_health_docs_agencies_and_demo_page(client: TestClient) -> None:
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["entries"] >= 150
    assert "/api/chat" in client.get("/openapi.json").json()["paths"]
    assert {a["code"] for a in client.get("/api/agencies").json()} >= {"aea-hsinchu", "tpo-taitung"}
    assert client.get("/").status_code == 200


def test_cors_allows_an_agency_site_to_embed_the_widget(client: TestClient) -> None:
    r = client.options(
        "/api/chat",
        headers={
            "Origin": "https://www.example.gov.tw",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] in ("*", "https://www.example.gov.tw")
