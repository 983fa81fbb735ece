"""Records the assistant stores about its own work (all text already masked)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Turn:
    """One question and what the assistant did with it."""

    channel: str
    session_key: str | None
    masked_text: str
    faq_id: str | None
    topic: str | None
    agency: str | None
    fallback: bool
    score: float
    created_at: dt.datetime
    id: int | None = None
    kind: str = "answer"  # answer | fallback | smalltalk | choose_agency | did_you_mean | case | complaint | handoff …


@dataclass(frozen=True)
class UnansweredQuestion:
    """A question the assistant could not answer, or answered with low confidence."""

    masked_text: str
    channel: str
    agency: str | None
    reason: str  # out_of_scope | low_confidence | no_match | answered_low_confidence
    candidates: tuple[dict[str, Any], ...]
    created_at: dt.datetime
    id: int | None = None
    status: str = "open"  # open | resolved | dismissed
    resolution: str | None = None  # the FAQ entry it was attached to or drafted as


@dataclass(frozen=True)
class Feedback:
    """A citizen's rating of one answer."""

    faq_id: str
    helpful: bool
    channel: str
    created_at: dt.datetime
    turn_id: int | None = None
    comment: str | None = None


@dataclass(frozen=True)
class FeedbackItem:
    """A not-helpful rating waiting for an editor, with the (masked) question that got the answer."""

    id: int
    faq_id: str
    channel: str
    created_at: dt.datetime
    question: str | None = None  # the turn's masked text (None when the rating names no turn)
    agency: str | None = None
    comment: str | None = None


@dataclass(frozen=True)
class SyncReport:
    """What `faq load` changed."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    unchanged: int = 0
