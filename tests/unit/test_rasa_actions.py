"""Rasa actions as data in, data out: a rasa-sdk Tracker in, events and bot messages out (in-memory stores)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.case_lookup import (
    ActionAskAgency,
    ActionAskCaseNumber,
    ActionCaseLookupDone,
    ValidateCaseLookupForm,
)
from actions.conversation import ActionComplaint, ActionFeedback, ActionSmalltalk
from actions.faq import ActionAnswerFaq, ActionDefaultFallback, engine_choice
from bot.adapters.memory import InMemoryUnitOfWork, MemoryStore
from bot.bootstrap import App
from bot.config import Settings
from bot.core.matcher import Matcher
from bot.core.verifier import CaseHasher
from bot.dialogue.machine import DialogueService
from bot.domain.cases import AuditOutcome
from bot.domain.model import KnowledgeBase
from bot.services.answering import FALLBACK_EN, FALLBACK_ZH, AnswerService
from bot.services.case_import import load_demo_cases
from bot.services.case_lookup import CaseLookupService, StoredCaseDirectory

ROOT = Path(__file__).resolve().parents[2]
DOMAIN: dict[str, Any] = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
THRESHOLD = 0.09
DEMO_NUMBER, DEMO_ID_TAIL = "113營稅執12345", "1234"  # a fictional demo case of aea-taichung


@pytest.fixture()
def app(kb: KnowledgeBase, matcher: Matcher, store: MemoryStore, service: AnswerService) -> App:
    settings = Settings(rasa_min_confidence=THRESHOLD)
    uow = lambda: InMemoryUnitOfWork(store)  # noqa: E731
    hasher = CaseHasher("unit-test-pepper-0123")
    load_demo_cases(settings.demo_cases, uow, hasher)
    cases = CaseLookupService(StoredCaseDirectory(uow, hasher), uow, hasher)
    dialogue = DialogueService(kb, service, uow, secret="unit-test-secret")
    return App(settings, uow, kb, matcher, service, dialogue=dialogue, cases=cases)


def parse(
    text: str,
    intent: str = "faq",
    *,
    pick: str | None = None,
    confidence: float = 0.9,
    entities: list[dict[str, Any]] | None = None,
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Rasa 3.6 parse data for one message, as the server sends it in `tracker.latest_message`."""
    data: dict[str, Any] = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.97},
        "intent_ranking": [{"name": intent, "confidence": 0.97}],
        "entities": entities or [],
        "message_id": "m1",
        "metadata": metadata or {},
    }
    if pick is not None:
        data["response_selector"] = {
            "all_retrieval_intents": ["faq"],
            "faq": {
                "response": {
                    "id": 1,
                    "responses": [{"text": "…"}],
                    "response_templates": [{"text": "…"}],
                    "confidence": confidence,
                    "intent_response_key": f"faq/{pick}",
                    "utter_action": f"utter_faq/{pick}",
                    "template_name": f"utter_faq/{pick}",
                },
                "ranking": [{"id": 1, "confidence": confidence, "intent_response_key": f"faq/{pick}"}],
            },
        }
    return data


def tracker(
    latest: dict[str, Any],
    slots: dict[str, Any] | None = None,
    *,
    events: list[dict[str, Any]] | None = None,
    active_loop: dict[str, Any] | None = None,
) -> Tracker:
    values = {name: None for name in DOMAIN["slots"]} | {"requested_slot": None} | (slots or {})
    return Tracker("citizen-42", values, latest, events or [], False, None, active_loop or {}, "action_listen")


