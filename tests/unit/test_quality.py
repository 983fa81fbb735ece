"""Regression guard: the dev-set figures must stay at or above the issue's targets."""

from __future__ import annotations

from collections.abc import Callable

from bot.services import evaluation
from bot.services.answering import AnswerService


def test_dev_set_is_large_and_realistic(dev_lines: Callable[[], list[dict[str, object]]], kb) -> None:  # type: ignore[no-untyped-def]
    lines = dev_lines()
    assert len(lines) >= 300
    oos = [x for x in lines if x["faq_id"] is None]
    assert len(oos) >= 60
    ids = {e.id for e in kb.published()}
    assert all(x["faq_id"] in ids for x in lines if x["faq_id"] is not None)


def test_dev_questions_are_not_copies_of_variants(dev_lines, kb) -> None:  # type: ignore[no-untyped-def]
    from bot.core.normalize import normalize

    known = {normalize(t) for e in kb.entries for t in (e.question_zh, e.question_en or "", *e.variants)}
    known |= {normalize(x) for c in kb.out_of_scope for x in c.examples}
    copies = [x["q"] for x in dev_lines() if normalize(str(x["q"])) in known]
    assert copies == []


def test_dev_set_meets_targets(service: AnswerService, dev_lines) -> None:  # type: ignore[no-untyped-def]
    report = evaluation.EvalReport()
    for line in dev_lines():
        evaluation.score(report, line, evaluation.answer_line(service, line))
    rates = report.rates()
    assert rates["top1"] >= evaluation.TARGETS["top1"], rates
    assert rates["topic_accuracy"] >= evaluation.TARGETS["topic_accuracy"], rates
    assert rates["oos_recall"] >= evaluation.TARGETS["oos_recall"], rates
    assert rates["false_fallback"] <= evaluation.TARGETS["false_fallback"], rates
