"""The conversation state machine, channel-neutral, over in-memory stores (data in, reply out)."""

from __future__ import annotations

import pytest

from bot.adapters.memory import InMemoryUnitOfWork, MemoryStore
from bot.dialogue import routing
from bot.dialogue.machine import DialogueService
from bot.dialogue.messages import MAX_PAYLOAD_BYTES, Inbound, Reply
from bot.domain.conversation import State
from bot.domain.model import KnowledgeBase
from bot.services.answering import AnswerService, InputError


@pytest.fixture()
def dialogue(kb: KnowledgeBase, service: AnswerService, store: MemoryStore) -> DialogueService:
    return DialogueService(kb, service, lambda: InMemoryUnitOfWork(store), secret="unit-test-secret")


def say(
    d: DialogueService,
    text: str | None = None,
    *,
    payload: str | None = None,
    user: str = "u1",
    agency: str | None = None,
    channel: str = "web",
) -> Reply:
    return d.handle(Inbound(channel, user, text=text, payload=payload, agency=agency))


def payloads(reply: Reply) -> list[str]:
    return [q.payload for q in reply.quick_replies]


def test_greeting_thanks_and_help_do_not_touch_the_fallback_log(dialogue: DialogueService, store: MemoryStore) -> None:
    for text in ("你好", "Hi", "謝謝", "thank you so much", "你可以做什麼？", "what can you do", "再見"):
        reply = say(dialogue, text)
        assert reply.kind == "smalltalk", text
        assert not reply.fallback
    assert store.unanswered == []
    assert len(store.turns) == 7  # every turn is still counted
    greeting = say(dialogue, "您好")
    assert "faq:pay-methods-overview" in payloads(greeting) and "handoff" in payloads(greeting)
    assert say(dialogue, "hello").language == "en"


def test_greeting_before_a_question_answers_the_question(dialogue: DialogueService) -> None:
    reply = say(dialogue, "您好，請問新竹分署可以刷卡繳嗎？")
    assert reply.kind == "answer" and reply.faq_id == "pay-credit-card"


def test_answer_carries_source_feedback_and_turn(dialogue: DialogueService, store: MemoryStore) -> None:
    reply = say(dialogue, "可以刷卡繳嗎？", agency="aea-hsinchu")
    assert reply.faq_id == "pay-credit-card" and reply.agency == "aea-hsinchu"
    assert reply.sources and reply.sources[0].document.startswith("新竹分署")
    assert reply.feedback and reply.turn_id == len(store.turns)
    assert store.turns[-1].session_key != "u1"  # the raw user id is never stored
    ok = say(dialogue, payload=f"fb:{reply.turn_id}:0")
    assert ok.kind == "feedback" and "謝謝" in ok.text
    assert [(f.faq_id, f.helpful, f.turn_id) for f in store.feedback] == [("pay-credit-card", False, reply.turn_id)]
    assert dialogue.feedback("web", 99999, True) is False
    assert say(dialogue, payload="fb:99999:1").text != ok.text


def test_differing_answers_ask_for_the_agency_and_remember_it(dialogue: DialogueService, store: MemoryStore) -> None:
    first = say(dialogue, "可以分期繳納嗎？")
    assert first.kind == "choose_agency" and first.state == State.CHOOSING_AGENCY
    choices = payloads(first)
    assert len(choices) >= 2 and all(p.startswith("ag:") for p in choices)
    chosen = say(dialogue, payload="ag:aea-yilan")
    assert chosen.kind == "answer" and chosen.faq_id == first.faq_id and chosen.agency == "aea-yilan"
    assert chosen.state == State.IDLE
    assert "【" not in chosen.text  # one agency's answer, never a blend
    # The agency is remembered: the next differing answer comes straight for Yilan.
    again = say(dialogue, "可以申請緩繳嗎")
    assert again.kind == "answer" and again.agency == "aea-yilan"


def test_agency_can_be_chosen_by_typing_its_name(dialogue: DialogueService) -> None:
    assert say(dialogue, "可以分期繳納嗎？", user="u2").kind == "choose_agency"
    reply = say(dialogue, "新竹分署", user="u2")
    assert reply.kind == "answer" and reply.agency == "aea-hsinchu"


def test_widget_agency_is_set_up_front(dialogue: DialogueService) -> None:
    reply = say(dialogue, "可以分期繳納嗎？", agency="aea-hsinchu")
    assert reply.kind == "answer" and reply.agency == "aea-hsinchu"


def test_two_fallbacks_in_a_row_offer_the_service_desk(dialogue: DialogueService, store: MemoryStore) -> None:
    say(dialogue, "hi", agency="aea-hsinchu")
    first = say(dialogue, "明天台北會下雨嗎")
    assert first.fallback and first.kind == "fallback"
    assert "專人" not in first.text and "服務窗口" not in first.text
    second = say(dialogue, "台積電今天股價多少")
    assert second.fallback
    assert "服務窗口" in second.text and second.sources  # the desk's channel and hours, sourced from the KB
    assert len(store.unanswered) == 2  # both fallbacks logged


