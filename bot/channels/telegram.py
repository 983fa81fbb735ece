"""Telegram bot (python-telegram-bot): webhook at `POST /telegram/webhook` or long polling (`civicbot telegram`)."""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fastapi import BackgroundTasks, FastAPI, HTTPException, Request, Response
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.channels import intake, replies
from bot.config import Settings
from bot.dialogue.messages import Dialogue, Inbound, Reply
from bot.services.answering import InputError
from bot.services.ports import UnitOfWork

if TYPE_CHECKING:
    from bot.bootstrap import App

log = logging.getLogger(__name__)

PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_TEXT = 4000  # Telegram allows 4,096 (UTF-16 units): a margin for emoji and other astral characters
MAX_MESSAGES = 5  # messages per reply
AnyApplication = Application[Any, Any, Any, Any, Any, Any]
Context = ContextTypes.DEFAULT_TYPE


def to_markup(reply: Reply) -> InlineKeyboardMarkup | None:
    """An inline keyboard: one row per choice, then helpful / not-helpful side by side."""
    offered = replies.choices(reply)
    if not offered:
        return None
    rating = {f"fb:{reply.turn_id}:1", f"fb:{reply.turn_id}:0"} if reply.feedback else set()
    rows = [[InlineKeyboardButton(q.label, callback_data=q.payload)] for q in offered if q.payload not in rating]
    feedback_row = [InlineKeyboardButton(q.label, callback_data=q.payload) for q in offered if q.payload in rating]
    return InlineKeyboardMarkup(rows + [feedback_row] if feedback_row else rows)


def _language(update: Update) -> str | None:
    user = update.effective_user
    return replies.language_of(user.language_code if user else None)


class TelegramHandlers:
    """The update handlers both modes share: each turns an update into an Inbound and sends the Reply."""

    def __init__(self, dialogue: Dialogue, uow_factory: Callable[[], UnitOfWork]) -> None:
        self.dialogue = dialogue
        self.uow_factory = uow_factory

    def install(self, application: AnyApplication) -> None:
        """Register the handlers; the de-duplication guard runs first (group -1) and stops repeats."""
        application.add_handler(TypeHandler(Update, self.once), group=-1)
        application.add_handler(CommandHandler("start", self.on_start))
        application.add_handler(CommandHandler("help", self.on_help))
        application.add_handler(
            MessageHandler(filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND, self.on_text)
        )
        application.add_handler(CallbackQueryHandler(self.on_choice))
        application.add_handler(MessageHandler(filters.UpdateType.MESSAGE, self.on_other))
        application.add_error_handler(self.on_error)

    async def once(self, update: Update, context: Context) -> None:
        """Stop a repeated update_id (a webhook retry, a poll after a crash) before any handler sees it."""
        if not await asyncio.to_thread(self._claim, str(update.update_id)):
            log.info("telegram update repeated; already handled")
            raise ApplicationHandlerStop

    def _claim(self, update_id: str) -> bool:
        with self.uow_factory() as uow:
            claimed = uow.events.claim("telegram", update_id)
            uow.commit()
        return claimed

    async def on_start(self, update: Update, context: Context) -> None:
        """`/start`: the dialogue's greeting with its menu."""
        lang = _language(update) or "zh-TW"
        await self._converse(update, context, text=replies.GREETING[lang], language=lang)

    async def on_help(self, update: Update, context: Context) -> None:
        """`/help`: what the assistant can do."""
        lang = _language(update) or "zh-TW"
        await self._converse(update, context, text=replies.HELP[lang], language=lang)

    async def on_text(self, update: Update, context: Context) -> None:
        """A typed question, passed on as plain text."""
        message = update.effective_message
        if message is not None and message.text is not None:
            await self._converse(update, context, text=message.text, language=_language(update))

    async def on_choice(self, update: Update, context: Context) -> None:
        """A pressed inline button: answer the callback query, then pass its data on as the payload."""
        query = update.callback_query
        if query is None:
            return
        await query.answer()
        if query.data and query.message is not None:
            await self._converse(update, context, payload=query.data, language=_language(update))

    async def on_other(self, update: Update, context: Context) -> None:
        """Stickers, photos, unknown commands…: ask for a typed question."""
        if update.effective_chat is not None:
            await context.bot.send_message(chat_id=update.effective_chat.id, text=replies.NOT_TEXT)

    async def on_error(self, update: object, context: Context) -> None:
        """Log a failed update by exception type only (messages may quote the citizen's text)."""
        log.error("telegram update failed: %s", type(context.error).__name__)

    async def _converse(
        self,
        update: Update,
        context: Context,
        *,
        text: str | None = None,
        payload: str | None = None,
        language: str | None = None,
    ) -> None:
        chat = update.effective_chat
        if chat is None:
            return
        inbound = Inbound(channel="telegram", user_id=str(chat.id), text=text, payload=payload, language=language)
        log.info("telegram %s from chat %s", "choice" if payload else "text", replies.user_ref(inbound.user_id))
        try:
            reply = await asyncio.to_thread(self.dialogue.handle, inbound)
        except InputError as exc:  # too long, empty, invalid choice: the message is meant for the citizen
            await context.bot.send_message(chat_id=chat.id, text=str(exc))
            return
        chunks = replies.split_text(replies.render_text(reply), MAX_TEXT, MAX_MESSAGES)
        for number, chunk in enumerate(chunks, 1):
            # No parse_mode: the text goes out as plain text, so markup in a question or answer stays inert.
            markup = to_markup(reply) if number == len(chunks) else None
            await context.bot.send_message(chat_id=chat.id, text=chunk, reply_markup=markup)


