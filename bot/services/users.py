"""Admin-console accounts: argon2 password hashes, roles, rate-limited sign-in, and the admin audit log."""

from __future__ import annotations

import builtins
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

ROLES = ("staff", "editor", "admin")  # each role may do everything the ones before it may
USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
MIN_PASSWORD_CHARS = 10
MAX_FAILURES = 5  # failed sign-ins per username + client address within FAILURE_WINDOW
FAILURE_WINDOW = dt.timedelta(minutes=15)


class UserError(ValueError):
    """The account change cannot be made (message safe to show)."""


class TooManyAttempts(Exception):
    """Sign-in refused: too many recent failures for this username from this address."""


@dataclass(frozen=True)
class User:
    """An admin-console account (the hash never leaves the service)."""

    username: str
    role: str
    created_at: dt.datetime
    disabled: bool = False

    def can(self, role: str) -> bool:
        """True when this account's role includes `role`."""
        return not self.disabled and ROLES.index(self.role) >= ROLES.index(role)


@dataclass(frozen=True)
class AuditEvent:
    """One recorded admin action."""

    username: str
    action: str
    created_at: dt.datetime
    client: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


class UserStore(Protocol):
    """Storage for accounts and the admin audit log (each call is its own transaction)."""

    def get(self, username: str) -> tuple[User, str] | None:
        """The account and its password hash, or None."""
        ...

    def add(self, user: User, password_hash: str) -> None:
        """Store a new account; raises UserError when the username is taken."""
        ...

    def update(self, username: str, *, password_hash: str | None = None, disabled: bool | None = None) -> bool:
        """Change an account; False when there is none."""
        ...

    def list(self) -> list[User]:
        """Every account, by username."""
        ...

    def audit(self, event: AuditEvent) -> None:
        """Append one audit event."""
        ...

    def count(self, username: str, action: str, client: str | None, since: dt.datetime) -> int:
        """Audit events of `action` for this username and client since `since`."""
        ...

    def recent(self, limit: int = 100) -> builtins.list[AuditEvent]:
        """The newest audit events."""
        ...


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UserService:
    """Create accounts and check sign-ins; failures are audited and rate-limited per username and address."""

    def __init__(self, store: UserStore, clock: Callable[[], dt.datetime] = _utcnow) -> None:
        self.store = store
        self.clock = clock
        self.hasher = PasswordHasher()

    def add(self, username: str, password: str, role: str, *, by: str = "cli") -> User:
        """Create an account with an argon2id hash of `password`."""
        username = username.strip().lower()
        if not USERNAME.fullmatch(username):
            raise UserError("使用者名稱須為 2–64 個小寫英數字或 . _ - / username: 2-64 of a-z 0-9 . _ -")
        if role not in ROLES:
            raise UserError(f"角色須為 / role must be one of: {', '.join(ROLES)}")
        if len(password) < MIN_PASSWORD_CHARS:
            raise UserError(f"密碼至少 {MIN_PASSWORD_CHARS} 個字元 / password: {MIN_PASSWORD_CHARS}+ characters")
        user = User(username, role, self.clock())
        self.store.add(user, self.hasher.hash(password))
        self.audit(by, "user_add", details={"user": username, "role": role})
        return user

    def set_disabled(self, username: str, disabled: bool, *, by: str) -> None:
        """Disable (or re-enable) an account; a disabled account's sessions stop working at once."""
        if not self.store.update(username, disabled=disabled):
            raise UserError(f"no user {username!r}")
        self.audit(by, "user_disable" if disabled else "user_enable", details={"user": username})

    def get(self, username: str) -> User | None:
        """The account, or None."""
        found = self.store.get(username)
        return found[0] if found else None

    def list(self) -> list[User]:
        """Every account."""
        return self.store.list()

    def authenticate(self, username: str, password: str, client: str | None) -> User | None:
        """The account when the password is right and it is enabled; raises TooManyAttempts when locked out."""
        username = username.strip().lower()[:64]
        now = self.clock()
        if self.store.count(username, "login_failed", client, now - FAILURE_WINDOW) >= MAX_FAILURES:
            self.audit(username, "login_locked", client)
            raise TooManyAttempts(username)
        found = self.store.get(username)
        ok = False
        if found is not None:
            user, stored = found
            try:
                ok = self.hasher.verify(stored, password) and not user.disabled
            except (VerificationError, InvalidHashError):
                ok = False
            if ok and self.hasher.check_needs_rehash(stored):
                self.store.update(username, password_hash=self.hasher.hash(password))
        else:
            self.hasher.hash(password)  # about the same time as a wrong password: usernames are not revealed
        self.audit(username, "login" if ok else "login_failed", client)
        return found[0] if ok and found is not None else None

    def audit(
        self, username: str, action: str, client: str | None = None, details: dict[str, Any] | None = None
    ) -> None:
        """Record one admin action."""
        self.store.audit(AuditEvent(username, action, self.clock(), client, details or {}))
