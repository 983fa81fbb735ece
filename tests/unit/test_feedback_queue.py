"""The not-helpful queue over the in-memory store: grouping, order, the question asked, reviews committed or not."""

from __future__ import annotations

import datetime as dt

from bot.adapters.memory import InMemoryUnitOfWork, MemoryStore
from bot.domain.records import Feedback, Turn
from bot.services.feedback_queue import FeedbackQueue

T0 = dt.datetime(2026, 11, 24, 8, 0, tzinfo=dt.UTC)


def rate(store: MemoryStore, faq_id: str, text: str, helpful: bool, minutes: int) -> int:
    """A turn answered with `faq_id` and a rating of it; returns the rating's id."""
    at = T0 + dt.timedelta(minutes=minutes)
    with InMemoryUnitOfWork(store) as uow:
        turn_id = uow.turns.add(Turn("line", None, text, faq_id, None, "aea-yilan", False, 0.8, at))
        fid = uow.feedback.add(Feedback(faq_id, helpful, "line", at, turn_id))
        uow.commit()
    return fid


def test_groups_by_entry_with_the_question_asked_biggest_or_newest_first(store: MemoryStore) -> None:
    rate(store, "pay-credit-card", "可以刷卡嗎", False, 0)
    rate(store, "pay-credit-card", "刷卡繳費", False, 1)
    rate(store, "pay-credit-card", "信用卡可以嗎", True, 2)  # helpful: never queued
    rate(store, "desk-opening-hours", "幾點開門", False, 3)
    queue = FeedbackQueue(lambda: InMemoryUnitOfWork(store), clock=lambda: T0)
    by_count = queue.groups("count")
    assert [(g.faq_id, g.count) for g in by_count] == [("pay-credit-card", 2), ("desk-opening-hours", 1)]
    assert [i.question for i in by_count[0].items] == ["刷卡繳費", "可以刷卡嗎"]
    assert by_count[0].items[0].agency == "aea-yilan" and by_count[0].latest == T0 + dt.timedelta(minutes=1)
    assert [g.faq_id for g in queue.groups("recent")] == ["desk-opening-hours", "pay-credit-card"]


def test_marking_reviewed_empties_the_queue_once_and_only_when_committed(store: MemoryStore) -> None:
    bad = rate(store, "pay-credit-card", "可以刷卡嗎", False, 0)
    good = rate(store, "pay-credit-card", "刷卡", True, 1)
    with InMemoryUnitOfWork(store) as uow:
        assert uow.feedback.mark_reviewed([bad], "alice", T0) == 1
    assert [i.id for i in FeedbackQueue(lambda: InMemoryUnitOfWork(store)).items()] == [bad]  # rolled back
    queue = FeedbackQueue(lambda: InMemoryUnitOfWork(store), clock=lambda: T0)
    assert queue.mark_reviewed([bad, good, 999], "alice") == 1  # a helpful or unknown id is not a review
    assert queue.items() == [] and store.feedback_reviewed == {bad: ("alice", T0)}
    assert queue.mark_reviewed([bad], "bob") == 0
