"""Telegram, data in and out: Bot API updates into the real app (webhook and polling), exact Bot API requests out.

The app is the real stack (bootstrap + create_app over an embedded SQLite store); python-telegram-bot sends
its requests over HTTP to a local recorder (TELEGRAM_API_BASE_URL).
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from bot.bootstrap import App, bootstrap
from bot.channels import replies, telegram
from bot.config import Settings
from bot.dialogue.texts import t
from bot.entrypoints import cli
from bot.entrypoints.web import create_app
from tests.recorder import NOTHING, PRODUCTION, Recorder, seeded_data_dir, stored_rows

TOKEN = "7000000001:AAF-test-token-for-the-recorder-0123456"
SECRET = "tg-webhook-secret-0123456789"
CHAT = 52749133
CITIZEN = {"id": CHAT, "is_bot": False, "first_name": "美玲", "language_code": "zh-hant"}
PRIVATE_CHAT = {"id": CHAT, "type": "private", "first_name": "美玲"}


@pytest.fixture()
def recorder() -> Iterator[Recorder]:
    rec = Recorder().start()
    yield rec
    rec.stop()


def settings_for(tmp_path: Path, recorder: Recorder, **extra: Any) -> Settings:
    return Settings(
        data_dir=seeded_data_dir(tmp_path / "data"),
        telegram_bot_token=TOKEN,
        telegram_api_base_url=f"{recorder.url}/bot",
        **extra,
    )


@pytest.fixture()
def app(tmp_path: Path, recorder: Recorder) -> App:
    return bootstrap(settings_for(tmp_path, recorder, telegram_webhook_secret=SECRET))


@pytest.fixture()
def client(app: App, recorder: Recorder) -> Iterator[TestClient]:
    with TestClient(create_app(app)) as test_client:
        assert [r.api_method for r in recorder.requests] == ["getMe"]  # the lifespan initialised the bot
        recorder.requests.clear()
        yield test_client


def message_update(update_id: int, text: str, **message: Any) -> dict[str, Any]:
    """A private-chat text message update as the Bot API delivers it."""
    body = {"message_id": 11, "date": 1718000000, "chat": PRIVATE_CHAT, "from": CITIZEN, "text": text, **message}
    return {"update_id": update_id, "message": body}


def command_update(update_id: int, command: str) -> dict[str, Any]:
    entity = [{"type": "bot_command", "offset": 0, "length": len(command)}]
    return message_update(update_id, command, entities=entity)


def post(
    client: TestClient,
    update: dict[str, Any] | bytes,
    *,
    secret: str | None = SECRET,
    content_type: str = "application/json",
) -> int:
    headers = {"Content-Type": content_type}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    body = update if isinstance(update, bytes) else json.dumps(update, ensure_ascii=False).encode()
    return client.post("/telegram/webhook", content=body, headers=headers).status_code


def sent(recorder: Recorder) -> list[dict[str, Any]]:
    """sendMessage form fields, with the inline keyboard decoded from its JSON string."""
    bodies = []
    for call in recorder.calls("sendMessage"):
        body = dict(call.body)
        if "reply_markup" in body:
            body["reply_markup"] = json.loads(body["reply_markup"])
        bodies.append(body)
    return bodies


def button(label: str, data: str) -> dict[str, str]:
    return {"text": label, "callback_data": data}


def test_a_question_gets_the_answer_with_its_source_and_feedback_buttons(
    client: TestClient, app: App, recorder: Recorder
) -> None:
    assert post(client, message_update(1001, "可以刷卡繳嗎？")) == 200

    expected = app.answers.answer_entry("pay-credit-card")
    source = expected.sources[0]
    assert sent(recorder) == [
        {
            "chat_id": str(CHAT),
            "text": f"{expected.answer}\n\n資料來源：{source.document}，{source.section}",
            "reply_markup": {"inline_keyboard": [[button("👍 有幫助", "fb:1:1"), button("👎 沒有幫助", "fb:1:0")]]},
        }
    ]
    [call] = recorder.calls("sendMessage")
    assert call.path == f"/bot{TOKEN}/sendMessage"
    assert stored_rows(app) == {**NOTHING, "conversation_turns": 1, "conversations": 1, "processed_events": 1}


def test_start_greets_with_the_menu_as_an_inline_keyboard(client: TestClient, recorder: Recorder) -> None:
    assert post(client, command_update(1002, "/start")) == 200

    assert sent(recorder) == [
        {
            "chat_id": str(CHAT),
            "text": t("greeting", "zh-TW"),
            "reply_markup": {
                "inline_keyboard": [
                    [button("繳款方式", "faq:pay-methods-overview")],
                    [button("分期繳納", "faq:inst-apply-instalment")],
                    [button("拍賣投標", "faq:auc-mail-bidding")],
                    [button("查詢我的案件進度", "case")],
                    [button("申訴或檢舉", "complaint")],
                    [button("聯絡承辦同仁", "handoff")],
                ]
            },
        }
    ]


def test_help_in_english_describes_the_assistant(client: TestClient, recorder: Recorder) -> None:
    update = command_update(1003, "/help")
    update["message"]["from"] = {**CITIZEN, "language_code": "en"}
    assert post(client, update) == 200
    assert [b["text"] for b in sent(recorder)] == [t("capabilities", "en")]


def test_a_pressed_button_is_answered_and_its_data_goes_to_the_dialogue(
    client: TestClient, app: App, recorder: Recorder
) -> None:
    post(client, message_update(1004, "可以刷卡繳嗎？"))
    bot_message = {
        "message_id": 101,
        "date": 1718000001,
        "chat": PRIVATE_CHAT,
        "from": {"id": 7000000001, "is_bot": True, "first_name": "CivicBot"},
        "text": "可以。",
    }
    press = {
        "update_id": 1005,
        "callback_query": {
            "id": "4382bfdwdsb323b2d9",
            "from": CITIZEN,
            "chat_instance": "-7385020303",
            "data": "fb:1:1",
            "message": bot_message,
        },
    }

    assert post(client, press) == 200

    [answered] = recorder.calls("answerCallbackQuery")
    assert answered.body == {"callback_query_id": "4382bfdwdsb323b2d9"}
    assert sent(recorder)[-1] == {"chat_id": str(CHAT), "text": t("feedback_thanks", "zh-TW")}
    assert stored_rows(app)["answer_feedback"] == 1


@pytest.mark.parametrize(
    ("secret", "status"), [(None, 401), ("", 403), ("wrong-secret", 403), (SECRET + "x", 403), ("秘密".encode(), 403)]
)
def test_a_missing_or_wrong_secret_is_refused_and_nothing_is_processed(
    client: TestClient, app: App, recorder: Recorder, secret: str | bytes | None, status: int
) -> None:
    headers: dict[str, str | bytes] = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    body = json.dumps(message_update(1006, "可以刷卡繳嗎？")).encode()

    response = client.post("/telegram/webhook", content=body, headers=headers)

    assert response.status_code == status
    assert recorder.requests == [] and stored_rows(app) == NOTHING


def test_a_repeated_update_id_is_processed_once(client: TestClient, app: App, recorder: Recorder) -> None:
    assert post(client, message_update(1007, "可以刷卡繳嗎？")) == 200
    assert post(client, message_update(1007, "可以刷卡繳嗎？")) == 200

    assert len(sent(recorder)) == 1
    assert stored_rows(app)["conversation_turns"] == 1


def test_a_script_tag_goes_out_as_plain_text(client: TestClient, app: App, recorder: Recorder) -> None:
    assert post(client, message_update(1008, "<script>alert(1)</script><b>hi</b>")) == 200

    [body] = sent(recorder)
    assert "parse_mode" not in body  # no HTML or Markdown parsing: nothing in the text is interpreted
    assert stored_rows(app)["conversation_turns"] == 1


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b'{"update_id": 1, "message": ', "application/json", 400),
        (b"[1, 2, 3]", "application/json", 400),
        (b'{"message": {"text": "no update id"}}', "application/json", 400),
        (b'{"update_id": true}', "application/json", 400),
        (b'{"update_id": 5, "message": "not an object"}', "application/json", 400),
        (b"update_id=5", "application/x-www-form-urlencoded", 415),
        (b'{"update_id": 5, "pad": "' + b"x" * 1_100_000 + b'"}', "application/json", 413),
    ],
    ids=["truncated", "array", "no-update-id", "bool-update-id", "bad-message", "form", "oversized"],
)
def test_bad_input_is_a_clear_4xx_and_changes_nothing(
    client: TestClient, app: App, recorder: Recorder, body: bytes, content_type: str, status: int
) -> None:
    assert post(client, body, content_type=content_type) == status
    assert recorder.requests == [] and stored_rows(app) == NOTHING


def test_a_sticker_gets_a_polite_request_for_text(client: TestClient, app: App, recorder: Recorder) -> None:
    update = message_update(1009, "")
    del update["message"]["text"]
    update["message"]["sticker"] = {
        "file_id": "CAACAgIAAxk",
        "file_unique_id": "AgAD",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
    }
    assert post(client, update) == 200
    assert sent(recorder) == [{"chat_id": str(CHAT), "text": replies.NOT_TEXT}]
    assert stored_rows(app)["conversation_turns"] == 0


def test_the_webhook_is_not_mounted_without_its_secret(tmp_path: Path, recorder: Recorder) -> None:
    app = bootstrap(settings_for(tmp_path, recorder))  # a token alone is enough for polling, not for a webhook
    with TestClient(create_app(app)) as client:
        assert post(client, message_update(1, "hi")) == 404
    assert recorder.requests == []


def test_polling_answers_an_update_with_the_same_handlers(tmp_path: Path, recorder: Recorder) -> None:
    app = bootstrap(settings_for(tmp_path, recorder))
    assert app.dialogue is not None
    application = telegram.build_application(app.settings, app.dialogue, app.uow_factory, polling=True)
    recorder.updates.append(message_update(2001, "可以刷卡繳嗎？"))
    loop = asyncio.new_event_loop()

    def run() -> None:
        asyncio.set_event_loop(loop)
        application.run_polling(stop_signals=None, close_loop=False)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    try:
        recorder.wait_for("sendMessage")
    finally:
        loop.call_soon_threadsafe(loop.stop)
        worker.join(timeout=20)
    loop.close()

    assert not worker.is_alive()
    expected = app.answers.answer_entry("pay-credit-card")
    source = expected.sources[0]
    assert sent(recorder) == [
        {
            "chat_id": str(CHAT),
            "text": f"{expected.answer}\n\n資料來源：{source.document}，{source.section}",
            "reply_markup": {"inline_keyboard": [[button("👍 有幫助", "fb:1:1"), button("👎 沒有幫助", "fb:1:0")]]},
        }
    ]
    methods = [r.api_method for r in recorder.requests]
    assert methods[:3] == ["getMe", "deleteWebhook", "getUpdates"]
    assert stored_rows(app)["processed_events"] == 1


def test_the_polling_command_needs_a_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CIVICBOT_DATA_DIR", str(seeded_data_dir(tmp_path / "data")))
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    assert cli.main(["telegram"]) == 2
    assert "TELEGRAM_BOT_TOKEN" in capsys.readouterr().err


def test_set_webhook_registers_the_url_with_the_secret(
    tmp_path: Path, recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CIVICBOT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", f"{recorder.url}/bot")

    assert cli.main(["telegram", "--set-webhook", "https://civic.example.tw/telegram/webhook"]) == 0

    [call] = recorder.calls("setWebhook")
    assert call.body == {
        "url": "https://civic.example.tw/telegram/webhook",
        "secret_token": SECRET,
        "allowed_updates": json.dumps(telegram.Update.ALL_TYPES),
    }


def test_logs_carry_neither_the_token_nor_the_citizen(
    client: TestClient, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot")
    caplog.set_level(logging.INFO)
    question = "我的身分證是A123456789，電話0912345678，可以刷卡繳嗎？"

    assert post(client, message_update(1010, question)) == 200

    assert recorder.calls("sendMessage")
    assert "telegram text from chat" in caplog.text
    for secret in (TOKEN, str(CHAT), "A123456789", "0912345678", "美玲"):
        assert secret not in caplog.text


def test_placeholder_or_malformed_telegram_secrets_are_refused() -> None:
    with pytest.raises(ValidationError, match="TELEGRAM_BOT_TOKEN looks like a placeholder"):
        Settings(**PRODUCTION, telegram_bot_token="your-bot-token")
    with pytest.raises(ValidationError, match="TELEGRAM_WEBHOOK_SECRET must be"):
        Settings(telegram_bot_token=TOKEN, telegram_webhook_secret="has spaces and ü")


def test_a_placeholder_token_stops_the_command_with_a_clear_message(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in PRODUCTION.items():
        monkeypatch.setenv(f"CIVICBOT_{name.upper()}", value)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "changeme")
    assert cli.main(["telegram"]) == 2
    assert capsys.readouterr().err == (
        "civicbot: configuration: TELEGRAM_BOT_TOKEN looks like a placeholder; set the real value or unset it\n"
    )
