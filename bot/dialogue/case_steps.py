"""The case-progress steps of the conversation: case number, then verification, then the case's details."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING

from bot.core.case_number import scheme_for
from bot.dialogue.messages import QuickReply, Reply
from bot.dialogue.texts import t
from bot.domain.cases import (
    BadVerifier,
    Case,
    InvalidNumber,
    Locked,
    NotVerified,
    SystemUnavailable,
    Unsupported,
    Verified,
)
from bot.domain.conversation import Conversation, State
from bot.services.case_lookup import CaseLookupService

if TYPE_CHECKING:
    from bot.dialogue.machine import DialogueService, Step

_FROM_FIRST_DIGIT = re.compile(r"[0-9０-９].*")
TAIPEI = dt.timezone(dt.timedelta(hours=8))
MAX_NUMBER_TRIES = 3
NUMBER_SHOWN = "〔案號〕"  # what the turn log keeps instead of the case number
VERIFIER_SHOWN = "〔驗證資料〕"  # the verifier is never stored


class CaseSteps:
    """Case lookup inside the dialogue, over CaseLookupService (which audits and enforces the locks)."""

    def __init__(self, service: CaseLookupService) -> None:
        self.service = service

    def start(self, d: DialogueService, conv: Conversation, text: str) -> Step:
        """Begin a lookup: make sure the agency is known and supported, then ask for the case number."""
        from bot.dialogue.machine import Step

        supported = [a.code for a in d.kb.agencies if self.service.supports(a.code)]
        if conv.agency is None:
            return d.ask_agency(conv, {"case": True}, _shown(text), supported)
        if not self.service.supports(conv.agency):
            return self._unsupported(d, conv, self.service.unsupported(conv.agency), text)
        # A case number typed together with the request skips a step.
        typed = _FROM_FIRST_DIGIT.search(text) if not text.startswith("[") else None
        if typed is not None:
            number = self.service.check_number(conv.agency, typed.group(0))
            if isinstance(number, str):
                return self._ask_verifier(conv, number)
        conv.state = State.CASE_NUMBER
        conv.data = {"tries": 0}
        scheme = scheme_for(conv.agency)
        example = scheme.example if scheme else ""
        reply = Reply(
            text=t("case_ask_number", conv.language, example=example),
            quick_replies=(QuickReply(t("qr_cancel", conv.language), "cancel"),),
            agency=conv.agency,
            language=conv.language,
            kind="case",
        )
        return Step(reply, _shown(text))

    def on_number(self, d: DialogueService, conv: Conversation, text: str) -> Step:
        """The citizen typed (what should be) a case number."""
        from bot.dialogue.machine import Step

        number = self.service.check_number(conv.agency, text)
        if isinstance(number, Unsupported):
            return self._unsupported(d, conv, number, NUMBER_SHOWN)
        if isinstance(number, InvalidNumber):
            tries = int(conv.data.get("tries", 0)) + 1
            if tries >= MAX_NUMBER_TRIES:
                d._reset(conv)
                return d._say(conv, "case_give_up", "case", NUMBER_SHOWN)
            conv.data = {"tries": tries}
            message = number.message_en if conv.language == "en" else number.message_zh
            reply = Reply(
                text=message,
                quick_replies=(QuickReply(t("qr_cancel", conv.language), "cancel"),),
                agency=conv.agency,
                language=conv.language,
                kind="case",
            )
            return Step(reply, NUMBER_SHOWN)
        return self._ask_verifier(conv, number)

    def on_verifier(self, d: DialogueService, conv: Conversation, text: str) -> Step:
        """The citizen typed the verification factor: look the case up (audited, rate-limited)."""
        from bot.dialogue.machine import Step

        number = str(conv.data.get("case", ""))
        outcome = self.service.lookup(
            channel=conv.channel, user_key=conv.user_key, agency=conv.agency, case_number=number, verifier=text
        )
        lang = conv.language
        cancel = (QuickReply(t("qr_cancel", lang), "cancel"),)
        if isinstance(outcome, Verified):
            d._reset(conv)
            return Step(self._case_reply(conv, outcome.case), VERIFIER_SHOWN)
        if isinstance(outcome, BadVerifier):
            message = outcome.message_en if lang == "en" else outcome.message_zh
            return Step(
                Reply(text=message, quick_replies=cancel, agency=conv.agency, language=lang, kind="case"),
                VERIFIER_SHOWN,
            )
        if isinstance(outcome, NotVerified):
            # Back to the case number: either of the two may have been wrong, and we do not say which.
            conv.state = State.CASE_NUMBER
            conv.data = {"tries": 0}
            return Step(
                Reply(
                    text=t("case_not_verified", lang),
                    quick_replies=cancel,
                    agency=conv.agency,
                    language=lang,
                    kind="case",
                ),
                VERIFIER_SHOWN,
            )
        d._reset(conv)
        if isinstance(outcome, Locked):
            until = outcome.until.astimezone(TAIPEI).strftime("%H:%M")
            return Step(
                Reply(text=t("case_locked", lang, until=until), agency=conv.agency, language=lang, kind="case"),
                VERIFIER_SHOWN,
            )
        if isinstance(outcome, SystemUnavailable):
            return d._say(conv, "case_unavailable", "case", VERIFIER_SHOWN)
        if isinstance(outcome, Unsupported):
            return self._unsupported(d, conv, outcome, VERIFIER_SHOWN)
        return d._say(conv, "case_not_verified", "case", VERIFIER_SHOWN)

    def _ask_verifier(self, conv: Conversation, number: str) -> Step:
        from bot.dialogue.machine import Step

        conv.state = State.CASE_VERIFY
        conv.data = {"case": number}
        reply = Reply(
            text=t("case_ask_verifier", conv.language),
            quick_replies=(QuickReply(t("qr_cancel", conv.language), "cancel"),),
            agency=conv.agency,
            language=conv.language,
            kind="case",
        )
        return Step(reply, NUMBER_SHOWN)

    def _unsupported(self, d: DialogueService, conv: Conversation, why: Unsupported, text: str) -> Step:
        from bot.dialogue.machine import Step

        d._reset(conv)
        message = why.message_en if conv.language == "en" else why.message_zh
        quick: tuple[QuickReply, ...] = ()
        if why.faq_id and why.faq_id in d.answers.entry_ids:
            quick = (QuickReply(d._label(d.answers.entry(why.faq_id).question_zh), f"faq:{why.faq_id}"),)  # type: ignore[union-attr]
        reply = Reply(text=message, quick_replies=quick, agency=conv.agency, language=conv.language, kind="case")
        return Step(reply, _shown(text))

    @staticmethod
    def _case_reply(conv: Conversation, case: Case) -> Reply:
        lang = conv.language
        if case.amount_outstanding is None:
            amount = t("case_amount_unknown", lang)
        elif lang == "en":
            amount = f"NT${case.amount_outstanding:,}"
        else:
            amount = f"新臺幣 {case.amount_outstanding:,} 元"
        text = t(
            "case_result",
            lang,
            number=case.case_number,
            status=case.status,
            amount=amount,
            unit=case.handling_unit,
            phone=case.unit_phone,
        )
        if case.demo:
            text = f"{text}\n{t('case_demo', lang)}"
        return Reply(text=text, agency=case.agency, language=lang, kind="case")


def _shown(text: str) -> str:
    """Turn-log text for a step that may contain a case number: never store it."""
    return text if text.startswith("[") else NUMBER_SHOWN