def run(action: Any, t: Tracker) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Run an action (sync or async); return (events, bot messages)."""
    dispatcher = CollectingDispatcher()
    out = action.run(dispatcher, t, DOMAIN)
    events = asyncio.run(out) if asyncio.iscoroutine(out) else out
    return events, dispatcher.messages


def slot_events(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


# --- FAQ answers and fallbacks --------------------------------------------------------------------


def test_confident_pick_is_answered_with_sources_and_recorded(app: App, store: MemoryStore) -> None:
    events, messages = run(ActionAnswerFaq(app), tracker(parse("新竹分署可以刷卡繳嗎？", pick="pay-credit-card")))
    message, fields = messages
    entry = app.kb.entry("pay-credit-card")
    assert entry is not None
    block = entry.block_for("aea-hsinchu")
    assert block is not None and message["text"].startswith(block.zh)
    assert f"資料來源：{block.sources[0].document}，{block.sources[0].section}" in message["text"]
    assert [b["payload"] for b in message["buttons"]] == ["/feedback_helpful", "/feedback_unhelpful"]
    [turn] = store.turns
    custom = fields["custom"]  # civicbot's reply fields, for `civicbot serve --engine rasa`
    assert (custom["faq_id"], custom["kind"], custom["turn_id"], custom["feedback"]) == (
        "pay-credit-card",
        "answer",
        turn.id,
        True,
    )
    assert custom["sources"][0] == {
        "document": block.sources[0].document,
        "section": block.sources[0].section,
        "agency": "aea-hsinchu",
    }
    assert (turn.channel, turn.faq_id, turn.agency, turn.fallback) == ("rasa", "pay-credit-card", "aea-hsinchu", False)
    assert turn.session_key and "citizen-42" not in turn.session_key
    assert slot_events(events) == {"language": "zh-TW", "last_turn_id": float(turn.id or 1)}
    assert store.unanswered == []


def test_low_selector_confidence_falls_back_and_logs_masked(app: App, store: MemoryStore) -> None:
    text = "我的電話0912345678，可以刷卡繳嗎"
    events, messages = run(
        ActionAnswerFaq(app), tracker(parse(text, pick="pay-credit-card", confidence=THRESHOLD - 0.01))
    )
    assert messages[0]["text"] == FALLBACK_ZH
    assert messages[1]["custom"]["fallback"] and messages[1]["custom"]["kind"] == "fallback"
    [logged] = store.unanswered
    assert logged.reason == "low_confidence" and logged.channel == "rasa"
    assert "0912345678" not in logged.masked_text and "[phone]" in logged.masked_text
    assert "last_turn_id" not in slot_events(events)
    # The native matcher's suggestions come back as buttons that re-ask the suggested question.
    assert all(b["title"] == b["payload"] for b in messages[0]["buttons"])


def test_confident_wrong_pick_for_an_off_topic_question_is_vetoed(app: App, store: MemoryStore) -> None:
    """RasaHQ/rasa#9723: the FallbackClassifier passes a confident intent; the selector's pick is still wrong."""
    _, messages = run(
        ActionAnswerFaq(app), tracker(parse("護照過期要怎麼換新的", pick="pay-credit-card", confidence=0.96))
    )
    assert messages[0]["text"] == FALLBACK_ZH
    assert store.unanswered[0].reason == "out_of_scope"
    assert store.turns[0].faq_id is None and store.turns[0].fallback


def test_english_question_gets_english_answer(app: App) -> None:
    _, messages = run(ActionAnswerFaq(app), tracker(parse("Can I pay by credit card?", pick="pay-credit-card")))
    assert "Source" in messages[0]["text"] and "資料來源" not in messages[0]["text"]
    assert messages[0]["buttons"][0]["title"].endswith("Helpful")


def test_unknown_agency_gets_each_agencys_answer_labelled(app: App) -> None:
    entry = next(e for e in app.kb.published() if len(e.answers) > 1 and e.question_zh)
    _, messages = run(ActionAnswerFaq(app), tracker(parse(entry.question_zh, pick=entry.id)))
    text = messages[0]["text"]
    for block in entry.answers:
        assert block.zh in text
    assert text.count("【") == len(entry.answers)
    assert "資料來源（" in text  # sources labelled with their agency


def test_agency_from_channel_metadata_gives_that_agencys_answer(app: App, store: MemoryStore) -> None:
    entry = next(e for e in app.kb.published() if len(e.answers) > 1 and e.question_zh)
    block = entry.answers[1]
    latest = parse(entry.question_zh, pick=entry.id, metadata={"agency": block.agencies[0]})
    _, messages = run(ActionAnswerFaq(app), tracker(latest))
    assert messages[0]["text"].startswith(block.zh) and "【" not in messages[0]["text"]
    assert store.turns[0].agency == block.agencies[0]


@pytest.mark.parametrize("intent", ["out_of_scope", "nlu_fallback"])
def test_default_fallback_logs_and_never_answers(app: App, store: MemoryStore, intent: str) -> None:
    latest = parse("Where do I renew my passport?", intent, pick="pay-credit-card", confidence=0.99)
    _, messages = run(ActionDefaultFallback(app), tracker(latest))
    assert messages[0]["text"] == FALLBACK_EN
    assert store.unanswered[0].reason in (
        {"out_of_scope"} if intent == "out_of_scope" else {"out_of_scope", "low_confidence"}
    )


