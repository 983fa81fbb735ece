"""The composition root: builds engine, store, index and services; nothing is built at import time."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, inspect
from sqlalchemy.orm import sessionmaker

from bot.config import Settings
from bot.core.calibration import load_calibration
from bot.core.index import build_index
from bot.core.matcher import Calibration, Matcher
from bot.core.tokenize import Tokenizer
from bot.domain.model import KnowledgeBase
from bot.services.answering import AnswerService
from bot.services.ports import UnitOfWork

log = logging.getLogger(__name__)


class SetupError(RuntimeError):
    """The store is not ready (schema out of date, knowledge base empty); the message says what to run."""


@dataclass
class App:
    """The wired application."""

    settings: Settings
    uow_factory: Callable[[], UnitOfWork]
    kb: KnowledgeBase
    matcher: Matcher
    answers: AnswerService
    engine: Engine | None = None


def build_matcher(kb: KnowledgeBase, calibration: Calibration | None = None) -> Matcher:
    """Tokenizer + index + matcher for a knowledge base (also used to rebuild after content changes)."""
    extra = [a for agency in kb.agencies for a in (agency.short_zh, *agency.aliases)]
    tokenizer = Tokenizer(kb.lexicon, extra_words=extra)
    index = build_index(kb, tokenizer)
    return Matcher(index, tokenizer, kb.agencies, calibration or load_calibration())


def sql_uow_factory(settings: Settings) -> tuple[Engine, Callable[[], UnitOfWork]]:
    """Engine and unit-of-work factory for the configured database."""
    from bot.adapters.sql.uow import SqlUnitOfWork, make_engine

    if settings.embedded:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url())
    factory = sessionmaker(engine, expire_on_commit=False)
    return engine, lambda: SqlUnitOfWork(factory)


def ensure_ready(settings: Settings, engine: Engine, uow_factory: Callable[[], UnitOfWork]) -> None:
    """Embedded default: create the schema and load the bundled FAQ on first use. Elsewhere: check only."""
    from bot.adapters.sql import migrate

    if not inspect(engine).has_table("alembic_version") or migrate.current_revision(engine) is None:
        if not settings.embedded:
            raise SetupError("資料庫尚未建立結構 / database schema missing: run `civicbot db upgrade` first")
        migrate.upgrade(engine)
    elif migrate.current_revision(engine) != migrate.head_revision(engine):
        if not settings.embedded:
            raise SetupError("資料庫結構需要更新 / database schema is out of date: run `civicbot db upgrade`")
        migrate.upgrade(engine)
    with uow_factory() as uow:
        empty = not uow.knowledge.get().entries
    if empty:
        if not settings.embedded:
            raise SetupError("知識庫是空的 / the knowledge base is empty: run `civicbot faq load faq/`")
        from bot.services.kb_sync import InvalidKnowledgeBase, load_folder_into_store

        try:
            load_folder_into_store(Path(settings.faq_dir), uow_factory)
        except InvalidKnowledgeBase as exc:
            listed = "\n  ".join(exc.problems[:20])
            raise SetupError(f"the bundled knowledge base at {settings.faq_dir} is invalid:\n  {listed}") from exc


def bootstrap(
    settings: Settings | None = None,
    *,
    uow_factory: Callable[[], UnitOfWork] | None = None,
    calibration: Calibration | None = None,
) -> App:
    """Wire the application. Tests pass an in-memory unit of work; production uses the SQL store."""
    settings = settings or Settings()
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    engine: Engine | None = None
    if uow_factory is None:
        engine, uow_factory = sql_uow_factory(settings)
        ensure_ready(settings, engine, uow_factory)
    with uow_factory() as uow:
        kb = uow.knowledge.get()
    matcher = build_matcher(kb, calibration)
    answers = AnswerService(kb, matcher, uow_factory)
    return App(settings, uow_factory, kb, matcher, answers, engine)
