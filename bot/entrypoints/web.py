"""The ASGI app: chat API, widget assets and demo page, health check, admin console, LINE / Telegram webhooks."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
import logging
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, HTTPException, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import text as sql_text

from bot.adapters.rasa_rest import RasaRestDialogue
from bot.bootstrap import App, bootstrap
from bot.core.normalize import MAX_QUESTION_CHARS
from bot.dialogue.messages import MAX_PAYLOAD_BYTES, Inbound
from bot.entrypoints.api_guard import ApiGuard
from bot.services.answering import InputError

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
CHANNEL_MODULES = ("bot.channels.line", "bot.channels.telegram")
SessionId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{8,64}$")]


class ChatRequest(BaseModel):
    """One chat turn from the web widget (or any HTTP client)."""

    model_config = ConfigDict(extra="forbid")
    session_id: SessionId
    text: Annotated[str | None, Field(max_length=MAX_QUESTION_CHARS)] = None
    payload: Annotated[str | None, Field(max_length=MAX_PAYLOAD_BYTES)] = None
    agency: Annotated[str | None, Field(max_length=40)] = None
    language: Annotated[str | None, StringConstraints(pattern=r"^(zh-TW|en)$")] = None


class FeedbackRequest(BaseModel):
    """A helpful / not-helpful rating of one answer."""

    model_config = ConfigDict(extra="forbid")
    session_id: SessionId
    turn_id: Annotated[int, Field(ge=1)]
    helpful: bool
    comment: Annotated[str | None, Field(max_length=1000)] = None


def chat_pool(app: App) -> ThreadPoolExecutor | None:
    """Where chat turns run: None = on the event loop itself, else a small dedicated thread pool.

    A turn is ~2-3 ms of CPU-bound Python. On the embedded SQLite (one writer) running it on the loop is the
    fastest: handing it to a thread made the two threads fight over the GIL (measured: 3.5 vs 5.9 ms of CPU per
    request). PostgreSQL round trips and a Rasa engine's HTTP calls wait on I/O, so those use threads.
    CIVICBOT_CHAT_THREADS=N forces a pool of N threads.
    """
    threads = app.settings.chat_threads
    if threads <= 0:
        if isinstance(app.dialogue, RasaRestDialogue):
            threads = 16
        elif app.engine is None or app.engine.dialect.name == "sqlite":
            return None
        else:
            threads = 4
    return ThreadPoolExecutor(max_workers=threads, thread_name_prefix="civicbot-chat")


def create_app(app: App) -> FastAPI:
    """The FastAPI application over a bootstrapped civicbot `App`."""
    assert app.dialogue is not None, "bootstrap() builds the dialogue"
    dialogue = app.dialogue
    settings = app.settings

    @contextlib.asynccontextmanager
    async def lifespan(api: FastAPI) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            for manager in api.state.lifespans:
                await stack.enter_async_context(manager)
            yield

    api = FastAPI(
        title="civicbot",
        version="0.1.0",
        summary="Sourced answers to citizens' questions for Taiwanese government agencies.",
        lifespan=lifespan,
    )
    api.state.lifespans = []
    api.state.app = app
    api.add_middleware(
        CORSMiddleware,
        allow_origins=settings.allowed_origins,
        allow_methods=["POST", "GET"],
        allow_headers=["Content-Type"],
        max_age=600,
    )

    api.add_middleware(ApiGuard, max_body_bytes=settings.max_body_bytes)  # outermost: runs first

    pool = chat_pool(app)

    @api.post("/api/chat", tags=["chat"])
    async def chat(body: ChatRequest) -> dict[str, Any]:
        """Advance the session's conversation by one turn: text typed, or a quick-reply payload."""
        inbound = Inbound(
            "web", body.session_id, text=body.text, payload=body.payload, agency=body.agency, language=body.language
        )
        try:
            if pool is None:
                reply = dialogue.handle(inbound)
            else:
                reply = await asyncio.get_running_loop().run_in_executor(pool, dialogue.handle, inbound)
        except InputError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from None
        return {"session_id": body.session_id, **reply.to_dict()}

    @api.post("/api/feedback", tags=["chat"])
    def feedback(body: FeedbackRequest) -> dict[str, Any]:
        """Rate the answer given in `turn_id` as helpful or not."""
        if not dialogue.feedback("web", body.turn_id, body.helpful, body.comment):
            raise HTTPException(status_code=404, detail="找不到這個回答。 No such answer.")
        return {"ok": True}

    @api.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, Any]:
        """Liveness and readiness: the store answers, the knowledge base is loaded; the engine (and Rasa's state)."""
        if app.engine is not None:
            try:
                with app.engine.connect() as conn:
                    conn.execute(sql_text("SELECT 1"))
            except Exception as exc:  # noqa: BLE001 - report, don't crash the probe
                log.error("health check: database unreachable: %s", type(exc).__name__)
                raise HTTPException(status_code=503, detail="database unreachable") from None
        kb = app.live.kb() if app.live is not None else app.kb  # what this process answers from now
        health: dict[str, Any] = {
            "status": "ok",
            "engine": settings.engine,
            "entries": len(kb.published()),
            "content_version": app.live.snapshot.version if app.live is not None else None,
            "agencies": [a.code for a in kb.agencies],
        }
        if isinstance(dialogue, RasaRestDialogue):
            # Reported, not fatal: while Rasa is down every channel still answers (politely) and a failing
            # probe would restart civicbot, which cannot bring Rasa back.
            health["rasa"] = "ok" if dialogue.ping() else "unreachable"
        return health

    @api.get("/api/agencies", tags=["chat"])
    def agencies() -> list[dict[str, str]]:
        """The agencies the assistant answers for (codes for the widget's data-agency)."""
        return [
            {"code": a.code, "name_zh": a.name_zh, "name_en": a.name_en, "short_zh": a.short_zh, "short_en": a.short_en}
            for a in app.kb.agencies
        ]

    @api.get("/", include_in_schema=False)
    def demo_page() -> Response:
        page = STATIC_DIR / "demo.html"
        if not page.is_file():
            return JSONResponse({"detail": "demo page not installed"}, status_code=404)
        return FileResponse(page, media_type="text/html; charset=utf-8")

    if STATIC_DIR.is_dir():
        api.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    from bot.admin import routes as admin_routes

    if admin_routes.mount(api, app):
        log.info("admin console mounted at /admin")
    for name in CHANNEL_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        if module.mount(api, app):
            log.info("channel mounted: %s", name.rsplit(".", 1)[-1])
    return api


def freeze_startup_heap() -> None:
    """Keep what start-up built (index, knowledge base, app) out of the collector's full passes, for a server process.

    It lives as long as the process, and scanning it again on every full collection cost the chat turns time and
    pauses. Only for serving processes: tests build many apps, and frozen ones would never be collected.
    """
    gc.collect()
    gc.freeze()


def create_app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory` and multi-worker `civicbot serve`: settings from the environment."""
    api = create_app(bootstrap())
    freeze_startup_heap()
    return api
