"""Benchmark of the analytics dashboard: seed 100,000 turns (with ratings and unanswered questions) into a
temporary SQLite database, then time the month's figures and the page's HTML (median and p90, not asserted).

Usage: .venv/bin/python scripts/bench_analytics.py [--turns 100000] [--runs 15] [--url postgresql://…] [--json FILE]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, insert, select  # noqa: E402

from bot.adapters.sql import migrate  # noqa: E402
from bot.adapters.sql.analytics import sql_analytics  # noqa: E402
from bot.adapters.sql.orm import FeedbackRow, TurnRow, UnansweredRow  # noqa: E402
from bot.admin import analytics_html  # noqa: E402
from bot.bootstrap import sql_uow_factory  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.domain.period import Period  # noqa: E402
from bot.services.clustering import kb_features  # noqa: E402
from bot.services.kb_files import load_kb  # noqa: E402
from bot.services.kb_sync import load_folder_into_store  # noqa: E402
from scripts.bench_clusters import synthetic_questions  # noqa: E402

MONTH = Period.month("2026-03")
CHANNELS = ["web"] * 5 + ["line"] * 3 + ["telegram", "cli"]
KINDS = ["answer"] * 70 + ["fallback"] * 12 + ["smalltalk"] * 10 + ["did_you_mean"] * 4 + ["choose_agency"] * 4
BATCH = 5000


def seed(engine: Engine, n: int, rnd: random.Random) -> dict[str, int]:
    """`n` turns in the month (every fallback logged as unanswered; a tenth of the answers rated)."""
    kb = load_kb(ROOT / "faq").kb
    entries = [e.id for e in kb.entries]
    agencies = [a.code for a in kb.agencies] + [None]
    texts = [q.masked_text for q in synthetic_questions(2000)]
    seconds = int((MONTH.end - MONTH.start).total_seconds())
    turns, ratings, unanswered = [], [], []
    for i in range(n):
        kind = rnd.choice(KINDS)
        at = MONTH.start + dt.timedelta(seconds=rnd.randrange(seconds))
        channel, agency = rnd.choice(CHANNELS), rnd.choice(agencies)
        faq = None if kind in ("fallback", "smalltalk") else rnd.choice(entries)
        text = rnd.choice(texts)
        turns.append(
            {
                "id": i + 1,
                "channel": channel,
                "session_key": f"s{i // 4}",
                "masked_text": text,
                "faq_id": faq,
                "topic": None,
                "agency": agency,
                "fallback": kind == "fallback",
                "score": 0.5,
                "created_at": at,
                "kind": kind,
            }
        )
        if kind == "fallback":
            unanswered.append(
                {
                    "masked_text": text,
                    "channel": channel,
                    "agency": agency,
                    "reason": "low_confidence",
                    "candidates": [],
                    "status": "open",
                    "created_at": at,
                }
            )
        elif kind == "answer" and rnd.random() < 0.1:
            ratings.append(
                {
                    "turn_id": i + 1,
                    "faq_id": faq,
                    "helpful": rnd.random() < 0.8,
                    "channel": channel,
                    "created_at": at + dt.timedelta(seconds=30),
                }
            )
    with engine.begin() as conn:
        for table, rows in ((TurnRow, turns), (FeedbackRow, ratings), (UnansweredRow, unanswered)):
            for start in range(0, len(rows), BATCH):
                conn.execute(insert(table), rows[start : start + BATCH])
    return {"turns": len(turns), "ratings": len(ratings), "unanswered": len(unanswered)}


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of the values lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def bench(url: str, data_dir: Path, n: int, runs: int) -> dict[str, object]:
    """Seed an empty database and time the month's dashboard `runs` times."""
    engine, uow_factory = sql_uow_factory(Settings(database_url=url, data_dir=data_dir))
    migrate.upgrade(engine)
    load_folder_into_store(ROOT / "faq", uow_factory)
    with engine.connect() as conn:
        if conn.execute(select(TurnRow.id).limit(1)).first() is not None:
            raise SystemExit(f"{url} already holds turns: give an empty database")
    started = time.perf_counter()
    counts = seed(engine, n, random.Random(11))
    seeded = time.perf_counter() - started
    if engine.dialect.name == "postgresql":  # the statistics autovacuum would have gathered by the next look
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    with uow_factory() as uow:
        kb = uow.knowledge.get()
    service = sql_analytics(engine, kb_features(kb))
    compute, render, cpu = [], [], []
    for _ in range(runs):
        c0, t0 = time.process_time(), time.perf_counter()
        figures = service.dashboard(MONTH)
        t1 = time.perf_counter()
        analytics_html.sections(figures)
        compute.append(t1 - t0)
        render.append(time.perf_counter() - t1)
        cpu.append(time.process_time() - c0)  # this process only (SQLite runs in it; PostgreSQL does not)
    engine.dispose()
    totals = [c + r for c, r in zip(compute, render, strict=True)]
    return {
        "database": url.split(":", 1)[0],
        **counts,
        "seed_s": round(seeded, 2),
        "questions_in_month": figures.totals.questions,
        "first_s": round(totals[0], 3),  # clustering features not cached yet
        "median_s": round(statistics.median(totals[1:] or totals), 3),
        "p90_s": round(percentile(totals[1:] or totals, 0.9), 3),
        "compute_median_s": round(statistics.median(compute[1:] or compute), 3),
        "render_median_s": round(statistics.median(render[1:] or render), 3),
        "cpu_median_s": round(statistics.median(cpu[1:] or cpu), 3),
        "runs": runs,
    }


def main() -> None:
    """Run the benchmark and print (and optionally save) the results as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--turns", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--url", help="an empty database to use instead of a temporary SQLite file")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.url or f"sqlite:///{tmp}/bench.db"
        result = bench(url, Path(tmp), args.turns, args.runs)
    print(json.dumps(result, ensure_ascii=False, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
