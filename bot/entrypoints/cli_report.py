"""The `civicbot report` command: the monthly service-quality report as HTML (and CSV, optionally PDF)."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

PDF_SECONDS = 120


def add_parser(sub: Any) -> None:
    """Register `report` on the top-level subparsers."""
    rp = sub.add_parser("report", help="monthly service-quality report: figures and charts (HTML, CSV, PDF)")
    rp.add_argument("--month", required=True, metavar="YYYY-MM", help="the calendar month (UTC days)")
    rp.add_argument("--agency", metavar="CODE", help="only this agency (see `civicbot agencies`)")
    rp.add_argument("--channel", help="only this channel (web, line, telegram, cli)")
    rp.add_argument("--out", metavar="FILE.html", help="the HTML report (default: civicbot-report-YYYY-MM[-CODE].html)")
    rp.add_argument("--csv", metavar="FILE.csv", help="also write the figures as CSV")
    rp.add_argument("--pdf", metavar="FILE.pdf", help="also print the report to PDF with headless Chromium")
    rp.set_defaults(func=cmd_report)


def chromium() -> str | None:
    """The Chromium to print with: $CIVICBOT_CHROMIUM when set, else chromium on the PATH or /usr/bin/chromium."""
    configured = os.environ.get("CIVICBOT_CHROMIUM")
    found = (
        [configured]
        if configured
        else [shutil.which("chromium"), shutil.which("chromium-browser"), "/usr/bin/chromium"]
    )
    return next((c for c in found if c and Path(c).is_file() and os.access(c, os.X_OK)), None)


def print_pdf(html_path: Path, pdf_path: Path, browser: str) -> None:
    """Print an HTML file to PDF with headless Chromium (A4 from the report's @page rule)."""
    command = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--no-first-run",
        "--no-pdf-header-footer",
        f"--print-to-pdf={pdf_path}",
        html_path.resolve().as_uri(),
    ]
    subprocess.run(command, check=True, capture_output=True, timeout=PDF_SECONDS)
    if not pdf_path.is_file() or pdf_path.stat().st_size == 0:
        raise RuntimeError("Chromium wrote no PDF")


def _write(path: Path, text: str) -> None:
    """Write through a temporary file beside it, so a failure leaves no half-written report."""
    from bot.entrypoints.cli import UsageError

    part = path.with_name(path.name + ".part")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        part.write_text(text, encoding="utf-8")
        part.replace(path)
    except OSError as exc:
        part.unlink(missing_ok=True)
        raise UsageError(f"無法寫入 / cannot write {path}: {exc.strerror or exc}") from None


def cmd_report(args: argparse.Namespace) -> int:
    """Compute the month's figures and write the report; bad input exits 2 before any file is written."""
    from bot.admin import report
    from bot.domain.period import Period, PeriodError
    from bot.entrypoints.cli import UsageError
    from bot.services.analytics import CHANNEL, UnknownAgency
    from bot.services.analytics_csv import to_csv

    try:
        period = Period.month(args.month)
    except PeriodError as exc:
        raise UsageError(str(exc)) from None
    if args.channel is not None and not CHANNEL.fullmatch(args.channel):
        raise UsageError(f"管道名稱不正確 / not a channel name: {args.channel[:20]!r}")
    browser = chromium() if args.pdf else None
    if args.pdf and browser is None:
        raise UsageError(
            "找不到 Chromium，無法輸出 PDF / --pdf needs Chromium (install `chromium` or set CIVICBOT_CHROMIUM)"
        )
    service = _service()
    try:
        figures = service.dashboard(period, args.agency, args.channel)
    except UnknownAgency as exc:
        raise UsageError(f"{exc} (see `civicbot agencies`)") from None
    document = report.document(figures, dt.datetime.now(dt.UTC))
    suffix = "".join(f"-{x}" for x in (args.agency, args.channel) if x)
    out = Path(args.out or f"civicbot-report-{period.slug}{suffix}.html")
    _write(out, document)
    print(f"wrote {out}", flush=True)
    if args.csv:
        _write(Path(args.csv), "\ufeff" + to_csv(figures))
        print(f"wrote {args.csv}", flush=True)
    if args.pdf and browser is not None:
        try:
            print_pdf(out, Path(args.pdf), browser)
        except (OSError, subprocess.SubprocessError, RuntimeError) as exc:
            raise UsageError(f"PDF 輸出失敗 / printing to PDF failed: {exc}") from None
        print(f"wrote {args.pdf}", flush=True)
    t = figures.totals
    rate = "—" if t.helpful_rate is None else f"{t.helpful_rate * 100:.1f}%"
    print(f"{period.label}: {t.questions} questions, {t.answered} answered, {t.fallback} fallback, helpful {rate}")
    return 0


def _service() -> Any:
    """The analytics service over the configured store (the embedded default is created on first use)."""
    from bot.adapters.sql.analytics import sql_analytics
    from bot.bootstrap import ensure_ready, sql_uow_factory
    from bot.config import Settings
    from bot.services.clustering import kb_features

    settings = Settings()
    engine, uow_factory = sql_uow_factory(settings)
    ensure_ready(settings, engine, uow_factory)
    with uow_factory() as uow:
        kb = uow.knowledge.get()
    return sql_analytics(engine, kb_features(kb))
