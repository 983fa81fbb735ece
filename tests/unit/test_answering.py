"""AnswerService: sourced answers, fallbacks logged masked, clear errors for bad input."""

from __future__ import annotations

import pytest

from bot.adapters.memory import MemoryStore
from bot.services.answering import AnswerService, InputError


def test_answer_carries_source_and_agency(service: AnswerService, store: MemoryStore) -> None:
    result = service.ask("新竹分署可以刷卡繳嗎？")
    assert not result.fallback
    assert result.faq_id == "pay-credit-card"
    assert result.topic == "payment"
    assert result.agency == "aea-hsinchu"
    assert result.sources and result.sources[0].document == "新竹分署111年度服務躍升執行成果報告"
    assert result.sources[0].section
    assert len(store.turns) == 1 and store.turns[0].faq_id == "pay-credit-card"


def test_english_question_gets_english_answer(service: AnswerService) -> None:
    result = service.ask("Can I pay by credit card?")
    assert not result.fallback
    assert result.language == "en"
    assert result.answer and "credit card" in result.answer.lower()


def test_out_of_scope_falls_back_and_is_logged_masked(service: AnswerService, store: MemoryStore) -> None:
    result = service.ask("護照過期要怎麼換？我的電話0912345678，身分證A123456789")
    assert result.fallback and result.answer is None
    assert result.message
    assert result.logged
    assert len(store.unanswered) == 1
    logged = store.unanswered[0]
    assert "0912345678" not in logged.masked_text and "A123456789" not in logged.masked_text
    assert "[phone]" in logged.masked_text and "[national-id]" in logged.masked_text
    assert logged.channel == "cli"
    assert logged.candidates  # top candidates and scores are kept for editors
    assert all("A123456789" not in t.masked_text for t in store.turns)


def test_fallback_is_recorded_before_reply(service: AnswerService, store: MemoryStore) -> None:
    service.ask("今天台北天氣如何", channel="web")
    assert store.unanswered[-1].channel == "web"
    assert store.unanswered[-1].reason in {"out_of_scope", "low_confidence", "no_match"}


@pytest.mark.parametrize("text", ["", "   ", "\n\t ", "\x00\x01\x02"])
def test_empty_input_is_refused_clearly(service: AnswerService, store: MemoryStore, text: str) -> None:
    with pytest.raises(InputError, match="請輸入"):
        service.ask(text)
    assert store.turns == [] and store.unanswered == []


def test_too_long_input_is_refused(service: AnswerService, store: MemoryStore) -> None:
    with pytest.raises(InputError, match="2000"):
        service.ask("繳費" * 1001)
    assert store.turns == []


def test_unknown_agency_is_refused(service: AnswerService) -> None:
    with pytest.raises(InputError, match="aea-atlantis"):
        service.ask("可以刷卡嗎", agency="aea-atlantis")


@pytest.mark.parametrize(
    "text",
    [
        "'; DROP TABLE faq_entries; --",
        "1 OR 1=1",
        "<script>alert('x')</script>",
        "<img src=x onerror=alert(1)>",
        "😀😀😀",
        "？？？！！！",
    ],
)
def test_hostile_or_meaningless_input_falls_back(service: AnswerService, store: MemoryStore, text: str) -> None:
    import unicodedata

    result = service.ask(text)
    assert result.fallback
    # Stored as typed (width-folded), never executed or altered otherwise.
    assert store.unanswered[-1].masked_text == unicodedata.normalize("NFKC", text)


def test_multi_agency_answer_is_given_per_agency(service: AnswerService, kb) -> None:  # type: ignore[no-untyped-def]
    multi = next(e for e in kb.published() if len(e.answers) > 1)
    result = service.ask(multi.question_zh)
    assert result.faq_id == multi.id
    assert result.agency is None
    assert len(result.agency_answers) == len(multi.answers)
    for block in result.agency_answers:
        assert f"【{block.agency_name}】" in (result.answer or "")
    # With an agency, exactly that agency's block.
    code = multi.answers[0].agencies[0]
    one = service.ask(multi.question_zh, agency=code)
    assert one.agency == code and one.answer == multi.answers[0].zh


def test_eval_mode_records_nothing(service: AnswerService, store: MemoryStore) -> None:
    service.ask("今天天氣如何", record=False)
    assert store.turns == [] and store.unanswered == []


def test_result_json_contract(service: AnswerService) -> None:
    out = service.ask("可以分期嗎", agency="aea-yilan").to_dict()
    for key in ("question", "answer", "faq_id", "topic", "agency", "score", "fallback", "alternatives", "sources"):
        assert key in out
    assert isinstance(out["fallback"], bool)
    for alt in out["alternatives"]:
        assert set(alt) == {"faq_id", "question", "score"}
