"""LINE webhook, data in and out: signed LINE deliveries into the real app, exact Messaging API requests out.

The app is the real stack (bootstrap + create_app over an embedded SQLite store); the LINE SDK sends its
reply requests over HTTP to a local recorder (LINE_API_BASE_URL).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from bot.bootstrap import App, bootstrap
from bot.channels import line, replies
from bot.config import Settings
from bot.dialogue.messages import QuickReply, Reply
from bot.dialogue.texts import t
from bot.entrypoints.web import create_app
from tests.recorder import NOTHING, PRODUCTION, Recorder, seeded_data_dir, stored_rows

SECRET = "5f0e5c8b1d2a4e6f9a7b3c1d2e4f6a8b"
TOKEN = "line-test-channel-access-token-0123456789"
USER = "U4af4980629a1b2c3d4e5f60718293a4b"


@pytest.fixture()
def recorder() -> Iterator[Recorder]:
    rec = Recorder().start()
    yield rec
    rec.stop()


@pytest.fixture()
def app(tmp_path: Path, recorder: Recorder) -> App:
    settings = Settings(
        data_dir=seeded_data_dir(tmp_path / "data"),
        line_channel_secret=SECRET,
        line_channel_access_token=TOKEN,
        line_api_base_url=recorder.url,
    )
    return bootstrap(settings)


@pytest.fixture()
def client(app: App) -> Iterator[TestClient]:
    with TestClient(create_app(app)) as test_client:
        yield test_client


def sign(body: bytes, secret: str = SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def event(
    kind: str = "message",
    *,
    event_id: str = "01HZX5T7K9Q2M4N6P8R0S2T4V6",
    redelivery: bool = False,
    reply_token: str = "38ef843bde154d9b91c21320ffd17a0f",
    **fields: Any,
) -> dict[str, Any]:
    """One webhook event as LINE sends it."""
    return {
        "type": kind,
        "mode": "active",
        "timestamp": 1718000000000,
        "source": {"type": "user", "userId": USER},
        "webhookEventId": event_id,
        "deliveryContext": {"isRedelivery": redelivery},
        "replyToken": reply_token,
        **fields,
    }


def text_event(text: str, **kw: Any) -> dict[str, Any]:
    message = {"type": "text", "id": "468789577898262530", "quoteToken": "q3Plxr4AgKd", "text": text}
    return event("message", message=message, **kw)


def delivery(*events: dict[str, Any]) -> bytes:
    return json.dumps(
        {"destination": "Uf00dbeefcafe0123456789abcdef0123", "events": list(events)}, ensure_ascii=False
    ).encode()


def post(
    client: TestClient,
    body: bytes,
    *,
    signature: str | None = "sign",
    content_type: str = "application/json; charset=utf-8",
) -> int:
    headers = {"Content-Type": content_type}
    if signature is not None:
        headers["X-Line-Signature"] = sign(body) if signature == "sign" else signature
    return client.post("/line/webhook", content=body, headers=headers).status_code


def postback_button(label: str, data: str) -> dict[str, Any]:
    return {"type": "action", "action": {"type": "postback", "label": label, "data": data, "displayText": label}}


def feedback_buttons(turn_id: int) -> list[dict[str, Any]]:
    return [postback_button("👍 有幫助", f"fb:{turn_id}:1"), postback_button("👎 沒有幫助", f"fb:{turn_id}:0")]


def test_a_signed_question_gets_the_answer_with_its_source_and_feedback_buttons(
    client: TestClient, app: App, recorder: Recorder
) -> None:
    assert post(client, delivery(text_event("可以刷卡繳嗎？"))) == 200

    [call] = recorder.calls("reply")
    expected = app.answers.answer_entry("pay-credit-card")
    source = expected.sources[0]
    assert call.method == "POST" and call.path == "/v2/bot/message/reply"
    assert call.headers["Authorization"] == f"Bearer {TOKEN}"
    assert call.body == {
        "replyToken": "38ef843bde154d9b91c21320ffd17a0f",
        "messages": [
            {
                "type": "text",
                "text": f"{expected.answer}\n\n資料來源：{source.document}，{source.section}",
                "quickReply": {"items": feedback_buttons(1)},
            }
        ],
        "notificationDisabled": False,
    }
    assert stored_rows(app) == {**NOTHING, "conversation_turns": 1, "conversations": 1, "processed_events": 1}


def test_a_new_follower_is_greeted_with_the_menu_as_quick_replies(client: TestClient, recorder: Recorder) -> None:
    assert post(client, delivery(event("follow", follow={"isUnblocked": False}))) == 200

    [call] = recorder.calls("reply")
    assert call.body["messages"] == [
        {
            "type": "text",
            "text": t("greeting", "zh-TW"),
            "quickReply": {
                "items": [
                    postback_button("繳款方式", "faq:pay-methods-overview"),
                    postback_button("分期繳納", "faq:inst-apply-instalment"),
                    postback_button("拍賣投標", "faq:auc-mail-bidding"),
                    postback_button("查詢我的案件進度", "case"),
                    postback_button("申訴或檢舉", "complaint"),
                    postback_button("聯絡承辦同仁", "handoff"),
                ]
            },
        }
    ]


def test_a_postback_carries_the_payload_to_the_dialogue(client: TestClient, app: App, recorder: Recorder) -> None:
    post(client, delivery(text_event("可以刷卡繳嗎？")))
    rated = event(
        "postback",
        event_id="01HZX5T7K9Q2M4N6P8R0S2T4V7",
        reply_token="b60d432864f44d079f6d8efe86cf404b",
        postback={"data": "fb:1:1"},
    )

    assert post(client, delivery(rated)) == 200

    call = recorder.calls("reply")[-1]
    assert call.body == {
        "replyToken": "b60d432864f44d079f6d8efe86cf404b",
        "messages": [{"type": "text", "text": t("feedback_thanks", "zh-TW")}],
        "notificationDisabled": False,
    }
    assert stored_rows(app)["answer_feedback"] == 1


@pytest.mark.parametrize(
    "signature",
    [None, "", "not-base64-at-all", sign(b"another body"), "forged"],
    ids=["missing", "empty", "garbage", "other-body", "forged"],
)
def test_an_unsigned_or_forged_delivery_is_refused_and_changes_nothing(
    client: TestClient, app: App, recorder: Recorder, signature: str | None
) -> None:
    body = delivery(text_event("可以刷卡繳嗎？"))
    if signature == "forged":
        signature = sign(body, secret="a-guessed-secret-value")

    assert post(client, body, signature=signature) == 400

    assert recorder.requests == []
    assert stored_rows(app) == NOTHING


def test_a_redelivered_event_is_processed_once(client: TestClient, app: App, recorder: Recorder) -> None:
    assert post(client, delivery(text_event("可以刷卡繳嗎？"))) == 200
    assert post(client, delivery(text_event("可以刷卡繳嗎？", redelivery=True))) == 200

    assert len(recorder.calls("reply")) == 1
    assert stored_rows(app)["conversation_turns"] == 1


@pytest.mark.parametrize(
    "body",
    [b'{"events": [', b"\xff\xfe not utf-8", b"[1, 2]", b'{"events": "none"}', b'{"events": [42]}', b"[" * 100_000],
    ids=["truncated", "not-utf8", "array", "events-not-list", "event-not-object", "deep-nesting"],
)
def test_a_signed_but_malformed_body_is_a_400(client: TestClient, app: App, recorder: Recorder, body: bytes) -> None:
    signature = sign(body)
    assert post(client, body, signature=signature) == 400
    assert recorder.requests == [] and stored_rows(app) == NOTHING


def test_an_oversized_body_is_a_413(client: TestClient, app: App, recorder: Recorder) -> None:
    body = delivery(text_event("稅" * 400_000))
    assert post(client, body) == 413
    assert recorder.requests == [] and stored_rows(app) == NOTHING


def test_a_body_that_is_not_json_is_a_415(client: TestClient, app: App, recorder: Recorder) -> None:
    body = delivery(text_event("可以刷卡繳嗎？"))
    assert post(client, body, content_type="text/plain") == 415
    assert recorder.requests == [] and stored_rows(app) == NOTHING


def test_a_sticker_gets_a_polite_request_for_text(client: TestClient, app: App, recorder: Recorder) -> None:
    sticker = {
        "type": "sticker",
        "id": "1",
        "quoteToken": "q",
        "packageId": "446",
        "stickerId": "1988",
        "stickerResourceType": "STATIC",
    }
    assert post(client, delivery(event("message", message=sticker))) == 200

    [call] = recorder.calls("reply")
    assert call.body["messages"] == [{"type": "text", "text": replies.NOT_TEXT}]
    assert stored_rows(app)["conversation_turns"] == 0


def test_events_we_do_not_answer_are_ignored(client: TestClient, app: App, recorder: Recorder) -> None:
    unfollow = event("unfollow")
    del unfollow["replyToken"]
    unknown = event("somethingNew", event_id="01HZX5T7K9Q2M4N6P8R0S2T4V9")
    assert post(client, delivery(unfollow, unknown)) == 200
    assert post(client, delivery()) == 200  # the console's "Verify" button sends no events
    assert recorder.requests == [] and stored_rows(app) == NOTHING


def test_a_script_tag_is_just_text(client: TestClient, app: App, recorder: Recorder) -> None:
    question = "<script>alert('x')</script> 可以刷卡繳嗎？"
    assert post(client, delivery(text_event(question))) == 200

    [call] = recorder.calls("reply")
    [message] = call.body["messages"]
    assert message["type"] == "text" and "<script" not in message["text"]
    assert stored_rows(app)["conversation_turns"] == 1


def test_the_channel_is_not_mounted_without_credentials(tmp_path: Path) -> None:
    app = bootstrap(Settings(data_dir=seeded_data_dir(tmp_path / "data")))
    with TestClient(create_app(app)) as client:
        assert client.post("/line/webhook", content=delivery()).status_code == 404


def test_credentials_come_from_the_platforms_variable_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINE_CHANNEL_SECRET", SECRET)
    monkeypatch.setenv("LINE_CHANNEL_ACCESS_TOKEN", "")  # empty means unset, e.g. compose's ${VAR:-}
    monkeypatch.setenv("LINE_API_BASE_URL", "http://127.0.0.1:9")
    settings = Settings()
    assert (settings.line_channel_secret, settings.line_channel_access_token) == (SECRET, None)
    assert settings.line_api_base_url == "http://127.0.0.1:9"


@pytest.mark.parametrize("value", ["changeme", "xxxxxxxxxxxxxxxx", "<your channel secret>", "   ", "secret"])
def test_placeholder_credentials_are_refused_outside_dev(value: str) -> None:
    with pytest.raises(ValidationError, match="LINE_CHANNEL_SECRET looks like a placeholder"):
        Settings(**PRODUCTION, line_channel_secret=value, line_channel_access_token=TOKEN)
    Settings(env="dev", line_channel_secret=value)  # fine on a developer's machine


def test_long_replies_are_split_and_choices_capped_at_thirteen() -> None:
    paragraph = "申請分期繳納的說明。" * 100  # 1,000 characters
    choices = tuple(QuickReply(f"選項{i}：一個非常非常非常非常非常長的標籤文字", f"faq:e{i}") for i in range(15))
    reply = Reply(text="\n".join([paragraph] * 30), quick_replies=choices, turn_id=7, feedback=True, faq_id="x")

    messages = [m.to_dict() for m in line.to_messages(reply)]

    assert len(messages) == 5 and all(len(m["text"]) <= line.MAX_TEXT for m in messages)
    assert messages[-1]["text"].endswith("…")
    assert all("quickReply" not in m for m in messages[:-1])
    items = messages[-1]["quickReply"]["items"]
    assert len(items) == 13
    assert items[0]["action"] == {
        "type": "postback",
        "label": "選項0：一個非常非常非常非常非常長的標…",  # LINE's 20-character label limit
        "data": "faq:e0",
        "displayText": "選項0：一個非常非常非常非常非常長的標籤文字",
    }
    assert [i["action"]["data"] for i in items[-2:]] == ["fb:7:1", "fb:7:0"]


def test_logs_carry_neither_the_user_id_nor_personal_data(
    client: TestClient, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot")
    caplog.set_level(logging.INFO)
    question = "我的身分證是A123456789，電話0912345678，可以刷卡繳嗎？"

    assert post(client, delivery(text_event(question))) == 200

    assert recorder.calls("reply") and "line message from user" in caplog.text
    for secret in (USER, TOKEN, SECRET, "A123456789", "0912345678"):
        assert secret not in caplog.text
