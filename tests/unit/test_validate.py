"""`faq validate`: the bundled content passes; each kind of defect is caught."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from bot.services.kb_sync import check_folder
from tests.conftest import FAQ_DIR


def test_bundled_knowledge_base_is_valid() -> None:
    assert check_folder(FAQ_DIR) == []


def test_bundled_knowledge_base_meets_size_and_coverage(kb) -> None:  # type: ignore[no-untyped-def]
    published = kb.published()
    assert len(published) >= 150
    topics = {e.topic for e in published}
    assert {"payment", "instalment", "auction", "case_progress", "complaint"} <= topics
    covered = {code for e in published for code in e.agencies}
    assert covered == {a.code for a in kb.agencies}
    for e in published:
        assert len(e.variants) >= 5, e.id
        for block in e.answers:
            assert block.sources, e.id


@pytest.fixture()
def faq_copy(tmp_path: Path) -> Path:
    target = tmp_path / "faq"
    shutil.copytree(FAQ_DIR, target)
    return target


def _mutate(folder: Path, fn) -> None:  # type: ignore[no-untyped-def]
    path = folder / "payment.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    fn(data["entries"])
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _drop_source(entries):  # type: ignore[no-untyped-def]
    entries[0]["answers"][0]["source"] = []


def _duplicate_id(entries):  # type: ignore[no-untyped-def]
    entries[1]["id"] = entries[0]["id"]


def _empty_answer(entries):  # type: ignore[no-untyped-def]
    entries[0]["answers"][0]["zh"] = "   "


def _shared_variant(entries):  # type: ignore[no-untyped-def]
    entries[1]["variants"].append(entries[0]["variants"][0])


def _unknown_agency(entries):  # type: ignore[no-untyped-def]
    entries[0]["answers"][0]["agencies"] = ["aea-atlantis"]


@pytest.mark.parametrize(
    ("mutation", "message"),
    [
        (_drop_source, "missing source"),
        (_duplicate_id, "duplicate id"),
        (_empty_answer, "empty answer"),
        (_shared_variant, "is also a variant of"),
        (_unknown_agency, "unknown agency"),
    ],
)
def test_defects_are_reported(faq_copy: Path, mutation, message: str) -> None:  # type: ignore[no-untyped-def]
    _mutate(faq_copy, mutation)
    problems = check_folder(faq_copy)
    assert any(message in p for p in problems), problems


def test_shared_variant_is_caught_across_writing_styles(faq_copy: Path) -> None:
    """Two variants that differ only in script, width or punctuation are the same variant."""

    def fn(entries):  # type: ignore[no-untyped-def]
        entries[0]["variants"].append("ＡＴＭ可以轉帳繳费吗？")
        entries[1]["variants"].append("atm可以轉帳繳費嗎")

    _mutate(faq_copy, fn)
    assert any("is also a variant of" in p for p in check_folder(faq_copy))
