"""Staff quick-search benchmark: GET /admin/search over HTTP on loopback, signed in as a staff account.

Starts `civicbot serve` on a fresh data folder (embedded SQLite), adds a staff account with `civicbot users add`,
signs in like a browser (CSRF token, session cookie), then searches every dev-set question one after another
and reports the median and percentiles of the full request time (page rendered, search audited).

    .venv/bin/python scripts/bench_search.py [--requests 500] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_http import CIVICBOT, free_port, pct, questions, start_server  # noqa: E402

PASSWORD = "bench-staff-password"


def sign_in(client: httpx.Client) -> None:
    """Sign in as the staff account, as the browser form does."""
    page = client.get("/admin/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None, page.text
    form = {"csrf_token": token.group(1), "username": "desk", "password": PASSWORD}
    r = client.post("/admin/login", data=form)
    assert r.status_code == 303, r.text


def main() -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args()
    pool = questions()
    rng = random.Random(11)
    with tempfile.TemporaryDirectory(prefix="civicbot-bench-search-") as tmp:
        env = {**os.environ, "CIVICBOT_DATA_DIR": tmp}
        env.pop("CIVICBOT_DATABASE_URL", None)
        port = free_port()
        proc = start_server(env, port, 1)
        try:
            add = [CIVICBOT, "users", "add", "desk", "--role", "staff", "--password-stdin"]
            subprocess.run(add, input=f"{PASSWORD}\n".encode(), env=env, check=True, capture_output=True)
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", follow_redirects=False, timeout=30) as client:
                sign_in(client)
                for q in pool[:50]:  # warm-up
                    client.get("/admin/search", params={"q": q})
                latencies = []
                for _ in range(args.requests):
                    started = time.perf_counter()
                    r = client.get("/admin/search", params={"q": rng.choice(pool)})
                    latencies.append((time.perf_counter() - started) * 1000)
                    assert r.status_code == 200 and 'class="card result"' in r.text or "沒有相符" in r.text, r.text
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    result = {
        "case": "quick search, staff, SQLite, 1 worker",
        "requests": len(latencies),
        "p50_ms": round(statistics.median(latencies), 2),
        "p90_ms": round(pct(latencies, 90), 2),
        "p99_ms": round(pct(latencies, 99), 2),
        "max_ms": round(max(latencies), 2),
    }
    print(
        f"{result['case']:<40} p50 {result['p50_ms']} ms  p90 {result['p90_ms']} ms  p99 {result['p99_ms']} ms"
        f"  max {result['max_ms']} ms  ({result['requests']} requests)",
        flush=True,
    )
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
