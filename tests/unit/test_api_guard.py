"""The public API's ASGI guard as data in, data out: limits before the app sees a body, headers on every reply."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from bot.entrypoints.api_guard import ApiGuard

LIMIT = 100


class EchoApp:
    """An ASGI app that records whether it ran and replies with the body it read."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.calls += 1
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = [(b"content-type", b"text/plain"), (b"referrer-policy", b"same-origin")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def run(
    chunks: list[bytes], *, path: str = "/api/chat", method: str = "POST", headers: dict[str, str] | None = None
) -> tuple[EchoApp, int, dict[bytes, bytes], bytes]:
    """Send one request through the guard; return the app, status, response headers and body."""
    inner = EchoApp()
    guard = ApiGuard(inner, max_body_bytes=LIMIT)
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
    }
    incoming = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(guard(scope, receive, send))
    start, body = sent[0], b"".join(m.get("body", b"") for m in sent[1:])
    return inner, start["status"], dict(start["headers"]), body


JSON = {"content-type": "application/json"}


def test_a_json_post_reaches_the_app_with_its_whole_body_and_safe_headers() -> None:
    app, status, headers, body = run([b'{"a":', b" 1}"], headers=JSON)
    assert (app.calls, status, body) == (1, 200, b'{"a": 1}')
    assert headers[b"x-content-type-options"] == b"nosniff"
    assert headers[b"referrer-policy"] == b"same-origin"  # the app's own header is kept, not duplicated


def test_a_chunked_body_over_the_limit_is_refused_without_reaching_the_app() -> None:
    app, status, headers, body = run([b"x" * 60, b"x" * 60], headers=JSON)  # no content-length header
    assert (app.calls, status) == (0, 413)
    assert "too large" in json.loads(body)["detail"]
    assert headers[b"x-content-type-options"] == b"nosniff"


def test_a_declared_length_over_the_limit_or_not_a_number_is_refused() -> None:
    for length in ("101", "abc", "-1"):
        app, status, _, _ = run([b"{}"], headers={**JSON, "content-length": length})
        assert (app.calls, status) == (0, 413), length


def test_a_post_that_is_not_json_is_refused_with_415() -> None:
    for ctype in ("text/plain", "application/x-www-form-urlencoded", ""):
        app, status, _, body = run([b"{}"], headers={"content-type": ctype})
        assert (app.calls, status) == (0, 415) and "JSON" in json.loads(body)["detail"]


def test_other_routes_and_methods_pass_untouched() -> None:
    app, status, headers, body = run([b"y" * 500], path="/line/webhook", headers={"content-type": "text/plain"})
    assert (app.calls, status, len(body)) == (1, 200, 500)  # the webhooks check their own signatures and sizes
    app, status, _, _ = run([b""], method="GET", path="/api/agencies")
    assert (app.calls, status) == (1, 200)
    assert headers[b"x-content-type-options"] == b"nosniff"
