"""Feedback review on the real SQL store (SQLite and PostgreSQL): migration 0005 keeps existing ratings, and the
not-helpful queue reads the question asked and takes reviews only when committed."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import inspect, text
from sqlalchemy.orm import sessionmaker

from bot.adapters.sql import SCHEMA_HEAD, migrate
from bot.adapters.sql.uow import SqlUnitOfWork, make_engine
from bot.domain.records import Feedback

T0 = dt.datetime(2026, 11, 24, 8, 0, tzinfo=dt.UTC)


def test_the_review_migration_keeps_ratings_and_the_queue_reads_them(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate.upgrade(engine, "0004")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO conversation_turns (channel, masked_text, faq_id, agency, fallback, score, created_at,"
                " kind) VALUES ('web', '可以刷卡嗎 [phone]', 'pay-credit-card', 'aea-hsinchu', false, 0.9, :at,"
                " 'answer')"
            ),
            {"at": T0},
        )
        turn_id = conn.execute(text("SELECT max(id) FROM conversation_turns")).scalar()
        conn.execute(
            text(
                "INSERT INTO answer_feedback (turn_id, faq_id, helpful, channel, created_at)"
                " VALUES (:turn, 'pay-credit-card', false, 'web', :at)"
            ),
            {"turn": turn_id, "at": T0},
        )
        first = conn.execute(text("SELECT max(id) FROM answer_feedback")).scalar()
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == SCHEMA_HEAD
    assert {"reviewed_at", "reviewed_by"} <= {c["name"] for c in inspect(engine).get_columns("answer_feedback")}

    factory = sessionmaker(engine, expire_on_commit=False)
    with SqlUnitOfWork(factory) as uow:
        later = uow.feedback.add(Feedback("pay-credit-card", False, "line", T0 + dt.timedelta(hours=1)))
        uow.feedback.add(Feedback("pay-credit-card", True, "line", T0 + dt.timedelta(hours=2)))
        uow.commit()
    with SqlUnitOfWork(factory) as uow:
        items = uow.feedback.not_helpful()
        assert [(i.id, i.question, i.agency) for i in items] == [
            (later, None, None),
            (first, "可以刷卡嗎 [phone]", "aea-hsinchu"),
        ]
        assert uow.feedback.mark_reviewed([first, later], "alice", T0) == 2  # not committed: rolled back
    with SqlUnitOfWork(factory) as uow:
        assert len(uow.feedback.not_helpful()) == 2
        assert uow.feedback.mark_reviewed([first], "alice", T0) == 1
        uow.commit()
    with SqlUnitOfWork(factory) as uow:
        assert [i.id for i in uow.feedback.not_helpful()] == [later]
        assert uow.feedback.mark_reviewed([first], "bob", T0) == 0  # reviewed once, by the first editor
        assert uow.feedback.mark_reviewed([], "bob", T0) == 0
    with engine.connect() as conn:
        assert (
            conn.execute(text("SELECT reviewed_by FROM answer_feedback WHERE id = :id"), {"id": first}).scalar()
            == "alice"
        )
    engine.dispose()
