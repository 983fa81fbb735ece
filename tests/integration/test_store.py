"""The SQL store on real SQLite and real PostgreSQL: migrations, idempotent FAQ sync, logs, rollback."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
from pathlib import Path

import pytest
import yaml
from sqlalchemy import inspect
from sqlalchemy.orm import sessionmaker

from bot.adapters.sql import migrate
from bot.adapters.sql.orm import ConversationRow
from bot.adapters.sql.uow import SqlUnitOfWork, make_engine
from bot.bootstrap import bootstrap
from bot.config import Settings
from bot.domain.conversation import Conversation, State
from bot.domain.records import Turn, UnansweredQuestion
from bot.services.kb_sync import load_folder_into_store
from tests.conftest import FAQ_DIR


@pytest.fixture()
def uow_factory(database_url: str):  # type: ignore[no-untyped-def]
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    factory = sessionmaker(engine, expire_on_commit=False)
    yield lambda: SqlUnitOfWork(factory)
    engine.dispose()


def test_migrations_create_every_table(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    tables = set(inspect(engine).get_table_names())
    assert {
        "agencies",
        "faq_entries",
        "faq_variants",
        "faq_answers",
        "unanswered_questions",
        "answer_feedback",
        "conversation_turns",
        "out_of_scope_examples",
        "kb_settings",
    } <= tables
    assert migrate.current_revision(engine) == migrate.head_revision(engine)
    engine.dispose()


def test_faq_load_is_idempotent_and_reports_changes(uow_factory, kb, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    first = load_folder_into_store(FAQ_DIR, uow_factory)
    assert len(first.added) == len(kb.entries) and not first.changed and not first.retired
    second = load_folder_into_store(FAQ_DIR, uow_factory)
    assert (second.added, second.changed, second.retired) == ([], [], [])
    assert second.unchanged == len(kb.entries)

    folder = tmp_path / "faq"
    shutil.copytree(FAQ_DIR, folder)
    path = folder / "payment.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    changed_id = data["entries"][0]["id"]
    retired_id = data["entries"][1]["id"]
    data["entries"][0]["variants"].append("刷卡繳案款可以嗎測試用")
    del data["entries"][1]
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    third = load_folder_into_store(folder, uow_factory)
    assert third.changed == [changed_id]
    assert third.retired == [retired_id]
    with uow_factory() as uow:
        stored = uow.knowledge.get()
    assert stored.entry(retired_id).status == "retired"  # type: ignore[union-attr]
    assert "刷卡繳案款可以嗎測試用" in stored.entry(changed_id).variants  # type: ignore[union-attr]


def test_round_trip_preserves_content(uow_factory, kb) -> None:  # type: ignore[no-untyped-def]
    load_folder_into_store(FAQ_DIR, uow_factory)
    with uow_factory() as uow:
        stored = uow.knowledge.get()
    by_id = {e.id: e for e in stored.entries}
    for entry in kb.entries:
        assert by_id[entry.id] == entry
    assert stored.lexicon == kb.lexicon
    assert [c.examples for c in stored.out_of_scope] == [c.examples for c in kb.out_of_scope]


def test_unit_of_work_rolls_back_unless_committed(uow_factory) -> None:  # type: ignore[no-untyped-def]
    q = UnansweredQuestion("測試問題", "cli", None, "low_confidence", (), dt.datetime.now(dt.UTC))
    with uow_factory() as uow:
        uow.unanswered.add(q)
    with uow_factory() as uow:
        assert uow.unanswered.list() == []
        uow.unanswered.add(q)
        uow.commit()
    with uow_factory() as uow:
        rows = uow.unanswered.list()
    assert [r.masked_text for r in rows] == ["測試問題"]


def _utc(value: dt.datetime | None) -> dt.datetime:
    """A stored datetime as naive UTC (SQLite returns it naive, PostgreSQL with its zone)."""
    assert value is not None
    return value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo else value


def test_per_message_statements_store_what_sqlalchemy_reads(uow_factory) -> None:  # type: ignore[no-untyped-def]
    """Turn, unanswered question and conversation state go through hand-written SQL: the ORM reads the same values."""
    at = dt.datetime(2026, 11, 23, 8, 30, 15, 123456, tzinfo=dt.UTC)
    candidates = ({"faq_id": "pay-001", "score": 0.42, "question": "可以分期嗎？"},)
    with uow_factory() as uow:
        turn_id = uow.turns.add(Turn("line", "k" * 64, "我要繳費 <b>", "pay-001", "payment", "aea-tc", True, 0.25, at))
        gap = UnansweredQuestion("分期？", "line", "aea-tc", "low_confidence", candidates, at)
        question_id = uow.unanswered.add(gap)
        conv = Conversation("line", "k" * 64, State.CASE_VERIFY, "aea-tc", "en", {"case": "110-執-0001", "n": 2})
        assert uow.conversations.save(conv) and conv.version == 1
        uow.commit()
    with uow_factory() as uow:
        turn = uow.turns.get(turn_id)  # the ORM's own read
        question = uow.unanswered.get([question_id])[0]
        orm_row = uow.session.get(ConversationRow, ("line", "k" * 64))
        assert orm_row is not None
        orm_values = (orm_row.state, orm_row.data, orm_row.version, orm_row.updated_at)
        stored = uow.conversations.get("line", "k" * 64)
    assert turn is not None and question is not None and stored is not None
    assert (turn.masked_text, turn.faq_id, turn.agency, turn.fallback, turn.score) == (
        "我要繳費 <b>",
        "pay-001",
        "aea-tc",
        True,
        0.25,
    )
    assert _utc(turn.created_at) == at.replace(tzinfo=None)
    assert question.candidates == candidates and _utc(question.created_at) == at.replace(tzinfo=None)
    assert orm_values[:3] == ("case_verify", {"case": "110-執-0001", "n": 2}, 1)
    assert (stored.state, stored.agency, stored.language, stored.data) == (State.CASE_VERIFY, "aea-tc", "en", conv.data)
    assert _utc(stored.updated_at) == _utc(orm_values[3])
    # Optimistic saves: the current version is taken, a stale one refused; uncommitted writes roll back.
    stale = dataclasses.replace(stored)
    with uow_factory() as uow:
        stored.data = {"case": "changed"}
        assert uow.conversations.save(stored) and stored.version == 2
        assert not uow.conversations.save(stale)
        uow.turns.add(Turn("line", "k" * 64, "committed", None, None, None, False, 0.0, at))
        uow.commit()
        uow.turns.add(Turn("line", "k" * 64, "rolled back", None, None, None, False, 0.0, at))
    with uow_factory() as uow:
        assert uow.conversations.get("line", "k" * 64).data == {"case": "changed"}  # type: ignore[union-attr]
        assert uow.turns.count() == 2
        assert uow.turns.get(turn_id + 2) is None


def test_answering_on_the_sql_store_logs_fallbacks(database_url: str, tmp_path: Path) -> None:
    settings = Settings(database_url=database_url, data_dir=tmp_path)
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    load_folder_into_store(FAQ_DIR, lambda: SqlUnitOfWork(sessionmaker(engine)))
    app = bootstrap(settings)
    answered = app.answers.ask("新竹分署可以刷卡嗎", channel="web")
    fallback = app.answers.ask("護照要怎麼換？聯絡我 someone@example.com", channel="line")
    assert not answered.fallback and fallback.fallback
    with app.uow_factory() as uow:
        rows = uow.unanswered.list()
        turns = uow.turns.count()
    assert turns == 2
    assert rows[0].channel == "line" and "[email]" in rows[0].masked_text
    assert "someone@example.com" not in rows[0].masked_text
    assert rows[0].candidates and {"faq_id", "score"} <= set(rows[0].candidates[0])
    engine.dispose()


def test_non_embedded_database_must_be_migrated_first(database_url: str, tmp_path: Path) -> None:
    from bot.bootstrap import SetupError

    if database_url.startswith("sqlite"):
        settings = Settings(database_url=database_url, data_dir=tmp_path)
    else:
        settings = Settings(database_url=database_url)
    with pytest.raises(SetupError, match="civicbot db upgrade"):
        bootstrap(settings)


def test_embedded_default_sets_itself_up(tmp_path: Path, kb) -> None:  # type: ignore[no-untyped-def]
    app = bootstrap(Settings(data_dir=tmp_path))
    assert (tmp_path / "civicbot.db").exists()
    assert len(app.kb.published()) == len(kb.published())
    assert dataclasses.asdict(app.kb.lexicon) == dataclasses.asdict(kb.lexicon)
