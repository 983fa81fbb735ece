"""The `civicbot users` commands: admin-console accounts."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any


def add_parser(sub: Any) -> None:
    """Register `users add` and `users list` on the top-level subparsers."""
    from bot.services.users import ROLES

    users = sub.add_parser("users", help="admin-console accounts (/admin)")
    users_sub = users.add_subparsers(dest="users_command", required=True)
    add = users_sub.add_parser("add", help="create an account (password from a prompt, or --password-stdin)")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=ROLES, help="staff: search + read-only; editor: content; admin")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.set_defaults(func=cmd_users_add)
    ls = users_sub.add_parser("list", help="every account")
    ls.set_defaults(func=cmd_users_list)


def _service() -> Any:
    from bot.adapters.sql.users import SqlUserStore
    from bot.bootstrap import ensure_ready, sql_uow_factory
    from bot.config import Settings
    from bot.services.users import UserService

    settings = Settings()
    engine, uow_factory = sql_uow_factory(settings)
    ensure_ready(settings, engine, uow_factory)
    return UserService(SqlUserStore(engine))


def _password(args: argparse.Namespace) -> str:
    from bot.entrypoints.cli import UsageError

    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise UsageError("沒有終端機可輸入密碼 / no terminal for the prompt: use --password-stdin")
    first = getpass.getpass("密碼 Password: ")
    if getpass.getpass("再輸入一次 Again: ") != first:
        raise UsageError("兩次密碼不同 / the passwords differ")
    return first


def cmd_users_add(args: argparse.Namespace) -> int:
    """Create an account with an argon2 password hash."""
    from bot.entrypoints.cli import UsageError
    from bot.services.users import UserError

    password = _password(args)
    try:
        user = _service().add(args.username, password, args.role, by="cli")
    except UserError as exc:
        raise UsageError(str(exc)) from None
    print(f"added {user.username} ({user.role})", flush=True)
    return 0


def cmd_users_list(args: argparse.Namespace) -> int:
    """Print every account."""
    for user in _service().list():
        state = "disabled" if user.disabled else "active"
        print(f"{user.username}\t{user.role}\t{state}\t{user.created_at:%Y-%m-%d}", flush=True)
    return 0
