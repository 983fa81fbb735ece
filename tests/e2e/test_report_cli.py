"""`civicbot report` as an agency would run it: the month's HTML report with figures and charts, CSV, PDF, errors."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
from pathlib import Path

import pytest

from tests.e2e.conftest import CHROMIUM
from tests.e2e.test_cli import run


@pytest.fixture()
def env(tmp_path: Path) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith("CIVICBOT_")}
    out["CIVICBOT_DATA_DIR"] = str(tmp_path / "data")
    return out


def this_month() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m")


def test_the_monthly_report_has_the_figures_and_charts(env: dict[str, str], tmp_path: Path) -> None:
    assert run(["ask", "新竹分署可以刷卡繳嗎？"], env).returncode == 0  # answered
    assert run(["ask", "明天高雄會下雨嗎？"], env).returncode == 0  # fallback, logged as unanswered
    out, data = tmp_path / "reports" / "march.html", tmp_path / "figures.csv"
    month = this_month()
    proc = run(["report", "--month", month, "--agency", "aea-hsinchu", "--out", str(out), "--csv", str(data)], env)
    assert proc.returncode == 0, proc.stderr.decode()
    assert f"{month}: 1 questions, 1 answered, 0 fallback" in proc.stdout.decode("utf-8")
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and "@page" in page and "<script" not in page
    assert "智慧客服服務品質報告" in page and "Chatbot service-quality report" in page
    assert "法務部行政執行署新竹分署（aea-hsinchu）" in page and "指標定義 Definitions" in page
    assert re.search(r'data-figure="questions">1<', page) and re.search(r'data-figure="answered_rate">100.0%<', page)
    assert page.count('role="img"') == 4 and "pay-credit-card" in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")  # nothing fetched from elsewhere
    rows = list(csv.reader(io.StringIO(data.read_text(encoding="utf-8-sig"))))
    assert rows[0][:4] == ["section", "key", "label", "questions"]
    assert rows[1][:6] == ["total", month, "法務部行政執行署新竹分署", "1", "1", "0"]

    everyone = tmp_path / "all.html"
    assert run(["report", "--month", month, "--out", str(everyone)], env).returncode == 0
    assert re.search(r'data-figure="questions">2<', everyone.read_text(encoding="utf-8"))


def test_bad_input_exits_2_and_writes_nothing(env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    for args, message in (
        (["--month", "2026-13"], "YYYY-MM"),
        (["--month", "March"], "YYYY-MM"),
        (["--month", this_month(), "--agency", "no-such-agency"], "no-such-agency"),
    ):
        proc = run(["report", *args, "--out", str(out), "--csv", str(tmp_path / "x.csv")], env)
        assert proc.returncode == 2, (args, proc.stderr)
        assert message in proc.stderr.decode("utf-8") and b"Traceback" not in proc.stderr
    no_browser = env | {"CIVICBOT_CHROMIUM": str(tmp_path / "no-chromium")}
    proc = run(["report", "--month", this_month(), "--out", str(out), "--pdf", str(tmp_path / "r.pdf")], no_browser)
    assert proc.returncode == 2 and "Chromium" in proc.stderr.decode("utf-8")
    assert run(["report"], env).returncode == 2  # --month is required
    assert list(tmp_path.glob("*.html")) == [] and list(tmp_path.glob("*.csv")) == []


def test_the_report_prints_to_pdf(env: dict[str, str], tmp_path: Path) -> None:
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    out, pdf = tmp_path / "r.html", tmp_path / "r.pdf"
    proc = run(
        ["report", "--month", this_month(), "--out", str(out), "--pdf", str(pdf)], env | {"CIVICBOT_CHROMIUM": CHROMIUM}
    )
    assert proc.returncode == 0, proc.stderr.decode()
    assert pdf.read_bytes().startswith(b"%PDF-") and pdf.stat().st_size > 10_000
