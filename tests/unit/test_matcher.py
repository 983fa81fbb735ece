"""Matcher behaviour pinned by golden questions, agency handling and robustness properties."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.matcher import Matcher
from bot.domain.model import KnowledgeBase
from tests.conftest import ROOT

GOLDEN = [
    json.loads(x) for x in (ROOT / "tests" / "data" / "golden.jsonl").read_text(encoding="utf-8").splitlines() if x
]


def test_every_canonical_question_finds_its_own_entry(kb: KnowledgeBase, matcher: Matcher) -> None:
    misses = []
    for entry in kb.published():
        agency = entry.agencies[0] if len(entry.agencies) == 1 else None
        result = matcher.match(entry.question_zh, agency=agency)
        top = result.candidates[0] if result.candidates else None
        if top is None or top.target != entry.id or top.confidence < matcher.calibration.threshold:
            misses.append((entry.id, top.target if top else None))
    assert misses == []


@pytest.mark.parametrize("case", GOLDEN, ids=[g["q"] for g in GOLDEN])
def test_golden_questions(matcher: Matcher, case: dict[str, str | None]) -> None:
    result = matcher.match(str(case["q"]), agency=case.get("agency"))
    in_scope = [c for c in result.candidates if not c.out_of_scope]
    answered = (
        bool(result.candidates)
        and not result.candidates[0].out_of_scope
        and in_scope[0].confidence >= matcher.calibration.threshold
    )
    if case["faq_id"] is None:
        assert not answered, f"should fall back, got {in_scope[0].target if in_scope else None}"
    else:
        assert answered and in_scope[0].target == case["faq_id"]


@pytest.mark.parametrize(
    ("text", "agency"),
    [
        ("新竹分署可以刷卡嗎", "aea-hsinchu"),
        ("台東地檢署在哪", "tpo-taitung"),
        ("臺東地檢的服務台", "tpo-taitung"),
        ("臺南監理站的網路申辦", "mvs-tainan"),
        ("台南監理所怎麼預約", "mvs-tainan"),
        ("宜蘭行政執行分署分期", "aea-yilan"),
        ("行政執行署臺中分署服務", "aea-taichung"),
        ("Does the Hsinchu branch take credit cards?", "aea-hsinchu"),
    ],
)
def test_agency_named_in_question_is_detected(matcher: Matcher, text: str, agency: str) -> None:
    assert matcher.match(text).agency == agency


def test_agency_filter_only_returns_entries_for_that_agency(kb: KnowledgeBase, matcher: Matcher) -> None:
    result = matcher.match("可以刷卡繳嗎", agency="mvs-tainan")
    for cand in result.candidates:
        if not cand.out_of_scope:
            entry = kb.entry(cand.target)
            assert entry is not None and "mvs-tainan" in entry.agencies


def test_confidence_is_a_probability(matcher: Matcher) -> None:
    for text in ("可以刷卡嗎", "今天天氣如何", "x"):
        for cand in matcher.match(text).candidates:
            assert 0.0 <= cand.confidence <= 1.0


def test_alternatives_are_ranked(matcher: Matcher) -> None:
    result = matcher.match("拍賣")
    scores = [c.score for c in result.candidates]
    assert scores == sorted(scores, reverse=True)
    assert len(result.candidates) >= 3


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_matcher_never_raises(matcher: Matcher, text: str) -> None:
    result = matcher.match(text)
    assert all(0.0 <= c.confidence <= 1.0 for c in result.candidates)


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet="繳費分期拍賣信用卡進度申訴新竹分署嗎？ abc", max_size=60))
def test_matcher_total_on_domain_alphabet(matcher: Matcher, text: str) -> None:
    matcher.match(text, agency="aea-hsinchu")


def test_bundled_calibration_fits_this_matcher() -> None:
    from bot.core.calibration import load_calibration
    from bot.core.matcher import FEATURES

    cal = load_calibration()
    assert len(cal.coefficients) == len(FEATURES)
    assert abs(sum(cal.weights) - 1.0) < 1e-3
    assert 0.0 < cal.threshold < 1.0
