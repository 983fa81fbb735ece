"""Conversation state kept between turns, keyed by channel and user (stored, so processes can share it)."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from typing import Any


class State(enum.StrEnum):
    """Where a conversation is; `bot/dialogue/conversation.mmd` draws the transitions."""

    IDLE = "idle"  # ready for any question
    CHOOSING_AGENCY = "choosing_agency"  # an answer differs by agency: waiting for the citizen to pick one
    CASE_NUMBER = "case_number"  # case lookup: waiting for the case number
    CASE_VERIFY = "case_verify"  # case lookup: waiting for the verification factor
    COMPLAINT_KIND = "complaint_kind"  # complaint routing: waiting for the kind of complaint


@dataclass
class Conversation:
    """One citizen's conversation on one channel. `user_key` is a hash, never the platform's raw id."""

    channel: str
    user_key: str
    state: State = State.IDLE
    agency: str | None = None  # remembered agency context
    language: str = "zh-TW"
    data: dict[str, Any] = field(default_factory=dict)  # per-state scratch (pending question, case number…)
    fallback_streak: int = 0  # consecutive fallbacks; two in a row offer a hand-off
    version: int = 0  # optimistic concurrency: bumped on every save
    updated_at: dt.datetime | None = None
