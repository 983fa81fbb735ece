"""The editors' loop through the real `civicbot` command: clusters, resolve, history, export and load."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.e2e.test_cli import run

QUESTION = "分署幾點開門"


@pytest.fixture()
def env(tmp_path: Path) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith("CIVICBOT_")}
    out["CIVICBOT_DATA_DIR"] = str(tmp_path / "data")
    return out


def _json_lines(raw: bytes) -> list[dict[str, object]]:
    return [json.loads(line) for line in raw.decode("utf-8").splitlines() if line.strip()]


def test_attach_from_the_cli_makes_the_assistant_answer(env: dict[str, str], tmp_path: Path) -> None:
    before = _json_lines(run(["ask", QUESTION, "--json"], env).stdout)[0]
    assert before["fallback"] is True and before["faq_id"] is None
    (logged,) = _json_lines(run(["unanswered", "list", "--json"], env).stdout)
    clusters = _json_lines(run(["unanswered", "clusters", "--json"], env).stdout)
    assert [c["id"] for c in clusters] == [logged["id"]]
    assert clusters[0]["count"] == 1 and clusters[0]["suggestions"][0]["faq_id"] == "desk-opening-hours"

    proc = run(
        ["unanswered", "resolve", str(logged["id"]), "--attach", "desk-opening-hours", "--editor", "tester"], env
    )
    assert proc.returncode == 0, proc.stderr.decode()
    assert "desk-opening-hours" in proc.stdout.decode("utf-8")

    after = _json_lines(run(["ask", QUESTION, "--json"], env).stdout)[0]
    assert after["faq_id"] == "desk-opening-hours" and after["fallback"] is False
    (row,) = _json_lines(run(["unanswered", "list", "--all", "--json"], env).stdout)[:1]
    assert row["status"] == "resolved" and row["resolution"] == "desk-opening-hours"

    history = _json_lines(run(["faq", "history", "desk-opening-hours", "--json"], env).stdout)
    assert history[0]["action"] == "attach" and history[0]["editor"] == "tester"
    assert QUESTION in history[0]["after"]["variants"] and QUESTION not in history[0]["before"]["variants"]  # type: ignore[index]

    out = tmp_path / "export"
    assert run(["faq", "export", str(out)], env).returncode == 0
    assert any(QUESTION in p.read_text(encoding="utf-8") for p in out.glob("*.yaml"))
    loaded = run(["faq", "load", str(out)], env)
    assert loaded.returncode == 0 and loaded.stdout.decode("utf-8").startswith("added 0, changed 0, retired 0")


def test_resolve_errors_are_clear(env: dict[str, str]) -> None:
    run(["ask", "明天高雄會下雨嗎？", "--json"], env)
    unknown = run(["unanswered", "resolve", "999", "--dismiss"], env)
    assert unknown.returncode == 2 and "#999" in unknown.stderr.decode("utf-8")
    assert b"Traceback" not in unknown.stderr
    dismissed = run(["unanswered", "resolve", "1", "--dismiss", "--editor", "tester"], env)
    assert dismissed.returncode == 0 and "dismissed 1" in dismissed.stdout.decode("utf-8")
    again = run(["unanswered", "resolve", "1", "--attach", "desk-opening-hours"], env)
    assert again.returncode == 2 and "already dismissed" in again.stderr.decode("utf-8")
    no_entry = run(["faq", "history", "no-such-entry"], env)
    assert no_entry.returncode == 2
    missing = run(["unanswered", "resolve", "1"], env)
    assert missing.returncode == 2  # one of --attach / --new / --dismiss is required
