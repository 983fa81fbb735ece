"""The console's content pages over the real store (SQLite and PostgreSQL): entries from draft to retired, changes
live at once, history with before/after, edit conflicts, the not-helpful queue, roles, CSRF and escaping."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot.adapters.sql.orm import AdminAuditRow, FaqChangeRow, FeedbackRow
from bot.bootstrap import App
from bot.domain.records import Turn
from bot.entrypoints.web import create_app
from tests.integration.test_admin import admin_routes, client_for, console_app, csrf_of

SOURCE = "新竹分署111年度服務躍升執行成果報告 | 一、基礎服務 (三)服務便捷性"
PETS = "可以帶寵物進分署嗎"
PET_VARIANTS = ("帶狗去分署可以嗎", "寵物能進分署嗎", "分署可以帶貓嗎", "導盲犬以外的狗可以進分署嗎", "分署禁止寵物嗎")
CONTENT_PREFIXES = ("/admin/entries", "/admin/history", "/admin/feedback")


@pytest.fixture()
def app(store_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    accounts = (("eddie", "editor"), ("erin", "editor"), ("stella", "staff"))
    with console_app(store_url, tmp_path_factory.getbasetemp() / "admin-cache", accounts) as built:
        yield built


@pytest.fixture()
def api(app: App) -> FastAPI:
    return create_app(app)


def entry_fields(
    entry_id: str, question: str, *, answer: str, variants: tuple[str, ...] = (), sources: str = SOURCE, **extra: Any
) -> dict[str, Any]:
    """The create form as a browser posts it: one answer block for the Hsinchu branch (a draft: few variants)."""
    return {
        "id": entry_id,
        "topic": "service_desk",
        "question_zh": question,
        "question_en": "",
        "variants": "\n".join(variants),
        "blocks": "1",
        "b0_agencies": ["aea-hsinchu"],
        "b0_zh": answer,
        "b0_en": "",
        "b0_sources": sources,
    } | extra


def ask(api: FastAPI, text: str, session: str) -> dict[str, Any]:
    r = TestClient(api).post("/api/chat", json={"session_id": session, "text": text, "agency": "aea-hsinchu"})
    assert r.status_code == 200, r.text
    return dict(r.json())


def expected_of(client: TestClient, entry_id: str) -> str:
    """The content hash the edit form carries for optimistic concurrency."""
    page = client.get(f"/admin/entries/{entry_id}")
    found = re.search(r'name="expected" value="([0-9a-f]{64})"', page.text)
    assert page.status_code == 200 and found, page.text
    return found.group(1)


def form_fields(client: TestClient, entry_id: str) -> dict[str, Any]:
    """The edit form's current values, as a browser would post them back unchanged."""
    page = client.get(f"/admin/entries/{entry_id}").text
    form = page[page.index('class="entry-form"') :]
    fields: dict[str, Any] = {}
    for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form):
        fields[name] = value
    for name, value in re.findall(r'<input id="[^"]+" name="([^"]+)" value="([^"]*)"', form):
        fields[name] = value
    for name, value in re.findall(r'name="([^"]+)" rows="\d+">([^<]*)</textarea>', form):
        fields[name] = value.replace("&#x27;", "'").replace("&quot;", '"').replace("&amp;", "&")
    fields["b0_agencies"] = re.findall(r'name="b0_agencies" value="([^"]+)" checked', form)
    return fields


def changes(app: App) -> int:
    assert app.engine is not None
    with app.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(FaqChangeRow)).scalar() or 0)


