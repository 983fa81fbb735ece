"""What every civicbot action shares: the application (built once, lazily) and how a tracker maps onto it."""

from __future__ import annotations

import hashlib
import threading
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

from rasa_sdk import Action, Tracker

from bot.core.normalize import is_english

if TYPE_CHECKING:
    from bot.bootstrap import App

CHANNEL = "rasa"

_lock = threading.Lock()
_shared: App | None = None


def shared_app() -> App:
    """The application of this action-server process, bootstrapped on first use (never at import)."""
    global _shared
    with _lock:
        if _shared is None:
            from bot.bootstrap import bootstrap

            _shared = bootstrap()
        return _shared


class AppAccess:
    """The application, passed in (tests) or built on first use, and how a tracker maps onto it."""

    def __init__(self, app: App | None = None) -> None:
        self._app = app

    @property
    def app(self) -> App:
        """The wired application."""
        if self._app is None:
            self._app = shared_app()
        return self._app

    def agency_of(self, tracker: Tracker) -> str | None:
        """The citizen's agency: message metadata from the channel first, then the `agency` slot."""
        metadata = tracker.latest_message.get("metadata") or {}
        code = metadata.get("agency") if isinstance(metadata, dict) else None
        code = code or tracker.get_slot("agency")
        return code if isinstance(code, str) and self.app.kb.agency(code) is not None else None

    def session_key(self, tracker: Tracker) -> str:
        """A hash of Rasa's sender id: stored turns never hold the channel's raw user id."""
        if self.app.dialogue is not None:
            return self.app.dialogue.user_key(CHANNEL, tracker.sender_id)
        return hashlib.sha256(f"{CHANNEL}\x00{tracker.sender_id}".encode()).hexdigest()[:40]


class CivicbotAction(AppAccess, Action, ABC):
    """Base of civicbot's plain actions."""

    @abstractmethod
    def name(self) -> str:
        """The action's name in domain.yml."""


def latest_text(tracker: Tracker) -> str:
    """The text of the citizen's latest message ('' for none)."""
    text = tracker.latest_message.get("text")
    return text if isinstance(text, str) else ""


def typed(tracker: Tracker) -> bool:
    """True when the latest message was typed, not a button payload (`/intent{...}`)."""
    text = latest_text(tracker)
    return bool(text) and not text.startswith("/")


def language_of(tracker: Tracker) -> str:
    """en or zh-TW: the typed message's language, else the channel's (metadata) or the conversation's (slot)."""
    if typed(tracker):
        return "en" if is_english(latest_text(tracker)) else "zh-TW"
    metadata = tracker.latest_message.get("metadata") or {}
    known = metadata.get("language") if isinstance(metadata, dict) else None
    return "en" if (known or tracker.get_slot("language")) == "en" else "zh-TW"


def intent_of(parse: dict[str, Any]) -> str | None:
    """The intent name in Rasa parse data."""
    intent = parse.get("intent") or {}
    name = intent.get("name") if isinstance(intent, dict) else None
    return name if isinstance(name, str) else None
