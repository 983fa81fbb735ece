"""The admin console over the real store: access control on every route, CSRF, sign-in limits, escaping, resolve."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select

from bot.adapters.sql.orm import (
    AdminAuditRow,
    ConversationRow,
    FaqChangeRow,
    FeedbackRow,
    TurnRow,
    UnansweredRow,
    UserRow,
)
from bot.adapters.sql.users import SqlUserStore
from bot.bootstrap import App, bootstrap
from bot.config import Settings
from bot.entrypoints.web import create_app
from bot.services.users import UserService

PASSWORD = "correct-horse-battery"
MUTABLE = (FeedbackRow, UnansweredRow, TurnRow, ConversationRow, AdminAuditRow, UserRow, FaqChangeRow)
PATH_PARAMS = {"cluster_id": "1", "username": "someone", "change": "disable", "entry_id": "no-such-entry"}
ODD_QUESTION = "颱風天分署照常上班嗎"  # logged as unanswered until an editor attaches it
EDITOR_ONLY = ("/admin/unanswered", "/admin/entries", "/admin/history", "/admin/feedback")
ADMIN_ONLY = ("/admin/users",)


@contextlib.contextmanager
def console_app(
    store_url: str, data_dir: Path, accounts: Iterable[tuple[str, str]], seed: Callable[[App], None] | None = None
) -> Iterator[App]:
    """An app over the module's shared store with console accounts (one password); the rows tests wrote go after."""
    built = bootstrap(Settings(database_url=store_url, data_dir=data_dir))
    assert built.engine is not None
    users = UserService(SqlUserStore(built.engine))
    for name, role in accounts:
        users.add(name, PASSWORD, role)
    if seed is not None:
        seed(built)
    try:
        yield built
    finally:
        with built.engine.begin() as conn:
            for table in MUTABLE:
                conn.execute(delete(table))
        built.engine.dispose()