def test_a_draft_goes_live_on_publish_changes_at_once_and_stops_on_retire(api: FastAPI, app: App) -> None:
    editor = client_for(api, "eddie")
    assert 'name="b0_sources"' in editor.get("/admin/entries/new").text
    token = csrf_of(editor, "/admin/entries/new")
    created = editor.post(
        "/admin/entries",
        data=entry_fields("desk-pets", PETS, answer="請先洽服務台。", variants=PET_VARIANTS) | {"csrf_token": token},
    )
    assert created.status_code == 303 and created.headers["location"] == "/admin/entries/desk-pets?done=create"
    assert ask(api, PETS, "content-1").get("faq_id") != "desk-pets"  # a draft is never answered with
    drafts = editor.get("/admin/entries", params={"status": "draft", "q": "pets"})
    assert re.findall(r'data-entry="([^"]+)" data-status="draft"', drafts.text) == ["desk-pets"]

    published = editor.post(
        "/admin/entries/desk-pets/publish", data={"csrf_token": token, "expected": expected_of(editor, "desk-pets")}
    )
    assert published.status_code == 303, published.text
    live = ask(api, PETS, "content-2")
    assert live["faq_id"] == "desk-pets" and "請先洽服務台。" in live["text"] and live["fallback"] is False

    fields = form_fields(editor, "desk-pets") | {"csrf_token": token, "b0_zh": "導盲犬可以，其他寵物請勿帶入。"}
    assert editor.post("/admin/entries/desk-pets", data=fields).status_code == 303
    edited = ask(api, PET_VARIANTS[1], "content-3")
    assert edited["faq_id"] == "desk-pets" and "導盲犬可以，其他寵物請勿帶入。" in edited["text"]

    retired = editor.post(
        "/admin/entries/desk-pets/retire", data={"csrf_token": token, "expected": expected_of(editor, "desk-pets")}
    )
    assert retired.status_code == 303
    assert ask(api, PETS, "content-4").get("faq_id") != "desk-pets"
    listed = editor.get("/admin/entries", params={"status": "retired"}).text
    assert 'data-entry="desk-pets" data-status="retired"' in listed

    history = editor.get("/admin/entries/desk-pets/history").text
    assert re.findall(r'data-action="([a-z_]+)"', history) == ["retire", "edit", "publish", "create"]
    edit_card = history[history.index('data-action="edit"') : history.index('data-action="publish"')]
    assert "eddie" in edit_card and 'data-field="answer #1 zh"' in edit_card
    assert "<del><pre>請先洽服務台。</pre></del>" in edit_card and "導盲犬可以，其他寵物請勿帶入。" in edit_card
    assert 'data-field="status"' not in edit_card  # only the fields that changed
    recent = editor.get("/admin/history").text
    assert recent.index('data-action="retire"') < recent.index('data-action="create"')
    assert app.engine is not None
    with app.engine.connect() as conn:
        actions = set(conn.execute(select(AdminAuditRow.action)).scalars())
    assert {"entry_create", "entry_publish", "entry_edit", "entry_retire"} <= actions


def test_an_answer_without_a_source_is_refused_with_the_reason_and_nothing_is_stored(api: FastAPI, app: App) -> None:
    editor = client_for(api, "eddie")
    token = csrf_of(editor, "/admin/entries/new")
    before = changes(app)
    for sources, reason in (("", "missing source"), ("只有文件名稱", "source line 1 must be")):
        fields = entry_fields(
            "desk-nosource",
            "分署有飲水機嗎",
            answer="沒有來源的回答",
            sources=sources,
            variants=("分署哪裡可以喝水", "分署有沒有開水"),
        ) | {"csrf_token": token}
        r = editor.post("/admin/entries", data=fields)
        assert r.status_code == 400 and reason in r.text
        assert "沒有來源的回答" in r.text and "分署有沒有開水" in r.text  # the editor's input is kept
    assert editor.get("/admin/entries/desk-nosource").status_code == 404
    assert changes(app) == before

    token = csrf_of(editor, "/admin/entries/new")
    thin = entry_fields("desk-thin", "分署有哺乳室嗎", answer="回答", variants=("分署可以餵奶嗎",)) | {
        "csrf_token": token
    }
    assert editor.post("/admin/entries", data=thin).status_code == 303  # a draft may have few variants
    refused = editor.post(
        "/admin/entries/desk-thin/publish", data={"csrf_token": token, "expected": expected_of(editor, "desk-thin")}
    )
    assert refused.status_code == 400 and "needs at least 5 variants" in refused.text
    assert 'data-status="draft"' in editor.get("/admin/entries", params={"q": "desk-thin"}).text


