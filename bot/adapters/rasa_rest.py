"""The `Dialogue` over a Rasa server's REST channel: channels keep their front ends, Rasa runs the conversation.

What Rasa receives per turn: `{"sender": <keyed hash of channel + user id>, "message": <text or button payload>,
"metadata": {"channel", "agency", "language"}}` at `{rasa_url}/webhooks/rest/webhook`.

Turns are not recorded here: civicbot's Rasa actions (actions/) record the FAQ turns, unanswered questions
and feedback through the same services and store, so recording the forwarded message too would count it twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import httpx

from bot.core.normalize import is_english
from bot.dialogue.envelope import check_envelope, user_key
from bot.dialogue.messages import MAX_PAYLOAD_BYTES, Inbound, QuickReply, Reply
from bot.dialogue.texts import t
from bot.domain.model import KnowledgeBase
from bot.domain.results import SourceRef
from bot.services.answering import AnswerService, InputError

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhooks/rest/webhook"
UNAVAILABLE = (
    "抱歉，對話服務暫時無法使用，請稍後再試。 Sorry, the assistant is temporarily unavailable; please try again later."
)
NO_REPLY = "抱歉，我沒有可以回覆的內容，請換個說法再問一次。 Sorry, I have no reply to that; please rephrase."
# Button payloads Rasa's actions use that are not short ASCII, and the payload the channels carry instead.
TEXT_PAYLOADS = {"取消": "cancel"}
FeedbackRecorder = Callable[[str, int, bool, str | None], bool]


class RasaUnavailable(Exception):
    """Rasa did not give a usable answer (down, slow, 5xx, or not the REST channel's JSON)."""


class RasaRestDialogue:
    """Forwards each turn to Rasa's REST channel and maps Rasa's bot messages onto one `Reply`."""

    def __init__(
        self,
        rasa_url: str,
        client: httpx.Client,
        kb: KnowledgeBase,
        answers: AnswerService,
        *,
        secret: str,
        record_feedback: FeedbackRecorder,
    ) -> None:
        self.rasa_url = rasa_url.rstrip("/")
        self.client = client
        self.kb = kb
        self.answers = answers
        self._secret = secret.encode()
        self._record_feedback = record_feedback
        # An FAQ question offered as a button (Rasa's "did you mean") travels as `faq:<id>` (`faq:<id>:en`).
        self._questions: dict[str, str] = {}
        for entry in kb.published():
            if entry.question_en:
                self._questions.setdefault(entry.question_en, f"faq:{entry.id}:en")
            self._questions.setdefault(entry.question_zh, f"faq:{entry.id}")

    def user_key(self, channel: str, user_id: str) -> str:
        """The keyed hash Rasa sees as the sender (the same as the native engine's): never the raw platform id."""
        return user_key(self._secret, channel, user_id)

    def handle(self, inbound: Inbound) -> Reply:
        """Validate like the native engine, forward to Rasa, and return its messages as one reply."""
        check_envelope(inbound, self.kb)
        # The language goes to Rasa only when known (typed text, or the channel says); replies default to zh-TW.
        known = inbound.language if inbound.language in ("zh-TW", "en") else None
        if inbound.text is not None:
            message = self.answers.check_question(inbound.text)
            if any(ch.isalpha() for ch in message):
                known = "en" if is_english(message) else "zh-TW"
        else:
            payload = inbound.payload or ""
            if len(payload.encode()) > MAX_PAYLOAD_BYTES or not payload.isascii():
                raise InputError("無效的選項。 Invalid choice.")
            if payload.startswith("fb:"):
                return self._rate(inbound.channel, payload, known or "zh-TW")
            message = self._message_for(payload)
        language = known or "zh-TW"
        body = {
            "sender": self.user_key(inbound.channel, inbound.user_id),
            "message": message,
            "metadata": {"channel": inbound.channel, "agency": inbound.agency, "language": known},
        }
        try:
            messages = self._post(body)
        except RasaUnavailable as exc:
            log.error("rasa unavailable channel=%s: %s", inbound.channel, exc)
            return Reply(UNAVAILABLE, agency=inbound.agency, fallback=True, language=language, kind="error")
        return self._reply(messages, inbound.agency, language)

    def feedback(self, channel: str, turn_id: int, helpful: bool, comment: str | None = None) -> bool:
        """Rate a stored answer turn (Rasa's actions store theirs in the same database); False if none."""
        return self._record_feedback(channel, turn_id, helpful, comment)

    # --- Rasa's REST channel ----------------------------------------------------------------------

    def _post(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        try:
            response = self.client.post(f"{self.rasa_url}{WEBHOOK_PATH}", json=body)
        except httpx.HTTPError as exc:  # connection refused, timeout, protocol error
            raise RasaUnavailable(type(exc).__name__) from None
        if response.status_code != 200:
            raise RasaUnavailable(f"HTTP {response.status_code}")
        try:
            data = response.json()
        except ValueError:
            raise RasaUnavailable("response is not JSON") from None
        if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
            raise RasaUnavailable("response is not a list of messages")
        return data

    def ping(self) -> bool:
        """True when the Rasa server answers `GET /` (for the health check)."""
        try:
            return self.client.get(f"{self.rasa_url}/").status_code == 200
        except httpx.HTTPError:
            return False

    # --- mapping ----------------------------------------------------------------------------------

    def _message_for(self, payload: str) -> str:
        """What Rasa receives for a quick reply: its own payload, or the text a mapped payload stands for."""
        head, _, rest = payload.partition(":")
        if head == "faq":
            entry_id, _, lang = rest.partition(":")
            entry = self.answers.entry(entry_id)
            if entry is not None:
                return (entry.question_en or entry.question_zh) if lang == "en" else entry.question_zh
        for text, mapped in TEXT_PAYLOADS.items():
            if payload == mapped:
                return text
        return payload

    def _quick_reply(self, button: Any) -> QuickReply | None:
        """A Rasa button as a quick reply whose payload every channel can carry; None when it cannot be mapped."""
        if not isinstance(button, dict):
            return None
        title, payload = button.get("title"), button.get("payload")
        if not isinstance(title, str) or not isinstance(payload, str) or not title or not payload:
            return None
        if payload in TEXT_PAYLOADS:
            payload = TEXT_PAYLOADS[payload]
        elif payload in self._questions:
            payload = self._questions[payload]
        if not payload.isascii() or len(payload) > MAX_PAYLOAD_BYTES or payload.startswith("fb:"):
            log.info("rasa button dropped: payload of %d bytes cannot be carried", len(payload.encode()))
            return None
        return QuickReply(title, payload)

    def _reply(self, messages: list[dict[str, Any]], agency: str | None, language: str) -> Reply:
        texts: list[str] = []
        quick: dict[str, QuickReply] = {}
        images: list[str] = []
        civic: dict[str, Any] = {}
        for item in messages:
            if isinstance(item.get("text"), str) and item["text"].strip():
                texts.append(item["text"].strip())
            if isinstance(item.get("image"), str):
                images.append(item["image"])
                texts.append(item["image"])
            for button in item.get("buttons") or []:
                choice = self._quick_reply(button)
                if choice is not None:
                    quick.setdefault(choice.payload, choice)
            if isinstance(item.get("custom"), dict):
                civic.update(item["custom"])
        if not texts:
            return Reply(
                NO_REPLY, tuple(quick.values()), agency=agency, fallback=True, language=language, kind="fallback"
            )
        fallback = civic.get("fallback") is True
        turn_id = civic.get("turn_id")
        return Reply(
            "\n\n".join(texts),
            tuple(quick.values()),
            faq_id=_str(civic.get("faq_id")),
            topic=_str(civic.get("topic")),
            agency=_str(civic.get("agency")) or agency,
            fallback=fallback,
            sources=_sources(civic.get("sources")),
            state=_str(civic.get("state")) or "idle",
            language=civic["language"] if civic.get("language") in ("zh-TW", "en") else language,
            turn_id=turn_id if isinstance(turn_id, int) and not isinstance(turn_id, bool) else None,
            feedback=civic.get("feedback") is True and isinstance(turn_id, int),
            kind=_str(civic.get("kind")) or ("fallback" if fallback else "answer"),
            extra={"images": images} if images else {},
        )

    def _rate(self, channel: str, payload: str, language: str) -> Reply:
        """`fb:<turn>:<1|0>` (the channels' rating buttons) is recorded here; Rasa's own buttons go to Rasa."""
        _, turn, value = payload.split(":", 2) if payload.count(":") == 2 else ("", "", "")
        ok = turn.isdigit() and value in ("0", "1") and self.feedback(channel, int(turn), value == "1")
        return Reply(t("feedback_thanks" if ok else "feedback_unknown", language), language=language, kind="feedback")


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _sources(value: Any) -> tuple[SourceRef, ...]:
    """Sources a civicbot action put in `custom.sources` ([{document, section, agency}])."""
    if not isinstance(value, list):
        return ()
    return tuple(
        SourceRef(s["document"], s["section"], _str(s.get("agency")))
        for s in value
        if isinstance(s, dict) and isinstance(s.get("document"), str) and isinstance(s.get("section"), str)
    )
