"""The composition root: builds engine, store, index and services; nothing is built at import time."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text
from sqlalchemy.orm import sessionmaker

from bot.adapters.index_cache import IndexCache, pack_index, unpack_index
from bot.config import Settings
from bot.core.calibration import load_calibration
from bot.core.index import Index, build_index, kb_fingerprint
from bot.core.matcher import Calibration, Matcher
from bot.core.tokenize import Tokenizer
from bot.dialogue.case_steps import CaseSteps
from bot.dialogue.machine import DialogueService
from bot.domain.model import KnowledgeBase
from bot.services.answering import AnswerService
from bot.services.case_lookup import CaseLookupService
from bot.services.live_content import LiveKnowledge, Snapshot
from bot.services.ports import CaseDirectory, UnitOfWork

if TYPE_CHECKING:
    import httpx

    from bot.adapters.rasa_rest import RasaRestDialogue

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
    # set by bootstrap() (the Rasa REST adapter when settings.engine == "rasa"); Optional only for partial test apps
    dialogue: DialogueService | RasaRestDialogue | None = None
    cases: CaseLookupService | None = None  # set by bootstrap(); case-progress lookup
    # set by bootstrap(): follows content changes made by any process (kb/matcher/answers above are start-up's)
    live: LiveKnowledge | None = None


def build_matcher(
    kb: KnowledgeBase,
    calibration: Calibration | None = None,
    cache: IndexCache | None = None,
    shared: Callable[[str], Index | None] | None = None,
) -> Matcher:
    """Tokenizer + index + matcher for a knowledge base (also used to rebuild after content changes).

    An index built earlier for identical content is loaded instead of rebuilt: from the cache folder, else from
    `shared` (the database, where the process that made a content change stored the index it built).
    """
    aliases = {a: agency.code for agency in kb.agencies for a in (agency.short_zh, agency.name_zh, *agency.aliases)}
    tokenizer = Tokenizer(kb.lexicon, extra_words=aliases, agency_aliases=aliases)
    key = kb_fingerprint(kb) if cache is not None or shared is not None else ""
    index = cache.load(key) if cache is not None else None
    if index is None and shared is not None:
        index = shared(key)
        if index is not None and cache is not None:
            cache.save(key, index)
    if index is None:
        index = build_index(kb, tokenizer)
        if cache is not None:
            cache.save(key, index)
    return Matcher(index, tokenizer, kb.agencies, calibration or load_calibration())


def stored_index(uow_factory: Callable[[], UnitOfWork]) -> Callable[[str], Index | None]:
    """Look up an index the database holds for a content fingerprint."""

    def load(key: str) -> Index | None:
        with uow_factory() as uow:
            found = uow.indexes.get(key)
        return unpack_index(*found) if found is not None else None

    return load


def share_index(answers: AnswerService, uow: UnitOfWork) -> None:
    """Store the index just built for content being committed in `uow`, so other processes load it."""
    meta, data = pack_index(answers.matcher.index)
    uow.indexes.put(kb_fingerprint(answers.kb), meta, data)


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
    from bot.adapters.sql import SCHEMA_HEAD

    revision = None
    if inspect(engine).has_table("alembic_version"):
        with engine.connect() as conn:
            revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    if revision != SCHEMA_HEAD:
        if not settings.embedded:
            what = "尚未建立結構 / schema missing" if revision is None else "結構需要更新 / schema out of date"
            raise SetupError(f"資料庫{what}: run `civicbot db upgrade`")
        from bot.adapters.sql import migrate  # Alembic is imported only when there is work for it

        migrate.upgrade(engine)
    with uow_factory() as uow:
        empty = not uow.knowledge.has_entries()
    if empty:
        if not settings.embedded:
            raise SetupError("知識庫是空的 / the knowledge base is empty: run `civicbot faq load faq/`")
        from bot.services.kb_sync import InvalidKnowledgeBase, load_folder_into_store

        try:
            load_folder_into_store(Path(settings.faq_dir), uow_factory)
        except InvalidKnowledgeBase as exc:
            listed = "\n  ".join(exc.problems[:20])
            raise SetupError(f"the bundled knowledge base at {settings.faq_dir} is invalid:\n  {listed}") from exc
    if settings.embedded:
        _load_demo_cases_once(settings, uow_factory)


def _load_demo_cases_once(settings: Settings, uow_factory: Callable[[], UnitOfWork]) -> None:
    """Embedded default: load the fictional demo cases when no case is stored, so case lookup can be tried."""
    with uow_factory() as uow:
        if uow.cases.has_any():
            return
    if not settings.demo_cases.is_file():
        log.warning("no demo case dataset at %s; case lookup has no cases", settings.demo_cases)
        return
    from bot.core.verifier import CaseHasher
    from bot.services.case_import import ImportFileError, load_demo_cases

    try:
        load_demo_cases(settings.demo_cases, uow_factory, CaseHasher(settings.case_verifier_pepper))
    except ImportFileError as exc:
        raise SetupError(f"the demo case dataset is invalid: {exc}") from exc


def build_case_service(
    settings: Settings, uow_factory: Callable[[], UnitOfWork], directory: CaseDirectory | None = None
) -> CaseLookupService:
    """Case lookup over the agency's HTTP case system when `case_api_url` is set, else over imported cases."""
    from bot.core.verifier import CaseHasher
    from bot.services.case_lookup import StoredCaseDirectory

    hasher = CaseHasher(settings.case_verifier_pepper)
    if directory is None and settings.case_api_url:
        from bot.adapters.case_http import HttpCaseDirectory

        directory = HttpCaseDirectory(
            settings.case_api_url, token=settings.case_api_token, timeout=settings.case_api_timeout
        )
    return CaseLookupService(directory or StoredCaseDirectory(uow_factory, hasher), uow_factory, hasher)


