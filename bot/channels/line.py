"""LINE Messaging API webhook (`POST /line/webhook`): verify the signature, de-duplicate, ask the dialogue, reply."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import BackgroundTasks, FastAPI, HTTPException, Request, Response
from linebot.v3.messaging import (
    AsyncApiClient,
    AsyncMessagingApi,
    Configuration,
    PostbackAction,
    QuickReply,
    QuickReplyItem,
    ReplyMessageRequest,
    TextMessage,
)
from linebot.v3.messaging.exceptions import ApiException
from linebot.v3.webhook import SignatureValidator
from linebot.v3.webhooks import (
    Event,
    FollowEvent,
    GroupSource,
    MessageEvent,
    PostbackEvent,
    RoomSource,
    TextMessageContent,
    UserSource,
)

from bot.channels import intake, replies
from bot.dialogue.messages import Dialogue, Inbound, Reply
from bot.services.answering import InputError
from bot.services.ports import UnitOfWork

if TYPE_CHECKING:
    from bot.bootstrap import App

log = logging.getLogger(__name__)

PATH = "/line/webhook"
SIGNATURE_HEADER = "X-Line-Signature"
MAX_TEXT = 4800  # LINE allows 5,000 (UTF-16 units): a margin for emoji and other astral characters
MAX_MESSAGES = 5  # messages per reply
MAX_QUICK_REPLIES = 13
MAX_LABEL = 20  # quick-reply button label


def to_inbound(event: Event) -> Inbound | None:
    """The dialogue input for a text message, a postback or a follow; None for anything else."""
    source = event.source
    if isinstance(source, UserSource):
        user_id = source.user_id
    elif isinstance(source, GroupSource):
        user_id = source.user_id or source.group_id
    elif isinstance(source, RoomSource):
        user_id = source.user_id or source.room_id
    else:
        user_id = None
    if not user_id:
        return None
    if isinstance(event, MessageEvent) and isinstance(event.message, TextMessageContent):
        return Inbound(channel="line", user_id=user_id, text=event.message.text)
    if isinstance(event, PostbackEvent):
        return Inbound(channel="line", user_id=user_id, payload=event.postback.data)
    if isinstance(event, FollowEvent):
        return Inbound(channel="line", user_id=user_id, text=replies.GREETING["zh-TW"])
    return None


def to_messages(reply: Reply) -> list[TextMessage]:
    """Text messages for a reply; its choices (and feedback buttons) ride on the last one as quick replies."""
    chunks = replies.split_text(replies.render_text(reply), MAX_TEXT, MAX_MESSAGES)
    messages = [TextMessage(text=chunk) for chunk in chunks]
    offered = replies.choices(reply, limit=MAX_QUICK_REPLIES)
    if offered:
        items = [
            QuickReplyItem(
                action=PostbackAction(
                    label=replies.clip(q.label, MAX_LABEL), data=q.payload, display_text=replies.clip(q.label, 300)
                )
            )
            for q in offered
        ]
        messages[-1].quick_reply = QuickReply(items=items)
    return messages


class LineChannel:
    """Turns verified LINE deliveries into dialogue steps and replies through the Messaging API."""

    def __init__(
        self,
        dialogue: Dialogue,
        uow_factory: Callable[[], UnitOfWork],
        channel_secret: str,
        api: AsyncMessagingApi | None = None,
    ) -> None:
        self.dialogue = dialogue
        self.uow_factory = uow_factory
        self.validator = SignatureValidator(channel_secret)
        self.api = api  # set by the lifespan: the SDK's HTTP session needs a running event loop

    async def webhook(self, request: Request, background: BackgroundTasks) -> Response:
        """Check size, type and signature of a delivery, answer 200 at once, then process its events."""
        body = await intake.read_body(request)
        signature = request.headers.get(SIGNATURE_HEADER)
        if not signature:
            raise HTTPException(400, "missing signature")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise HTTPException(400, "invalid signature") from None
        if not self.validator.validate(text, signature):
            log.warning("line webhook: invalid signature, %d bytes ignored", len(body))
            raise HTTPException(400, "invalid signature")
        intake.require_json(request)
        data = intake.json_object(body)
        raw_events = data.get("events")
        if not isinstance(raw_events, list) or not all(isinstance(e, dict) for e in raw_events):
            raise HTTPException(400, "expected a list of events")
        events = [event for raw in raw_events if (event := self._parse(raw)) is not None]
        if events:
            background.add_task(self.process, events)
        return Response(status_code=200)

    @staticmethod
    def _parse(raw: dict[str, Any]) -> Event | None:
        try:
            return Event.from_dict(raw)
        except (ValueError, KeyError, TypeError):  # the message would echo the event (and its text): not logged
            log.info("line webhook: skipped an event the SDK cannot read (type %r)", str(raw.get("type"))[:32])
            return None

    async def process(self, events: list[Event]) -> None:
        """Handle each event once (redeliveries carry the same webhookEventId) and reply to it."""
        for event in events:
            try:
                await self._process_one(event)
            except Exception as exc:  # one failed event must not stop the rest; no payload in the log
                log.error("line event %s failed: %s", event.type, type(exc).__name__)

    async def _process_one(self, event: Event) -> None:
        reply_token = getattr(event, "reply_token", None)
        inbound = to_inbound(event)
        is_other_message = isinstance(event, MessageEvent) and inbound is None
        if not reply_token or (inbound is None and not is_other_message):
            return  # unfollow, join, unsend…: nothing to answer
        if not await asyncio.to_thread(self._claim, event.webhook_event_id):
            log.info("line event %s redelivered; already handled", event.type)
            return
        if inbound is None:
            messages = [TextMessage(text=replies.NOT_TEXT)]
        else:
            log.info("line %s from user %s", event.type, replies.user_ref(inbound.user_id))
            try:
                reply = await asyncio.to_thread(self.dialogue.handle, inbound)
                messages = to_messages(reply)
            except InputError as exc:  # too long, empty, invalid choice: the message is meant for the citizen
                messages = [TextMessage(text=str(exc))]
        await self._send(ReplyMessageRequest(reply_token=reply_token, messages=messages))

    def _claim(self, event_id: str) -> bool:
        with self.uow_factory() as uow:
            claimed = uow.events.claim("line", event_id)
            uow.commit()
        return claimed

    async def _send(self, request: ReplyMessageRequest) -> None:
        if self.api is None:
            raise RuntimeError("LINE client not started (the app lifespan creates it)")
        try:
            await self.api.reply_message(request)
        except ApiException as exc:
            log.warning("line reply refused: HTTP %s", exc.status)


@asynccontextmanager
async def messaging_client(channel: LineChannel, access_token: str, host: str | None) -> AsyncIterator[None]:
    """Open the Messaging API client for the app's lifetime (LINE_API_BASE_URL points it elsewhere)."""
    configuration = Configuration(access_token=access_token, host=host.rstrip("/") if host else None)
    async with AsyncApiClient(configuration) as client:
        channel.api = AsyncMessagingApi(client)
        try:
            yield
        finally:
            channel.api = None


def mount(api: FastAPI, app: App) -> bool:
    """Serve `POST /line/webhook` when LINE credentials are configured; False (nothing mounted) otherwise."""
    settings = app.settings
    if not (settings.line_channel_secret and settings.line_channel_access_token) or app.dialogue is None:
        return False
    channel = LineChannel(app.dialogue, app.uow_factory, settings.line_channel_secret)
    api.state.lifespans.append(
        messaging_client(channel, settings.line_channel_access_token, settings.line_api_base_url)
    )
    api.add_api_route(PATH, channel.webhook, methods=["POST"], include_in_schema=False)
    return True
