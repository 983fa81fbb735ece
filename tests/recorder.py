"""A local stand-in for the LINE and Telegram APIs: a real HTTP server on 127.0.0.1 that records every request.

The SDKs under test send genuine HTTP requests here (LINE_API_BASE_URL / TELEGRAM_API_BASE_URL), so tests
can assert the exact payload a platform would have received.
"""

from __future__ import annotations

import atexit
import json
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

_SEEDED: Path | None = None


def seeded_data_dir(dest: Path) -> Path:
    """A data folder holding the embedded store with the bundled FAQ loaded (built once per test run, then copied)."""
    global _SEEDED
    if _SEEDED is None:
        from bot.bootstrap import bootstrap
        from bot.config import Settings

        template = Path(tempfile.mkdtemp(prefix="civicbot-seeded-"))
        atexit.register(shutil.rmtree, template, True)
        bootstrap(Settings(data_dir=template))
        _SEEDED = template
    shutil.copytree(_SEEDED, dest, dirs_exist_ok=True)
    return dest


TURN_TABLES = ("conversation_turns", "conversations", "processed_events", "answer_feedback", "unanswered_questions")
NOTHING = dict.fromkeys(TURN_TABLES, 0)  # stored_rows() when a request changed nothing
# Settings that pass the production checks (no placeholder secrets), for channel-credential tests.
PRODUCTION: dict[str, Any] = {"env": "production", "secret_key": "k" * 32, "case_verifier_pepper": "p" * 32}


def stored_rows(app: Any) -> dict[str, int]:
    """Row counts of everything a chat turn can write (turns, conversations, claimed events, feedback…)."""
    from sqlalchemy import text

    with app.engine.connect() as conn:
        return {name: int(conn.execute(text(f"SELECT count(*) FROM {name}")).scalar_one()) for name in TURN_TABLES}


TELEGRAM_BOT = {
    "id": 7000000001,
    "is_bot": True,
    "first_name": "CivicBot",
    "username": "civicbot_test_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}


@dataclass
class Recorded:
    """One request as the platform would have seen it."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any  # JSON body, or form fields (str values) for form-encoded requests

    @property
    def api_method(self) -> str:
        """The last path segment: `sendMessage`, `reply`…"""
        return self.path.rsplit("/", 1)[-1]


@dataclass
class Recorder:
    """Records requests and answers them like the real APIs would."""

    requests: list[Recorded] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)  # served once each by getUpdates
    url: str = ""
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _message_id: int = 100

    def start(self) -> Recorder:
        """Listen on a free loopback port."""
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def calls(self, api_method: str) -> list[Recorded]:
        """The recorded requests to one API method (`sendMessage`, `reply`, `answerCallbackQuery`…)."""
        with self._lock:
            return [r for r in self.requests if r.api_method == api_method]

    def wait_for(self, api_method: str, count: int = 1, timeout: float = 10.0) -> list[Recorded]:
        """Block until `count` calls to `api_method` arrived (for servers that answer before processing)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.calls(api_method)
            if len(found) >= count:
                return found
            time.sleep(0.02)
        raise AssertionError(f"expected {count} {api_method} call(s), got {len(self.calls(api_method))}")

    # --- canned answers -----------------------------------------------------------------------

    def answer(self, record: Recorded) -> tuple[int, Any]:
        """Status and JSON body for a request."""
        with self._lock:
            self.requests.append(record)
        if record.path == "/v2/bot/message/reply":
            sent = [{"id": str(500 + i), "quoteToken": f"q{i}"} for i, _ in enumerate(record.body["messages"])]
            return 200, {"sentMessages": sent}
        if "/bot" in record.path:
            return 200, {"ok": True, "result": self._telegram(record.api_method, record.body)}
        return 404, {"message": "Not found"}

    def _telegram(self, method: str, body: dict[str, Any]) -> Any:
        if method == "getMe":
            return TELEGRAM_BOT
        if method == "sendMessage":
            with self._lock:
                self._message_id += 1
                message_id = self._message_id
            chat = {"id": int(body["chat_id"]), "type": "private", "first_name": "Citizen"}
            return {"message_id": message_id, "date": int(time.time()), "chat": chat, "text": body["text"]}
        if method == "getUpdates":
            offset = int(body.get("offset") or 0)
            with self._lock:
                pending = [u for u in self.updates if u["update_id"] >= offset]
                self.updates = []
            if not pending:
                time.sleep(0.05)  # a long poll that found nothing, kept short
            return pending
        return True  # answerCallbackQuery, setWebhook, deleteWebhook, close…


def _handler(recorder: Recorder) -> Callable[..., BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            self._record()

        def do_GET(self) -> None:  # noqa: N802
            self._record()

        def _record(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            kind = self.headers.get("Content-Type", "")
            body: Any
            if kind.startswith("application/json"):
                body = json.loads(raw or b"null")
            elif kind.startswith("application/x-www-form-urlencoded"):
                body = dict(parse_qsl(raw.decode()))
            else:
                body = raw.decode(errors="replace") or {}
            path = urlsplit(self.path).path
            status, answer = recorder.answer(Recorded(self.command, path, dict(self.headers.items()), body))
            data = json.dumps(answer).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):  # a long poll cancelled at shutdown
                pass

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

    return Handler
