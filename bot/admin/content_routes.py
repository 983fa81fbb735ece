"""Console routes for FAQ content (editors): entries, their change history, and the not-helpful queue.

Entries: list with filters, create (as a draft), edit, publish (the review step), retire. A saved change is live at
once in this worker (`app.live.refresh()`); other processes follow the content version. Edits carry the content
hash of the entry the editor opened, so overwriting someone else's change is refused with 409, never silent.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse

from bot.admin import entry_form
from bot.admin.content_pages import FILTERS, entries_page, entry_page, entry_url, not_found_page, when
from bot.admin.entry_form import BlockForm, EntryForm
from bot.admin.guards import Ctx, Guards, html
from bot.admin.review_pages import feedback_page, history_page
from bot.domain.model import FaqEntry
from bot.services.editing import EditConflict, EditError, EditorService, UnknownEntry
from bot.services.feedback_queue import SORTS, FeedbackQueue

if TYPE_CHECKING:
    from bot.bootstrap import App

HISTORY_LIMIT = 100
DONE = {
    "create": "已建立草稿 Draft created",
    "edit": "已儲存 Saved",
    "publish": "已發布，現在會用來回答 Published: the assistant answers with it now",
    "retire": "已停用，不再用來回答 Retired: no longer used to answer",
}


def add_routes(router: APIRouter, guards: Guards, app: App, editor: EditorService, queue: FeedbackQueue) -> None:
    """Add the content routes (editor role) to the console's router."""
    viewer, actor, audit = guards.viewer, guards.actor, guards.audit

    def went_live() -> None:
        if app.live is not None:
            app.live.refresh()  # this worker answers with the change at once; others follow by polling

    def missing(ctx: Ctx, entry_id: str) -> Response:
        return html(not_found_page(f"沒有條目 No entry {entry_id}", user=ctx.user, csrf=ctx.session.csrf), 404)

    def form_page(
        ctx: Ctx,
        form: EntryForm,
        entry: FaqEntry | None,
        status: int = 200,
        *,
        note: str | None = None,
        error: str | None = None,
        problems: list[str] | None = None,
    ) -> Response:
        kb = editor.knowledge()
        page = entry_page(
            form, kb, entry=entry, user=ctx.user, csrf=ctx.session.csrf, note=note, error=error, problems=problems or []
        )
        return html(page, status)

    def refused(ctx: Ctx, request: Request, entry_id: str, exc: EditError, form: EntryForm | None = None) -> Response:
        """The edit form again: 409 with the stored version's hash on a conflict, else 400 with the problems."""
        current = editor.get(entry_id)
        assert current is not None  # entries are never deleted
        stored = entry_form.from_entry(current)
        if isinstance(exc, EditConflict):
            audit(ctx, request, "entry_conflict", {"entry": entry_id})
            retry = dataclasses.replace(form or stored, expected=stored.expected).with_spare_block()
            return form_page(ctx, retry, current, 409, error=conflict_note(entry_id))
        return form_page(ctx, (form or stored).with_spare_block(), current, 400, problems=exc.problems or [str(exc)])

    def conflict_note(entry_id: str) -> str:
        latest = editor.history(entry_id, limit=1)
        who = f"{latest[0].editor}（{when(latest[0].created_at)}）" if latest else "someone"
        return (
            f"此條目在您開啟後已被 {who} 修改；請先看歷程。再按儲存會覆蓋對方的修改。 "
            f"Changed by {who} since you opened it: check its history; saving again overwrites their change."
        )

    @router.get("/entries")
    def list_entries(status: str = "all", q: str = "", ctx: Ctx = Depends(viewer("editor"))) -> Response:  # noqa: B008
        status = status if status in FILTERS else "all"
        page = entries_page(
            editor.knowledge(), status=status, query=q.strip()[:200], user=ctx.user, csrf=ctx.session.csrf
        )
        return html(page)

    @router.get("/entries/new")
    def new_entry(ctx: Ctx = Depends(viewer("editor"))) -> Response:  # noqa: B008
        return form_page(ctx, EntryForm(blocks=(BlockForm(),)), None)

    @router.post("/entries")
    def create_entry(request: Request, ctx: Ctx = Depends(actor("editor"))) -> Response:  # noqa: B008
        form = entry_form.from_fields(ctx.form)
        if ctx.field("add_block"):
            return form_page(ctx, form.with_spare_block(), None)
        entry, problems = entry_form.to_entry(form, status="draft", last_reviewed=None)
        try:
            if problems:
                raise EditError("form", problems)
            created = editor.create(entry, ctx.user.username)
        except EditError as exc:
            return form_page(ctx, form.with_spare_block(), None, 400, problems=exc.problems or [str(exc)])
        audit(ctx, request, "entry_create", {"entry": created.id})
        went_live()
        return RedirectResponse(entry_url(created.id, "?done=create"), status_code=303)

    @router.get("/entries/{entry_id}")
    def edit_form(request: Request, entry_id: str, ctx: Ctx = Depends(viewer("editor"))) -> Response:  # noqa: B008
        entry = editor.get(entry_id)
        if entry is None:
            return missing(ctx, entry_id)
        note = DONE.get(request.query_params.get("done", ""))
        return form_page(ctx, entry_form.from_entry(entry).with_spare_block(), entry, note=note)

    @router.post("/entries/{entry_id}")
    def save_entry(request: Request, entry_id: str, ctx: Ctx = Depends(actor("editor"))) -> Response:  # noqa: B008
        stored = editor.get(entry_id)
        if stored is None:
            return missing(ctx, entry_id)
        form = dataclasses.replace(entry_form.from_fields(ctx.form), id=entry_id)  # the id is never edited
        if ctx.field("add_block"):
            return form_page(ctx, form.with_spare_block(), stored)
        entry, problems = entry_form.to_entry(form, status=stored.status, last_reviewed=stored.last_reviewed)
        try:
            if problems:
                raise EditError("form", problems)
            editor.update(entry, ctx.user.username, expected=form.expected or None)
        except EditError as exc:
            return refused(ctx, request, entry_id, exc, form)
        audit(ctx, request, "entry_edit", {"entry": entry_id})
        went_live()
        return RedirectResponse(entry_url(entry_id, "?done=edit"), status_code=303)

    def status_change(action: str, change: Callable[..., FaqEntry]) -> Callable[..., Response]:
        def route(request: Request, entry_id: str, ctx: Ctx = Depends(actor("editor"))) -> Response:  # noqa: B008
            try:
                change(entry_id, ctx.user.username, expected=ctx.field("expected") or None)
            except UnknownEntry:
                return missing(ctx, entry_id)
            except EditError as exc:
                return refused(ctx, request, entry_id, exc)
            audit(ctx, request, f"entry_{action}", {"entry": entry_id})
            went_live()
            return RedirectResponse(entry_url(entry_id, f"?done={action}"), status_code=303)

        return route

    router.add_api_route("/entries/{entry_id}/publish", status_change("publish", editor.publish), methods=["POST"])
    router.add_api_route("/entries/{entry_id}/retire", status_change("retire", editor.retire), methods=["POST"])

    @router.get("/entries/{entry_id}/history")
    def entry_history(entry_id: str, ctx: Ctx = Depends(viewer("editor"))) -> Response:  # noqa: B008
        if editor.get(entry_id) is None:
            return missing(ctx, entry_id)
        records = editor.history(entry_id, HISTORY_LIMIT)
        return html(history_page(records, entry_id=entry_id, user=ctx.user, csrf=ctx.session.csrf))

    @router.get("/history")
    def recent_history(ctx: Ctx = Depends(viewer("editor"))) -> Response:  # noqa: B008
        records = editor.history(None, HISTORY_LIMIT)
        return html(history_page(records, entry_id=None, user=ctx.user, csrf=ctx.session.csrf))

    @router.get("/feedback")
    def feedback(request: Request, sort: str = "count", ctx: Ctx = Depends(viewer("editor"))) -> Response:  # noqa: B008
        sort = sort if sort in SORTS else "count"
        done = request.query_params.get("done", "")
        note = f"已標記 {done} 則為已檢視 Marked {done} reviewed" if done.isdigit() else None
        page = feedback_page(
            queue.groups(sort), editor.knowledge(), sort=sort, user=ctx.user, csrf=ctx.session.csrf, note=note
        )
        return html(page)

    @router.post("/feedback/review")
    def review_feedback(request: Request, ctx: Ctx = Depends(actor("editor"))) -> Response:  # noqa: B008
        ids = sorted({int(v) for v in ctx.form.get("fid", []) if v.strip().isdigit() and len(v.strip()) < 10})
        changed = queue.mark_reviewed(ids, ctx.user.username)
        audit(ctx, request, "feedback_review", {"ids": ids, "changed": changed})
        return RedirectResponse(f"/admin/feedback?done={changed}", status_code=303)
