"""The on-disk index cache: identical results, invalidated by content changes, robust to corruption."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from bot.adapters.index_cache import IndexCache
from bot.adapters.sql import SCHEMA_HEAD, migrate
from bot.adapters.sql.uow import make_engine
from bot.bootstrap import build_matcher
from bot.core.index import kb_fingerprint
from bot.domain.model import KnowledgeBase

QUESTIONS = ["可以刷卡嗎", "通訊投標怎麼辦", "臺東地檢署報到", "今天天氣", "Can I pay in instalments?"]


def test_cached_index_answers_identically(kb: KnowledgeBase, tmp_path: Path) -> None:
    cache = IndexCache(tmp_path)
    built = build_matcher(kb, cache=cache)
    assert list(tmp_path.glob("index-*.npz"))
    loaded = build_matcher(kb, cache=cache)
    assert loaded.index is not built.index
    for q in QUESTIONS:
        a, b = built.match(q), loaded.match(q)
        assert [(c.target, round(c.score, 9)) for c in a.candidates] == [
            (c.target, round(c.score, 9)) for c in b.candidates
        ]
    assert np.array_equal(built.index.text_mass, loaded.index.text_mass)


def test_content_change_changes_the_key(kb: KnowledgeBase) -> None:
    entry = kb.published()[0]
    changed = dataclasses.replace(entry, variants=(*entry.variants, "新加的說法"))
    other = dataclasses.replace(kb, entries=(changed, *kb.entries[1:]))
    assert kb_fingerprint(kb) != kb_fingerprint(other)
    assert kb_fingerprint(kb) == kb_fingerprint(dataclasses.replace(kb))


def test_corrupt_cache_is_ignored_and_rebuilt(kb: KnowledgeBase, tmp_path: Path) -> None:
    cache = IndexCache(tmp_path)
    build_matcher(kb, cache=cache)
    for npz in tmp_path.glob("index-*.npz"):
        npz.write_bytes(b"not a zip file")
    assert cache.load(kb_fingerprint(kb)) is None
    matcher = build_matcher(kb, cache=cache)
    assert matcher.match("可以刷卡嗎").candidates
    assert cache.load(kb_fingerprint(kb)) is not None


def test_schema_head_constant_matches_alembic(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    assert migrate.head_revision(engine) == SCHEMA_HEAD
