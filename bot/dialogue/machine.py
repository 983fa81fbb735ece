"""The conversation state machine: one function per state, state stored per channel user (see conversation.mmd)."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from bot.core.masking import mask_pii
from bot.core.matcher import Candidate
from bot.core.normalize import clean_input, is_english
from bot.dialogue import intents, routing
from bot.dialogue.case_steps import CaseSteps
from bot.dialogue.envelope import check_envelope, user_key
from bot.dialogue.messages import MAX_PAYLOAD_BYTES, Inbound, QuickReply, Reply
from bot.dialogue.texts import t
from bot.domain.conversation import Conversation, State
from bot.domain.model import KnowledgeBase
from bot.domain.records import Feedback, Turn
from bot.domain.results import AnswerResult, SourceRef
from bot.services.answering import AnswerService, InputError
from bot.services.ports import UnitOfWork

log = logging.getLogger(__name__)
_CJK = re.compile(r"[\u3400-\u9fff]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")

MAX_RELATED = 3
DID_YOU_MEAN_MIN = 0.15  # alternatives below this confidence are not worth offering


@dataclass
class Step:
    """What one step produced: the reply and the turn to store for it (text already masked)."""

    reply: Reply
    turn_text: str
    pending_result: AnswerResult | None = None  # an FAQ result whose turn AnswerService records
    candidates: tuple[Candidate, ...] = ()
    extra_turns: list[Turn] = field(default_factory=list)


class DialogueService:
    """Advances conversations; every channel (web, LINE, Telegram, Rasa actions) calls `handle`."""

    def __init__(
        self,
        kb: KnowledgeBase,
        answers: AnswerService | Callable[[], AnswerService],
        uow_factory: Callable[[], UnitOfWork],
        *,
        secret: str,
        cases: CaseSteps | None = None,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self._kb = kb
        self._answers = answers  # a callable (LiveKnowledge.answers) follows content changes while running
        self.uow_factory = uow_factory
        self._secret = secret.encode()
        self.cases = cases
        self.clock = clock

    @property
    def answers(self) -> AnswerService:
        """The answer service for the current content."""
        return self._answers if isinstance(self._answers, AnswerService) else self._answers()

    @property
    def kb(self) -> KnowledgeBase:
        """The current knowledge base (agencies, entries)."""
        return self._kb if isinstance(self._answers, AnswerService) else self.answers.kb

    # --- entry points -------------------------------------------------------------------------

    def user_key(self, channel: str, user_id: str) -> str:
        """A keyed hash of the platform's user id: stored state never holds the raw id."""
        return user_key(self._secret, channel, user_id)

    def handle(self, inbound: Inbound) -> Reply:
        """Advance the citizen's conversation by one step; the turn and the new state are stored before returning."""
        check_envelope(inbound, self.kb)
        text = self.answers.check_question(inbound.text) if inbound.text is not None else None
        payload = inbound.payload
        if payload is not None and (len(payload.encode()) > MAX_PAYLOAD_BYTES or not payload.isascii()):
            raise InputError("無效的選項。 Invalid choice.")
        key = self.user_key(inbound.channel, inbound.user_id)
        with self.uow_factory() as uow:
            conv = uow.conversations.get(inbound.channel, key) or Conversation(inbound.channel, key)
            if inbound.agency:
                conv.agency = inbound.agency
            if inbound.language in ("zh-TW", "en"):
                conv.language = inbound.language
            if text is not None and conv.state not in (State.CASE_NUMBER, State.CASE_VERIFY) and _has_words(text):
                conv.language = "en" if is_english(text) else "zh-TW"
            step = self._dispatch(conv, text, payload, uow)
            reply = self._store(uow, conv, step, inbound.channel)
            if not uow.conversations.save(conv):
                log.warning("conversation changed concurrently channel=%s; this step's state not kept", conv.channel)
            uow.commit()
        return reply

    def feedback(self, channel: str, turn_id: int, helpful: bool, comment: str | None = None) -> bool:
        """Record a rating of the answer given in turn `turn_id`."""
        with self.uow_factory() as uow:
            ok = self._add_feedback(uow, channel, turn_id, helpful, comment)
            uow.commit()
        return ok

    def _add_feedback(self, uow: UnitOfWork, channel: str, turn_id: int, helpful: bool, comment: str | None) -> bool:
        turn = uow.turns.get(turn_id)
        if turn is None or turn.faq_id is None:
            return False
        uow.feedback.add(
            Feedback(
                faq_id=turn.faq_id,
                helpful=helpful,
                channel=channel,
                created_at=self.clock(),
                turn_id=turn_id,
                comment=mask_pii(comment[:1000]) if comment else None,
            )
        )
        return True

    # --- dispatch -----------------------------------------------------------------------------

    def _dispatch(self, conv: Conversation, text: str | None, payload: str | None, uow: UnitOfWork) -> Step:
        if payload is not None:
            return self._on_payload(conv, payload, uow)
        assert text is not None
        intent = intents.detect(text)
        if intent.name == "cancel" and conv.state is not State.IDLE:
            self._reset(conv)
            return self._say(conv, "cancelled", "smalltalk", text)
        # In the case steps, only what looks like an answer to the prompt is taken as one; a question
        # typed instead leaves the lookup.
        if conv.state is State.CASE_NUMBER and self.cases is not None and intent.name is None:
            if any(ch.isdigit() for ch in text):
                return self.cases.on_number(self, conv, text)
        if conv.state is State.CASE_VERIFY and self.cases is not None and intent.name is None:
            if len(text) <= 20 and not _CJK.search(text):
                return self.cases.on_verifier(self, conv, text)
        if conv.state is State.CHOOSING_AGENCY:
            agency = self._agency_named(text)
            if agency is not None:
                return self._on_agency(conv, agency)
        if conv.state is State.COMPLAINT_KIND:
            kind = routing.classify_complaint(text)
            if kind is not None:
                return self._complaint_answer(conv, kind)
        # Any other text starts afresh from the idle state.
        self._reset(conv)
        return self._idle(conv, intent, text)

    def _idle(self, conv: Conversation, intent: intents.Intent, text: str) -> Step:
        if intent.name in ("greeting", "capabilities"):
            return self._say(conv, intent.name, "smalltalk", text, self._menu(conv))
        if intent.name in ("thanks", "goodbye", "cancel"):
            return self._say(conv, "thanks" if intent.name == "cancel" else intent.name, "smalltalk", text)
        if intent.name == "handoff":
            return self._handoff(conv, text)
        if intent.name == "case_lookup" and self.cases is not None:
            return self.cases.start(self, conv, text)
        if intents.mentions_complaint(intent.rest):
            kind = routing.classify_complaint(intent.rest)
            if kind is not None:
                return self._complaint_answer(conv, kind, text)
            conv.state = State.COMPLAINT_KIND
            return Step(self._complaint_menu(conv), mask_pii(text))
        return self._faq(conv, intent.rest)

    def _on_payload(self, conv: Conversation, payload: str, uow: UnitOfWork) -> Step:
        head, _, arg = payload.partition(":")
        shown = f"[{payload}]"
        if head == "fb":
            turn, _, value = arg.partition(":")
            ok = (
                turn.isdigit()
                and value in ("0", "1")
                and self._add_feedback(uow, conv.channel, int(turn), value == "1", None)
            )
            return self._say(conv, "feedback_thanks" if ok else "feedback_unknown", "feedback", shown)
        if head == "ag" and self.kb.agency(arg) is not None:
            return self._on_agency(conv, arg)
        if head == "faq" and arg in self.answers.entry_ids:
            self._reset(conv)
            return self._answer_entry(conv, arg, shown)
        if head == "cx" and (kind := routing.complaint_kind(arg)) is not None:
            return self._complaint_answer(conv, kind, shown)
        if payload == "complaint":
            self._reset(conv)
            conv.state = State.COMPLAINT_KIND
            return Step(self._complaint_menu(conv), shown)
        if payload == "handoff":
            self._reset(conv)
            return self._handoff(conv, shown)
        if payload == "case" and self.cases is not None:
            self._reset(conv)
            return self.cases.start(self, conv, shown)
        if payload == "cancel":
            self._reset(conv)
            return self._say(conv, "cancelled", "smalltalk", shown)
        # "start" (a widget opening) and "menu", like any payload we do not know, show the greeting menu.
        self._reset(conv)
        return self._say(conv, "greeting", "smalltalk", shown, self._menu(conv))

    # --- FAQ answering ------------------------------------------------------------------------

    def _faq(self, conv: Conversation, text: str) -> Step:
        result, candidates = self.answers.answer(text, agency=conv.agency)
        if result.asked_agency is not None:
            conv.agency = result.asked_agency  # an agency named in a question becomes the conversation's context
        if result.fallback:
            conv.fallback_streak += 1
            reply_text = result.message or ""
            quick = [
                QuickReply(self._label(a.question), f"faq:{a.faq_id}")
                for a in result.alternatives
                if a.score >= DID_YOU_MEAN_MIN
            ]
            if conv.fallback_streak >= 2:
                conv.fallback_streak = 0
                handoff = self._handoff_text(conv, after_fallbacks=True)
                if handoff is None:
                    quick.append(QuickReply(t("qr_handoff", conv.language), "handoff"))
                else:
                    reply_text = f"{reply_text}\n\n{handoff[0]}"
                    result = replace(result, sources=handoff[1])
            reply = Reply(
                text=reply_text,
                quick_replies=tuple(quick[: MAX_RELATED + 1]),
                agency=result.agency,
                fallback=True,
                sources=result.sources,
                state=conv.state.value,
                language=conv.language,
                kind="fallback",
            )
            return Step(reply, "", pending_result=result, candidates=candidates)
        conv.fallback_streak = 0
        close = [(a.faq_id, a.question) for a in result.alternatives if a.score >= DID_YOU_MEAN_MIN]
        if result.reason == "answered_low_confidence" and close:
            choices = [(result.faq_id or "", result.canonical_question or ""), *close]
            reply = Reply(
                text=t("did_you_mean", conv.language),
                quick_replies=tuple(QuickReply(self._label(q), f"faq:{fid}") for fid, q in choices[:4]),
                topic=result.topic,
                state=conv.state.value,
                language=conv.language,
                kind="did_you_mean",
            )
            return Step(reply, "", pending_result=result, candidates=candidates)
        if result.agency_answers and conv.agency is None:
            conv.state = State.CHOOSING_AGENCY
            conv.data = {"pending": {"faq": result.faq_id}}
            codes = [a.agency for a in result.agency_answers]
            reply = Reply(
                text=t("choose_agency", conv.language),
                quick_replies=self._agency_choices(conv, codes),
                faq_id=result.faq_id,
                topic=result.topic,
                state=conv.state.value,
                language=conv.language,
                kind="choose_agency",
            )
            return Step(reply, "", pending_result=result, candidates=candidates)
        return Step(self._answer_reply(conv, result), "", pending_result=result, candidates=candidates)

    def _answer_entry(self, conv: Conversation, faq_id: str, shown: str) -> Step:
        result = self.answers.answer_entry(faq_id, agency=conv.agency, language=conv.language)
        if result.agency_answers and conv.agency is None:
            conv.state = State.CHOOSING_AGENCY
            conv.data = {"pending": {"faq": faq_id}}
            codes = [a.agency for a in result.agency_answers]
            reply = Reply(
                text=t("choose_agency", conv.language),
                quick_replies=self._agency_choices(conv, codes),
                faq_id=faq_id,
                topic=result.topic,
                state=conv.state.value,
                language=conv.language,
                kind="choose_agency",
            )
            return Step(reply, shown)
        reply = self._answer_reply(conv, result)
        return Step(reply, shown, pending_result=result)

    def _answer_reply(self, conv: Conversation, result: AnswerResult) -> Reply:
        related = [
            QuickReply(self._label(a.question), f"faq:{a.faq_id}")
            for a in result.alternatives
            if a.score >= DID_YOU_MEAN_MIN
        ][:MAX_RELATED]
        if result.topic == "case_progress" and self.cases is not None:
            related.insert(0, QuickReply(t("qr_case", conv.language), "case"))
        if result.topic == "complaint":
            related.append(QuickReply(t("qr_complaint", conv.language), "complaint"))
        return Reply(
            text=result.answer or "",
            quick_replies=tuple(related),
            faq_id=result.faq_id,
            topic=result.topic,
            agency=result.agency,
            sources=result.sources,
            state=conv.state.value,
            language=result.language,
            feedback=True,
            kind="answer",
        )

    # --- agency context -----------------------------------------------------------------------

    def _on_agency(self, conv: Conversation, agency: str) -> Step:
        conv.agency = agency
        pending = dict(conv.data.get("pending") or {})
        self._reset(conv)
        shown = f"[ag:{agency}]"
        if "faq" in pending and pending["faq"] in self.answers.entry_ids:
            return self._answer_entry(conv, pending["faq"], shown)
        if "complaint" in pending and (kind := routing.complaint_kind(pending["complaint"])) is not None:
            return self._complaint_answer(conv, kind, shown)
        if pending.get("handoff"):
            return self._handoff(conv, shown)
        if pending.get("case") and self.cases is not None:
            return self.cases.start(self, conv, shown)
        name = self._agency_label(agency, conv.language)
        text = f"好的，之後將以「{name}」的資料回答。" if conv.language != "en" else f"OK, I will answer for {name}."
        return Step(
            Reply(text=text, state=conv.state.value, agency=agency, language=conv.language, kind="smalltalk"), shown
        )

    def ask_agency(
        self, conv: Conversation, pending: dict[str, object], shown: str, codes: list[str] | None = None
    ) -> Step:
        """Ask which agency the citizen means, remembering what to do once they choose."""
        conv.state = State.CHOOSING_AGENCY
        conv.data = {"pending": pending}
        reply = Reply(
            text=t("choose_agency_for", conv.language),
            quick_replies=self._agency_choices(conv, codes or [a.code for a in self.kb.agencies]),
            state=conv.state.value,
            language=conv.language,
            kind="choose_agency",
        )
        return Step(reply, shown)

    def _agency_named(self, text: str) -> str | None:
        """The agency a free-text reply names ("新竹分署", "Hsinchu branch"), if any."""
        return self.answers.detect_agency(text)

    def _agency_choices(self, conv: Conversation, codes: list[str]) -> tuple[QuickReply, ...]:
        return tuple(QuickReply(self._agency_label(c, conv.language), f"ag:{c}") for c in dict.fromkeys(codes))

    def _agency_label(self, code: str, language: str) -> str:
        agency = self.kb.agency(code)
        if agency is None:
            return code
        return agency.short_en if language == "en" else agency.short_zh

    # --- complaints and hand-off --------------------------------------------------------------

    def _complaint_menu(self, conv: Conversation) -> Reply:
        en = conv.language == "en"
        return Reply(
            text=t("complaint_kind", conv.language),
            quick_replies=tuple(
                QuickReply(k.label_en if en else k.label_zh, f"cx:{k.code}") for k in routing.COMPLAINT_KINDS
            ),
            state=conv.state.value,
            language=conv.language,
            kind="complaint",
        )

    def _complaint_answer(self, conv: Conversation, kind: routing.ComplaintKind, shown: str = "") -> Step:
        shown = shown or f"[cx:{kind.code}]"
        if conv.agency is None:
            return self.ask_agency(conv, {"complaint": kind.code}, shown)
        self._reset(conv)
        for faq_id in kind.entries:
            entry = self.answers.entry(faq_id)
            if entry is not None and entry.block_for(conv.agency) is not None:
                step = self._answer_entry(conv, faq_id, shown)
                step.reply = replace(step.reply, kind="complaint")
                return step
        return self._say(conv, "handoff_missing", "complaint", shown)

    def _handoff(self, conv: Conversation, shown: str) -> Step:
        if conv.agency is None:
            return self.ask_agency(conv, {"handoff": True}, mask_pii(shown))
        found = self._handoff_text(conv, after_fallbacks=False)
        text, sources = found if found else (t("handoff_missing", conv.language), ())
        reply = Reply(
            text=text,
            sources=sources,
            agency=conv.agency,
            state=conv.state.value,
            language=conv.language,
            kind="handoff",
        )
        return Step(reply, mask_pii(shown))

    def _handoff_text(self, conv: Conversation, *, after_fallbacks: bool) -> tuple[str, tuple[SourceRef, ...]] | None:
        """The agency's service-desk channel and hours, from the knowledge base; None without an agency."""
        if conv.agency is None:
            return None
        parts: list[str] = []
        sources: list[SourceRef] = []
        for group in routing.HANDOFF_ENTRIES:
            for faq_id in group:
                entry = self.answers.entry(faq_id)
                if entry is None or entry.block_for(conv.agency) is None:
                    continue
                result = self.answers.answer_entry(faq_id, agency=conv.agency, language=conv.language)
                parts.append(result.answer or "")
                sources.extend(result.sources)
                break
        if not parts:
            return None
        lead = t("handoff_after_fallbacks" if after_fallbacks else "handoff_lead", conv.language)
        return "\n\n".join([lead, *parts]), tuple(sources)

    # --- helpers ------------------------------------------------------------------------------

    def _menu(self, conv: Conversation) -> tuple[QuickReply, ...]:
        lang = conv.language
        menu = [
            QuickReply(t("qr_pay", lang), "faq:pay-methods-overview"),
            QuickReply(t("qr_instalment", lang), "faq:inst-apply-instalment"),
            QuickReply(t("qr_auction", lang), "faq:auc-mail-bidding"),
        ]
        if self.cases is not None:
            menu.append(QuickReply(t("qr_case", lang), "case"))
        menu += [QuickReply(t("qr_complaint", lang), "complaint"), QuickReply(t("qr_handoff", lang), "handoff")]
        return tuple(q for q in menu if not q.payload.startswith("faq:") or q.payload[4:] in self.answers.entry_ids)

    def _say(self, conv: Conversation, key: str, kind: str, shown: str, quick: tuple[QuickReply, ...] = ()) -> Step:
        reply = Reply(
            text=t(key, conv.language),
            quick_replies=quick,
            agency=conv.agency,
            state=conv.state.value,
            language=conv.language,
            kind=kind,
        )
        return Step(reply, mask_pii(shown))

    @staticmethod
    def _label(question: str) -> str:
        return question if len(question) <= 40 else question[:39] + "…"

    @staticmethod
    def _reset(conv: Conversation) -> None:
        conv.state = State.IDLE
        conv.data = {}

    def _store(self, uow: UnitOfWork, conv: Conversation, step: Step, channel: str) -> Reply:
        """Record the step's turn (FAQ results through AnswerService, which also logs gaps) and fix the reply."""
        reply = step.reply
        if step.pending_result is not None:
            recorded = self.answers.record(
                uow, step.pending_result, step.candidates, channel, conv.user_key, kind=reply.kind
            )
            turn_id = recorded.turn_id
        else:
            turn_id = uow.turns.add(
                Turn(
                    channel=channel,
                    session_key=conv.user_key,
                    masked_text=step.turn_text or "-",
                    faq_id=reply.faq_id,
                    topic=reply.topic,
                    agency=reply.agency or conv.agency,
                    fallback=False,
                    score=0.0,
                    created_at=self.clock(),
                    kind=reply.kind,
                )
            )
        return replace(
            reply, turn_id=turn_id, state=conv.state.value, feedback=reply.feedback and reply.faq_id is not None
        )


def clean_text(text: str) -> str:
    """Exposed for channels that want to pre-check text the same way the dialogue does."""
    return clean_input(text)


def _has_words(text: str) -> bool:
    """True when the text says something in a language (not just digits, codes or emoji)."""
    return bool(_CJK.search(text) or _LATIN_WORD.search(text))