def test_asking_for_a_person_gives_the_agency_channel(dialogue: DialogueService) -> None:
    asked = say(dialogue, "我要找真人客服")
    assert asked.kind == "choose_agency"
    reply = say(dialogue, payload="ag:tpo-taitung")
    assert reply.kind == "handoff" and reply.sources
    assert all(s.agency == "tpo-taitung" for s in reply.sources)


def test_complaint_routing_asks_the_kind_then_gives_the_channel(dialogue: DialogueService) -> None:
    menu = say(dialogue, "我想申訴", agency="aea-hsinchu")
    assert menu.kind == "complaint" and menu.state == State.COMPLAINT_KIND
    assert payloads(menu) == [f"cx:{k.code}" for k in routing.COMPLAINT_KINDS]
    reply = say(dialogue, payload="cx:integrity")
    assert reply.kind == "complaint" and reply.faq_id == "cmp-integrity" and reply.sources
    # A complaint that names its kind goes straight to the channel.
    direct = say(dialogue, "我要檢舉承辦人收賄", agency="aea-hsinchu", user="u3")
    assert direct.faq_id == "cmp-integrity"
    objection = say(dialogue, "我要申訴，不服扣薪的執行措施", agency="aea-hsinchu", user="u4")
    assert objection.faq_id == "cmp-enforcement-objection"


def test_complaint_kind_without_a_dedicated_entry_falls_back_to_the_general_channels(
    dialogue: DialogueService,
) -> None:
    say(dialogue, "我要申訴", agency="aea-taichung", user="u5")
    reply = say(dialogue, payload="cx:integrity", user="u5")
    assert reply.faq_id == "cmp-channels" and reply.agency == "aea-taichung"


def test_route_entries_exist(kb: KnowledgeBase) -> None:
    ids = {e.id for e in kb.published()}
    assert routing.route_entries() <= ids


def test_did_you_mean_payload_answers_that_entry(dialogue: DialogueService) -> None:
    reply = say(dialogue, payload="faq:pay-virtual-account", agency="aea-hsinchu")
    assert reply.kind == "answer" and reply.faq_id == "pay-virtual-account"


def test_quick_reply_payloads_fit_telegram(dialogue: DialogueService, kb: KnowledgeBase) -> None:
    replies = [
        say(dialogue, "你好"),
        say(dialogue, "可以分期繳納嗎？", user="u6"),
        say(dialogue, "我想申訴", user="u7"),
    ]
    for reply in replies:
        for q in reply.quick_replies:
            assert q.payload.isascii() and len(q.payload.encode()) <= MAX_PAYLOAD_BYTES
    assert all(len(f"faq:{e.id}".encode()) <= MAX_PAYLOAD_BYTES for e in kb.entries)