@pytest.fixture()
def app(store_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    accounts = (("ada", "admin"), ("eddie", "editor"), ("stella", "staff"))
    with console_app(store_url, tmp_path_factory.getbasetemp() / "admin-cache", accounts) as built:
        yield built


@pytest.fixture()
def api(app: App) -> FastAPI:
    return create_app(app)


def client_for(api: FastAPI, username: str | None = None) -> TestClient:
    """A client, signed in as `username` when given."""
    client = TestClient(api, follow_redirects=False)
    if username is not None:
        r = sign_in(client, username, PASSWORD)
        assert r.status_code == 303, r.text
    return client


def csrf_of(client: TestClient, path: str = "/admin/login") -> str:
    page = client.get(path)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def sign_in(client: TestClient, username: str, password: str) -> httpx.Response:
    token = csrf_of(client)
    return client.post("/admin/login", data={"csrf_token": token, "username": username, "password": password})


def admin_routes(api: FastAPI) -> list[tuple[str, str]]:
    """(method, concrete path) for every route under /admin, from the app's router."""
    found = []
    for route in api.state.admin_router.routes:
        if isinstance(route, APIRoute):
            assert route.path.startswith("/admin/")
            path = route.path.format(**PATH_PARAMS)
            found += [(method, path) for method in sorted(route.methods or ())]
    return found


def log_question(app: App, text: str) -> int:
    from bot.domain.records import UnansweredQuestion

    with app.uow_factory() as uow:
        qid = uow.unanswered.add(UnansweredQuestion(text, "web", None, "low_confidence", (), dt.datetime.now(dt.UTC)))
        uow.commit()
    return qid


def open_count(app: App) -> int:
    assert app.engine is not None
    with app.engine.connect() as conn:
        query = select(func.count()).select_from(UnansweredRow).where(UnansweredRow.status == "open")
        return int(conn.execute(query).scalar() or 0)


def test_every_admin_route_refuses_anonymous_and_wrong_roles(api: FastAPI, app: App) -> None:
    routes = admin_routes(api)
    assert len(routes) >= 8 and ("POST", "/admin/unanswered/1/resolve") in routes
    anonymous = client_for(api)
    for method, path in routes:
        if path == "/admin/login":
            continue
        r = anonymous.request(method, path, data={"csrf_token": "x"})
        refused = r.status_code in (401, 403) or (r.status_code == 303 and r.headers["location"] == "/admin/login")
        assert refused, (method, path, r.status_code)
    log_question(app, "分署的貓叫什麼名字")
    for username, forbidden in (("stella", EDITOR_ONLY + ADMIN_ONLY), ("eddie", ADMIN_ONLY)):
        client = client_for(api, username)
        token = csrf_of(client, "/admin/search")
        for method, path in routes:
            if path.startswith(forbidden):
                r = client.request(method, path, data={"csrf_token": token, "action": "dismiss"})
                assert r.status_code == 403, (username, method, path, r.status_code)
    assert open_count(app) == 1


def test_post_without_or_with_a_wrong_csrf_token_is_refused_and_changes_nothing(api: FastAPI, app: App) -> None:
    qid = log_question(app, "分署的貓叫什麼名字")
    editor = client_for(api, "eddie")
    for data in ({"action": "dismiss", "qid": str(qid)}, {"action": "dismiss", "qid": str(qid), "csrf_token": "no"}):
        assert editor.post(f"/admin/unanswered/{qid}/resolve", data=data).status_code == 403
    assert open_count(app) == 1
    admin = client_for(api, "ada")
    r = admin.post("/admin/users", data={"username": "mallory", "password": PASSWORD, "role": "admin"})
    assert r.status_code == 403
    assert app.engine is not None and UserService(SqlUserStore(app.engine)).get("mallory") is None
    fresh = client_for(api)
    csrf_of(fresh)
    r = fresh.post("/admin/login", data={"username": "ada", "password": PASSWORD})
    assert r.status_code == 403  # the sign-in form has a token too


def test_sign_in_is_rate_limited_per_username_and_address(api: FastAPI) -> None:
    client = client_for(api)
    for _ in range(5):
        assert sign_in(client, "eddie", "wrong-password").status_code == 401
    locked = sign_in(client, "eddie", PASSWORD)
    assert locked.status_code == 429
    assert sign_in(client, "stella", PASSWORD).status_code == 303


def test_passwords_are_stored_as_argon2_hashes_and_actions_audited(api: FastAPI, app: App) -> None:
    assert app.engine is not None
    admin = client_for(api, "ada")
    token = csrf_of(admin, "/admin/users")
    r = admin.post(
        "/admin/users", data={"csrf_token": token, "username": "newbie", "password": PASSWORD, "role": "staff"}
    )
    assert r.status_code == 200 and "newbie" in r.text
    with app.engine.connect() as conn:
        hashes = conn.execute(select(UserRow.password_hash)).scalars().all()
        actions = set(conn.execute(select(AdminAuditRow.action)).scalars())
    assert len(hashes) == 4 and all(h.startswith("$argon2id$") and PASSWORD not in h for h in hashes)
    assert {"login", "user_add"} <= actions
    assert client_for(api, "newbie").get("/admin/").headers["location"] == "/admin/search"


def test_a_script_in_a_citizen_question_is_escaped(api: FastAPI, app: App) -> None:
    log_question(app, "<script>alert('x')</script> 罰單")
    page = client_for(api, "eddie").get("/admin/unanswered")
    assert page.status_code == 200
    assert "<script>alert" not in page.text and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page.text
    assert "script-src" not in page.headers["content-security-policy"]  # no scripts allowed at all


def test_attach_resolves_the_cluster_and_the_assistant_then_answers_with_that_entry(api: FastAPI, app: App) -> None:
    question = {"session_id": "admin-test-1", "text": ODD_QUESTION, "agency": "aea-hsinchu"}
    chat = TestClient(api)
    before = chat.post("/api/chat", json=question).json()
    assert before.get("faq_id") != "desk-opening-hours" and open_count(app) == 1, before
    editor = client_for(api, "eddie")
    queue = editor.get("/admin/unanswered")
    cluster = re.search(r'action="/admin/unanswered/(\d+)/resolve"', queue.text)
    assert cluster and ODD_QUESTION in queue.text
    token = csrf_of(editor, "/admin/unanswered")
    qids = re.findall(r'name="qid" value="(\d+)"', queue.text)
    r = editor.post(
        f"/admin/unanswered/{cluster.group(1)}/resolve",
        data={"csrf_token": token, "action": "attach", "faq_id": "desk-opening-hours", "qid": qids},
    )
    assert r.status_code == 303 and "done=attach" in r.headers["location"]
    assert open_count(app) == 0
    after = chat.post("/api/chat", json=question | {"session_id": "admin-test-2"}).json()
    assert after["faq_id"] == "desk-opening-hours" and after["fallback"] is False


def test_staff_quick_search_lists_answers_without_recording_a_turn(api: FastAPI, app: App) -> None:
    assert app.engine is not None
    staff = client_for(api, "stella")
    page = staff.get("/admin/search", params={"q": "可以刷卡繳嗎"})
    assert page.status_code == 200
    faqs = re.findall(r'data-faq="([^"]+)"', page.text)
    assert faqs[0] == "pay-credit-card" and len(faqs) <= 5
    assert "resolve" not in page.text
    with app.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(TurnRow)).scalar() == 0
    assert open_count(app) == 0