def test_two_editors_saving_the_same_entry_get_a_conflict_not_a_silent_overwrite(api: FastAPI, app: App) -> None:
    eddie, erin = client_for(api, "eddie"), client_for(api, "erin")
    token = csrf_of(eddie, "/admin/entries/new")
    assert eddie.post(
        "/admin/entries",
        data=entry_fields("desk-race", "分署可以停機車嗎", answer="原本的回答") | {"csrf_token": token},
    )
    first, second = form_fields(eddie, "desk-race"), form_fields(erin, "desk-race")
    saved = eddie.post("/admin/entries/desk-race", data=first | {"csrf_token": token, "b0_zh": "艾迪的回答"})
    assert saved.status_code == 303
    erin_token = csrf_of(erin, "/admin/entries/desk-race")
    clash = erin.post("/admin/entries/desk-race", data=second | {"csrf_token": erin_token, "b0_zh": "艾琳的回答"})
    assert clash.status_code == 409 and "eddie" in clash.text and "艾琳的回答" in clash.text
    page = eddie.get("/admin/entries/desk-race").text
    assert "艾迪的回答" in page and "艾琳的回答" not in page
    stale = erin.post(
        "/admin/entries/desk-race/retire", data={"csrf_token": erin_token, "expected": second["expected"]}
    )
    assert stale.status_code == 409 and 'data-status="draft"' in eddie.get("/admin/entries?q=desk-race").text
    again = form_fields(erin, "desk-race") | {"csrf_token": erin_token, "b0_zh": "艾琳的回答"}
    assert erin.post("/admin/entries/desk-race", data=again).status_code == 303  # now a deliberate overwrite
    assert app.engine is not None
    with app.engine.connect() as conn:
        conflicts = conn.execute(select(AdminAuditRow.username).where(AdminAuditRow.action == "entry_conflict"))
        assert list(conflicts.scalars()) == ["erin", "erin"]


def test_the_not_helpful_queue_lists_the_question_asked_until_an_editor_reviews_it(api: FastAPI, app: App) -> None:
    chat = TestClient(api)
    for session, text, helpful in (
        ("feedback-1", "可以刷卡繳嗎", False),
        ("feedback-2", "信用卡繳費可以嗎", False),
        ("feedback-3", "可以刷卡嗎", True),
    ):
        body = ask(api, text, session)
        assert body["faq_id"] == "pay-credit-card", body
        r = chat.post("/api/feedback", json={"session_id": session, "turn_id": body["turn_id"], "helpful": helpful})
        assert r.status_code == 200
    editor = client_for(api, "eddie")
    queue = editor.get("/admin/feedback")
    assert queue.status_code == 200
    assert re.findall(r'data-faq="([^"]+)"', queue.text) == ["pay-credit-card"] and "×2" in queue.text
    questions = re.findall(r'<td class="question">([^<]*)</td>', queue.text)
    assert questions == ["信用卡繳費可以嗎", "可以刷卡繳嗎"]  # newest first; the helpful rating is not listed
    assert 'href="/admin/entries/pay-credit-card"' in queue.text and "aea-hsinchu" in queue.text
    ids = re.findall(r'name="fid" value="(\d+)"', queue.text)
    token = csrf_of(editor, "/admin/feedback")
    done = editor.post("/admin/feedback/review", data={"csrf_token": token, "fid": ids[:1]})
    assert done.status_code == 303 and done.headers["location"] == "/admin/feedback?done=1"
    assert re.findall(r'<td class="question">([^<]*)</td>', editor.get("/admin/feedback").text) == ["可以刷卡繳嗎"]
    editor.post("/admin/feedback/review", data={"csrf_token": token, "fid": ids})
    assert "Nothing to review" in editor.get("/admin/feedback").text
    assert app.engine is not None
    with app.engine.connect() as conn:
        reviewed = conn.execute(select(FeedbackRow.reviewed_by).where(FeedbackRow.helpful.is_(False))).scalars()
        assert list(reviewed) == ["eddie", "eddie"]
        audited = conn.execute(select(AdminAuditRow.details).where(AdminAuditRow.action == "feedback_review"))
        assert [d["changed"] for d in audited.scalars()] == [1, 1]


