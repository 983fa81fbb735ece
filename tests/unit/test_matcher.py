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
    from bot.core.matcher import FEATURES, RANK_FEATURES

    cal = load_calibration()
    assert len(cal.coefficients) == len(FEATURES)
    assert len(cal.weights) == len(RANK_FEATURES)
    assert abs(sum(abs(w) for w in cal.weights) - 1.0) < 1e-3  # scripts/calibrate.py normalises the weights
    assert 0.0 < cal.threshold < 1.0


def test_candidate_features_are_bounded(matcher: Matcher) -> None:
    """Re-ranking features are coverages and similarities in [0, 1], gaps in [-1, 0]."""
    from bot.core.matcher import RANK_FEATURES

    cands = matcher.candidates("新竹分署可以刷卡繳欠款嗎")
    assert cands.targets.size > 0 and cands.agency == "aea-hsinchu"
    cols = {name: cands.features[:, i] for i, name in enumerate(RANK_FEATURES)}
    for name in ("entry_coverage", "centrality", "text_coverage", "text_precision", "fuzzy", "bm25"):
        assert ((cols[name] >= 0) & (cols[name] <= 1)).all(), name
    for name in ("coverage_gap", "topic_support"):
        assert ((cols[name] <= 0) & (cols[name] >= -2)).all(), name
    assert cols["coverage_gap"].max() == 0.0


def test_answer_only_words_count_less_than_question_words(kb: KnowledgeBase, matcher: Matcher) -> None:
    """Target postings: a share above zero marks a question word, zero an answer-only word."""
    index = matcher.index
    entry = kb.entry("pay-credit-card")
    assert entry is not None
    target = index.targets.index(entry.id)
    gp = index.target_postings
    term_id = index.vocab["w:信用卡"]
    rows, shares = gp.get(term_id)
    assert float(shares[list(rows).index(target)]) > 0.5  # most of the entry's texts name the card


def test_index_postings_are_grouped_by_term(matcher: Matcher) -> None:
    """CSR invariants of the streamed build: sorted rows within each term, consistent pointers."""
    for postings, n_rows in (
        (matcher.index.text_postings, matcher.index.size),
        (matcher.index.target_postings, len(matcher.index.targets)),
    ):
        assert postings.indptr[0] == 0 and postings.indptr[-1] == postings.rows.size == postings.weights.size
        assert (postings.frequency() >= 0).all()
        assert postings.rows.min() >= 0 and postings.rows.max() < n_rows
        for term_id in range(0, len(matcher.index.vocab), 97):
            rows, _w = postings.get(term_id)
            assert (rows[1:] >= rows[:-1]).all()


def test_small_blocks_build_the_same_postings(kb: KnowledgeBase, matcher: Matcher) -> None:
    """Grouping postings a block at a time gives exactly the one-shot result."""
    import numpy as np

    from bot.core import index as index_module

    terms = np.array([3, 1, 3, 0, 1, 3, 2, 0], dtype=np.int32)
    df = np.bincount(terms, minlength=4)

    def columns(lo: int, hi: int) -> tuple[np.ndarray, ...]:
        return (np.arange(lo, hi, dtype=np.int32),)

    whole = index_module._group_by_term(terms, df, columns, (np.int32,), block=1 << 10)
    blocks = index_module._group_by_term(terms, df, columns, (np.int32,), block=3)
    assert np.array_equal(whole[0], blocks[0]) and np.array_equal(whole[1][0], blocks[1][0])
    assert whole[1][0].tolist() == [3, 7, 1, 4, 6, 0, 2, 5]
