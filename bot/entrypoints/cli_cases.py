"""The `civicbot cases` commands: import an agency's case export (CSV) into the store."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def add_parser(sub: Any) -> None:
    """Register `cases import` on the top-level subparsers."""
    cases = sub.add_parser("cases", help="case-progress lookup data")
    cases_sub = cases.add_subparsers(dest="cases_command", required=True)
    imp = cases_sub.add_parser(
        "import",
        help="import an agency's case export (CSV; columns in bot/services/case_import.py and the README)",
    )
    imp.add_argument("file", help="UTF-8 CSV file with a header row")
    imp.add_argument("--agency", help="agency code for every row (the file then needs no agency column)")
    imp.add_argument(
        "--replace",
        action="store_true",
        help="also delete the agency's stored cases missing from the file (refused if any row is rejected)",
    )
    imp.set_defaults(func=cmd_cases_import)


def cmd_cases_import(args: argparse.Namespace) -> int:
    """Validate the file, then upsert its cases; 0 when every row was imported, 1 when some were rejected."""
    from bot.adapters.sql import SCHEMA_HEAD, migrate
    from bot.bootstrap import SetupError, sql_uow_factory
    from bot.config import Settings
    from bot.core.verifier import CaseHasher
    from bot.entrypoints.cli import UsageError
    from bot.services.case_import import ImportFileError, import_cases, read_cases_csv

    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"無法讀取檔案 / cannot read {path}: {exc.strerror or exc}") from exc
    try:
        items, problems = read_cases_csv(data, args.agency)
    except ImportFileError as exc:
        raise UsageError(f"{path}: {exc}; nothing imported") from exc
    for problem in problems:
        print(f"rejected line {problem.line}: {problem.message}")
    if problems and args.replace:
        print(f"--replace: {len(problems)} rejected row(s), so nothing was imported", file=sys.stderr)
        return 1

    settings = Settings()
    engine, uow_factory = sql_uow_factory(settings)
    try:
        if settings.embedded:
            migrate.upgrade(engine)
        elif migrate.current_revision(engine) != SCHEMA_HEAD:
            raise SetupError("資料庫結構不是最新 / schema missing or out of date: run `civicbot db upgrade`")
        replace: tuple[str, ...] = ()
        if args.replace:
            replace = (args.agency,) if args.agency else tuple(sorted({i.case.agency for i in items}))
        report = import_cases(items, uow_factory, CaseHasher(settings.case_verifier_pepper), replace_agencies=replace)
    finally:
        engine.dispose()
    print(
        f"added {report.added}, updated {report.updated}, unchanged {report.unchanged},"
        f" removed {report.removed}, rejected {len(problems)}"
    )
    return 1 if problems else 0
