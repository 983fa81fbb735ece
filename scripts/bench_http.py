"""HTTP load benchmark for POST /api/chat on loopback: requests/s, latency percentiles, and no lost turns.

Starts `civicbot serve` (one worker on the embedded SQLite; two workers on PostgreSQL), drives it with a
small keep-alive asyncio client (a fixed number of requests, so every request is either answered or
counted as failed), then counts the turns stored in the database.

    .venv/bin/python scripts/bench_http.py [--requests 3000] [--concurrency 16] [--pg-url URL] [--json OUT]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CIVICBOT = str(Path(sys.executable).with_name("civicbot"))
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"


def questions() -> list[str]:
    out: list[str] = []
    for path in sorted((ROOT / "tests" / "data" / "dev").glob("*.jsonl")):
        out += [json.loads(line)["q"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(env: dict[str, str], port: int, workers: int) -> subprocess.Popen[bytes]:
    cmd = [CIVICBOT, "serve", "--port", str(port), "--workers", str(workers), "--log-level", "error"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.3)
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {proc.stderr.read().decode() if proc.stderr else ''}")
    proc.kill()
    raise RuntimeError("server did not become healthy in 120 s")


async def one_connection(
    port: int, jobs: asyncio.Queue[str], latencies: list[float], failures: list[int], conn_id: int, mine: list[float]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    n = 0
    try:
        while True:
            try:
                text = jobs.get_nowait()
            except asyncio.QueueEmpty:
                return
            session = f"bench-{conn_id}-{n // 5}"  # a new conversation every five turns
            n += 1
            body = json.dumps({"session_id": session, "text": text}, ensure_ascii=False).encode()
            head = (
                f"POST /api/chat HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode()
            started = time.perf_counter()
            writer.write(head + body)
            await writer.drain()
            status_line = await reader.readline()
            length = 0
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                name, _, value = line.decode("latin-1").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            await reader.readexactly(length)
            latencies.append((time.perf_counter() - started) * 1000)
            mine.append(latencies[-1])
            if b" 200 " not in status_line:
                failures.append(int(status_line.split()[1]) if status_line else 0)
    finally:
        writer.close()


async def drive(
    port: int, total: int, concurrency: int, pool: list[str]
) -> tuple[float, list[float], list[int], list[list[float]]]:
    jobs: asyncio.Queue[str] = asyncio.Queue()
    rng = random.Random(7)
    for _ in range(total):
        jobs.put_nowait(rng.choice(pool))
    latencies: list[float] = []
    failures: list[int] = []
    per_connection: list[list[float]] = [[] for _ in range(concurrency)]
    started = time.perf_counter()
    await asyncio.gather(
        *(one_connection(port, jobs, latencies, failures, i, per_connection[i]) for i in range(concurrency))
    )
    return time.perf_counter() - started, latencies, failures, per_connection


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def count_turns(url: str) -> int:
    from sqlalchemy import create_engine, text

    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    engine = create_engine(url)
    with engine.connect() as conn:
        n = int(conn.execute(text("SELECT count(*) FROM conversation_turns")).scalar() or 0)
    engine.dispose()
    return n


def run_case(label: str, env: dict[str, str], db_url: str, workers: int, args: argparse.Namespace) -> dict[str, object]:
    pool = questions()
    port = free_port()
    proc = start_server(env, port, workers)
    try:
        asyncio.run(drive(port, min(200, args.requests), args.concurrency, pool))  # warm-up
        before = count_turns(db_url)
        elapsed, latencies, failures, per_connection = asyncio.run(drive(port, args.requests, args.concurrency, pool))
        time.sleep(0.5)
        stored = count_turns(db_url) - before
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    answered = len(latencies) - len(failures)
    # Fairness: the slowest connection's median latency over the fastest one's (1.0 = every client served alike).
    medians = [statistics.median(c) for c in per_connection if c]
    result = {
        "case": label,
        "workers": workers,
        "requests": args.requests,
        "concurrency": args.concurrency,
        "answered": answered,
        "failed": len(failures),
        "requests_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies), 2),
        "p90_ms": round(pct(latencies, 90), 2),
        "p99_ms": round(pct(latencies, 99), 2),
        "max_ms": round(max(latencies), 2),
        "connection_spread": round(max(medians) / min(medians), 2),
        "turns_stored": stored,
        "no_turn_lost": stored == answered,
    }
    print(
        f"{label:<28} {result['requests_per_s']:>8} req/s  p50 {result['p50_ms']:>6} ms  p90 {result['p90_ms']:>6} ms"
        f"  p99 {result['p99_ms']:>6} ms  spread {result['connection_spread']:>4}"
        f"  answered {answered}/{args.requests}  turns stored {stored}"
        f"  {'OK' if result['no_turn_lost'] else 'TURNS LOST'}",
        flush=True,
    )
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--pg-url", default=os.environ.get("CIVICBOT_TEST_PG_URL", DEFAULT_PG))
    parser.add_argument("--skip-pg", action="store_true")
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="civicbot-bench-") as tmp:
        env = {**os.environ, "CIVICBOT_DATA_DIR": tmp, "XDG_DATA_HOME": tmp}
        env.pop("CIVICBOT_DATABASE_URL", None)
        results.append(run_case("SQLite, 1 worker", env, f"sqlite:///{tmp}/civicbot.db", 1, args))
        if not args.skip_pg:
            import psycopg

            name = f"civicbot_bench_{os.getpid()}"
            with psycopg.connect(args.pg_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
                conn.execute(f'CREATE DATABASE "{name}"')
            url = f"{args.pg_url.rsplit('/', 1)[0]}/{name}"
            pg_env = {**env, "CIVICBOT_DATABASE_URL": url}
            try:
                subprocess.run([CIVICBOT, "db", "upgrade"], env=pg_env, check=True, stdout=subprocess.DEVNULL)
                subprocess.run([CIVICBOT, "faq", "load"], env=pg_env, check=True, stdout=subprocess.DEVNULL)
                results.append(run_case("PostgreSQL, 2 workers", pg_env, url, 2, args))
            finally:
                with psycopg.connect(args.pg_url, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0 if all(r["no_turn_lost"] and r["failed"] == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
