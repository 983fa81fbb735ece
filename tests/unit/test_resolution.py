"""Resolving unanswered questions with the in-memory store: attach, draft, dismiss; history and versions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from bot.adapters.memory import InMemoryUnitOfWork, MemoryStore
from bot.domain.model import KnowledgeBase
from bot.domain.records import UnansweredQuestion
from bot.services.clustering import char_features
from bot.services.editing import EditError, UnknownEntry
from bot.services.ports import UnitOfWork
from bot.services.resolution import ResolutionService, UnknownQuestion, variant_text

T0 = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)


def _log(store: MemoryStore, *texts: str, top: str = "desk-opening-hours") -> list[int]:
    """Log questions whose best stored candidate is `top`; returns their ids."""
    candidates = ({"faq_id": top, "score": 0.5},)
    with InMemoryUnitOfWork(store) as uow:
        ids = [uow.unanswered.add(UnansweredQuestion(t, "web", None, "low_confidence", candidates, T0)) for t in texts]
        uow.commit()
    return ids


@pytest.fixture()
def uow_factory(store: MemoryStore) -> Callable[[], UnitOfWork]:
    return lambda: InMemoryUnitOfWork(store)


@pytest.fixture()
def resolutions(uow_factory: Callable[[], UnitOfWork]) -> ResolutionService:
    return ResolutionService(uow_factory, char_features, clock=lambda: T0)


def test_attach_adds_variants_resolves_the_cluster_and_records_it(
    store: MemoryStore, resolutions: ResolutionService, kb: KnowledgeBase
) -> None:
    ids = _log(store, "分署幾點開門", "分署幾點開門呢", "分署是幾點開門", "交保金什麼時候可以領回")
    version = store.content_version
    done = resolutions.attach(ids[1], "desk-opening-hours", "alice")
    assert set(done.question_ids) == set(ids[:3])  # the whole cluster, found by any member's id
    entry = store.kb.entry("desk-opening-hours")
    assert entry is not None and "分署幾點開門" in entry.variants
    assert len(entry.variants) == len(kb.entry("desk-opening-hours").variants) + len(done.added_variants)  # type: ignore[union-attr]
    assert store.content_version == version + 1 == done.content_version
    resolved = {q.id: q for q in store.unanswered}
    assert all(resolved[i].status == "resolved" and resolved[i].resolution == "desk-opening-hours" for i in ids[:3])
    assert resolved[ids[3]].status == "open"
    (record,) = store.history
    assert (record.editor, record.action, record.entry_id) == ("alice", "attach", "desk-opening-hours")
    assert record.before is not None and record.after is not None
    assert len(record.after["variants"]) == len(record.before["variants"]) + len(done.added_variants)
    assert record.details["question_ids"] == list(done.question_ids)


def test_attach_skips_texts_that_belong_to_another_entry(store: MemoryStore, resolutions: ResolutionService) -> None:
    other = store.kb.entry("pay-credit-card")
    assert other is not None
    ids = _log(store, other.variants[0] + "！", "分署幾點開門")
    done = resolutions.attach_questions(ids, "desk-opening-hours", "alice")
    assert done.added_variants == ("分署幾點開門",)
    assert "pay-credit-card" in next(iter(done.skipped.values()))
    assert all(q.status == "resolved" for q in store.unanswered)


def test_only_resolves_one_question(store: MemoryStore, resolutions: ResolutionService) -> None:
    ids = _log(store, "分署幾點開門", "分署幾點開門呢")
    done = resolutions.attach(ids[0], "desk-opening-hours", "alice", single=True)
    assert done.question_ids == (ids[0],)
    assert [q.status for q in store.unanswered] == ["resolved", "open"]


def test_new_creates_an_unpublished_draft_pointing_back(store: MemoryStore, resolutions: ResolutionService) -> None:
    ids = _log(store, "分署有沒有停車場", "分署有沒有停車場呢", "分署有停車場嗎", "分署停車場在哪")
    done = resolutions.new(ids[0], "bob")
    draft = store.kb.entry(done.entry_id or "")
    assert draft is not None and draft.status == "draft" and draft.id == f"draft-{min(ids)}"
    assert draft.question_zh in {"分署有沒有停車場", "分署有沒有停車場呢", "分署有停車場嗎", "分署停車場在哪"}
    assert len(draft.variants) == 2 and draft.question_zh not in draft.variants  # 呢 is dropped: a duplicate
    assert draft.topic == "service_desk"  # from the suggested entry desk-opening-hours
    assert draft not in store.kb.published()
    assert {q.resolution for q in store.unanswered} == {draft.id}
    assert store.history[-1].action == "draft_from_cluster" and store.history[-1].before is None
    with pytest.raises(EditError):
        resolutions.new(ids[0], "bob")  # already resolved


def test_dismiss_marks_out_of_scope_without_touching_content(
    store: MemoryStore, resolutions: ResolutionService
) -> None:
    ids = _log(store, "明天高雄會下雨嗎", "明天高雄會下雨嗎?")
    version, kb = store.content_version, store.kb
    done = resolutions.dismiss(ids[0], "carol")
    assert set(done.question_ids) == set(ids)
    assert [q.status for q in store.unanswered] == ["dismissed", "dismissed"]
    assert store.content_version == version and store.kb is kb
    assert store.history[-1].action == "dismiss" and store.history[-1].details["question_ids"] == ids


def test_clear_errors(store: MemoryStore, resolutions: ResolutionService) -> None:
    ids = _log(store, "分署幾點開門")
    with pytest.raises(UnknownQuestion, match="no unanswered question"):
        resolutions.attach(999, "desk-opening-hours", "alice")
    with pytest.raises(UnknownEntry):
        resolutions.attach(ids[0], "no-such-entry", "alice")
    resolutions.dismiss(ids[0], "alice")
    with pytest.raises(UnknownQuestion, match="already dismissed"):
        resolutions.attach(ids[0], "desk-opening-hours", "alice")
    assert [q.status for q in store.unanswered] == ["dismissed"]


def test_variant_text_drops_mask_placeholders() -> None:
    assert variant_text("我電話 [phone] 可以刷卡嗎") == "我電話 可以刷卡嗎"
