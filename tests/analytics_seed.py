"""One small, hand-counted month of turns, ratings and unanswered questions for the analytics tests.

March 2026 (the figures the tests expect are worked out in the comments); February is the previous
period; one turn falls on 1 April 00:00 UTC, just outside March.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

from bot.domain.records import Feedback, Turn, UnansweredQuestion
from bot.services.ports import UnitOfWork

PAY, DESK, COMPLAINT = "pay-credit-card", "desk-opening-hours", "cmp-staff-attitude"
HSINCHU, TAICHUNG = "aea-hsinchu", "aea-taichung"


def at(day: str, time: str = "10:00:00") -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{time}+00:00")


def _turn(channel: str, agency: str | None, kind: str, faq_id: str | None, when: dt.datetime, text: str = "q") -> Turn:
    return Turn(channel, "session", text, faq_id, None, agency, kind == "fallback", 0.5, when, kind=kind)


# name -> turn. March: 9 turns; questions 6 = answered 4 (t1 t2 t5 t8) + fallback 2 (t3 t7); clarify 1 (t6)
TURNS: dict[str, Turn] = {
    "t1": _turn("web", HSINCHU, "answer", PAY, at("2026-03-01")),
    "t2": _turn("web", HSINCHU, "answer", PAY, at("2026-03-01", "11:00:00")),
    "t3": _turn("web", HSINCHU, "fallback", None, at("2026-03-01", "12:00:00")),
    "t4": _turn("web", HSINCHU, "smalltalk", None, at("2026-03-01", "12:01:00"), "你好"),  # not a question
    "t5": _turn("line", TAICHUNG, "answer", DESK, at("2026-03-01", "13:00:00")),
    "t6": _turn("line", TAICHUNG, "did_you_mean", PAY, at("2026-03-01", "14:00:00")),  # a clarification
    "t7": _turn("telegram", None, "fallback", None, at("2026-03-02", "23:59:59")),  # still 2 March in UTC
    "t8": _turn("web", HSINCHU, "complaint", COMPLAINT, at("2026-03-03", "00:00:00")),  # routed to an entry
    "t9": _turn("web", HSINCHU, "complaint", None, at("2026-03-03", "00:00:01")),  # the menu: not a question
    # February (the previous period): 1 answered, 1 fallback
    "f1": _turn("web", HSINCHU, "answer", PAY, at("2026-02-10")),
    "f2": _turn("web", HSINCHU, "fallback", None, at("2026-02-28", "23:59:59")),
    # April: outside March ([start, end) excludes the first instant of April)
    "a1": _turn("web", HSINCHU, "answer", PAY, at("2026-04-01", "00:00:00")),
}

# (turn name or None, faq id, helpful, channel, when). March: 4 ratings, 3 helpful.
RATINGS: list[tuple[str | None, str, bool, str, dt.datetime]] = [
    ("t1", PAY, True, "web", at("2026-03-01", "10:01:00")),
    ("t2", PAY, False, "web", at("2026-03-02", "09:00:00")),  # rated the next day: counts on 2 March
    ("t5", DESK, True, "line", at("2026-03-01", "13:01:00")),
    (None, PAY, True, "telegram", at("2026-03-03", "08:00:00")),  # names no turn: agency unknown
    ("f1", PAY, False, "web", at("2026-02-10", "10:01:00")),
]

UNANSWERED: list[UnansweredQuestion] = [
    UnansweredQuestion("颱風天分署有上班嗎", "web", HSINCHU, "no_match", (), at("2026-03-01", "12:00:00")),
    UnansweredQuestion("颱風天分署有上班嗎？", "telegram", None, "no_match", (), at("2026-03-02", "23:59:59")),
    UnansweredQuestion("分署的貓叫什麼", "web", HSINCHU, "out_of_scope", (), at("2026-03-02"), status="dismissed"),
    UnansweredQuestion("二月的問題", "web", HSINCHU, "no_match", (), at("2026-02-28", "23:59:59")),
]


def records() -> tuple[list[Turn], list[Feedback], list[UnansweredQuestion]]:
    """The records with ids 1, 2, … (as a fresh in-memory store would number them)."""
    ids = {name: i for i, name in enumerate(TURNS, 1)}
    turns = [dataclasses.replace(t, id=ids[name]) for name, t in TURNS.items()]
    ratings = [
        Feedback(faq, helpful, channel, when, ids[name] if name else None)
        for name, faq, helpful, channel, when in RATINGS
    ]
    unanswered = [dataclasses.replace(q, id=i) for i, q in enumerate(UNANSWERED, 1)]
    return turns, ratings, unanswered


def seed(uow_factory: Callable[[], UnitOfWork]) -> None:
    """Write every record through the repositories (statuses other than open are set by resolving)."""
    with uow_factory() as uow:
        ids = {name: uow.turns.add(t) for name, t in TURNS.items()}
        for name, faq, helpful, channel, when in RATINGS:
            uow.feedback.add(Feedback(faq, helpful, channel, when, ids[name] if name else None))
        for q in UNANSWERED:
            qid = uow.unanswered.add(dataclasses.replace(q, status="open"))
            if q.status != "open":
                uow.unanswered.resolve([qid], q.status, None, "tester", q.created_at)
        uow.commit()