def hide_token_in_logs() -> None:
    """httpx logs every request URL at INFO, and Bot API URLs contain the bot token: keep that logger quieter."""
    httpx_log = logging.getLogger("httpx")
    if httpx_log.level < logging.WARNING:  # also when unset: a root logger at INFO would let the URLs through
        httpx_log.setLevel(logging.WARNING)


def file_url(base_url: str) -> str:
    """PTB's file URL beside a Bot API base URL (`…/bot` → `…/file/bot`)."""
    return base_url[: -len("/bot")] + "/file/bot" if base_url.endswith("/bot") else base_url


def build_application(
    settings: Settings, dialogue: Dialogue, uow_factory: Callable[[], UnitOfWork], *, polling: bool
) -> AnyApplication:
    """A PTB Application with our handlers; without an updater for webhook mode (our route feeds it)."""
    if not settings.telegram_bot_token:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    hide_token_in_logs()
    builder = Application.builder().token(settings.telegram_bot_token)
    if settings.telegram_api_base_url:
        base = settings.telegram_api_base_url.rstrip("/")
        builder = builder.base_url(base).base_file_url(file_url(base))
    if not polling:
        builder = builder.updater(None)
    application: AnyApplication = builder.build()
    TelegramHandlers(dialogue, uow_factory).install(application)
    return application


class TelegramWebhook:
    """The webhook route: the secret header is checked before the body is even read."""

    def __init__(self, application: AnyApplication, secret: str) -> None:
        self.application = application
        self.secret = secret.encode()

    async def webhook(self, request: Request, background: BackgroundTasks) -> Response:
        """Check the secret, size and shape of an update, answer 200 at once, then process it."""
        given = request.headers.get(SECRET_HEADER)
        if given is None:
            raise HTTPException(401, "missing secret token")
        if not hmac.compare_digest(given.encode(), self.secret):
            log.warning("telegram webhook: wrong secret token")
            raise HTTPException(403, "wrong secret token")
        body = await intake.read_body(request)
        intake.require_json(request)
        data = intake.json_object(body)
        update_id = data.get("update_id")
        if not isinstance(update_id, int) or isinstance(update_id, bool):
            raise HTTPException(400, "expected an update with an update_id")
        try:
            update = Update.de_json(data, self.application.bot)
        except Exception:  # PTB raises assorted errors on malformed updates; their text may quote the update
            raise HTTPException(400, "malformed update") from None
        background.add_task(self.application.process_update, update)
        return Response(status_code=200)


def mount(api: FastAPI, app: App) -> bool:
    """Serve `POST /telegram/webhook` when the bot token and webhook secret are set; False otherwise."""
    settings = app.settings
    if not (settings.telegram_bot_token and settings.telegram_webhook_secret) or app.dialogue is None:
        return False
    application = build_application(settings, app.dialogue, app.uow_factory, polling=False)
    # The Application is itself an async context manager: initialize() (getMe) on entry, shutdown() on exit.
    api.state.lifespans.append(application)
    route = TelegramWebhook(application, settings.telegram_webhook_secret)
    api.add_api_route(PATH, route.webhook, methods=["POST"], include_in_schema=False)
    return True


def run_polling(app: App) -> None:
    """Long-poll the Bot API with the webhook's handlers until Ctrl-C (the `civicbot telegram` command)."""
    if app.dialogue is None:
        raise ValueError("the app has no dialogue (bootstrap() builds it)")
    application = build_application(app.settings, app.dialogue, app.uow_factory, polling=True)
    application.run_polling(allowed_updates=Update.ALL_TYPES)


def set_webhook(settings: Settings, url: str) -> None:
    """Tell Telegram to deliver updates to `url` with our secret header (`civicbot telegram --set-webhook`)."""

    hide_token_in_logs()

    async def register() -> None:
        base = (settings.telegram_api_base_url or "https://api.telegram.org/bot").rstrip("/")
        assert settings.telegram_bot_token
        async with Bot(settings.telegram_bot_token, base_url=base, base_file_url=file_url(base)) as bot:
            await bot.set_webhook(url, secret_token=settings.telegram_webhook_secret, allowed_updates=Update.ALL_TYPES)

    asyncio.run(register())
