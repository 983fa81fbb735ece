"""The console's entry form (typed input <-> FaqEntry) and the history's field-level diff."""

from __future__ import annotations

import dataclasses

from bot.admin import entry_form
from bot.admin.entry_form import BlockForm, EntryForm
from bot.domain.model import KnowledgeBase
from bot.domain.serialize import entry_to_dict
from bot.services.entry_diff import field_changes


def test_a_stored_entry_survives_the_form_unchanged(kb: KnowledgeBase) -> None:
    for entry in kb.entries[:20]:
        form = entry_form.from_entry(entry).with_spare_block()
        again, problems = entry_form.to_entry(form, status=entry.status, last_reviewed=entry.last_reviewed)
        assert problems == [] and again == entry


def test_posted_fields_become_blocks_removed_and_empty_ones_dropped() -> None:
    fields = {
        "id": [" desk-x "],
        "topic": ["service_desk"],
        "question_zh": ["問題"],
        "variants": ["甲\r\n\r\n乙\n甲\n"],
        "blocks": ["3"],
        "b0_agencies": ["aea-hsinchu, aea-yilan", "aea-hsinchu"],
        "b0_zh": ["回答"],
        "b0_sources": ["文件 | 第一節\n  \n文件 | 第二節"],
        "b1_agencies": ["tpo-taitung"],
        "b1_zh": ["舊的"],
        "b1_sources": ["文件 | 節"],
        "b1_remove": ["1"],
        "b2_zh": [""],
    }
    entry, problems = entry_form.to_entry(entry_form.from_fields(fields), status="draft", last_reviewed=None)
    assert problems == []
    assert entry.id == "desk-x" and entry.variants == ("甲", "乙")
    assert [b.agencies for b in entry.answers] == [("aea-hsinchu", "aea-yilan")]
    assert [s.section for s in entry.answers[0].sources] == ["第一節", "第二節"]


def test_every_answer_block_needs_a_well_formed_source() -> None:
    form = EntryForm(
        id="new",
        question_zh="問題",
        blocks=(BlockForm(("aea-hsinchu",), "回答"), BlockForm(("aea-yilan",), "回答", sources="沒有章節")),
    )
    _, problems = entry_form.to_entry(form, status="draft", last_reviewed=None)
    assert len(problems) == 3
    assert "reserved" in problems[0] and "answer #1: missing source" in problems[1]
    assert "answer #2: source line 1 must be 'document title | section'" in problems[2]
    _, none = entry_form.to_entry(dataclasses.replace(form, id="x", blocks=()), status="draft", last_reviewed=None)
    assert none and "at least one answer block" in none[0]


def test_the_diff_names_the_fields_that_changed_with_lines_added_and_removed(kb: KnowledgeBase) -> None:
    entry = kb.entries[0]
    block = dataclasses.replace(entry.answers[0], zh="新的回答")
    after = dataclasses.replace(entry, variants=(*entry.variants[1:], "新問法"), answers=(block,), status="retired")
    changes = {c.field: c for c in field_changes(entry_to_dict(entry), entry_to_dict(after))}
    assert set(changes) >= {"variants", "answer #1 zh", "status"}
    assert changes["variants"].removed == (entry.variants[0],) and changes["variants"].added == ("新問法",)
    assert (changes["answer #1 zh"].before, changes["answer #1 zh"].after) == (entry.answers[0].zh, "新的回答")
    assert "topic" not in changes and "id" not in changes
    created = field_changes(None, entry_to_dict(entry))
    assert created[0].field == "id" and created[0].before is None and created[0].after == entry.id
