"""Benchmarks for the editors' loop: clustering 10,000 unanswered questions, and how soon a change made in one
process is answered by another (a second bootstrapped process polling its live content).

Usage: .venv/bin/python scripts/bench_clusters.py [--n 10000] [--runs 3] [--skip-visibility]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.domain.records import UnansweredQuestion  # noqa: E402
from bot.services.clustering import cluster_questions, kb_features  # noqa: E402
from bot.services.kb_files import load_kb  # noqa: E402

QUESTION = "分署幾點開門"
FILLERS = ["請問", "想問一下", "我想知道", "", "", "麻煩告訴我", "急！", "拜託"]
ENDINGS = ["", "嗎", "呢", "？", "啊", " thanks", "…"]


def synthetic_questions(n: int, seed: int = 7) -> list[UnansweredQuestion]:
    """Questions built from the knowledge base's variants, lightly reworded, with noise questions mixed in."""
    kb = load_kb(ROOT / "faq").kb
    rnd = random.Random(seed)
    pool = [(e.id, v) for e in kb.entries for v in e.variants]
    pool += [(f"__oos__:{c.category}", x) for c in kb.out_of_scope for x in c.examples]
    agencies = [a.code for a in kb.agencies] + [None, None]
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    out = []
    for i in range(n):
        target, text = rnd.choice(pool)
        if rnd.random() < 0.15:  # some pure noise: random characters from the pool's texts
            chars = "".join(rnd.choice(pool)[1] for _ in range(2))
            text = "".join(rnd.sample(chars, k=min(len(chars), rnd.randint(4, 16))))
        else:
            text = rnd.choice(FILLERS) + text + rnd.choice(ENDINGS)
        candidates = ({"faq_id": target, "score": round(rnd.uniform(0.2, 0.6), 4)},)
        out.append(
            UnansweredQuestion(
                masked_text=text,
                channel=rnd.choice(["web", "line", "telegram", "cli"]),
                agency=rnd.choice(agencies),
                reason="low_confidence",
                candidates=candidates,
                created_at=start + dt.timedelta(minutes=i),
                id=i + 1,
            )
        )
    return out


def bench_clustering(n: int, runs: int) -> dict[str, object]:
    """Seconds to cluster `n` questions (tokenising included), median of `runs`."""
    kb = load_kb(ROOT / "faq").kb
    features = kb_features(kb)
    questions = synthetic_questions(n)
    known = {e.id for e in kb.entries}
    times, clusters = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        found = cluster_questions(questions, features, known_entries=known)
        times.append(time.perf_counter() - started)
        clusters = len(found)
    return {"questions": n, "clusters": clusters, "median_s": round(statistics.median(times), 3), "runs": times}


WATCHER = """
import sys, time
from bot.bootstrap import bootstrap
from bot.config import Settings
app = bootstrap(Settings(database_url=sys.argv[1], data_dir=sys.argv[2]))
print("ready", flush=True)
while True:
    result, _ = app.live.answers().answer(sys.argv[3])
    if result.faq_id == "desk-opening-hours":
        print(f"seen {time.time():.6f}", flush=True)
        break
    time.sleep(0.01)
"""


def bench_visibility(shared_cache: bool) -> float:
    """Wall time from the commit of an attach in this process to a second process answering with it."""
    from bot.adapters.sql import migrate
    from bot.bootstrap import bootstrap, sql_uow_factory
    from bot.config import Settings
    from bot.services.kb_sync import load_folder_into_store
    from bot.services.resolution import ResolutionService

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/civicbot.db"
        data = Path(tmp) / "data"
        settings = Settings(database_url=url, data_dir=data)
        engine, factory = sql_uow_factory(settings)
        migrate.upgrade(engine)
        load_folder_into_store(ROOT / "faq", factory)
        editor = bootstrap(settings)
        watcher_data = data if shared_cache else Path(tmp) / "other-data"
        proc = subprocess.Popen(
            [sys.executable, "-c", WATCHER, url, str(watcher_data), QUESTION],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        editor.answers.ask(QUESTION, channel="web")
        with factory() as uow:
            (logged,) = uow.unanswered.list()
        assert editor.live is not None
        service = ResolutionService(factory, prepare=editor.live.prepare)  # index cached in the folder and the database
        service.attach(logged.id or 0, "desk-opening-hours", "bench")
        committed = time.time()
        seen = float(proc.stdout.readline().split()[1])
        proc.wait(timeout=30)
    return seen - committed


def visibility_runs(shared_cache: bool, runs: int) -> dict[str, object]:
    """Median and worst delay over `runs` fresh editor/watcher pairs."""
    delays = [bench_visibility(shared_cache) for _ in range(runs)]
    return {
        "data_folder": "shared (index cache)" if shared_cache else "separate (index from the database)",
        "median_s": round(statistics.median(delays), 3),
        "max_s": round(max(delays), 3),
        "runs": [round(d, 3) for d in delays],
    }


def main() -> int:
    """Run the benchmarks and print one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-visibility", action="store_true")
    parser.add_argument("--visibility-runs", type=int, default=5)
    args = parser.parse_args()
    result: dict[str, object] = {"clustering": bench_clustering(args.n, args.runs)}
    if not args.skip_visibility:
        result["visibility"] = [visibility_runs(shared, args.visibility_runs) for shared in (True, False)]
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