def test_engine_choice_reads_the_response_selector() -> None:
    choice = engine_choice(parse("x", pick="pay-credit-card", confidence=0.7))
    assert (choice.faq_id, choice.confidence, choice.out_of_scope) == ("pay-credit-card", 0.7, False)
    assert engine_choice(parse("x", "greet", pick="pay-credit-card")).faq_id is None
    assert engine_choice(parse("x", "out_of_scope")).out_of_scope
    assert engine_choice({"text": "x", "intent": {"name": "faq"}}).faq_id is None


def test_bad_input_gets_a_clear_message_and_no_record(app: App, store: MemoryStore) -> None:
    _, messages = run(ActionAnswerFaq(app), tracker(parse("   ", pick="pay-credit-card")))
    assert "請輸入" in messages[0]["text"]
    assert store.turns == []


# --- smalltalk, complaints, feedback --------------------------------------------------------------


def test_greeting_offers_the_services(app: App) -> None:
    events, messages = run(ActionSmalltalk(app), tracker(parse("hello", "greet")))
    assert messages[0]["text"].startswith("Hello")
    assert {b["payload"] for b in messages[0]["buttons"]} == {"/case_lookup", "/complaint"}
    assert slot_events(events) == {"language": "en"}


def test_complaint_asks_the_kind_then_answers_it(app: App, store: MemoryStore) -> None:
    _, messages = run(ActionComplaint(app), tracker(parse("我要申訴", "complaint")))
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert '/complaint_kind{"complaint_kind": "attitude"}' in payloads
    chosen = parse(payloads[0], "complaint_kind", entities=[{"entity": "complaint_kind", "value": "attitude"}])
    events, messages = run(ActionComplaint(app), tracker(chosen, {"agency": "aea-hsinchu"}))
    entry = app.kb.entry("cmp-staff-attitude")
    assert entry is not None
    block = entry.block_for("aea-hsinchu") or app.kb.entry("cmp-channels").block_for("aea-hsinchu")  # type: ignore[union-attr]
    assert block is not None and block.zh in messages[0]["text"]
    assert store.turns[-1].masked_text == "[cx:attitude]" and "last_turn_id" in slot_events(events)


def test_complaint_naming_its_kind_is_answered_at_once(app: App) -> None:
    _, messages = run(ActionComplaint(app), tracker(parse("承辦人態度很差我要投訴", "complaint")))
    assert "資料來源" in messages[0]["text"]


def test_feedback_rates_the_last_answer_once(app: App, store: MemoryStore) -> None:
    events, _ = run(ActionAnswerFaq(app), tracker(parse("可以刷卡繳嗎", pick="pay-credit-card")))
    turn_id = slot_events(events)["last_turn_id"]
    events, messages = run(
        ActionFeedback(app), tracker(parse("/feedback_unhelpful", "feedback_unhelpful"), {"last_turn_id": turn_id})
    )
    assert messages[0]["text"] == "謝謝您的回饋！"
    assert [(f.faq_id, f.helpful, f.channel) for f in store.feedback] == [("pay-credit-card", False, "rasa")]
    assert events == [SlotSet("last_turn_id", None)]
    _, messages = run(ActionFeedback(app), tracker(parse("/feedback_helpful", "feedback_helpful")))
    assert "找不到" in messages[0]["text"] and len(store.feedback) == 1


# --- the case-lookup form ------------------------------------------------------------------------

FORM = {"name": "case_lookup_form", "validate": True, "rejected": False}


