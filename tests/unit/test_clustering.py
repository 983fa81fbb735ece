"""Clustering the unanswered log: paraphrases of one question together, different intents apart."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from bot.domain.model import KnowledgeBase
from bot.domain.records import UnansweredQuestion
from bot.services.clustering import Features, char_features, cluster_questions, describe_group, kb_features

T0 = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)

# (intent, text, top candidate the matcher stored, channel, agency)
LABELLED = [
    ("parking", "分署有沒有停車場", "desk-accessibility", "web", "aea-hsinchu"),
    ("parking", "新竹分署停車場在哪裡", "desk-accessibility", "line", "aea-hsinchu"),
    ("parking", "分署的停車場可以停機車嗎", "desk-accessibility", "web", None),
    ("parking", "去分署辦事有停車位嗎", "desk-accessibility", "telegram", None),
    ("parking", "分署有停車場嗎？", "desk-accessibility", "web", "aea-yilan"),
    ("pets", "可以帶狗進去分署嗎", "tpo2-art-corridor", "web", None),
    ("pets", "寵物可以帶進分署嗎", "tpo2-art-corridor", "web", None),
    ("pets", "帶狗狗去分署可以嗎", "tpo2-art-corridor", "line", None),
    ("wifi", "分署大廳有沒有免費wifi", "desk-environment", "web", None),
    ("wifi", "分署有wifi可以用嗎", "desk-environment", "web", None),
    ("weather", "明天高雄會下雨嗎", "__oos__:weather", "web", None),
    ("weather", "明天高雄下雨嗎", "__oos__:weather", "web", None),
    ("bail", "交保金什麼時候可以領回", "tpo-bail-refund", "web", "tpo-taitung"),
]


def _questions() -> list[UnansweredQuestion]:
    return [
        UnansweredQuestion(
            masked_text=text,
            channel=channel,
            agency=agency,
            reason="low_confidence",
            candidates=({"faq_id": top, "score": 0.4}, {"faq_id": "pay-credit-card", "score": 0.05}),
            created_at=T0 + dt.timedelta(hours=i),
            id=i + 1,
        )
        for i, (_, text, top, channel, agency) in enumerate(LABELLED)
    ]


@pytest.fixture(scope="module")
def features(kb: KnowledgeBase) -> Features:
    return kb_features(kb)


def _pairs(clusters: list[list[int]]) -> set[tuple[int, int]]:
    return {pair for members in clusters for pair in itertools.combinations(sorted(members), 2)}


def test_paraphrases_cluster_together_and_intents_stay_apart(features: Features) -> None:
    clusters = cluster_questions(_questions(), features)
    found = _pairs([list(c.member_ids) for c in clusters])
    label = {i + 1: intent for i, (intent, *_rest) in enumerate(LABELLED)}
    wrong = {(a, b) for a, b in found if label[a] != label[b]}
    assert not wrong, [(LABELLED[a - 1][1], LABELLED[b - 1][1]) for a, b in wrong]
    expected = {(a, b) for a, b in itertools.combinations(sorted(label), 2) if label[a] == label[b]}
    assert len(found & expected) / len(expected) >= 0.75
    parking = next(c for c in clusters if 1 in c.member_ids)
    assert set(parking.member_ids) >= {1, 2, 5}


def test_cluster_summary(features: Features) -> None:
    clusters = cluster_questions(_questions(), features, known_entries={"desk-accessibility", "pay-credit-card"})
    parking = next(c for c in clusters if 1 in c.member_ids)
    assert parking.id == min(parking.member_ids) == 1
    assert parking.count == len(parking.member_ids)
    assert parking.first_seen == T0 and parking.last_seen >= T0
    assert parking.channels["web"] >= 2 and "aea-hsinchu" in parking.agencies
    assert parking.suggestions[0].faq_id == "desk-accessibility"
    assert all(s.faq_id in {"desk-accessibility", "pay-credit-card"} for s in parking.suggestions)
    assert parking.representative in parking.texts
    assert clusters[0].count >= clusters[-1].count  # biggest first
    weather = next(c for c in clusters if 11 in c.member_ids)
    assert weather.out_of_scope == "weather" and parking.out_of_scope is None
    assert set(weather.to_dict()) >= {"id", "representative", "count", "first_seen", "member_ids", "suggestions"}


def test_identical_questions_are_one_unit_and_a_lone_question_is_its_own_cluster() -> None:
    qs = [
        UnansweredQuestion("分署有停車場嗎", "web", None, "no_match", (), T0, id=7),
        UnansweredQuestion("分署有停車場嗎？", "web", None, "no_match", (), T0, id=3),
        UnansweredQuestion("交保金什麼時候領回", "web", None, "no_match", (), T0, id=9),
    ]
    clusters = cluster_questions(qs, char_features)
    assert [(c.id, c.count) for c in clusters] == [(3, 2), (9, 1)]


def test_describe_group_summarises_chosen_questions(features: Features) -> None:
    group = describe_group(_questions()[:3], features)
    assert group.id == 1 and group.count == 3 and group.suggestions[0].faq_id == "desk-accessibility"
