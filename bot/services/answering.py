"""The answering use case: validate, match, decide, compose a sourced answer, record what happened."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import replace

from bot.core.masking import mask_pii
from bot.core.matcher import Candidate, Matcher
from bot.core.normalize import MAX_QUESTION_CHARS, clean_input, is_english, normalize
from bot.domain.model import FaqEntry, KnowledgeBase
from bot.domain.records import Turn, UnansweredQuestion
from bot.domain.results import AgencyAnswer, Alternative, AnswerResult, SourceRef
from bot.services.ports import UnitOfWork

log = logging.getLogger(__name__)

FALLBACK_ZH = (
    "抱歉，這個問題我在目前的知識庫中找不到可靠的答案。我可以回答法務部行政執行署臺中、宜蘭、新竹分署，"
    "臺東地檢署與臺南監理站的服務問題，例如繳款方式、分期或緩繳、拍賣投標、案件進度、申訴管道。"
    "您的問題已記錄，將交由同仁補充內容；急件請直接洽詢該機關的為民服務中心。"
)
FALLBACK_EN = (
    "Sorry, I could not find a reliable answer to that in my knowledge base. I answer questions about the "
    "services of the Administrative Enforcement Agency's Taichung, Yilan and Hsinchu branches, the Taitung "
    "District Prosecutors Office and the Tainan Motor Vehicles Station — for example how to pay, instalments "
    "or deferral, auctions, case progress and complaints. Your question has been logged for our editors; "
    "for anything urgent, please contact the agency's service centre directly."
)


class InputError(ValueError):
    """The question cannot be processed as given; the message is safe to show the citizen."""


class AnswerService:
    """Answers questions from the knowledge base through one matcher; records turns and gaps."""

    def __init__(
        self,
        kb: KnowledgeBase,
        matcher: Matcher,
        uow_factory: Callable[[], UnitOfWork],
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.kb = kb
        self.matcher = matcher
        self.uow_factory = uow_factory
        self.clock = clock
        self._entries = {e.id: e for e in kb.published()}

    @property
    def entry_ids(self) -> set[str]:
        """Ids of the published entries."""
        return set(self._entries)

    def entry(self, entry_id: str) -> FaqEntry | None:
        """A published entry by id."""
        return self._entries.get(entry_id)

    def detect_agency(self, text: str) -> str | None:
        """The agency a text names in any of its common forms, if any."""
        return self.matcher.detect_agency(self.matcher.tokenizer.canonicalize(normalize(text)))[0]

    def check_question(self, text: str) -> str:
        """Validate raw input; return the cleaned question or raise InputError with a clear message."""
        if not isinstance(text, str):
            raise InputError("問題必須是文字。 The question must be text.")
        if len(text) > MAX_QUESTION_CHARS:
            raise InputError(
                f"問題太長了（上限 {MAX_QUESTION_CHARS} 字），請精簡後再問一次。"
                f" The question is too long (limit {MAX_QUESTION_CHARS} characters)."
            )
        cleaned = clean_input(text)
        if not cleaned:
            raise InputError("請輸入您的問題。 Please type a question.")
        return cleaned

    def ask(
        self,
        text: str,
        *,
        agency: str | None = None,
        channel: str = "cli",
        session_key: str | None = None,
        record: bool = True,
    ) -> AnswerResult:
        """Answer one question; fallbacks and low-confidence answers are logged durably before returning."""
        result, candidates = self.answer(text, agency=agency)
        if not record:
            return result
        with self.uow_factory() as uow:
            result = self.record(uow, result, candidates, channel, session_key)
            uow.commit()
        return result

    def answer(self, text: str, *, agency: str | None = None) -> tuple[AnswerResult, tuple[Candidate, ...]]:
        """Match and compose without recording; returns the result and the ranked candidates."""
        question = self.check_question(text)
        if agency is not None and self.kb.agency(agency) is None:
            raise InputError(f"未知的機關代碼：{agency}。 Unknown agency code: {agency}.")
        english = is_english(question)
        match = self.matcher.match(question, agency=agency)
        in_scope = [c for c in match.candidates if not c.out_of_scope and c.target in self._entries]
        top = match.candidates[0] if match.candidates else None
        best = in_scope[0] if in_scope else None
        alternatives = tuple(
            Alternative(c.target, self._question_of(c.target, english), c.confidence) for c in in_scope[1:4]
        )
        threshold = self.matcher.calibration.threshold

        reason: str | None = None
        if top is None:
            reason = "no_match"
        elif top.out_of_scope:
            reason = "out_of_scope"
        elif best is None or best.confidence < threshold:
            reason = "low_confidence"

        if reason is not None:
            result = AnswerResult(
                question=question,
                answer=None,
                faq_id=None,
                topic=None,
                agency=match.agency,
                score=best.confidence if best else 0.0,
                fallback=True,
                alternatives=tuple(
                    Alternative(c.target, self._question_of(c.target, english), c.confidence) for c in in_scope[:3]
                ),
                language="en" if english else "zh-TW",
                message=FALLBACK_EN if english else FALLBACK_ZH,
                reason=reason,
            )
        else:
            assert best is not None
            result = self._compose(question, best, match.agency, english, alternatives)
            if best.confidence < threshold + self.matcher.calibration.low_band:
                result = replace(result, reason="answered_low_confidence")
        return replace(result, asked_agency=match.agency), match.candidates

    def answer_entry(self, entry_id: str, *, agency: str | None = None, language: str = "zh-TW") -> AnswerResult:
        """The answer of one chosen entry (a "did you mean" pick, a routed complaint kind, a hand-off)."""
        entry = self._entries.get(entry_id)
        if entry is None:
            raise InputError(f"找不到這個問題：{entry_id}。 Unknown question: {entry_id}.")
        if agency is not None and entry.block_for(agency) is None:
            agency = None
        best = Candidate(entry_id, 1.0, 1.0, ())
        question = (entry.question_en or entry.question_zh) if language == "en" else entry.question_zh
        return self._compose(question, best, agency, language == "en", ())

    def _question_of(self, entry_id: str, english: bool) -> str:
        entry = self._entries[entry_id]
        return (entry.question_en or entry.question_zh) if english else entry.question_zh

    def _compose(
        self,
        question: str,
        best: Candidate,
        agency: str | None,
        english: bool,
        alternatives: tuple[Alternative, ...],
    ) -> AnswerResult:
        entry: FaqEntry = self._entries[best.target]
        language = "en" if english and all(b.en for b in entry.answers) else "zh-TW"
        blocks = [entry.block_for(agency)] if agency else list(entry.answers)
        blocks = [b for b in blocks if b is not None]
        per_agency: list[AgencyAnswer] = []
        for block in blocks:
            body = (block.en or block.zh) if language == "en" else block.zh
            code = block.agencies[0]
            names = [self._agency_name(c, language) for c in block.agencies]
            per_agency.append(
                AgencyAnswer(
                    agency=code,
                    agency_name="、".join(names) if language == "zh-TW" else ", ".join(names),
                    answer=body,
                    sources=tuple(SourceRef(s.document, s.section, code) for s in block.sources),
                )
            )
        if len(per_agency) == 1:
            answer = per_agency[0].answer
            chosen_agency = agency or (blocks[0].agencies[0] if len(blocks[0].agencies) == 1 else None)
        else:
            # Answers differ by agency and none was named: give each agency's answer separately.
            lead = (
                "This differs by agency; here is each agency's answer:"
                if language == "en"
                else "各機關的做法不同，以下分別說明："
            )
            answer = "\n\n".join([lead, *(f"【{a.agency_name}】{a.answer}" for a in per_agency)])
            chosen_agency = None
        sources = tuple(s for a in per_agency for s in a.sources)
        return AnswerResult(
            question=question,
            answer=answer,
            faq_id=entry.id,
            topic=entry.topic,
            agency=chosen_agency,
            score=best.confidence,
            fallback=False,
            alternatives=alternatives,
            sources=sources,
            language=language,
            canonical_question=(entry.question_en or entry.question_zh) if language == "en" else entry.question_zh,
            agency_answers=tuple(per_agency) if len(per_agency) > 1 else (),
        )

    def _agency_name(self, code: str, language: str) -> str:
        agency = self.kb.agency(code)
        if agency is None:
            return code
        return agency.short_en if language == "en" else agency.short_zh

    def record(
        self,
        uow: UnitOfWork,
        result: AnswerResult,
        candidates: tuple[Candidate, ...],
        channel: str,
        session_key: str | None,
        kind: str | None = None,
    ) -> AnswerResult:
        """Store the turn (and, for a fallback or low-confidence answer, the unanswered entry) in `uow`, masked.

        The caller commits; the returned result carries the turn id.
        """
        masked = mask_pii(result.question)
        now = self.clock()
        turn_id = uow.turns.add(
            Turn(
                channel=channel,
                session_key=session_key,
                masked_text=masked,
                faq_id=result.faq_id,
                topic=result.topic,
                agency=result.agency,
                fallback=result.fallback,
                score=result.score,
                created_at=now,
                kind=kind or ("fallback" if result.fallback else "answer"),
            )
        )
        logged = result.reason is not None
        if logged:
            uow.unanswered.add(
                UnansweredQuestion(
                    masked_text=masked,
                    channel=channel,
                    agency=result.agency,
                    reason=result.reason or "",
                    candidates=tuple({"faq_id": c.target, "score": round(c.confidence, 4)} for c in candidates[:5]),
                    created_at=now,
                )
            )
        log.info(
            "answered channel=%s faq_id=%s fallback=%s reason=%s score=%.3f",
            channel,
            result.faq_id,
            result.fallback,
            result.reason,
            result.score,
        )
        return replace(result, logged=logged, turn_id=turn_id)
