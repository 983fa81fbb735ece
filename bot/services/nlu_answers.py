"""Answer with the FAQ entry another NLU engine chose (e.g. Rasa's response selector), under civicbot's own checks.

The engine's pick is trusted only when its own confidence clears a threshold and the native matcher
does not place the question out of scope; otherwise the citizen gets the usual fallback, and the
question goes to the unanswered log like any native fallback.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot.core.matcher import Candidate
from bot.core.normalize import is_english
from bot.domain.results import Alternative, AnswerResult
from bot.services.answering import FALLBACK_EN, FALLBACK_ZH, AnswerService

# Native verdicts that veto any engine's answer: the question is another agency's business, or it
# shares no term at all with the knowledge base.
NATIVE_VETO = ("out_of_scope", "no_match")


@dataclass(frozen=True)
class EngineChoice:
    """What the other engine decided: the FAQ entry it picked (None for none) and its confidence in it."""

    faq_id: str | None
    confidence: float
    out_of_scope: bool = False  # the engine itself classified the message as off-topic


def answer_choice(
    answers: AnswerService,
    text: str,
    choice: EngineChoice,
    *,
    threshold: float,
    agency: str | None = None,
) -> tuple[AnswerResult, tuple[Candidate, ...]]:
    """Compose the answer for the engine's pick, or a fallback; nothing is recorded (see `AnswerService.record`).

    Raises InputError for input the assistant cannot take, exactly as native answering does.
    """
    native, candidates = answers.answer(text, agency=agency)
    english = is_english(native.question)
    reason: str | None = None
    if native.reason in NATIVE_VETO:
        reason = native.reason
    elif choice.out_of_scope:
        reason = "out_of_scope"
    elif choice.faq_id is None or choice.faq_id not in answers.entry_ids or choice.confidence < threshold:
        reason = "low_confidence"
    if reason is not None:
        score = choice.confidence if reason == "low_confidence" else native.score
        return replace(_fallback(native, reason, english), score=score), candidates

    assert choice.faq_id is not None
    composed = answers.answer_entry(choice.faq_id, agency=native.agency, language="en" if english else "zh-TW")
    others = tuple(a for a in _ranked(native) if a.faq_id != choice.faq_id)[:3]
    return replace(composed, question=native.question, score=choice.confidence, alternatives=others), candidates


def _ranked(native: AnswerResult) -> tuple[Alternative, ...]:
    """The native matcher's ranking as alternatives, its own answer first."""
    if native.fallback or native.faq_id is None:
        return native.alternatives
    top = Alternative(native.faq_id, native.canonical_question or "", native.score)
    return (top, *native.alternatives)


def _fallback(native: AnswerResult, reason: str, english: bool) -> AnswerResult:
    """The fallback result for a question the engine's pick cannot answer (native suggestions kept)."""
    return replace(
        native,
        answer=None,
        faq_id=None,
        topic=None,
        fallback=True,
        sources=(),
        agency_answers=(),
        canonical_question=None,
        language="en" if english else "zh-TW",
        message=FALLBACK_EN if english else FALLBACK_ZH,
        reason=reason,
        alternatives=_ranked(native)[:3],
    )
