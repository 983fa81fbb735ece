"""SQL storage of admin-console accounts and the admin audit log."""

from __future__ import annotations

import builtins
import datetime as dt

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.adapters.sql.orm import AdminAuditRow, UserRow
from bot.services.users import AuditEvent, User, UserError


def _user(row: UserRow) -> User:
    return User(row.username, row.role, row.created_at, row.disabled)


class SqlUserStore:
    """`UserStore` over the shared database; every method commits its own short transaction."""

    def __init__(self, engine: Engine) -> None:
        self._sessions: sessionmaker[Session] = sessionmaker(engine, expire_on_commit=False)

    def get(self, username: str) -> tuple[User, str] | None:
        with self._sessions() as s:
            row = s.scalars(select(UserRow).where(UserRow.username == username)).first()
            return (_user(row), row.password_hash) if row is not None else None

    def add(self, user: User, password_hash: str) -> None:
        with self._sessions() as s:
            s.add(
                UserRow(
                    username=user.username,
                    password_hash=password_hash,
                    role=user.role,
                    created_at=user.created_at,
                    disabled=user.disabled,
                )
            )
            try:
                s.commit()
            except IntegrityError:
                raise UserError(f"使用者已存在 / user {user.username!r} exists") from None

    def update(self, username: str, *, password_hash: str | None = None, disabled: bool | None = None) -> bool:
        with self._sessions() as s:
            row = s.scalars(select(UserRow).where(UserRow.username == username)).first()
            if row is None:
                return False
            if password_hash is not None:
                row.password_hash = password_hash
            if disabled is not None:
                row.disabled = disabled
            s.commit()
            return True

    def list(self) -> builtins.list[User]:
        with self._sessions() as s:
            return [_user(r) for r in s.scalars(select(UserRow).order_by(UserRow.username))]

    def audit(self, event: AuditEvent) -> None:
        with self._sessions() as s:
            s.add(
                AdminAuditRow(
                    created_at=event.created_at,
                    username=event.username[:64],
                    action=event.action,
                    client=(event.client or None) and event.client[:64],
                    details=event.details,
                )
            )
            s.commit()

    def count(self, username: str, action: str, client: str | None, since: dt.datetime) -> int:
        query = (
            select(func.count())
            .select_from(AdminAuditRow)
            .where(
                AdminAuditRow.username == username, AdminAuditRow.action == action, AdminAuditRow.created_at >= since
            )
        )
        query = query.where(AdminAuditRow.client.is_(None) if client is None else AdminAuditRow.client == client)
        with self._sessions() as s:
            return int(s.scalar(query) or 0)

    def recent(self, limit: int = 100) -> builtins.list[AuditEvent]:
        with self._sessions() as s:
            rows = s.scalars(select(AdminAuditRow).order_by(AdminAuditRow.id.desc()).limit(limit))
            return [AuditEvent(r.username, r.action, r.created_at, r.client, r.details) for r in rows]