def test_staff_and_anonymous_are_refused_on_every_content_route(api: FastAPI) -> None:
    routes = [(m, p) for m, p in admin_routes(api) if p.startswith(CONTENT_PREFIXES)]
    assert len(routes) >= 9 and ("POST", "/admin/feedback/review") in routes
    staff = client_for(api, "stella")
    token = csrf_of(staff, "/admin/search")
    anonymous = client_for(api)
    for method, path in routes:
        assert staff.request(method, path, data={"csrf_token": token}).status_code == 403, (method, path)
        r = anonymous.request(method, path, data={"csrf_token": "x"})
        assert r.status_code == 403 or r.headers.get("location") == "/admin/login", (method, path)
    nav = staff.get("/admin/search").text
    assert "/admin/entries" not in nav and "/admin/feedback" not in nav


def test_posts_without_the_csrf_token_change_nothing(api: FastAPI, app: App) -> None:
    editor = client_for(api, "eddie")
    token = csrf_of(editor, "/admin/entries/new")
    assert editor.post(
        "/admin/entries", data=entry_fields("desk-csrf", "分署有無障礙坡道嗎", answer="回答") | {"csrf_token": token}
    )
    before = changes(app)
    for path, data in (
        ("/admin/entries", entry_fields("desk-csrf-2", "分署有電梯嗎", answer="回答")),
        ("/admin/entries/desk-csrf", entry_fields("desk-csrf", "分署有無障礙坡道嗎", answer="改過")),
        ("/admin/entries/desk-csrf/publish", {"expected": ""}),
        ("/admin/entries/desk-csrf/retire", {"csrf_token": "wrong"}),
        ("/admin/feedback/review", {"fid": "1"}),
    ):
        assert editor.post(path, data=data).status_code == 403, path
    assert changes(app) == before
    assert editor.get("/admin/entries/desk-csrf-2").status_code == 404
    assert "改過" not in editor.get("/admin/entries/desk-csrf").text


def test_unknown_entries_get_a_404_page(api: FastAPI) -> None:
    editor = client_for(api, "eddie")
    token = csrf_of(editor, "/admin/entries/new")
    for method, path in (
        ("GET", "/admin/entries/no-such-entry"),
        ("GET", "/admin/entries/no-such-entry/history"),
        ("POST", "/admin/entries/no-such-entry"),
        ("POST", "/admin/entries/no-such-entry/publish"),
    ):
        r = editor.request(method, path, data={"csrf_token": token})
        assert r.status_code == 404 and "no-such-entry" in r.text and "text/html" in r.headers["content-type"]


def test_markup_typed_into_an_entry_or_asked_by_a_citizen_is_escaped(api: FastAPI, app: App) -> None:
    editor = client_for(api, "eddie")
    token = csrf_of(editor, "/admin/entries/new")
    evil = "<script>alert('x')</script>"
    fields = entry_fields(
        "desk-evil",
        f"{evil}分署可以借雨傘嗎",
        answer=f"{evil}回答",
        sources="新竹分署111年度服務躍升執行成果報告 | <img src=x onerror=alert(1)>",
        variants=('"><b>variant</b>',),
    )
    assert editor.post("/admin/entries", data=fields | {"csrf_token": token}).status_code == 303
    with app.uow_factory() as uow:
        turn = Turn(
            "web", None, f"{evil} 刷卡", "pay-credit-card", "payment", None, False, 0.9, dt.datetime.now(dt.UTC)
        )
        turn_id = uow.turns.add(turn)
        from bot.domain.records import Feedback

        uow.feedback.add(Feedback("pay-credit-card", False, "web", dt.datetime.now(dt.UTC), turn_id, "<i>bad</i>"))
        uow.commit()
    for path in (
        "/admin/entries",
        "/admin/entries/desk-evil",
        "/admin/entries/desk-evil/history",
        "/admin/history",
        "/admin/feedback",
    ):
        page = editor.get(path).text
        assert "<script>alert" not in page and "<img src=x" not in page and "<b>variant" not in page, path
        assert "<i>bad" not in page, path
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in editor.get("/admin/entries/desk-evil").text
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; 刷卡" in editor.get("/admin/feedback").text
