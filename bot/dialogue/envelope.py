"""Checks and keys shared by every engine behind the channels (the native dialogue and the Rasa forwarder)."""

from __future__ import annotations

import hashlib
import hmac

from bot.dialogue.messages import Inbound
from bot.domain.model import KnowledgeBase
from bot.services.answering import InputError

CHANNELS = ("web", "line", "telegram", "rasa", "cli")


def user_key(secret: bytes, channel: str, user_id: str) -> str:
    """A keyed hash of the platform's user id: stored state and other engines never see the raw id."""
    return hmac.new(secret, f"{channel}\x00{user_id}".encode(), hashlib.sha256).hexdigest()[:40]


def check_envelope(inbound: Inbound, kb: KnowledgeBase) -> None:
    """Refuse an unknown channel, text and payload together (or neither), and an unknown agency."""
    if inbound.channel not in CHANNELS:
        raise InputError(f"unknown channel {inbound.channel!r}")
    if (inbound.text is None) == (inbound.payload is None):
        raise InputError("請輸入文字或選擇一個選項。 Send either text or a choice.")
    if inbound.agency is not None and kb.agency(inbound.agency) is None:
        raise InputError(f"未知的機關代碼：{inbound.agency}。 Unknown agency code: {inbound.agency}.")
