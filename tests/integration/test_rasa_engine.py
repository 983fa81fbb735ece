"""`--engine rasa`: web, LINE and Telegram turns forwarded to a Rasa REST channel, data in and out.

A local stand-in for Rasa (a real HTTP server on 127.0.0.1) records each request and answers with the
JSON Rasa 3.6's REST channel returns, so the tests assert exactly what Rasa receives and what citizens get.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from bot.adapters.rasa_rest import NO_REPLY, UNAVAILABLE, RasaRestDialogue
from bot.bootstrap import App, bootstrap
from bot.config import DEV_SECRET_KEY, Settings
from bot.dialogue.messages import Inbound, QuickReply, Reply
from bot.dialogue.texts import t
from bot.entrypoints import cli
from bot.entrypoints.web import create_app
from bot.services.answering import InputError
from tests.recorder import NOTHING, Recorder, seeded_data_dir, stored_rows

SID = "session-0001"


@dataclass
class FakeRasa:
    """Rasa's REST channel on a loopback port: records request bodies, answers with queued (status, body)."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    queued: list[tuple[int, bytes]] = field(default_factory=list)
    url: str = ""
    _server: ThreadingHTTPServer | None = None

    def start(self) -> FakeRasa:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                self._send(200, b"Hello from Rasa: 3.6.21", "text/plain")

            def do_POST(self) -> None:  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                fake.requests.append(
                    {"path": self.path, "content_type": self.headers["Content-Type"], "body": json.loads(raw)}
                )
                status, body = fake.queued.pop(0) if fake.queued else (200, b"[]")
                self._send(status, body, "application/json")

            def _send(self, status: int, body: bytes, kind: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    def will_answer(self, *messages: dict[str, Any], status: int = 200) -> None:
        """Queue one REST channel response (each message gets Rasa's `recipient_id`, filled in at send time)."""
        self.queued.append((status, json.dumps(list(messages), ensure_ascii=False).encode()))

    def will_send_raw(self, status: int, body: bytes) -> None:
        self.queued.append((status, body))


def sender_of(channel: str, user_id: str) -> str:
    """The sender Rasa must see: HMAC-SHA256 of channel NUL user id under the secret key, 40 hex digits."""
    return hmac.new(DEV_SECRET_KEY.encode(), f"{channel}\x00{user_id}".encode(), hashlib.sha256).hexdigest()[:40]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture()
def rasa() -> Iterator[FakeRasa]:
    fake = FakeRasa().start()
    yield fake
    fake.stop()


@pytest.fixture()
def data_dir(tmp_path: Path) -> Path:
    return seeded_data_dir(tmp_path / "data")


@pytest.fixture()
def app(data_dir: Path, rasa: FakeRasa) -> App:
    return bootstrap(Settings(data_dir=data_dir, engine="rasa", rasa_url=rasa.url, rasa_timeout=5))


@pytest.fixture()
def client(app: App) -> Iterator[TestClient]:
    with TestClient(create_app(app)) as test_client:
        yield test_client


def chat(client: TestClient, **body: Any) -> httpx.Response:
    return client.post("/api/chat", json={"session_id": SID, **body})


def test_a_question_reaches_rasa_with_a_hashed_sender_and_the_answer_comes_back(
    client: TestClient, app: App, rasa: FakeRasa
) -> None:
    sender = sender_of("web", SID)
    answer = "可以，本分署受理信用卡繳納。\n資料來源：新竹分署繳款須知，三、繳納方式"
    rasa.will_answer(
        {
            "recipient_id": sender,
            "text": answer,
            "buttons": [
                {"title": "👍 有幫助", "payload": "/feedback_helpful"},
                {"title": "👎 沒幫助", "payload": "/feedback_unhelpful"},
            ],
        },
    )

    r = chat(client, text="  可以刷卡繳嗎？ ", agency="aea-hsinchu")

    assert isinstance(app.dialogue, RasaRestDialogue)
    assert rasa.requests == [
        {
            "path": "/webhooks/rest/webhook",
            "content_type": "application/json",
            "body": {
                "sender": sender,
                "message": "可以刷卡繳嗎？",
                "metadata": {"channel": "web", "agency": "aea-hsinchu", "language": "zh-TW"},
            },
        }
    ]
    assert SID not in json.dumps(rasa.requests)
    assert r.status_code == 200
    assert r.json() == {
        "session_id": SID,
        "text": answer,
        "quick_replies": [
            {"label": "👍 有幫助", "payload": "/feedback_helpful"},
            {"label": "👎 沒幫助", "payload": "/feedback_unhelpful"},
        ],
        "faq_id": None,
        "topic": None,
        "agency": "aea-hsinchu",
        "fallback": False,
        "sources": [],
        "state": "idle",
        "language": "zh-TW",
        "turn_id": None,
        "feedback": False,
        "kind": "answer",
    }
    # Rasa's actions record the turns; the forwarding engine records nothing of its own.
    assert stored_rows(app) == NOTHING


def test_buttons_become_quick_replies_every_channel_can_carry_and_come_back_as_rasa_expects(
    client: TestClient, app: App, rasa: FakeRasa
) -> None:
    entry = app.answers.entry("pay-credit-card")
    assert entry is not None and entry.question_en
    rasa.will_answer(
        {"recipient_id": "x", "text": "抱歉，我不太確定您的意思。您是不是想問："},
        {
            "recipient_id": "x",
            "text": "請選擇：",
            "buttons": [
                {"title": entry.question_zh, "payload": entry.question_zh},  # "did you mean": the FAQ's own question
                {"title": "Card?", "payload": entry.question_en},
                {"title": "新竹分署", "payload": '/choose_agency{"agency": "aea-hsinchu"}'},
                {"title": "取消", "payload": "取消"},
                {"title": "太長", "payload": "/inform" + "x" * 60},  # > 64 bytes: dropped
                {"title": "其他", "payload": "其他問題"},  # non-ASCII, not mappable: dropped
                {"title": "假評分", "payload": "fb:1:1"},  # the channels' own rating payload: never from Rasa
            ],
        },
    )
    first = chat(client, text="刷卡").json()
    assert first["text"] == "抱歉，我不太確定您的意思。您是不是想問：\n\n請選擇："
    assert first["quick_replies"] == [
        {"label": entry.question_zh, "payload": "faq:pay-credit-card"},
        {"label": "Card?", "payload": "faq:pay-credit-card:en"},
        {"label": "新竹分署", "payload": '/choose_agency{"agency": "aea-hsinchu"}'},
        {"label": "取消", "payload": "cancel"},
    ]
    for q in first["quick_replies"]:
        rasa.will_answer({"recipient_id": "x", "text": "好的"})
        assert chat(client, payload=q["payload"]).status_code == 200
    assert [r["body"]["message"] for r in rasa.requests] == [
        "刷卡",
        entry.question_zh,
        entry.question_en,
        '/choose_agency{"agency": "aea-hsinchu"}',
        "取消",
    ]


def test_civicbot_fields_in_custom_fill_the_reply_and_channel_ratings_are_stored_here(
    client: TestClient, app: App, rasa: FakeRasa
) -> None:
    """A Rasa action may add civicbot's fields as `custom`; a rating of a stored turn is recorded without Rasa."""
    with app.uow_factory() as uow:  # a turn as civicbot's Rasa actions record it
        result = app.answers.record(
            uow, app.answers.answer_entry("pay-credit-card", agency="aea-hsinchu"), (), "rasa", "k" * 40
        )
        uow.commit()
    assert result.turn_id is not None
    rasa.will_answer(
        {"recipient_id": "x", "text": "可以刷卡。"},
        {"recipient_id": "x", "image": "https://example.gov.tw/card.png"},
        {
            "recipient_id": "x",
            "custom": {
                "faq_id": "pay-credit-card",
                "topic": "payment",
                "turn_id": result.turn_id,
                "feedback": True,
                "sources": [{"document": "繳款須知", "section": "三", "agency": "aea-hsinchu"}, {"document": 3}],
            },
        },
    )
    body = chat(client, text="可以刷卡嗎").json()
    assert body["text"] == "可以刷卡。\n\nhttps://example.gov.tw/card.png"
    assert (body["faq_id"], body["topic"], body["turn_id"], body["feedback"], body["kind"]) == (
        "pay-credit-card",
        "payment",
        result.turn_id,
        True,
        "answer",
    )
    assert body["sources"] == [{"document": "繳款須知", "section": "三", "agency": "aea-hsinchu"}]

    rated = chat(client, payload=f"fb:{result.turn_id}:1").json()
    assert rated["text"] == t("feedback_thanks", "zh-TW") and rated["kind"] == "feedback"
    assert chat(client, payload="fb:999999:0").json()["text"] == t("feedback_unknown", "zh-TW")
    assert client.post(
        "/api/feedback", json={"session_id": SID, "turn_id": result.turn_id, "helpful": False}
    ).json() == {"ok": True}
    assert client.post("/api/feedback", json={"session_id": SID, "turn_id": 999999, "helpful": True}).status_code == 404
    assert len(rasa.requests) == 1  # ratings never went to Rasa
    assert stored_rows(app)["answer_feedback"] == 2


def test_an_english_question_is_sent_as_english_and_an_empty_rasa_answer_is_a_fallback(
    client: TestClient, rasa: FakeRasa
) -> None:
    body = chat(client, text="Can I pay by credit card?", language="zh-TW").json()
    assert rasa.requests[0]["body"]["metadata"] == {"channel": "web", "agency": None, "language": "en"}
    assert (body["text"], body["fallback"], body["kind"], body["language"]) == (NO_REPLY, True, "fallback", "en")


@pytest.mark.parametrize(
    ("status", "raw"),
    [
        (500, b'{"error": "boom"}'),
        (200, b"<html>proxy error</html>"),
        (200, b'{"text": "not a list"}'),
        (200, b'[{"text": "ok"}, "junk"]'),
        (404, b"[]"),
    ],
)
def test_a_broken_rasa_answer_is_a_polite_reply_and_logged_without_personal_data(
    client: TestClient, rasa: FakeRasa, caplog: pytest.LogCaptureFixture, status: int, raw: bytes
) -> None:
    rasa.will_send_raw(status, raw)
    with caplog.at_level(logging.INFO):
        r = chat(client, text="我的身分證 A123456789 要怎麼查案件")
    assert r.status_code == 200
    body = r.json()
    assert (body["text"], body["fallback"], body["kind"], body["quick_replies"]) == (UNAVAILABLE, True, "error", [])
    logged = "\n".join(rec.getMessage() for rec in caplog.records if rec.name.startswith("bot"))
    assert "rasa unavailable channel=web" in logged
    assert "A123456789" not in logged and SID not in logged and "Traceback" not in caplog.text


def test_rasa_down_is_a_polite_reply_and_the_health_check_says_so(data_dir: Path) -> None:
    app = bootstrap(Settings(data_dir=data_dir, engine="rasa", rasa_url=f"http://127.0.0.1:{free_port()}"))
    with TestClient(create_app(app)) as client:
        r = chat(client, text="可以刷卡繳嗎？")
        assert r.status_code == 200 and r.json()["text"] == UNAVAILABLE and r.json()["fallback"] is True
        health = client.get("/healthz")
        assert health.status_code == 200
        assert health.json()["engine"] == "rasa" and health.json()["rasa"] == "unreachable"


def test_health_reports_the_engine(client: TestClient, data_dir: Path) -> None:
    assert client.get("/healthz").json()["rasa"] == "ok"
    native = bootstrap(Settings(data_dir=data_dir))
    with TestClient(create_app(native)) as other:
        health = other.get("/healthz").json()
    assert health["engine"] == "native" and "rasa" not in health


def test_input_is_checked_as_the_native_engine_checks_it(client: TestClient, app: App, rasa: FakeRasa) -> None:
    assert app.dialogue is not None
    with pytest.raises(InputError):
        app.dialogue.handle(Inbound("fax", "u1", text="你好"))
    with pytest.raises(InputError):
        app.dialogue.handle(Inbound("web", "u1", text="你好", payload="/greet"))
    with pytest.raises(InputError):
        app.dialogue.handle(Inbound("line", "u1", payload="選項"))
    assert chat(client, text="你好", agency="nowhere").status_code == 422
    assert chat(client, text="   ").status_code == 422
    assert rasa.requests == []


def test_a_signed_line_message_goes_through_rasa_and_its_buttons_come_back_as_quick_replies(
    data_dir: Path, rasa: FakeRasa
) -> None:
    secret, token, user = "5f0e5c8b1d2a4e6f9a7b3c1d2e4f6a8b", "line-test-channel-access-token-0123456789", "U4af49806"
    line_api = Recorder().start()
    try:
        settings = Settings(
            data_dir=data_dir,
            engine="rasa",
            rasa_url=rasa.url,
            line_channel_secret=secret,
            line_channel_access_token=token,
            line_api_base_url=line_api.url,
        )
        rasa.will_answer(
            {
                "recipient_id": "x",
                "text": "您好！請問要查詢什麼？",
                "buttons": [
                    {"title": "查詢案件進度", "payload": "/case_lookup"},
                    {"title": "陳情", "payload": "/complaint"},
                ],
            }
        )
        event = {
            "type": "message",
            "mode": "active",
            "timestamp": 1718000000000,
            "source": {"type": "user", "userId": user},
            "webhookEventId": "01HZX5T7K9Q2M4N6P8R0S2T4V6",
            "deliveryContext": {"isRedelivery": False},
            "replyToken": "38ef843bde154d9b91c21320ffd17a0f",
            "message": {"type": "text", "id": "468789577898262530", "quoteToken": "q3", "text": "你好"},
        }
        body = json.dumps({"destination": "Uf00d", "events": [event]}, ensure_ascii=False).encode()
        signature = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
        with TestClient(create_app(bootstrap(settings))) as client:
            r = client.post(
                "/line/webhook",
                content=body,
                headers={"Content-Type": "application/json", "X-Line-Signature": signature},
            )
        assert r.status_code == 200
        assert [q["body"] for q in rasa.requests] == [
            {
                "sender": sender_of("line", user),
                "message": "你好",
                "metadata": {"channel": "line", "agency": None, "language": "zh-TW"},
            }
        ]
        [call] = line_api.calls("reply")
        assert call.body["messages"] == [
            {
                "type": "text",
                "text": "您好！請問要查詢什麼？",
                "quickReply": {
                    "items": [
                        {
                            "type": "action",
                            "action": {
                                "type": "postback",
                                "label": "查詢案件進度",
                                "data": "/case_lookup",
                                "displayText": "查詢案件進度",
                            },
                        },
                        {
                            "type": "action",
                            "action": {
                                "type": "postback",
                                "label": "陳情",
                                "data": "/complaint",
                                "displayText": "陳情",
                            },
                        },
                    ]
                },
            }
        ]
    finally:
        line_api.stop()


def test_the_reply_is_one_reply_object(rasa: FakeRasa, app: App) -> None:
    """Mapping on its own: several messages, duplicate buttons, unknown fields ignored."""
    assert isinstance(app.dialogue, RasaRestDialogue)
    rasa.will_answer(
        {"recipient_id": "x", "text": "a", "buttons": [{"title": "Hi", "payload": "/greet"}]},
        {
            "recipient_id": "x",
            "text": "b",
            "buttons": [{"title": "Hi again", "payload": "/greet"}],
            "attachment": {"x": 1},
        },
        {
            "recipient_id": "x",
            "custom": {"fallback": True, "language": "en", "state": "case_verify", "sources": "nope", "turn_id": True},
        },
    )
    reply = app.dialogue.handle(Inbound("telegram", "42", payload="/greet", agency="aea-hsinchu"))
    assert reply == Reply(
        "a\n\nb",
        (QuickReply("Hi", "/greet"),),
        agency="aea-hsinchu",
        fallback=True,
        state="case_verify",
        language="en",
        kind="fallback",
    )
    assert rasa.requests[0]["body"] == {
        "sender": sender_of("telegram", "42"),
        "message": "/greet",
        "metadata": {"channel": "telegram", "agency": "aea-hsinchu", "language": None},
    }


def test_rasa_needs_a_url_and_serve_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(ValidationError, match="CIVICBOT_RASA_URL"):
        Settings(engine="rasa")
    with pytest.raises(ValidationError, match="http"):
        Settings(engine="rasa", rasa_url="127.0.0.1:5005")
    monkeypatch.setenv("CIVICBOT_ENGINE", "native")
    monkeypatch.delenv("CIVICBOT_RASA_URL", raising=False)
    assert cli.main(["serve", "--engine", "rasa"]) == 2
    assert "CIVICBOT_RASA_URL" in capsys.readouterr().err
