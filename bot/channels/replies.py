"""Channel-neutral reply shaping shared by the chat adapters: rendered text, chunks, choices with feedback."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from bot.dialogue.messages import MAX_PAYLOAD_BYTES, QuickReply, Reply

# A follow / `/start` is answered by the dialogue as if the citizen had greeted it.
GREETING = {"zh-TW": "您好", "en": "hello"}
HELP = {"zh-TW": "說明", "en": "help"}
NOT_TEXT = "目前只能讀取文字訊息，請直接輸入您的問題。 I can only read text for now; please type your question."
FEEDBACK_LABELS = {
    "zh-TW": ("👍 有幫助", "👎 沒有幫助"),
    "en": ("👍 Helpful", "👎 Not helpful"),
}
_LOG_KEY = secrets.token_bytes(16)  # per process: log lines correlate within a run, ids cannot be recovered
SOURCE_LINE = {"zh-TW": "資料來源：{document}，{section}", "en": "Source: {document}, {section}"}


def language_of(code: str | None) -> str | None:
    """Our language ("zh-TW" | "en") for a platform language code such as "en-US" or "zh-hant"; None if unknown."""
    if not code:
        return None
    code = code.lower()
    if code.startswith("en"):
        return "en"
    if code.startswith("zh"):
        return "zh-TW"
    return None


def render_text(reply: Reply) -> str:
    """The reply's text followed by its sources, one per line, as chat apps show no separate source field."""
    lang = "en" if reply.language == "en" else "zh-TW"
    lines = [SOURCE_LINE[lang].format(document=s.document, section=s.section) for s in reply.sources]
    return "\n\n".join([reply.text, "\n".join(dict.fromkeys(lines))]) if lines else reply.text


def choices(reply: Reply, limit: int | None = None) -> list[QuickReply]:
    """The reply's quick replies, then helpful / not-helpful when it asks for feedback (kept within `limit`).

    Payloads that are not short ASCII (the contract every platform can carry) are dropped.
    """
    offered = [q for q in reply.quick_replies if q.payload.isascii() and len(q.payload) <= MAX_PAYLOAD_BYTES]
    rating: list[QuickReply] = []
    if reply.feedback and reply.turn_id is not None:
        helpful, not_helpful = FEEDBACK_LABELS["en" if reply.language == "en" else "zh-TW"]
        rating = [QuickReply(helpful, f"fb:{reply.turn_id}:1"), QuickReply(not_helpful, f"fb:{reply.turn_id}:0")]
    if limit is not None:
        offered = offered[: max(limit - len(rating), 0)]
    return offered + rating


def split_text(text: str, limit: int, max_parts: int) -> list[str]:
    """Split `text` into at most `max_parts` chunks of at most `limit` characters, preferring line breaks."""
    text = text.strip() or "…"
    parts: list[str] = []
    while text and len(parts) < max_parts:
        if len(text) <= limit:
            parts.append(text)
            return parts
        cut = text.rfind("\n", 0, limit + 1)
        if cut < limit // 2:  # no useful line break: cut at the limit
            cut = limit
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:  # more than max_parts would be needed: the last chunk says so
        parts[-1] = parts[-1][: limit - 1] + "…"
    return parts


def clip(label: str, limit: int) -> str:
    """`label` shortened to `limit` characters, with an ellipsis when cut."""
    return label if len(label) <= limit else label[: limit - 1] + "…"


def user_ref(raw_id: str) -> str:
    """A short keyed hash of a platform user id, for logs only (short numeric ids cannot be brute-forced back)."""
    return hmac.new(_LOG_KEY, raw_id.encode(), hashlib.sha256).hexdigest()[:12]