@pytest.mark.parametrize(
    "inbound",
    [
        Inbound("web", "u1"),
        Inbound("web", "u1", text="a", payload="b"),
        Inbound("web", "u1", text="   "),
        Inbound("web", "u1", text="x" * 2001),
        Inbound("web", "u1", text="hi", agency="nowhere"),
        Inbound("web", "u1", payload="faq:" + "x" * 100),
        Inbound("web", "u1", payload="案號"),
        Inbound("smoke-signal", "u1", text="hi"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(
    dialogue: DialogueService, store: MemoryStore, inbound: Inbound
) -> None:
    with pytest.raises(InputError):
        dialogue.handle(inbound)
    assert store.turns == [] and store.conversations == {} and store.unanswered == []


def test_unknown_payload_shows_the_menu(dialogue: DialogueService) -> None:
    reply = say(dialogue, payload="faq:no-such-entry")
    assert reply.kind == "smalltalk" and reply.quick_replies


def test_injection_strings_are_plain_text(dialogue: DialogueService, store: MemoryStore) -> None:
    reply = say(dialogue, "<script>alert(1)</script>'; DROP TABLE faq_entries; --")
    assert reply.kind in ("fallback", "did_you_mean") and reply.faq_id is None
    assert store.unanswered[-1].masked_text.startswith("<script>")  # stored as text, rendered safely by channels


def test_personal_data_is_masked_in_turns(dialogue: DialogueService, store: MemoryStore) -> None:
    say(dialogue, "我的身分證是A123456789，電話0912345678，可以分期嗎", agency="aea-yilan")
    assert all("A123456789" not in t.masked_text and "0912345678" not in t.masked_text for t in store.turns)


def test_state_is_per_channel_and_user(dialogue: DialogueService, store: MemoryStore) -> None:
    say(dialogue, "可以分期繳納嗎？", user="same", channel="web")
    say(dialogue, "你好", user="same", channel="line")
    states = {key[0]: conv.state for key, conv in store.conversations.items()}
    assert states == {"web": State.CHOOSING_AGENCY, "line": State.IDLE}


def test_cancel_leaves_a_pending_choice(dialogue: DialogueService) -> None:
    assert say(dialogue, "可以分期繳納嗎？", user="u8").state == State.CHOOSING_AGENCY
    reply = say(dialogue, "取消", user="u8")
    assert reply.state == State.IDLE and reply.kind == "smalltalk"


# --- case lookup inside the conversation ---------------------------------------------------------


@pytest.fixture()
def case_dialogue(kb: KnowledgeBase, service: AnswerService, store: MemoryStore) -> DialogueService:
    from bot.config import Settings
    from bot.core.verifier import CaseHasher
    from bot.dialogue.case_steps import CaseSteps
    from bot.services.case_import import load_demo_cases
    from bot.services.case_lookup import CaseLookupService, StoredCaseDirectory

    uow = lambda: InMemoryUnitOfWork(store)  # noqa: E731
    hasher = CaseHasher("unit-test-pepper-0123")
    load_demo_cases(Settings().demo_cases, uow, hasher)
    cases = CaseLookupService(StoredCaseDirectory(uow, hasher), uow, hasher)
    return DialogueService(kb, service, uow, secret="unit-test-secret", cases=CaseSteps(cases))


def test_case_lookup_asks_number_then_verifier_then_shows_the_case(
    case_dialogue: DialogueService, store: MemoryStore
) -> None:
    start = say(case_dialogue, "我想查詢我的案件進度", agency="aea-taichung")
    assert start.kind == "case" and start.state == State.CASE_NUMBER
    assert "113年度營稅執字第00012345號" in start.text  # the format, by example
    bad = say(case_dialogue, "12345")
    assert bad.state == State.CASE_NUMBER and "案號" in bad.text
    asked = say(case_dialogue, "113營稅執12345")
    assert asked.state == State.CASE_VERIFY
    assert "分期" not in asked.text and "36,000" not in asked.text  # nothing revealed before verification
    done = say(case_dialogue, "1234")
    assert done.state == State.IDLE and done.kind == "case"
    assert "36,000" in done.text and "04-0000-0103" in done.text and "示範" in done.text
    assert [a.outcome.value for a in store.case_tables.audit] == ["verified"]
    # The turn log never keeps the case number or the verifier.
    assert all("12345" not in t.masked_text and t.masked_text != "1234" for t in store.turns)


def test_wrong_verifier_and_unknown_case_read_the_same_and_five_failures_lock(
    case_dialogue: DialogueService, store: MemoryStore
) -> None:
    say(case_dialogue, "查詢我的案件進度", agency="aea-taichung", user="v1")
    say(case_dialogue, "113營稅執12345", user="v1")
    wrong = say(case_dialogue, "9999", user="v1")
    say(case_dialogue, "查詢我的案件進度", agency="aea-taichung", user="v2")
    say(case_dialogue, "113營稅執99999", user="v2")
    unknown = say(case_dialogue, "9999", user="v2")
    assert wrong.text == unknown.text and wrong.state == State.CASE_NUMBER
    for attempt in range(4):
        say(case_dialogue, payload="case", user=f"w{attempt}", agency="aea-taichung")
        say(case_dialogue, "113營稅執12345", user=f"w{attempt}")
        say(case_dialogue, "0000", user=f"w{attempt}")
    # Five failures on this case number in all: even the right verifier is now refused.
    say(case_dialogue, "查詢我的案件進度 113營稅執12345", user="w9", agency="aea-taichung")
    locked = say(case_dialogue, "1234", user="w9")
    assert "暫停" in locked.text and "36,000" not in locked.text
    assert locked.state == State.IDLE
    assert store.case_tables.audit[-1].outcome.value == "locked"


def test_case_lookup_without_agency_asks_for_it_and_mvs_points_elsewhere(case_dialogue: DialogueService) -> None:
    asked = say(case_dialogue, payload="case", user="x1")
    assert asked.kind == "choose_agency" and "ag:mvs-tainan" not in payloads(asked)
    number = say(case_dialogue, payload="ag:tpo-taitung", user="x1")
    assert number.state == State.CASE_NUMBER and "113年度" in number.text
    mvs = say(case_dialogue, "查詢我的案件進度", agency="mvs-tainan", user="x2")
    assert mvs.state == State.IDLE and "faq:prog-how-to-check" in payloads(mvs)


def test_a_question_typed_mid_lookup_leaves_it(case_dialogue: DialogueService) -> None:
    say(case_dialogue, "查詢我的案件進度", agency="aea-hsinchu", user="y1")
    reply = say(case_dialogue, "可以刷卡繳嗎？", user="y1")
    assert reply.state == State.IDLE and reply.faq_id == "pay-credit-card"
