"""Rerunnable benchmarks for the matcher and the CLI; prints medians and percentiles, saves JSON."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bot.bootstrap import build_matcher
from bot.domain.model import KnowledgeBase
from bot.services.evaluation import read_jsonl
from bot.services.kb_files import load_kb

ROOT = Path(__file__).resolve().parents[1]


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def summary(values_ms: list[float]) -> dict[str, float]:
    """Median, p90, p99 and max in milliseconds."""
    return {
        "n": len(values_ms),
        "median_ms": round(statistics.median(values_ms), 3),
        "p90_ms": round(percentile(values_ms, 90), 3),
        "p99_ms": round(percentile(values_ms, 99), 3),
        "max_ms": round(max(values_ms), 3),
    }


def dev_questions() -> list[tuple[str, str | None]]:
    """All dev-set questions with their agency."""
    out = []
    for path in sorted((ROOT / "tests" / "data" / "dev").glob("*.jsonl")):
        for _n, obj, _e in read_jsonl(path.read_text(encoding="utf-8").splitlines()):
            if obj is not None:
                out.append((obj["q"], obj.get("agency")))
    return out


def synthetic_kb(kb: KnowledgeBase, size: int, seed: int = 7) -> KnowledgeBase:
    """A knowledge base of `size` entries: real entries recombined with words drawn from the real content."""
    rng = random.Random(seed)
    base = list(kb.published())
    vocab = sorted({w for e in base for v in e.variants for w in (v[i : i + 2] for i in range(0, len(v) - 1, 2))})
    entries = []
    for i in range(size):
        src = base[i % len(base)]
        extra = lambda: "".join(rng.sample(vocab, 2))  # noqa: E731
        entries.append(
            dataclasses.replace(
                src,
                id=f"{src.id}-syn{i}",
                question_zh=src.question_zh + extra(),
                variants=tuple(v + extra() for v in src.variants),
            )
        )
    return dataclasses.replace(kb, entries=tuple(entries))


def time_matching(kb: KnowledgeBase, questions: list[tuple[str, str | None]], rounds: int) -> dict[str, object]:
    """Build time and per-question latency for one knowledge base (wall clock, and CPU time of this process)."""
    builds, build_cpu = [], []
    matcher = None
    for _ in range(3):
        matcher = None  # one index alive at a time, as in a server that rebuilds
        start, cpu = time.perf_counter(), time.process_time()
        matcher = build_matcher(kb)
        builds.append((time.perf_counter() - start) * 1000)
        build_cpu.append((time.process_time() - cpu) * 1000)
    assert matcher is not None
    for q, agency in questions[:20]:  # warm-up
        matcher.match(q, agency=agency)
    latencies, cpu_latencies = [], []
    for _ in range(rounds):
        for q, agency in questions:
            start, cpu = time.perf_counter(), time.process_time()
            matcher.match(q, agency=agency)
            latencies.append((time.perf_counter() - start) * 1000)
            cpu_latencies.append((time.process_time() - cpu) * 1000)
    return {
        "entries": len(kb.published()),
        "texts": matcher.index.size,
        "build_ms_median": round(statistics.median(builds), 1),
        "build_cpu_ms_median": round(statistics.median(build_cpu), 1),
        "latency": summary(latencies),
        "latency_cpu": summary(cpu_latencies),
    }


def build_peak_rss(size: int) -> dict[str, object]:
    """Peak RSS of a fresh process that loads the knowledge base, makes `size` entries and builds their index once.

    A separate process, so the figure is what a server with that many entries needs, not what this
    benchmark has accumulated (the real-KB index, earlier builds, timing lists).
    """
    # VmHWM (not ru_maxrss, which a child inherits from its parent across fork) is this process's own peak.
    code = (
        "import sys; sys.path.insert(0, 'scripts')\n"
        "def hwm():\n"
        "    line = next(x for x in open('/proc/self/status') if x.startswith('VmHWM'))\n"
        "    return int(line.split()[1]) / 1024\n"
        "from bench import synthetic_kb\n"
        "from bot.bootstrap import build_matcher\n"
        "from bot.services.kb_files import load_kb\n"
        f"kb = synthetic_kb(load_kb('faq').kb, {size})\n"
        "before = hwm()\n"
        "build_matcher(kb)\n"
        "print(before, hwm())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    before, peak = (float(x) for x in out.stdout.split())
    return {"entries": size, "peak_rss_mb": round(peak, 1), "peak_rss_before_build_mb": round(before, 1)}


def cli_cold_start(runs: int) -> dict[str, object]:
    """Wall time and peak RSS of `civicbot ask` as separate processes (database already set up)."""
    exe = str(ROOT / ".venv" / "bin" / "civicbot")
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "CIVICBOT_DATA_DIR": tmp}
        env.pop("CIVICBOT_DATABASE_URL", None)
        first = _timed([exe, "ask", "可以刷卡繳嗎？"], env)
        times, rss = [], []
        for _ in range(runs):
            elapsed, peak = _timed([exe, "ask", "可以刷卡繳嗎？"], env)
            times.append(elapsed)
            rss.append(peak)
    return {
        "first_run_with_db_setup_ms": round(first[0], 1),
        "wall": summary(times),
        "peak_rss_mb_median": round(statistics.median(rss), 1),
        "peak_rss_mb_max": round(max(rss), 1),
    }


def _timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(proc.pid, 0)
    elapsed = (time.perf_counter() - start) * 1000
    if status != 0:
        raise SystemExit(f"{cmd} failed: {proc.stderr.read().decode() if proc.stderr else ''}")
    return elapsed, usage.ru_maxrss / 1024


def main() -> None:
    """Run every benchmark and report."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer rounds")
    ap.add_argument("--size", type=int, default=10_000)
    args = ap.parse_args()
    rounds = 2 if args.quick else 5
    # First, while this process is small: a forked child's max RSS starts from its parent's.
    cli = cli_cold_start(5 if args.quick else 10)
    kb = load_kb(ROOT / "faq").kb
    questions = dev_questions()
    results: dict[str, object] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "real_kb": time_matching(kb, questions, rounds),
        f"synthetic_{args.size}": time_matching(synthetic_kb(kb, args.size), questions, rounds),
        f"synthetic_{args.size}_build_peak_rss": build_peak_rss(args.size),
        "in_process_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "cli_ask": cli,
    }
    out_dir = ROOT / "bench-results"
    out_dir.mkdir(exist_ok=True)
    path = out_dir / f"bench-{dt.datetime.now():%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results, ensure_ascii=False, indent=2))
    print(f"saved {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
