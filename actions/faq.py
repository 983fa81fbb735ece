"""FAQ answers and fallbacks on Rasa: the response selector picks, civicbot checks, answers with sources, logs gaps."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.render import utter_result
from actions.wiring import CHANNEL, CivicbotAction, intent_of, language_of, typed
from bot.adapters.rasa_export import OUT_OF_SCOPE_INTENT, RETRIEVAL_INTENT, entry_id_of
from bot.core.matcher import Candidate
from bot.dialogue.texts import t
from bot.domain.results import AnswerResult
from bot.services.answering import InputError
from bot.services.nlu_answers import EngineChoice, answer_choice

if TYPE_CHECKING:
    from bot.bootstrap import App

FALLBACK_INTENT = "nlu_fallback"


def engine_choice(parse: dict[str, Any]) -> EngineChoice:
    """What Rasa decided for one message: the response selector's `faq/<id>` with its own confidence.

    Only a message classified as `faq` carries a pick; `out_of_scope`, `nlu_fallback` and any other
    intent carry none (another intent's message that reaches an FAQ action is not an FAQ question).
    """
    intent = intent_of(parse)
    if intent != RETRIEVAL_INTENT:
        return EngineChoice(None, 0.0, out_of_scope=intent == OUT_OF_SCOPE_INTENT)
    selector = parse.get("response_selector") or {}
    picked = selector.get(RETRIEVAL_INTENT) or selector.get("default") or {}
    response = picked.get("response") or {}
    key = response.get("intent_response_key")
    confidence = response.get("confidence")
    return EngineChoice(
        faq_id=entry_id_of(key) if isinstance(key, str) else None,
        confidence=float(confidence) if isinstance(confidence, int | float) else 0.0,
    )


def decide(app: App, parse: dict[str, Any], *, agency: str | None = None) -> tuple[AnswerResult, tuple[Candidate, ...]]:
    """civicbot's answer or fallback for Rasa's parse of one message (nothing recorded).

    Shared by the actions and the engine comparison (scripts/rasa_compare.py), so both measure one thing.
    """
    return answer_choice(
        app.answers,
        str(parse.get("text") or ""),
        engine_choice(parse),
        threshold=app.settings.rasa_min_confidence,
        agency=agency,
    )


class ActionAnswerFaq(CivicbotAction):
    """`faq` (and, as the default fallback, anything unanswerable): decide, record, reply.

    Fallbacks and low-confidence picks go to the unanswered log, masked, through AnswerService.
    """

    def name(self) -> str:
        """Name in domain.yml."""
        return "action_civicbot_faq"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Answer or fall back for the latest message."""
        events: list[EventType] = [SlotSet("language", language_of(tracker))] if typed(tracker) else []
        try:
            result, candidates = decide(self.app, dict(tracker.latest_message), agency=self.agency_of(tracker))
        except InputError as exc:
            dispatcher.utter_message(text=str(exc))
            return events
        with self.app.uow_factory() as uow:
            result = self.app.answers.record(uow, result, candidates, CHANNEL, self.session_key(tracker))
            uow.commit()
        # An answer about case progress offers the lookup itself, as the native dialogue does.
        extra = []
        if result.topic == "case_progress" and self.app.cases is not None:
            extra.append({"title": t("qr_case", result.language), "payload": "/case_lookup"})
        utter_result(dispatcher, result, self.app.kb, extra=extra)
        if not result.fallback and result.turn_id is not None:
            events.append(SlotSet("last_turn_id", float(result.turn_id)))
        return events


class ActionDefaultFallback(ActionAnswerFaq):
    """Replaces Rasa's default fallback (`nlu_fallback`, `out_of_scope`, no rule applies): fall back and log."""

    def name(self) -> str:
        """Name in domain.yml (overrides Rasa's built-in action of that name)."""
        return "action_default_fallback"