def form_step(
    app: App, text: str, slot: str, slots: dict[str, Any], intent: str = "faq"
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One citizen answer to the form's question for `slot`: Rasa sets the candidate, the validator decides."""
    latest = parse(text, intent)
    candidate = SlotSet(slot, text)
    t = tracker(
        latest,
        {**slots, "requested_slot": slot, slot: text},
        events=[{"event": "user", "text": text}, candidate],
        active_loop=FORM,
    )
    events, messages = run(ValidateCaseLookupForm(app), t)
    return slot_events(events), messages


def test_form_asks_for_a_supported_agency_with_buttons(app: App) -> None:
    _, messages = run(ActionAskAgency(app), tracker(parse("/case_lookup", "case_lookup")))
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert '/choose_agency{"agency": "aea-taichung"}' in payloads
    assert not any("mvs-tainan" in p for p in payloads)  # no case numbers there


def test_form_agency_without_lookups_ends_the_form_pointing_elsewhere(app: App) -> None:
    slots, messages = form_step(app, "台南監理站", "agency", {})
    assert slots["agency"] == "mvs-tainan" and slots["requested_slot"] is None
    assert "監理站" in messages[0]["text"] and messages[0]["buttons"]


def test_form_checks_the_number_then_verifies_and_shows_the_case(app: App, store: MemoryStore) -> None:
    slots, _ = form_step(app, "臺中分署", "agency", {})
    assert slots["agency"] == "aea-taichung"
    slots, messages = form_step(app, "12345", "case_number", {"agency": "aea-taichung"})
    assert slots["case_number"] is None and "案號格式" in messages[0]["text"]
    slots, messages = form_step(app, DEMO_NUMBER, "case_number", {"agency": "aea-taichung"})
    assert slots["case_number"] == "113年度營稅執字第00012345號" and messages == []
    slots, messages = form_step(
        app, DEMO_ID_TAIL, "case_verifier", {"agency": "aea-taichung", "case_number": slots["case_number"]}
    )
    assert "113年度營稅執字第00012345號" in messages[0]["text"] and "辦理情形" in messages[0]["text"]
    assert slots["requested_slot"] is None and slots["case_verifier"] is None and slots["case_number"] is None
    audit = store.case_tables.audit
    assert audit[-1].outcome is AuditOutcome.VERIFIED and audit[-1].channel == "rasa"
    assert DEMO_ID_TAIL not in repr(audit) and "00012345" not in repr(audit)  # never the verifier or full number


def test_form_locks_after_five_failed_verifications(app: App) -> None:
    number = "113年度營稅執字第00012345號"
    filled = {"agency": "aea-taichung", "case_number": number}
    for _ in range(5):
        slots, messages = form_step(app, "9999", "case_verifier", filled)
        assert messages[0]["text"].startswith("案號或驗證資料不符")
        assert slots["case_number"] is None  # both asked again: we do not say which was wrong
    slots, messages = form_step(app, DEMO_ID_TAIL, "case_verifier", filled)
    assert "暫停" in messages[0]["text"] and slots["requested_slot"] is None  # even the right one is refused now


def test_form_gives_up_after_three_malformed_numbers_and_cancels_on_request(app: App) -> None:
    slots: dict[str, Any] = {"agency": "aea-taichung"}
    for tries in (1, 2):
        out, _ = form_step(app, "不知道", "case_number", {**slots, "case_number_tries": float(tries - 1) or None})
        assert out["case_number_tries"] == float(tries)
    out, messages = form_step(app, "不知道", "case_number", {**slots, "case_number_tries": 2.0})
    assert out["requested_slot"] is None and "已離開案件查詢" in messages[0]["text"]
    out, messages = form_step(app, "取消", "case_verifier", {**slots, "case_number": "x"})
    assert out["requested_slot"] is None and "已取消" in messages[0]["text"]


def test_case_number_prompt_shows_the_agencys_format(app: App) -> None:
    _, messages = run(
        ActionAskCaseNumber(app), tracker(parse("/choose_agency", "choose_agency"), {"agency": "tpo-taitung"})
    )
    assert "113年度偵字第1234號" in messages[0]["text"]


def test_nothing_of_the_lookup_stays_in_slots(app: App) -> None:
    events, _ = run(ActionCaseLookupDone(app), tracker(parse("1234", "faq")))
    assert slot_events(events) == {"case_number": None, "case_verifier": None, "case_number_tries": None}


def test_case_progress_answer_offers_the_lookup(app: App) -> None:
    _, messages = run(ActionAnswerFaq(app), tracker(parse("案件進度要怎麼查", pick="prog-how-to-check")))
    assert messages[0]["buttons"][0]["payload"] == "/case_lookup"


def test_number_typed_with_the_request_is_checked_once_the_agency_is_known(app: App) -> None:
    slots, _ = form_step(app, "臺中分署", "agency", {"case_number": DEMO_NUMBER})
    assert (slots["agency"], slots["case_number"]) == ("aea-taichung", "113年度營稅執字第00012345號")
    slots, _ = form_step(app, "臺東地檢署", "agency", {"case_number": DEMO_NUMBER})  # not a prosecutor's number
    assert (slots["agency"], slots["case_number"]) == ("tpo-taitung", None)