def bootstrap(
    settings: Settings | None = None,
    *,
    uow_factory: Callable[[], UnitOfWork] | None = None,
    calibration: Calibration | None = None,
    case_directory: CaseDirectory | None = None,
    rasa_client: httpx.Client | None = None,
) -> App:
    """Wire the application. Tests pass an in-memory unit of work; production uses the SQL store."""
    settings = settings or Settings()
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    engine: Engine | None = None
    if uow_factory is None:
        engine, uow_factory = sql_uow_factory(settings)
        ensure_ready(settings, engine, uow_factory)
    with uow_factory() as uow:
        version = uow.knowledge.version()
        kb = uow.knowledge.get()
    cache = IndexCache(settings.data_dir / "index-cache") if settings.index_cache else None
    matcher = build_matcher(kb, calibration, cache)
    answers = AnswerService(kb, matcher, uow_factory)
    cases = build_case_service(settings, uow_factory, case_directory)
    app = App(settings, uow_factory, kb, matcher, answers, engine, cases=cases)
    factory = uow_factory

    def rebuild(new_kb: KnowledgeBase) -> AnswerService:
        return AnswerService(new_kb, build_matcher(new_kb, calibration, cache, stored_index(factory)), factory)

    app.live = LiveKnowledge(uow_factory, rebuild, Snapshot(version, kb, answers), share=share_index)
    native = DialogueService(kb, app.live.answers, uow_factory, secret=settings.secret_key, cases=CaseSteps(cases))
    app.dialogue = native if settings.engine == "native" else build_rasa_dialogue(settings, app, native, rasa_client)
    return app


def build_rasa_dialogue(
    settings: Settings, app: App, native: DialogueService, client: httpx.Client | None = None
) -> RasaRestDialogue:
    """The dialogue over a Rasa server's REST channel; ratings are stored as the native engine stores them."""
    import httpx

    from bot.adapters.rasa_rest import RasaRestDialogue

    assert settings.rasa_url is not None, "Settings refuses the rasa engine without a URL"
    return RasaRestDialogue(
        settings.rasa_url,
        client or httpx.Client(timeout=settings.rasa_timeout),
        app.kb,
        app.answers,
        secret=settings.secret_key,
        record_feedback=native.feedback,
    )
