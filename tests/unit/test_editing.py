"""Entry editing, the content version, `faq export` and live reload, over the in-memory store."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from bot.adapters.memory import InMemoryUnitOfWork, MemoryStore
from bot.bootstrap import build_matcher
from bot.domain.model import AnswerBlock, FaqEntry, KnowledgeBase, Source
from bot.services.answering import AnswerService
from bot.services.editing import EditError, EditorService, UnknownEntry
from bot.services.kb_export import export_kb
from bot.services.kb_files import load_kb
from bot.services.kb_sync import load_folder_into_store
from bot.services.live_content import LiveKnowledge, Snapshot
from tests.conftest import FAQ_DIR

T0 = dt.datetime(2026, 11, 24, 8, 0, tzinfo=dt.UTC)
DRAFT = FaqEntry("desk-pets", "service_desk", "可以帶寵物進分署嗎？", None, ("帶狗去分署可以嗎",), (), status="draft")


@pytest.fixture()
def editor(store: MemoryStore) -> EditorService:
    return EditorService(lambda: InMemoryUnitOfWork(store), clock=lambda: T0)


def test_draft_then_publish_needs_answer_and_source(editor: EditorService, store: MemoryStore) -> None:
    version = store.content_version
    editor.create(DRAFT, "alice")
    assert store.kb.entry("desk-pets") == DRAFT and store.content_version == version + 1
    assert store.files["desk-pets"] == "service_desk.yaml"  # no file known for the topic yet: named after it
    with pytest.raises(EditError) as refused:
        editor.publish("desk-pets", "alice")
    assert any("missing source" in p or "no answers" in p for p in refused.value.problems)
    hsinchu = next(a for a in store.kb.agencies if a.code == "aea-hsinchu")
    block = AnswerBlock(
        ("aea-hsinchu",), "請先洽新竹分署服務台。", None, (Source(hsinchu.documents[0], "一、基礎服務"),)
    )
    variants = ("帶狗去分署可以嗎", "寵物能進分署嗎", "分署可以帶貓嗎", "導盲犬以外的狗可以進分署嗎", "分署禁止寵物嗎")
    editor.update(dataclasses.replace(DRAFT, answers=(block,), variants=variants), "alice")
    published = editor.publish("desk-pets", "bob")
    assert published.status == "published" and published.last_reviewed == T0.date()
    retired = editor.retire("desk-pets", "bob")
    assert retired.status == "retired"
    history = editor.history("desk-pets")
    assert [r.action for r in history] == ["retire", "publish", "edit", "create"]
    assert history[0].before is not None and history[0].before["status"] == "published"
    assert history[0].after is not None and history[0].after["status"] == "retired"
    assert [r.editor for r in history] == ["bob", "bob", "alice", "alice"]
    assert history[0].content_version == store.content_version


def test_edits_are_refused_with_reasons(editor: EditorService, store: MemoryStore) -> None:
    with pytest.raises(UnknownEntry):
        editor.retire("no-such-entry", "alice")
    with pytest.raises(EditError, match="exists"):
        editor.create(dataclasses.replace(DRAFT, id="pay-credit-card"), "alice")
    taken = store.kb.entry("pay-credit-card")
    assert taken is not None
    with pytest.raises(EditError) as overlap:
        editor.create(dataclasses.replace(DRAFT, variants=(taken.variants[0],)), "alice")
    assert "pay-credit-card" in overlap.value.problems[0]
    assert store.history == []


def test_export_then_load_is_a_no_op(tmp_path: Path, kb: KnowledgeBase) -> None:
    store = MemoryStore()
    load_folder_into_store(FAQ_DIR, lambda: InMemoryUnitOfWork(store))
    EditorService(lambda: InMemoryUnitOfWork(store)).create(DRAFT, "alice")
    assert store.files["desk-pets"] == "complaint_service.yaml"  # where most service_desk entries live
    report = export_kb(store.kb, store.files, tmp_path)
    assert "agencies.yaml" in report.written and not report.unchanged
    exported = load_kb(tmp_path)
    assert exported.problems == []
    assert {e.id: e for e in exported.kb.entries} == {e.id: e for e in store.kb.entries}
    assert exported.kb.lexicon == kb.lexicon and exported.kb.out_of_scope == kb.out_of_scope
    assert sorted(exported.kb.agencies, key=lambda a: a.code) == sorted(kb.agencies, key=lambda a: a.code)
    version = store.content_version
    sync = load_folder_into_store(tmp_path, lambda: InMemoryUnitOfWork(store))
    assert (sync.added, sync.changed, sync.retired) == ([], [], [])
    assert store.content_version == version
    again = export_kb(store.kb, store.files, tmp_path)
    assert again.written == [] and len(again.unchanged) == len(report.written)


def test_export_over_the_bundled_folder_leaves_it_byte_identical(tmp_path: Path) -> None:
    import shutil

    store = MemoryStore()
    load_folder_into_store(FAQ_DIR, lambda: InMemoryUnitOfWork(store))
    copy = tmp_path / "faq"
    shutil.copytree(FAQ_DIR, copy)
    before = {p.name: p.read_bytes() for p in copy.glob("*.yaml")}
    report = export_kb(store.kb, store.files, copy)
    assert report.written == [] and report.removed == []
    assert {p.name: p.read_bytes() for p in copy.glob("*.yaml")} == before


def test_live_knowledge_swaps_in_new_content(store: MemoryStore, kb: KnowledgeBase) -> None:
    factory = lambda: InMemoryUnitOfWork(store)  # noqa: E731
    now = [0.0]
    initial = AnswerService(kb, build_matcher(kb), factory)
    live = LiveKnowledge(
        factory,
        lambda new_kb: AnswerService(new_kb, build_matcher(new_kb), factory),
        Snapshot(store.content_version, kb, initial),
        background=False,
        clock=lambda: now[0],
    )
    assert live.answers() is initial
    entry = kb.entry("desk-opening-hours")
    assert entry is not None
    EditorService(factory).update(dataclasses.replace(entry, variants=(*entry.variants, "分署幾點開門")), "alice")
    assert live.answers() is initial  # not checked again yet
    now[0] += 0.3
    fresh = live.answers()
    assert fresh is not initial and live.snapshot.version == store.content_version
    result, _ = fresh.answer("分署幾點開門")
    assert result.faq_id == "desk-opening-hours"


def test_a_change_to_an_entry_someone_else_changed_meanwhile_is_refused(
    editor: EditorService, store: MemoryStore
) -> None:
    from bot.domain.serialize import content_hash
    from bot.services.editing import EditConflict

    entry = store.kb.entry("pay-credit-card")
    assert entry is not None
    opened = content_hash(entry)
    mine = dataclasses.replace(entry, variants=(*entry.variants, "刷卡付款可以嗎"))
    theirs = editor.update(dataclasses.replace(entry, variants=(*entry.variants, "能刷卡嗎")), "bob", expected=opened)
    with pytest.raises(EditConflict):
        editor.update(mine, "alice", expected=opened)
    with pytest.raises(EditConflict):
        editor.retire("pay-credit-card", "alice", expected=opened)
    assert store.kb.entry("pay-credit-card") == theirs and [r.editor for r in editor.history()] == ["bob"]
    assert editor.update(mine, "alice", expected=content_hash(theirs)) == mine
