"""The `civicbot` command line: ask, chat, eval, faq, unanswered, agencies, cases, users, report, db, rasa."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from bot.bootstrap import App
    from bot.dialogue.messages import Reply
    from bot.domain.results import AnswerResult


def _out(obj: dict[str, Any], stream: TextIO | None = None) -> None:
    """One JSON object on one line."""
    print(json.dumps(obj, ensure_ascii=False, separators=(",", ":")), file=stream or sys.stdout, flush=True)


def _app() -> App:
    from bot.bootstrap import bootstrap

    return bootstrap()


def _read_stdin_text() -> str:
    """Standard input as UTF-8, with a clear error for other encodings."""
    data = sys.stdin.buffer.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"標準輸入不是 UTF-8 文字 / standard input is not valid UTF-8 (byte {exc.start})") from exc


class UsageError(Exception):
    """A user-facing error; printed without a traceback, exit status 2."""


def render(result: AnswerResult) -> str:
    """Human-readable form of a result for the terminal."""
    en = result.language == "en"
    lines: list[str] = []
    if result.fallback:
        lines.append(result.message or "")
        if result.alternatives:
            lines.append("Did you mean:" if en else "您是不是想問：")
            lines.extend(f"  - {a.question}  ({a.faq_id})" for a in result.alternatives)
        return "\n".join(lines)
    lines.append(result.answer or "")
    for source in result.sources:
        label = "Source" if en else "資料來源"
        lines.append(
            f"{label}：{source.document}，{source.section}"
            if not en
            else f"{label}: {source.document}, {source.section}"
        )
    lines.append(f"({'confidence' if en else '信心'} {result.score:.2f} · {result.faq_id})")
    if result.alternatives:
        lines.append("Related questions:" if en else "相關問題：")
        lines.extend(f"  - {a.question}" for a in result.alternatives)
    return "\n".join(lines)


def cmd_ask(args: argparse.Namespace) -> int:
    from bot.services.answering import InputError

    text = _read_stdin_text() if args.text == "-" else args.text
    app = _app()
    try:
        result = app.answers.ask(text, agency=args.agency, channel="cli")
    except InputError as exc:
        if args.json:
            _out({"question": text[:200], "error": str(exc), "answer": None, "fallback": True})
        else:
            print(str(exc), file=sys.stderr)
        return 1
    if args.json:
        _out(result.to_dict())
    else:
        print(render(result))
    return 0


def render_reply(reply: Reply) -> str:
    """Human-readable form of a dialogue reply for the terminal; choices are numbered."""
    en = reply.language == "en"
    lines = [reply.text]
    for source in reply.sources:
        lines.append(
            f"Source: {source.document}, {source.section}" if en else f"資料來源：{source.document}，{source.section}"
        )
    if reply.quick_replies:
        lines.append("Reply with a number:" if en else "請輸入編號選擇：")
        lines.extend(f"  {i}. {q.label}" for i, q in enumerate(reply.quick_replies, 1))
    return "\n".join(lines)


def cmd_chat(args: argparse.Namespace) -> int:
    import secrets

    from bot.dialogue.messages import Inbound
    from bot.services.answering import InputError

    app = _app()
    assert app.dialogue is not None
    interactive = sys.stdin.isatty()
    if interactive:
        print("civicbot — 請輸入問題（輸入 exit 離開） / type a question (exit to quit)")
    user = f"terminal-{secrets.token_hex(8)}"  # a new conversation per chat session
    choices: list[str] = []
    while True:
        if interactive:
            print("> ", end="", flush=True)
        raw = sys.stdin.buffer.readline()
        if not raw:
            return 0
        try:
            line = raw.decode("utf-8").strip()
        except UnicodeDecodeError:
            print("無法讀取這一行（不是 UTF-8 文字）。 That line is not valid UTF-8 text.")
            continue
        if line.lower() in {"exit", "quit", "離開", "結束"}:
            return 0
        if not line:
            continue
        picked = choices[int(line) - 1] if line.isdigit() and 0 < int(line) <= len(choices) else None
        inbound = Inbound("cli", user, text=None if picked else line, payload=picked, agency=args.agency)
        try:
            reply = app.dialogue.handle(inbound)
        except InputError as exc:
            print(str(exc))
            continue
        choices = [q.payload for q in reply.quick_replies]
        print(render_reply(reply))
        print()


def cmd_eval(args: argparse.Namespace) -> int:
    from bot.services import evaluation

    app = _app()
    lines: list[str] = []
    for name in args.files:
        path = Path(name)
        files = sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
        for file in files:
            try:
                lines.extend(file.read_text(encoding="utf-8").splitlines())
            except (OSError, UnicodeDecodeError) as exc:
                raise UsageError(f"cannot read {file}: {exc}") from exc
    report = evaluation.EvalReport()
    for number, obj, error in evaluation.read_jsonl(lines):
        if obj is None:
            if not args.report:
                _out({"line": number, "error": error})
            continue
        result = evaluation.answer_line(app.answers, obj)
        if args.report:
            if "faq_id" in obj:
                evaluation.score(report, obj, result)
        else:
            _out(result)
    if args.report:
        rates = report.rates()
        if args.json:
            _out({**rates, "in_scope": report.in_scope, "out_of_scope": report.out_of_scope, "errors": report.errors})
        else:
            print(f"questions: {report.in_scope} in scope, {report.out_of_scope} out of scope")
            for key, label in (
                ("top1", "top-1 FAQ accuracy"),
                ("topic_accuracy", "topic accuracy"),
                ("oos_recall", "out-of-scope recall"),
                ("false_fallback", "in-scope false-fallback rate"),
            ):
                target = evaluation.TARGETS[key]
                sign = "<=" if key == "false_fallback" else ">="
                print(f"{label:30s} {rates[key] * 100:6.1f} %   (target {sign} {target * 100:.0f} %)")
            if args.verbose:
                for err in report.errors:
                    print(f"  [{err['kind']}] {err['q']}  expected={err['expected']} got={err['got']}")
        return 0 if report.meets_targets() or not args.strict else 1
    return 0


def cmd_faq(args: argparse.Namespace) -> int:
    from bot.config import Settings
    from bot.services.kb_sync import InvalidKnowledgeBase, load_folder_into_store, read_and_check

    settings = Settings()
    folder = Path(args.dir) if getattr(args, "dir", None) else settings.faq_dir
    if args.faq_command == "validate":
        loaded, problems = read_and_check(folder)
        for p in problems:
            print(p)
        if problems:
            print(f"FAILED: {len(problems)} problem(s)", file=sys.stderr)
            return 1
        print(f"OK: {len(loaded.kb.entries)} entries valid")
        return 0
    if args.faq_command == "load":
        from bot.adapters.sql import migrate
        from bot.bootstrap import sql_uow_factory

        engine, uow_factory = sql_uow_factory(settings)
        if settings.embedded:
            migrate.upgrade(engine)
        try:
            report = load_folder_into_store(folder, uow_factory)
        except InvalidKnowledgeBase as exc:
            for p in exc.problems:
                print(p)
            print(f"not loaded: {len(exc.problems)} problem(s)", file=sys.stderr)
            return 1
        print(
            f"added {len(report.added)}, changed {len(report.changed)}, retired {len(report.retired)},"
            f" unchanged {report.unchanged}"
        )
        for label, ids in (("added", report.added), ("changed", report.changed), ("retired", report.retired)):
            for entry_id in ids:
                print(f"  {label}: {entry_id}")
        return 0
    # stats
    from bot.services.kb_files import load_kb

    kb = load_kb(folder).kb
    topics: dict[str, int] = {}
    agencies: dict[str, int] = {}
    for entry in kb.entries:
        topics[entry.topic] = topics.get(entry.topic, 0) + 1
        for code in entry.agencies:
            agencies[code] = agencies.get(code, 0) + 1
    variants = sum(len(e.variants) for e in kb.entries)
    stats: dict[str, Any] = {
        "entries": len(kb.entries),
        "variants": variants,
        "topics": dict(sorted(topics.items())),
        "agencies": dict(sorted(agencies.items())),
        "out_of_scope_examples": sum(len(c.examples) for c in kb.out_of_scope),
    }
    if args.json:
        _out(stats)
    else:
        print(
            f"entries {stats['entries']}, variants {variants}, out-of-scope examples {stats['out_of_scope_examples']}"
        )
        print("by topic:  " + ", ".join(f"{k} {v}" for k, v in stats["topics"].items()))
        print("by agency: " + ", ".join(f"{k} {v}" for k, v in stats["agencies"].items()))
    return 0


def cmd_unanswered(args: argparse.Namespace) -> int:
    app = _app()
    with app.uow_factory() as uow:
        rows = uow.unanswered.list(limit=args.limit, status=None if args.all else "open")
    for q in rows:
        obj = {
            "id": q.id,
            "question": q.masked_text,
            "channel": q.channel,
            "agency": q.agency,
            "reason": q.reason,
            "status": q.status,
            "resolution": q.resolution,
            "created_at": q.created_at.isoformat(),
            "candidates": list(q.candidates),
        }
        if args.json:
            _out(obj)
        else:
            top = ", ".join(f"{c['faq_id']} {c['score']:.2f}" for c in q.candidates[:3])
            where = f"[{q.channel}/{q.agency or '-'}]"
            print(f"#{q.id} {q.created_at:%Y-%m-%d %H:%M} {where} {q.reason}: {q.masked_text}  ({top})")
    if not rows and not args.json:
        print("(no unanswered questions)")
    return 0


def cmd_agencies(args: argparse.Namespace) -> int:
    from bot.config import Settings
    from bot.services.kb_files import load_agencies

    for a in load_agencies(Settings().faq_dir):
        if args.json:
            _out({"code": a.code, "name_zh": a.name_zh, "name_en": a.name_en, "documents": list(a.documents)})
        else:
            print(f"{a.code:14s} {a.name_zh}  ({a.name_en})")
    return 0


# The standard asyncio loop, not uvloop: under load uvloop served two of the keep-alive connections in turn in one
# slot, doubling their latency (16 connections: p99 121-142 ms with uvloop, 81-90 ms with asyncio, same throughput).
EVENT_LOOP = "asyncio"


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from bot.entrypoints.web import create_app, freeze_startup_heap

    if args.engine is not None:  # through the environment, so --workers processes get the same engine
        os.environ["CIVICBOT_ENGINE"] = args.engine
    if args.rasa_url is not None:
        os.environ["CIVICBOT_RASA_URL"] = args.rasa_url
    app = _app()  # migrates, loads the bundled FAQ and warms the index cache once, before any worker starts
    host = "localhost" if args.host in ("127.0.0.1", "0.0.0.0", "::") else args.host
    print(f"civicbot is serving on http://{args.host}:{args.port}", flush=True)
    print(f"  demo page (chat widget): http://{host}:{args.port}/", flush=True)
    print(f"  API docs:                http://{host}:{args.port}/docs", flush=True)
    if app.settings.engine == "rasa":
        print(f"  conversations by Rasa:   {app.settings.rasa_url}", flush=True)
    if args.workers > 1:
        uvicorn.run(
            "bot.entrypoints.web:create_app_from_env",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            log_level=args.log_level,
            loop=EVENT_LOOP,
        )
    else:
        api = create_app(app)
        freeze_startup_heap()
        uvicorn.run(api, host=args.host, port=args.port, log_level=args.log_level, loop=EVENT_LOOP)
    return 0


def cmd_telegram(args: argparse.Namespace) -> int:
    from bot.channels import telegram
    from bot.config import Settings

    settings = Settings()
    if not settings.telegram_bot_token:
        raise UsageError("請設定 TELEGRAM_BOT_TOKEN / set TELEGRAM_BOT_TOKEN to the token from @BotFather")
    if args.set_webhook:
        if not settings.telegram_webhook_secret:
            raise UsageError("請設定 TELEGRAM_WEBHOOK_SECRET / set TELEGRAM_WEBHOOK_SECRET first")
        telegram.set_webhook(settings, args.set_webhook)
        print(f"webhook set: {args.set_webhook}")
        return 0
    print("civicbot is polling Telegram (Ctrl-C to stop)", flush=True)
    telegram.run_polling(_app())
    return 0


def cmd_db(args: argparse.Namespace) -> int:
    from bot.adapters.sql import migrate
    from bot.bootstrap import sql_uow_factory
    from bot.config import Settings

    engine, _ = sql_uow_factory(Settings())
    if args.db_command == "upgrade":
        migrate.upgrade(engine)
    print(f"database at revision {migrate.current_revision(engine)} (head {migrate.head_revision(engine)})")
    return 0


def cmd_rasa(args: argparse.Namespace) -> int:
    from bot.adapters.rasa_export import build_export
    from bot.config import Settings
    from bot.services.kb_sync import read_and_check

    folder = Path(args.faq) if args.faq else Settings().faq_dir
    loaded, problems = read_and_check(folder)
    if problems:
        for problem in problems:
            print(problem, file=sys.stderr)
        raise UsageError(f"{folder}: {len(problems)} problem(s) in the knowledge base; nothing exported")
    export = build_export(loaded.kb)
    for path in export.write(Path(args.out)):
        print(f"wrote {path}")
    print(
        f"{export.intents} FAQ retrieval intents, {export.examples} examples ({export.skipped} skipped),"
        f" {export.words} domain words"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (kept separate so tests can inspect it)."""
    p = argparse.ArgumentParser(prog="civicbot", description="Grounded FAQ assistant for Taiwanese agencies.")
    sub = p.add_subparsers(dest="command", required=True)

    ask = sub.add_parser("ask", help="answer one question ('-' reads standard input)")
    ask.add_argument("text")
    ask.add_argument("--agency", help="agency code (see `civicbot agencies`)")
    ask.add_argument("--json", action="store_true", help="print one JSON object")
    ask.set_defaults(func=cmd_ask)

    chat = sub.add_parser("chat", help="interactive chat in the terminal")
    chat.add_argument("--agency")
    chat.set_defaults(func=cmd_chat)

    ev = sub.add_parser("eval", help="answer every line of JSONL files ({'q': ...}); a folder means its *.jsonl")
    ev.add_argument("files", nargs="+")
    ev.add_argument("--report", action="store_true", help="print accuracy figures instead of results")
    ev.add_argument("--json", action="store_true", help="with --report: figures as JSON")
    ev.add_argument("--strict", action="store_true", help="with --report: exit 1 when a target is missed")
    ev.add_argument("-v", "--verbose", action="store_true", help="with --report: list the misses")
    ev.set_defaults(func=cmd_eval)

    faq = sub.add_parser("faq", help="knowledge-base content")
    faq_sub = faq.add_subparsers(dest="faq_command", required=True)
    for name, text in (
        ("validate", "check the YAML files"),
        ("load", "sync files into the database"),
        ("stats", "counts"),
    ):
        sp = faq_sub.add_parser(name, help=text)
        sp.add_argument("dir", nargs="?", help="knowledge-base folder (default: the bundled faq/)")
        sp.add_argument("--json", action="store_true")
        sp.set_defaults(func=cmd_faq)
    from bot.entrypoints import cli_editorial

    cli_editorial.add_faq_commands(faq_sub)

    un = sub.add_parser("unanswered", help="the unanswered-question log")
    un_sub = un.add_subparsers(dest="unanswered_command", required=True)
    ul = un_sub.add_parser("list", help="newest first")
    ul.add_argument("--json", action="store_true")
    ul.add_argument("--limit", type=int, default=100)
    ul.add_argument("--all", action="store_true", help="include resolved questions")
    ul.set_defaults(func=cmd_unanswered)
    cli_editorial.add_unanswered_commands(un_sub)

    ag = sub.add_parser("agencies", help="list agency codes")
    ag.add_argument("--json", action="store_true")
    ag.set_defaults(func=cmd_agencies)

    sv = sub.add_parser("serve", help="run the web server: chat API, widget demo page, LINE/Telegram webhooks")
    sv.add_argument("--host", default="127.0.0.1")
    sv.add_argument("--port", type=int, default=8000)
    sv.add_argument("--workers", type=int, default=1, help="worker processes (share state through the database)")
    sv.add_argument("--log-level", default="warning", choices=["critical", "error", "warning", "info", "debug"])
    sv.add_argument("--engine", choices=["native", "rasa"], help="who runs the conversation (default: native)")
    sv.add_argument("--rasa-url", metavar="URL", help="with --engine rasa: the Rasa server, e.g. http://127.0.0.1:5005")
    sv.set_defaults(func=cmd_serve)

    tg = sub.add_parser("telegram", help="answer on Telegram by long polling (no public URL needed)")
    tg.add_argument("--set-webhook", metavar="URL", help="instead, register URL (…/telegram/webhook) and exit")
    tg.set_defaults(func=cmd_telegram)

    rasa = sub.add_parser("rasa", help="the Rasa 3.6 path")
    rasa_sub = rasa.add_subparsers(dest="rasa_command", required=True)
    rx = rasa_sub.add_parser("export", help="generate Rasa training data and the jieba dictionary from faq/")
    rx.add_argument("--faq", help="knowledge-base folder (default: the bundled faq/)")
    rx.add_argument("--out", default=".", help="Rasa project root to write into (default: the current folder)")
    rx.set_defaults(func=cmd_rasa)

    from bot.entrypoints import cli_cases

    cli_cases.add_parser(sub)
    from bot.entrypoints import cli_users

    cli_users.add_parser(sub)
    from bot.entrypoints import cli_report

    cli_report.add_parser(sub)

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    for name in ("upgrade", "current"):
        db_sub.add_parser(name).set_defaults(func=cmd_db)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; user errors print a message (no traceback) and exit 2."""
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(encoding="utf-8", errors="replace")
    args = build_parser().parse_args(argv)
    from pydantic import ValidationError

    from bot.bootstrap import SetupError

    try:
        return int(args.func(args))
    except (UsageError, SetupError) as exc:
        print(f"civicbot: {exc}", file=sys.stderr)
        return 2
    except ValidationError as exc:  # settings refused at start-up (placeholder secrets outside dev…)
        for error in exc.errors():
            print(f"civicbot: configuration: {error['msg'].removeprefix('Value error, ')}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
