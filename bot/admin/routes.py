"""Admin console routes under /admin: sign-in, the unanswered queue, staff quick search, accounts.

Every page needs a signed-in account with the right role; every POST also needs the session's CSRF token.
Refusals: not signed in -> 303 to the sign-in page (GET) or 403 (POST); wrong role or bad token -> 403.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, Response
from fastapi.responses import RedirectResponse

from bot.admin import pages
from bot.admin.guards import Ctx, Guards, client_of, html, read_form
from bot.admin.session import COOKIE, Session
from bot.services.answering import InputError
from bot.services.editing import EditError
from bot.services.users import TooManyAttempts, UserError, UserService

if TYPE_CHECKING:
    from bot.bootstrap import App
    from bot.services.resolution import ResolutionService

log = logging.getLogger(__name__)

SEARCH_RESULTS = 5
DONE = {"attach": "已加入條目 Attached to", "new": "已建立草稿 Draft created:", "dismiss": "已標記不處理 Dismissed"}


def build_router(app: App, guards: Guards, resolutions: ResolutionService) -> APIRouter:
    """The /admin routes over a wired app: sign-in, the unanswered queue, quick search, accounts."""
    users = guards.users
    viewer, actor, audit = guards.viewer, guards.actor, guards.audit
    router = APIRouter(prefix="/admin", include_in_schema=False)

    @router.get("/login")
    def login_form(request: Request) -> Response:
        session, user = guards.signed_in(request)
        if user is not None:
            return RedirectResponse("/admin/", status_code=303)
        session = session or Session.new()
        response = html(pages.login_page(session.csrf))
        guards.set_session(response, session)
        return response

    @router.post("/login")
    async def login(request: Request) -> Response:
        session = guards.session_of(request)
        form = await read_form(request)
        if session is None or not session.csrf_ok((form.get("csrf_token") or [""])[0]):
            raise HTTPException(status_code=403, detail="CSRF token missing or wrong")
        username = (form.get("username") or [""])[0]
        password = (form.get("password") or [""])[0]
        try:
            user = users.authenticate(username, password, client_of(request))
        except TooManyAttempts:
            return html(pages.login_page(session.csrf, "嘗試次數過多，請 15 分鐘後再試。 Too many attempts."), 429)
        if user is None:
            return html(pages.login_page(session.csrf, "帳號或密碼錯誤。 Wrong username or password."), 401)
        response = RedirectResponse("/admin/", status_code=303)
        guards.set_session(response, Session.new(user.username))
        return response

    @router.post("/logout")
    def logout(request: Request, ctx: Ctx = Depends(actor("staff"))) -> Response:  # noqa: B008
        audit(ctx, request, "logout")
        response = RedirectResponse("/admin/login", status_code=303)
        response.delete_cookie(COOKIE, path="/admin")
        return response

    @router.get("/")
    def home(ctx: Ctx = Depends(viewer("staff"))) -> Response:  # noqa: B008
        return RedirectResponse("/admin/unanswered" if ctx.user.can("editor") else "/admin/search", status_code=303)

    def queue(ctx: Ctx, note: str | None = None, error: str | None = None, status: int = 200) -> Response:
        page = pages.unanswered_page(
            resolutions.clusters(), user=ctx.user, csrf=ctx.session.csrf, note=note, error=error
        )
        return html(page, status)

    @router.get("/unanswered")
    def unanswered(request: Request, ctx: Ctx = Depends(viewer("editor"))) -> Response:  # noqa: B008
        done = request.query_params.get("done", "")
        note = f"{DONE[done]} {request.query_params.get('entry', '')}".strip() if done in DONE else None
        return queue(ctx, note)

    @router.post("/unanswered/{cluster_id}/resolve")
    def resolve(request: Request, cluster_id: int, ctx: Ctx = Depends(actor("editor"))) -> Response:  # noqa: B008
        action = ctx.field("action")
        try:
            ids = [int(q) for q in ctx.form.get("qid", [])] or [cluster_id]
        except ValueError:
            return queue(ctx, error="問題編號錯誤 Bad question ids", status=400)
        editor = ctx.user.username
        try:
            if action == "attach":
                if not ctx.field("faq_id"):
                    return queue(ctx, error="請填條目編號 Enter an FAQ id", status=400)
                result = resolutions.attach_questions(ids, ctx.field("faq_id"), editor)
            elif action == "new":
                result = resolutions.draft_from_questions(ids, editor)
            elif action == "dismiss":
                result = resolutions.dismiss_questions(ids, editor)
            else:
                return queue(ctx, error="未知的動作 Unknown action", status=400)
        except EditError as exc:
            return queue(ctx, error=str(exc), status=400)
        audit(ctx, request, f"resolve_{action}", result.to_dict())
        if app.live is not None and result.content_version is not None:
            app.live.refresh()  # this worker answers with the change at once; others follow by polling
        query = urlencode({"done": action, "entry": result.entry_id or ""})
        return RedirectResponse(f"/admin/unanswered?{query}", status_code=303)

    @router.get("/search")
    def search(request: Request, q: str = "", ctx: Ctx = Depends(viewer("staff"))) -> Response:  # noqa: B008
        q = q.strip()[:300]
        results = []
        error = None
        if q:
            answers = app.live.answers() if app.live is not None else app.answers
            try:
                _, candidates = answers.answer(q)  # never recorded: a staff lookup is not a citizen's turn
            except InputError as exc:
                error = str(exc)
                candidates = ()
            known = answers.entry_ids
            best = [c for c in candidates if not c.out_of_scope and c.target in known][:SEARCH_RESULTS]
            results = [dataclasses.replace(answers.answer_entry(c.target), score=c.confidence) for c in best]
            audit(ctx, request, "search", {"results": [c.target for c in best]})  # not the query: it may be personal
        return html(pages.search_page(q, results, user=ctx.user, csrf=ctx.session.csrf, error=error))

    def accounts(ctx: Ctx, note: str | None = None, error: str | None = None, status: int = 200) -> Response:
        page = pages.users_page(users.list(), user=ctx.user, csrf=ctx.session.csrf, note=note, error=error)
        return html(page, status)

    @router.get("/users")
    def list_users(ctx: Ctx = Depends(viewer("admin"))) -> Response:  # noqa: B008
        return accounts(ctx)

    @router.post("/users")
    def add_user(ctx: Ctx = Depends(actor("admin"))) -> Response:  # noqa: B008
        try:
            added = users.add(
                ctx.field("username"), (ctx.form.get("password") or [""])[0], ctx.field("role"), by=ctx.user.username
            )
        except UserError as exc:
            return accounts(ctx, error=str(exc), status=400)
        return accounts(ctx, note=f"已新增 Added {added.username}")

    @router.post("/users/{username}/{change}")
    def change_user(username: str, change: str, ctx: Ctx = Depends(actor("admin"))) -> Response:  # noqa: B008
        if change not in ("disable", "enable"):
            raise HTTPException(status_code=404)
        if username == ctx.user.username:
            return accounts(ctx, error="不能停用自己 You cannot disable yourself", status=400)
        try:
            users.set_disabled(username, change == "disable", by=ctx.user.username)
        except UserError as exc:
            return accounts(ctx, error=str(exc), status=400)
        return accounts(ctx, note=f"{username}: {change}d")

    return router


def mount(api: FastAPI, app: App) -> bool:
    """Add the console to the web app; only over the SQL store (accounts live in the database)."""
    if app.engine is None:
        return False
    from bot.adapters.sql.users import SqlUserStore
    from bot.services.clustering import kb_features
    from bot.services.resolution import ResolutionService

    users = UserService(SqlUserStore(app.engine))
    prepare = app.live.prepare if app.live is not None else None
    resolutions = ResolutionService(app.uow_factory, kb_features(app.kb), prepare=prepare)
    guards = Guards(users, app.settings.secret_key, secure=app.settings.env != "dev")
    router = build_router(app, guards, resolutions)
    # further console sections add their routes here, before the router is included
    from bot.admin import content_routes
    from bot.services.editing import EditorService
    from bot.services.feedback_queue import FeedbackQueue

    editor = EditorService(app.uow_factory, prepare=prepare)
    content_routes.add_routes(router, guards, app, editor, FeedbackQueue(app.uow_factory))
    from bot.admin import analytics_routes

    analytics_routes.add_routes(router, guards, app, features=resolutions.features)
    api.include_router(router)
    api.state.admin_router = router  # tests enumerate every console route from it
    return True
