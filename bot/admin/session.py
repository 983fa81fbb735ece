"""Signed session cookies (HMAC-SHA256 over settings.secret_key) carrying the username and a CSRF token."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

COOKIE = "civicbot_admin"
MAX_AGE = 8 * 3600  # seconds a session lasts after sign-in


@dataclass(frozen=True)
class Session:
    """What the cookie holds: who (None before sign-in), the per-session CSRF token, when it was issued."""

    username: str | None
    csrf: str
    issued: int

    @classmethod
    def new(cls, username: str | None = None) -> Session:
        """A fresh session with a new CSRF token (a new one at sign-in, so a pre-login token is not reused)."""
        return cls(username, secrets.token_urlsafe(32), int(time.time()))

    def csrf_ok(self, token: str | None) -> bool:
        """True when the form's token is this session's."""
        return bool(token) and hmac.compare_digest(self.csrf.encode(), (token or "").encode())


class Signer:
    """Encodes sessions into cookie values and back, refusing anything tampered with or expired."""

    def __init__(self, secret: str, max_age: int = MAX_AGE) -> None:
        self._key = hashlib.sha256(b"civicbot-admin-session:" + secret.encode()).digest()
        self.max_age = max_age

    def dumps(self, session: Session) -> str:
        """The cookie value: base64url(JSON) + "." + base64url(HMAC)."""
        body = (
            base64.urlsafe_b64encode(
                json.dumps({"u": session.username, "c": session.csrf, "t": session.issued}).encode()
            )
            .decode()
            .rstrip("=")
        )
        return f"{body}.{self._sign(body)}"

    def loads(self, value: str | None, now: float | None = None) -> Session | None:
        """The session, or None when the value is missing, forged or expired."""
        if not value or value.count(".") != 1:
            return None
        body, mac = value.split(".")
        if not hmac.compare_digest(mac.encode(), self._sign(body).encode()):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
            session = Session(data["u"], str(data["c"]), int(data["t"]))
        except (ValueError, KeyError, TypeError):
            return None
        if (now if now is not None else time.time()) - session.issued > self.max_age:
            return None
        return session

    def _sign(self, body: str) -> str:
        digest = hmac.new(self._key, body.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")
