"""The real `civicbot` command, run as a user would, on a fresh embedded database (and PostgreSQL)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FAQ_DIR, ROOT

CLI = [sys.executable, "-m", "bot"]


def run(args: list[str], env: dict[str, str], stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(CLI + args, env=env, input=stdin, capture_output=True, timeout=120, cwd=ROOT)


@pytest.fixture()
def env(tmp_path: Path) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith("CIVICBOT_")}
    out["CIVICBOT_DATA_DIR"] = str(tmp_path / "data")
    return out


def test_ask_answers_with_source_on_a_fresh_machine(env: dict[str, str]) -> None:
    proc = run(["ask", "新竹分署可以刷卡繳嗎？"], env)
    assert proc.returncode == 0, proc.stderr.decode()
    out = proc.stdout.decode("utf-8")
    assert "信用卡" in out
    assert "資料來源：新竹分署111年度服務躍升執行成果報告" in out


def test_ask_json_contract(env: dict[str, str]) -> None:
    proc = run(["ask", "Can I pay by credit card?", "--agency", "aea-hsinchu", "--json"], env)
    lines = proc.stdout.decode("utf-8").splitlines()
    assert len(lines) == 1
    obj = json.loads(lines[0])
    assert obj["faq_id"] == "pay-credit-card" and obj["fallback"] is False
    assert obj["language"] == "en" and "credit card" in obj["answer"].lower()
    assert obj["sources"][0]["document"] and obj["sources"][0]["section"]
    assert 0 <= obj["score"] <= 1
    assert all(set(a) == {"faq_id", "question", "score"} for a in obj["alternatives"])


def test_unanswered_question_is_waiting_in_the_log(env: dict[str, str]) -> None:
    proc = run(["ask", "明天高雄會下雨嗎？我電話0922333444", "--json"], env)
    obj = json.loads(proc.stdout)
    assert obj["fallback"] is True and obj["answer"] is None
    listed = run(["unanswered", "list", "--json"], env)
    rows = [json.loads(x) for x in listed.stdout.decode("utf-8").splitlines()]
    assert len(rows) == 1
    assert "0922333444" not in rows[0]["question"] and "[phone]" in rows[0]["question"]
    assert rows[0]["channel"] == "cli" and rows[0]["candidates"]
    human = run(["unanswered", "list"], env).stdout.decode("utf-8")
    assert "[phone]" in human


def test_eval_writes_one_line_per_input_in_order(env: dict[str, str], tmp_path: Path) -> None:
    data = tmp_path / "q.jsonl"
    data.write_text(
        "\n".join(
            [
                json.dumps({"q": "可以刷卡嗎", "agency": "aea-hsinchu"}, ensure_ascii=False),
                "{not json",
                json.dumps({"q": "今天天氣好嗎"}, ensure_ascii=False),
                json.dumps({"q": "通訊投標怎麼辦理"}, ensure_ascii=False),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    proc = run(["eval", str(data)], env)
    rows = [json.loads(x) for x in proc.stdout.decode("utf-8").splitlines()]
    assert len(rows) == 4
    assert rows[0]["faq_id"] == "pay-credit-card"
    assert "error" in rows[1] and rows[1]["line"] == 2
    assert rows[2]["fallback"] is True
    assert rows[3]["topic"] == "auction"
    # Evaluation is measurement: it must not fill the unanswered log.
    assert run(["unanswered", "list", "--json"], env).stdout == b""


def test_eval_report_prints_the_four_figures(env: dict[str, str]) -> None:
    proc = run(["eval", "tests/data/dev", "--report", "--json"], env)
    figures = json.loads(proc.stdout)
    assert {"top1", "topic_accuracy", "oos_recall", "false_fallback"} <= set(figures)
    assert figures["in_scope"] >= 240 and figures["out_of_scope"] >= 60


def test_invalid_utf8_on_stdin_gets_a_clear_message(env: dict[str, str]) -> None:
    proc = run(["ask", "-"], env, stdin=b"\xff\xfe\xfa invalid")
    assert proc.returncode == 2
    assert "UTF-8" in proc.stderr.decode("utf-8")
    assert b"Traceback" not in proc.stderr


@pytest.mark.parametrize("text", ["", "   ", "繳" * 2001])
def test_bad_questions_get_a_clear_message(env: dict[str, str], text: str) -> None:
    proc = run(["ask", text], env)
    assert proc.returncode == 1
    assert b"Traceback" not in proc.stderr
    assert proc.stderr.decode("utf-8").strip()


def test_chat_session_over_stdin(env: dict[str, str]) -> None:
    script = "可以分期嗎\n\xff\n今天天氣如何\nexit\n".encode().replace("\xff".encode(), b"\xff")
    proc = run(["chat", "--agency", "aea-yilan"], env, stdin=script)
    out = proc.stdout.decode("utf-8")
    assert proc.returncode == 0
    assert "分期" in out
    assert "UTF-8" in out
    assert "抱歉" in out


def test_faq_commands(env: dict[str, str]) -> None:
    assert run(["faq", "validate"], env).stdout.decode().startswith("OK")
    stats = json.loads(run(["faq", "stats", "--json"], env).stdout)
    assert stats["entries"] >= 150
    first = run(["faq", "load", str(FAQ_DIR)], env).stdout.decode()
    assert first.startswith("added ")
    again = run(["faq", "load", str(FAQ_DIR)], env).stdout.decode()
    assert again.startswith("added 0, changed 0, retired 0")
    codes = [json.loads(x)["code"] for x in run(["agencies", "--json"], env).stdout.decode().splitlines()]
    assert codes == ["aea-taichung", "aea-yilan", "aea-hsinchu", "tpo-taitung", "mvs-tainan"]


@pytest.mark.postgres
def test_cli_against_postgresql(env: dict[str, str], fresh_pg: str) -> None:
    env = {**env, "CIVICBOT_DATABASE_URL": fresh_pg}
    not_ready = run(["ask", "可以刷卡嗎"], env)
    assert not_ready.returncode == 2 and b"civicbot db upgrade" in not_ready.stderr
    assert b"revision" in run(["db", "upgrade"], env).stdout
    assert run(["faq", "load"], env).stdout.decode().startswith("added ")
    obj = json.loads(run(["ask", "臺東地檢署可以線上申請嗎", "--json"], env).stdout)
    assert obj["agency"] == "tpo-taitung" and obj["fallback"] is False
    run(["ask", "房屋稅怎麼報", "--json"], env)
    rows = run(["unanswered", "list", "--json"], env).stdout.decode().splitlines()
    assert len(rows) >= 1
