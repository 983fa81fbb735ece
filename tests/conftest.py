"""Shared fixtures: the bundled knowledge base, stores, and an offline-by-construction network guard."""

from __future__ import annotations

import ipaddress
import os
import socket
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.adapters.memory import InMemoryUnitOfWork, MemoryStore
from bot.bootstrap import build_matcher
from bot.core.matcher import Matcher
from bot.domain.model import KnowledgeBase
from bot.services.answering import AnswerService
from bot.services.kb_files import load_kb

ROOT = Path(__file__).resolve().parents[1]
FAQ_DIR = ROOT / "faq"
DEV_DIR = ROOT / "tests" / "data" / "dev"
ON_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"

_real_connect = socket.socket.connect


def _guarded_connect(self: socket.socket, address: object) -> object:
    """Allow loopback and Unix sockets only: any other outbound connection is a test bug."""
    if self.family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple):
        host = str(address[0])
        try:
            loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise RuntimeError(f"tests are offline by construction: blocked connection to {address!r}")
    return _real_connect(self, address)  # type: ignore[arg-type]


@pytest.fixture(autouse=True, scope="session")
def _offline() -> Iterator[None]:
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    yield
    socket.socket.connect = _real_connect  # type: ignore[method-assign]


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return load_kb(FAQ_DIR).kb


@pytest.fixture(scope="session")
def matcher(kb: KnowledgeBase) -> Matcher:
    return build_matcher(kb)


@pytest.fixture()
def store(kb: KnowledgeBase) -> MemoryStore:
    return MemoryStore(kb)


@pytest.fixture()
def service(kb: KnowledgeBase, matcher: Matcher, store: MemoryStore) -> AnswerService:
    return AnswerService(kb, matcher, lambda: InMemoryUnitOfWork(store))


def _pg_admin_url() -> str:
    return os.environ.get("CIVICBOT_TEST_PG_URL", DEFAULT_PG)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session; fails (not skips) on CI when unreachable."""
    import psycopg

    admin = _pg_admin_url()
    name = f"civicbot_test_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        if ON_CI:
            pytest.fail(f"PostgreSQL unreachable at {admin} (CI requires it): {exc}")
        pytest.skip(f"PostgreSQL unreachable at {admin}: {exc}")
    base = admin.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each integration test runs on a real SQLite file and on a real PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'civicbot.db'}"
        return
    url: str = request.getfixturevalue("pg_url")
    yield url
    _reset_pg(url)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One migrated database loaded with the bundled FAQ per engine, shared by a module's tests.

    Loading the FAQ is the slow part; tests clean up the rows they write. The PostgreSQL schema is
    emptied afterwards, as the other modules expect.
    """
    from bot.adapters.sql import migrate
    from bot.bootstrap import sql_uow_factory
    from bot.config import Settings
    from bot.services.kb_sync import load_folder_into_store

    tmp = tmp_path_factory.mktemp("store")
    if request.param == "sqlite":
        url = f"sqlite:///{tmp / 'civicbot.db'}"
    else:
        url = request.getfixturevalue("pg_url")
        _reset_pg(url)
    engine, uow_factory = sql_uow_factory(Settings(database_url=url, data_dir=tmp))
    migrate.upgrade(engine)
    load_folder_into_store(FAQ_DIR, uow_factory)
    engine.dispose()
    yield url
    if request.param == "postgresql":
        _reset_pg(url)


@pytest.fixture()
def fresh_pg(pg_url: str) -> Iterator[str]:
    """The session's PostgreSQL database with an empty schema, emptied again afterwards."""
    _reset_pg(pg_url)
    yield pg_url
    _reset_pg(pg_url)


def _reset_pg(url: str) -> None:
    """Drop every table so the next test starts from an empty schema."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")


@pytest.fixture()
def dev_lines() -> Callable[[], list[dict[str, object]]]:
    import json

    def read() -> list[dict[str, object]]:
        out: list[dict[str, object]] = []
        for path in sorted(DEV_DIR.glob("*.jsonl")):
            out.extend(json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
        return out

    return read
