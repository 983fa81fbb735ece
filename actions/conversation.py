"""Greetings, complaint routing and answer feedback on Rasa, over the dialogue's wording, routes and services."""

from __future__ import annotations

from dataclasses import replace

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.render import utter_result
from actions.wiring import CHANNEL, CivicbotAction, intent_of, language_of, latest_text, typed
from bot.dialogue import routing
from bot.dialogue.texts import t

SMALLTALK = {"greet": "greeting", "thanks": "thanks", "goodbye": "goodbye"}
AGENCY_SET = {"zh-TW": "好的，之後將以「{name}」的資料回答。", "en": "OK, I will answer for {name}."}


class ActionSmalltalk(CivicbotAction):
    """Greeting (with the main services as buttons), thanks, goodbye, and confirming a chosen agency."""

    def name(self) -> str:
        """Name in domain.yml."""
        return "action_civicbot_smalltalk"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Reply in the citizen's language."""
        language = language_of(tracker)
        events: list[EventType] = [SlotSet("language", language)] if typed(tracker) else []
        intent = intent_of(tracker.latest_message) or ""
        if intent == "choose_agency":
            agency = self.agency_of(tracker)
            if agency is not None:
                found = self.app.kb.agency(agency)
                name = (found.short_en if language == "en" else found.short_zh) if found else agency
                dispatcher.utter_message(text=AGENCY_SET[language].format(name=name))
                return events
        key = SMALLTALK.get(intent, "capabilities")
        buttons = []
        if key == "greeting":
            buttons = [
                {"title": t("qr_case", language), "payload": "/case_lookup"},
                {"title": t("qr_complaint", language), "payload": "/complaint"},
            ]
        dispatcher.utter_message(text=t(key, language), buttons=buttons)
        return events


class ActionComplaint(CivicbotAction):
    """Complaint routing: the kind the message names (or the citizen picks) decides which FAQ answer applies."""

    def name(self) -> str:
        """Name in domain.yml."""
        return "action_civicbot_complaint"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Ask for the kind, or answer with that kind's channel for the citizen's agency."""
        language = language_of(tracker)
        events: list[EventType] = [SlotSet("language", language)] if typed(tracker) else []
        code = next(tracker.get_latest_entity_values("complaint_kind"), None)
        if isinstance(code, str):
            kind = routing.complaint_kind(code)
        else:
            kind = routing.classify_complaint(latest_text(tracker)) if typed(tracker) else None
        if kind is None:
            dispatcher.utter_message(
                text=t("complaint_kind", language),
                buttons=[
                    {
                        "title": k.label_en if language == "en" else k.label_zh,
                        "payload": f'/complaint_kind{{"complaint_kind": "{k.code}"}}',
                    }
                    for k in routing.COMPLAINT_KINDS
                ],
            )
            return events
        agency = self.agency_of(tracker)
        answers = self.app.answers
        # The kind's first entry that answers for the citizen's agency; without an agency, each
        # agency's answer of the kind's first entry, labelled.
        faq_id = next(
            (
                e
                for e in kind.entries
                if (entry := answers.entry(e)) is not None and (agency is None or entry.block_for(agency) is not None)
            ),
            None,
        )
        if faq_id is None:
            dispatcher.utter_message(text=t("handoff_missing", language))
            return events
        result = answers.answer_entry(faq_id, agency=agency, language=language)
        shown = latest_text(tracker) if typed(tracker) else f"[cx:{kind.code}]"
        with self.app.uow_factory() as uow:
            result = answers.record(uow, replace(result, question=shown), (), CHANNEL, self.session_key(tracker))
            uow.commit()
        utter_result(dispatcher, result, self.app.kb, kind="complaint")
        if result.turn_id is not None:
            events.append(SlotSet("last_turn_id", float(result.turn_id)))
        return events


class ActionFeedback(CivicbotAction):
    """Helpful / not helpful for the last answer (the `last_turn_id` slot), stored through the dialogue service."""

    def name(self) -> str:
        """Name in domain.yml."""
        return "action_civicbot_feedback"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Record the rating once; a second rating of the same answer, or none to rate, is told so."""
        language = language_of(tracker)
        turn_id = tracker.get_slot("last_turn_id")
        helpful = intent_of(tracker.latest_message) == "feedback_helpful"
        dialogue = self.app.dialogue
        recorded = (
            dialogue is not None
            and isinstance(turn_id, int | float)
            and dialogue.feedback(CHANNEL, int(turn_id), helpful)
        )
        dispatcher.utter_message(text=t("feedback_thanks" if recorded else "feedback_unknown", language))
        return [SlotSet("last_turn_id", None)] if recorded else []
