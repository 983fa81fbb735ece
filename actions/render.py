"""How an answer or a fallback becomes Rasa bot messages (text, buttons); the content comes from `bot`."""

from __future__ import annotations

from typing import Any

from rasa_sdk.executor import CollectingDispatcher

from bot.domain.model import KnowledgeBase
from bot.domain.results import AnswerResult

DID_YOU_MEAN_MIN = 0.15  # suggestions below this confidence are not worth a button
FEEDBACK_BUTTONS = {
    "zh-TW": [
        {"title": "👍 有幫助", "payload": "/feedback_helpful"},
        {"title": "👎 沒幫助", "payload": "/feedback_unhelpful"},
    ],
    "en": [
        {"title": "👍 Helpful", "payload": "/feedback_helpful"},
        {"title": "👎 Not helpful", "payload": "/feedback_unhelpful"},
    ],
}


def answer_text(result: AnswerResult, kb: KnowledgeBase) -> str:
    """The answer followed by its sources, each labelled with its agency when the answer covers several."""
    en = result.language == "en"
    several = len({s.agency for s in result.sources}) > 1
    lines = [result.answer or ""]
    for source in result.sources:
        agency = kb.agency(source.agency) if source.agency else None
        name = (agency.short_en if en else agency.short_zh) if agency and several else None
        if en:
            label = f"Source ({name})" if name else "Source"
            lines.append(f"{label}: {source.document}, {source.section}")
        else:
            label = f"資料來源（{name}）" if name else "資料來源"
            lines.append(f"{label}：{source.document}，{source.section}")
    return "\n".join(lines)


def suggestion_buttons(result: AnswerResult) -> list[dict[str, Any]]:
    """ "Did you mean" buttons: each sends the suggested FAQ's own question back through NLU."""
    return [{"title": a.question, "payload": a.question} for a in result.alternatives if a.score >= DID_YOU_MEAN_MIN][
        :3
    ]


def custom_fields(result: AnswerResult, kind: str) -> dict[str, Any]:
    """civicbot's reply fields for channels that understand them (`civicbot serve --engine rasa` reads `custom`)."""
    return {
        "faq_id": result.faq_id,
        "topic": result.topic,
        "agency": result.agency,
        "fallback": result.fallback,
        "sources": [{"document": s.document, "section": s.section, "agency": s.agency} for s in result.sources],
        "turn_id": result.turn_id,
        "feedback": bool(result.turn_id) and not result.fallback,
        "kind": kind,
        "state": "idle",
        "language": result.language,
    }


def utter_result(
    dispatcher: CollectingDispatcher,
    result: AnswerResult,
    kb: KnowledgeBase,
    kind: str = "",
    extra: list[dict[str, Any]] | None = None,
) -> None:
    """Send an answer (sources, `extra` and feedback buttons) or a fallback (suggestions), plus `custom` fields."""
    kind = kind or ("fallback" if result.fallback else "answer")
    if result.fallback:
        dispatcher.utter_message(text=result.message or "", buttons=suggestion_buttons(result))
    else:
        buttons = FEEDBACK_BUTTONS["en" if result.language == "en" else "zh-TW"] if result.turn_id else []
        dispatcher.utter_message(text=answer_text(result, kb), buttons=[*(extra or []), *buttons])
    dispatcher.utter_message(json_message=custom_fields(result, kind))
