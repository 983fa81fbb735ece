"""The editors' commands: `unanswered clusters|resolve`, `faq export|history`."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.bootstrap import App
    from bot.services.resolution import ResolutionService


def _print_json(obj: Any) -> None:
    print(json.dumps(obj, ensure_ascii=False, separators=(",", ":")), flush=True)


def _editor(args: argparse.Namespace) -> str:
    """--editor, else $USER, else the login name."""
    if args.editor:
        return str(args.editor)
    try:
        return os.environ.get("USER") or getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def add_unanswered_commands(un_sub: Any) -> None:
    """Register `unanswered clusters` and `unanswered resolve`."""
    cl = un_sub.add_parser("clusters", help="open questions grouped by similarity, biggest first")
    cl.add_argument("--json", action="store_true", help="one JSON object per cluster")
    cl.add_argument("--limit", type=int, default=50)
    cl.set_defaults(func=cmd_clusters)

    rs = un_sub.add_parser("resolve", help="resolve a cluster (or a question's cluster) in one step")
    rs.add_argument("id", type=int, help="a question id from `unanswered list --json` or a cluster id")
    how = rs.add_mutually_exclusive_group(required=True)
    how.add_argument("--attach", metavar="FAQ_ID", help="add the questions as variants of this entry")
    how.add_argument("--new", action="store_true", help="draft a new entry pre-filled from the questions")
    how.add_argument("--dismiss", action="store_true", help="mark the questions out of scope")
    rs.add_argument("--only", action="store_true", help="just this question, not its whole cluster")
    rs.add_argument("--entry-id", help="with --new: the draft's id (default draft-<cluster id>)")
    rs.add_argument("--editor", help="who resolves (default: $USER)")
    rs.add_argument("--json", action="store_true")
    rs.set_defaults(func=cmd_resolve)


def add_faq_commands(faq_sub: Any) -> None:
    """Register `faq export` and `faq history`."""
    ex = faq_sub.add_parser("export", help="write the database's content to YAML files (stable order)")
    ex.add_argument("dir", help="folder to write (files already equal are left untouched)")
    ex.set_defaults(func=cmd_export)

    hi = faq_sub.add_parser("history", help="recorded content changes, newest first")
    hi.add_argument("entry_id", nargs="?", help="only this entry's changes")
    hi.add_argument("--json", action="store_true", help="one JSON object per change, with before/after")
    hi.add_argument("--limit", type=int, default=50)
    hi.set_defaults(func=cmd_history)


def _resolutions(app: App) -> ResolutionService:
    from bot.services.clustering import kb_features
    from bot.services.resolution import ResolutionService

    prepare = app.live.prepare if app.live is not None else None  # servers sharing the data folder load, not build
    return ResolutionService(app.uow_factory, kb_features(app.kb), prepare=prepare)


def cmd_clusters(args: argparse.Namespace) -> int:
    """Print the clusters of open unanswered questions."""
    from bot.entrypoints.cli import _app

    clusters = _resolutions(_app()).clusters(limit=args.limit)
    for c in clusters:
        if args.json:
            _print_json(c.to_dict())
            continue
        where = ", ".join(f"{k} {v}" for k, v in c.channels.items())
        agencies = ", ".join(f"{k} {v}" for k, v in c.agencies.items()) or "-"
        print(f"#{c.id} ×{c.count}  {c.representative}")
        print(f"    {c.first_seen:%Y-%m-%d %H:%M} – {c.last_seen:%Y-%m-%d %H:%M}  [{where}]  agencies: {agencies}")
        if c.suggestions:
            print("    suggested: " + ", ".join(f"{s.faq_id} {s.score:.2f}" for s in c.suggestions))
        for text in c.texts[1:4]:
            print(f"      · {text}")
    if not clusters and not args.json:
        print("(no open unanswered questions)")
    return 0


def cmd_resolve(args: argparse.Namespace) -> int:
    """Attach, draft or dismiss (the new index is built and cached before the change commits)."""
    from bot.entrypoints.cli import UsageError, _app
    from bot.services.editing import EditError

    app = _app()
    service = _resolutions(app)
    editor = _editor(args)
    try:
        if args.attach:
            done = service.attach(args.id, args.attach, editor, single=args.only)
        elif args.new:
            done = service.new(args.id, editor, entry_id=args.entry_id, single=args.only)
        else:
            done = service.dismiss(args.id, editor, single=args.only)
    except EditError as exc:
        raise UsageError(str(exc) + "".join(f"\n  {p}" for p in exc.problems)) from exc
    if args.json:
        _print_json(done.to_dict())
        return 0
    ids = ", ".join(f"#{i}" for i in done.question_ids)
    if done.action == "attach":
        print(f"attached {len(done.question_ids)} question(s) ({ids}) to {done.entry_id}")
        for text in done.added_variants:
            print(f"  + variant: {text}")
    elif done.action == "new":
        print(f"drafted {done.entry_id} from {len(done.question_ids)} question(s) ({ids}); write its answer and")
        print("source, then publish it (the draft is not answered with until published)")
    else:
        print(f"dismissed {len(done.question_ids)} question(s) as out of scope ({ids})")
    for text, why in done.skipped.items():
        print(f"  skipped: {text}  ({why})")
    return 0


def _store() -> Any:
    """The configured store, made ready (the embedded default creates and loads it on first use)."""
    from bot.bootstrap import ensure_ready, sql_uow_factory
    from bot.config import Settings

    settings = Settings()
    engine, uow_factory = sql_uow_factory(settings)
    ensure_ready(settings, engine, uow_factory)
    return uow_factory


def cmd_export(args: argparse.Namespace) -> int:
    """Write the stored knowledge base to DIR."""
    from bot.entrypoints.cli import UsageError
    from bot.services.kb_export import export_kb

    target = Path(args.dir)
    if target.exists() and not target.is_dir():
        raise UsageError(f"{target} is not a folder")
    with _store()() as uow:
        kb = uow.knowledge.get()
        files = uow.knowledge.files()
    report = export_kb(kb, files, target)
    print(f"wrote {len(report.written)}, unchanged {len(report.unchanged)}, removed {len(report.removed)}")
    for label, names in (("wrote", report.written), ("removed", report.removed)):
        for name in names:
            print(f"  {label}: {target / name}")
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    """Print recorded changes (who, when, what; before/after with --json)."""
    from bot.entrypoints.cli import UsageError

    with _store()() as uow:
        if args.entry_id and uow.knowledge.get().entry(args.entry_id) is None:
            raise UsageError(f"no FAQ entry {args.entry_id!r}")
        records = uow.history.list(args.entry_id, args.limit)
    for r in records:
        if args.json:
            _print_json(
                {
                    "id": r.id,
                    "at": r.created_at.isoformat(),
                    "editor": r.editor,
                    "action": r.action,
                    "entry_id": r.entry_id,
                    "content_version": r.content_version,
                    "details": r.details,
                    "before": r.before,
                    "after": r.after,
                }
            )
        else:
            what = _summary(r.before, r.after, r.details)
            print(f"{r.created_at:%Y-%m-%d %H:%M:%S} {r.editor:12s} {r.action:18s} {r.entry_id or '-':32s} {what}")
    if not records and not args.json:
        print("(no recorded changes)", file=sys.stderr)
    return 0


def _summary(before: dict[str, Any] | None, after: dict[str, Any] | None, details: dict[str, Any]) -> str:
    """A short human description of a change."""
    if before is None and after is not None:
        return f"created ({after.get('status')})"
    if before is not None and after is not None:
        changed = sorted(k for k in after if before.get(k) != after.get(k))
        return "changed " + ", ".join(changed) if changed else "no content change"
    if "question_ids" in details:
        return f"{len(details['question_ids'])} question(s)"
    return ""
