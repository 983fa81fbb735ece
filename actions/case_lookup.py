"""Case-progress lookup as a Rasa form over CaseLookupService (number check, verification, lockout, audit)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.wiring import CHANNEL, AppAccess, CivicbotAction, language_of
from bot.core.case_number import scheme_for
from bot.dialogue import intents
from bot.dialogue.case_steps import MAX_NUMBER_TRIES, TAIPEI, CaseSteps
from bot.dialogue.texts import t
from bot.domain.cases import (
    BadVerifier,
    InvalidNumber,
    Locked,
    NotVerified,
    SystemUnavailable,
    Unsupported,
    Verified,
)
from bot.domain.conversation import Conversation
from bot.services.case_lookup import CaseLookupService

Slots = dict[str, Any]
END = {"requested_slot": None}  # a validation returning this ends the form (the done rule then runs)
CLEARED = {"case_number": None, "case_verifier": None, "case_number_tries": None}


def _cancelled(value: Any) -> bool:
    return isinstance(value, str) and intents.detect(value).name == "cancel"


class ValidateCaseLookupForm(AppAccess, FormValidationAction):
    """Checks each answer of the case-lookup form; the verifier step runs the audited lookup itself."""

    def name(self) -> str:
        """Name in domain.yml."""
        return "validate_case_lookup_form"

    @property
    def cases(self) -> CaseLookupService:
        """The case-lookup service (bootstrap builds it)."""
        if self.app.cases is None:
            raise RuntimeError("case lookup is not configured in this application")
        return self.app.cases

    async def extract_agency(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Slots:
        """An agency the channel passed as metadata fills the slot without asking."""
        if tracker.get_slot("agency") is None and (agency := self.agency_of(tracker)) is not None:
            return {"agency": agency}
        return {}

    def validate_agency(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        """A supported agency's code; an agency without lookups ends the form with where to ask instead."""
        language = language_of(tracker)
        if _cancelled(value):
            dispatcher.utter_message(text=t("cancelled", language))
            return {"agency": None, **CLEARED, **END}
        chosen = next(tracker.get_latest_entity_values("agency"), None)  # a button press carries the code
        code = next((c for c in (chosen, value) if isinstance(c, str) and self.app.kb.agency(c)), None)
        if code is None and isinstance(value, str):
            code = self.app.answers.detect_agency(value)
        if code is None:
            why = self.cases.unsupported(None)
            dispatcher.utter_message(text=why.message_en if language == "en" else why.message_zh)
            return {"agency": None}
        if not self.cases.supports(code):
            _say_unsupported(dispatcher, self.cases.unsupported(code), language, self)
            return {"agency": code, **CLEARED, **END}
        number = tracker.get_slot("case_number")
        checked = self.cases.check_number(code, str(number)) if number is not None else None
        # A number typed before the agency was known is checked now; a malformed one is asked for again.
        return {"agency": code, "case_number": checked if isinstance(checked, str) else None}

    def validate_case_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        """The canonical case number; a malformed one is explained, and the third in a row ends the form."""
        language = language_of(tracker)
        if _cancelled(value):
            dispatcher.utter_message(text=t("cancelled", language))
            return {**CLEARED, **END}
        agency = tracker.get_slot("agency")
        if agency is None:  # typed with the request, before the agency: checked once the agency is known
            return {"case_number": value}
        checked = self.cases.check_number(agency, str(value))
        if isinstance(checked, str):
            return {"case_number": checked, "case_number_tries": None}
        if isinstance(checked, Unsupported):
            _say_unsupported(dispatcher, checked, language, self)
            return {**CLEARED, **END}
        tries = int(tracker.get_slot("case_number_tries") or 0) + 1
        if tries >= MAX_NUMBER_TRIES:
            dispatcher.utter_message(text=t("case_give_up", language))
            return {**CLEARED, **END}
        assert isinstance(checked, InvalidNumber)
        dispatcher.utter_message(text=checked.message_en if language == "en" else checked.message_zh)
        return {"case_number": None, "case_number_tries": float(tries)}

    def validate_case_verifier(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        """Run the lookup (audited; failures count towards the 5-failure lock) and say the outcome."""
        language = language_of(tracker)
        if _cancelled(value):
            dispatcher.utter_message(text=t("cancelled", language))
            return {**CLEARED, **END}
        outcome = self.cases.lookup(
            channel=CHANNEL,
            user_key=self.session_key(tracker),
            agency=tracker.get_slot("agency"),
            case_number=str(tracker.get_slot("case_number") or ""),
            verifier=str(value),
        )
        if isinstance(outcome, BadVerifier):
            dispatcher.utter_message(text=outcome.message_en if language == "en" else outcome.message_zh)
            return {"case_verifier": None}
        if isinstance(outcome, NotVerified):
            # Either the number or the verifier was wrong, and we do not say which: ask for both again.
            dispatcher.utter_message(text=t("case_not_verified", language))
            return {"case_number": None, "case_verifier": None}
        if isinstance(outcome, Verified):
            # The dialogue's own rendering of a verified case, so every channel shows the same fields.
            reply = CaseSteps._case_reply(Conversation(CHANNEL, "", language=language), outcome.case)
            dispatcher.utter_message(text=reply.text)
        elif isinstance(outcome, Locked):
            until = outcome.until.astimezone(TAIPEI).strftime("%H:%M")
            dispatcher.utter_message(text=t("case_locked", language, until=until))
        elif isinstance(outcome, SystemUnavailable):
            dispatcher.utter_message(text=t("case_unavailable", language))
        elif isinstance(outcome, Unsupported):
            _say_unsupported(dispatcher, outcome, language, self)
        else:
            dispatcher.utter_message(text=t("case_not_verified", language))
        return {**CLEARED, **END}


def _say_unsupported(dispatcher: CollectingDispatcher, why: Unsupported, language: str, action: AppAccess) -> None:
    """Where to ask instead, with the FAQ that says so as a button."""
    entry = action.app.answers.entry(why.faq_id) if why.faq_id else None
    question = (
        (entry.question_en or entry.question_zh) if entry and language == "en" else entry.question_zh if entry else None
    )
    buttons = [{"title": question, "payload": question}] if question else []
    dispatcher.utter_message(text=why.message_en if language == "en" else why.message_zh, buttons=buttons)


class ActionAskAgency(CivicbotAction):
    """Ask which agency handles the case, with the agencies that support lookups as buttons."""

    def name(self) -> str:
        """Name in domain.yml."""
        return "action_ask_agency"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """One question, one button per supported agency."""
        language = language_of(tracker)
        cases = self.app.cases
        agencies = [a for a in self.app.kb.agencies if cases is not None and cases.supports(a.code)]
        dispatcher.utter_message(
            text=t("choose_agency_for", language),
            buttons=[
                {
                    "title": a.short_en if language == "en" else a.short_zh,
                    "payload": f'/choose_agency{{"agency": "{a.code}"}}',
                }
                for a in agencies
            ],
        )
        return []


class ActionAskCaseNumber(CivicbotAction):
    """Ask for the case number, with the agency's format as the example."""

    def name(self) -> str:
        """Name in domain.yml."""
        return "action_ask_case_number"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """One question, a cancel button."""
        language = language_of(tracker)
        scheme = scheme_for(tracker.get_slot("agency"))
        dispatcher.utter_message(
            text=t("case_ask_number", language, example=scheme.example if scheme else ""),
            buttons=[{"title": t("qr_cancel", language), "payload": "取消"}],
        )
        return []


class ActionAskCaseVerifier(CivicbotAction):
    """Ask for the verification factor."""

    def name(self) -> str:
        """Name in domain.yml."""
        return "action_ask_case_verifier"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """One question, a cancel button."""
        language = language_of(tracker)
        dispatcher.utter_message(
            text=t("case_ask_verifier", language), buttons=[{"title": t("qr_cancel", language), "payload": "取消"}]
        )
        return []


class ActionCaseLookupDone(CivicbotAction):
    """After the form: nothing of the lookup stays in the conversation's slots."""

    def name(self) -> str:
        """Name in domain.yml."""
        return "action_civicbot_case_lookup"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Clear the case number, verifier and retry count."""
        return [SlotSet(slot, None) for slot in CLEARED]
