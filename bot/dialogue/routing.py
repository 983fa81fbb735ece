"""Which knowledge-base entries answer complaint routing and hand-off, per kind; the text itself is FAQ content.

Each route lists entries in order of preference: the first one with an answer block for the citizen's
agency is used, so an agency without a dedicated entry still gets its general channel list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.core.normalize import normalize


@dataclass(frozen=True)
class ComplaintKind:
    """A kind of complaint the citizen can pick, and the entries that give its channel."""

    code: str  # short, used in quick-reply payloads ("cx:<code>")
    label_zh: str
    label_en: str
    entries: tuple[str, ...]
    pattern: re.Pattern[str]


COMPLAINT_KINDS: tuple[ComplaintKind, ...] = (
    ComplaintKind(
        "attitude",
        "服務態度",
        "Staff attitude",
        ("cmp-staff-attitude", "cmp-channels"),
        re.compile(r"態度|不耐煩|不禮貌|很兇|很凶|罵|服務很差|服務不好|attitude|rude|impolite"),
    ),
    ComplaintKind(
        "integrity",
        "檢舉貪污、收賄",
        "Bribery / integrity",
        ("cmp-integrity", "cmp-channels"),
        re.compile(r"貪污|貪汙|收賄|賄賂|紅包|關說|圖利|不法|政風|廉政|bribe|bribery|corrupt|integrity"),
    ),
    ComplaintKind(
        "objection",
        "不服執行措施（聲明異議）",
        "Objection to an enforcement measure",
        ("cmp-enforcement-objection", "cmp-channels"),
        re.compile(r"聲明異議|異議|不服|執行措施|扣薪|扣押|查封|限制出境|objection|object to|appeal"),
    ),
    ComplaintKind(
        "suggestion",
        "一般意見、建議",
        "General suggestion",
        ("cmp-opinion-mailbox", "cmp-channels"),
        re.compile(r"建議|意見|信箱|首長信箱|民意信箱|suggest|suggestion|feedback|opinion"),
    ),
)

HANDOFF_ENTRIES: tuple[tuple[str, ...], ...] = (
    ("desk-call-centre", "cmp-complaint-phone", "cmp-channels"),  # how to reach a person
    ("desk-opening-hours", "desk-location"),  # when and where the service desk is
)


def complaint_kind(code: str) -> ComplaintKind | None:
    """The kind with this payload code."""
    return next((k for k in COMPLAINT_KINDS if k.code == code), None)


def classify_complaint(text: str) -> ComplaintKind | None:
    """The complaint kind a message names, if exactly one is evident."""
    norm = normalize(text)
    found = [k for k in COMPLAINT_KINDS if k.pattern.search(norm)]
    return found[0] if len(found) == 1 else None


def route_entries() -> set[str]:
    """Every entry id the routes refer to (a test checks they exist in the knowledge base)."""
    ids = {e for k in COMPLAINT_KINDS for e in k.entries}
    ids.update(e for group in HANDOFF_ENTRIES for e in group)
    return ids
