"""What a channel hands the dialogue (Inbound) and what it gets back (Reply); no channel types here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.domain.results import SourceRef

MAX_PAYLOAD_BYTES = 64  # Telegram's callback_data limit; every quick-reply payload fits it


@dataclass(frozen=True)
class Inbound:
    """One thing the citizen did: typed `text`, or pressed a quick reply carrying `payload`.

    `user_id` is the channel's own id for the user (web session id, LINE userId, Telegram chat id);
    the dialogue hashes it before storing anything.
    """

    channel: str  # web | line | telegram | rasa | cli
    user_id: str
    text: str | None = None
    payload: str | None = None
    agency: str | None = None  # agency configured by the channel (e.g. the widget's data-agency)
    language: str | None = None  # "zh-TW" | "en" when the channel knows the user's language


@dataclass(frozen=True)
class QuickReply:
    """A choice offered to the citizen. `payload` is ASCII and at most MAX_PAYLOAD_BYTES bytes."""

    label: str
    payload: str


@dataclass(frozen=True)
class Reply:
    """The assistant's reply for one Inbound, in channel-neutral form."""

    text: str
    quick_replies: tuple[QuickReply, ...] = ()
    faq_id: str | None = None
    topic: str | None = None
    agency: str | None = None
    fallback: bool = False
    sources: tuple[SourceRef, ...] = ()
    state: str = "idle"
    language: str = "zh-TW"
    turn_id: int | None = None  # the stored turn this reply answers; feedback refers to it
    feedback: bool = False  # True when the channel should offer helpful / not-helpful buttons
    kind: str = "answer"  # answer | fallback | choose_agency | did_you_mean | case | complaint | handoff | smalltalk
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON form used by the web API."""
        return {
            "text": self.text,
            "quick_replies": [{"label": q.label, "payload": q.payload} for q in self.quick_replies],
            "faq_id": self.faq_id,
            "topic": self.topic,
            "agency": self.agency,
            "fallback": self.fallback,
            "sources": [{"document": s.document, "section": s.section, "agency": s.agency} for s in self.sources],
            "state": self.state,
            "language": self.language,
            "turn_id": self.turn_id,
            "feedback": self.feedback,
            "kind": self.kind,
        }


class Dialogue(Protocol):
    """The one entry point every channel calls (implemented by `bot.dialogue.machine.DialogueService`)."""

    def handle(self, inbound: Inbound) -> Reply:
        """Advance the citizen's conversation by one step and return the reply; state is stored first."""
        ...

    def feedback(self, channel: str, turn_id: int, helpful: bool, comment: str | None = None) -> bool:
        """Record a helpful / not-helpful rating of the answer given in `turn_id`; False if no such answer."""
        ...
