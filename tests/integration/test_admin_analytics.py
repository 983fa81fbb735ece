"""The console's analytics pages over the real store: who may see them, exact figures, CSV, bad filters, escaping."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.adapters.sql.orm import AdminAuditRow
from bot.bootstrap import App
from bot.domain.records import Turn
from bot.entrypoints.web import create_app
from tests import analytics_seed as seed
from tests.integration.test_admin import client_for, console_app


@pytest.fixture()
def app(store_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    accounts = (("ada", "admin"), ("stella", "staff"))
    data_dir = tmp_path_factory.getbasetemp() / "analytics-cache"
    with console_app(store_url, data_dir, accounts, seed=lambda built: seed.seed(built.uow_factory)) as built:
        yield built


@pytest.fixture()
def api(app: App) -> FastAPI:
    return create_app(app)


def figure(page: str, key: str) -> str:
    found = re.search(rf'data-figure="{key}">([^<]*)<', page)
    assert found, key
    return found.group(1)


def test_staff_see_the_month_with_charts_and_exact_figures(api: FastAPI) -> None:
    page = client_for(api, "stella").get("/admin/analytics", params={"month": "2026-03"})
    assert page.status_code == 200
    assert "script-src" not in page.headers["content-security-policy"] and "<script" not in page.text
    assert figure(page.text, "questions") == "6" and figure(page.text, "answered_rate") == "66.7%"
    assert figure(page.text, "fallback_rate") == "33.3%" and figure(page.text, "helpful_rate") == "75.0%"
    assert figure(page.text, "turns") == "9"
    assert page.text.count('<svg xmlns="http://www.w3.org/2000/svg" role="img"') == 4
    assert "法務部行政執行署新竹分署" in page.text and seed.PAY in page.text
    assert '<a href="/admin/analytics">' in page.text  # in the navigation
    assert 'href="/admin/analytics.csv?from=2026-03-01&amp;to=2026-03-31"' in page.text
    assert 'name="month" value="2026-03"' in page.text


def test_filters_narrow_the_figures(api: FastAPI) -> None:
    staff = client_for(api, "stella")
    hsinchu = staff.get("/admin/analytics", params={"from": "2026-03-01", "to": "2026-03-31", "agency": seed.HSINCHU})
    assert hsinchu.status_code == 200 and figure(hsinchu.text, "questions") == "4"
    assert f'<option value="{seed.HSINCHU}" selected>' in hsinchu.text
    line = staff.get("/admin/analytics", params={"month": "2026-03", "channel": "line"})
    assert figure(line.text, "questions") == "1" and figure(line.text, "helpful_rate") == "100.0%"
    first_day = staff.get("/admin/analytics", params={"from": "2026-03-01", "to": "2026-03-01"})
    assert figure(first_day.text, "questions") == "4" and "前期 Previous 2026-02-28" in first_day.text


def test_the_csv_export_is_exact_and_audited(api: FastAPI, app: App) -> None:
    r = client_for(api, "stella").get("/admin/analytics.csv", params={"month": "2026-03", "agency": seed.HSINCHU})
    assert r.status_code == 200 and r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.headers["content-disposition"] == 'attachment; filename="civicbot-analytics-2026-03-aea-hsinchu.csv"'
    text = r.content.decode("utf-8")
    assert text.startswith("\ufeffsection,key,label,questions,answered,fallback,answered_rate,fallback_rate,")
    lines = text.lstrip("\ufeff").splitlines()
    assert lines[1] == "total,2026-03,法務部行政執行署新竹分署,4,3,1,0.7500,0.2500,0,6,1,1,0.5000"
    assert lines[2] == "previous,2026-02,法務部行政執行署新竹分署,2,1,1,0.5000,0.5000,0,2,0,1,0.0000"
    assert lines[3] == "day,2026-03-01,,3,2,1,0.6667,0.3333,0,4,1,0,1.0000"
    assert lines[4] == "day,2026-03-02,,0,0,0,,,0,0,0,1,0.0000"
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert len([r for r in rows if r[0] == "day"]) == 31
    assert [r[1] for r in rows if r[0] == "entry"] == [seed.PAY, seed.COMPLAINT]
    assert app.engine is not None
    with app.engine.connect() as conn:
        audited = conn.execute(select(AdminAuditRow.details).where(AdminAuditRow.action == "analytics_export")).all()
    assert [a[0]["agency"] for a in audited] == [seed.HSINCHU]


def test_anonymous_visitors_are_sent_to_sign_in(api: FastAPI) -> None:
    anonymous = client_for(api)
    for path in ("/admin/analytics", "/admin/analytics.csv"):
        r = anonymous.get(path, params={"month": "2026-03"})
        assert r.status_code == 303 and r.headers["location"] == "/admin/login"


@pytest.mark.parametrize(
    "params",
    [
        {"month": "2026-13"},
        {"month": "2026-03", "from": "2026-03-01"},
        {"from": "not-a-date"},
        {"from": "2026-03-10", "to": "2026-03-01"},
        {"from": "2020-01-01", "to": "2026-01-01"},
        {"agency": "no-such-agency"},
        {"channel": "<b>web</b>"},
    ],
)
def test_bad_filters_are_refused_with_a_reason(api: FastAPI, params: dict[str, str]) -> None:
    staff = client_for(api, "stella")
    for path in ("/admin/analytics", "/admin/analytics.csv"):
        r = staff.get(path, params=params)
        assert r.status_code == 400, (path, params)
        assert 'class="error"' in r.text and "Traceback" not in r.text and "<b>web</b>" not in r.text


def test_channel_and_agency_values_from_data_are_escaped_and_defused(api: FastAPI, app: App) -> None:
    with app.uow_factory() as uow:
        for channel in ("<svg onload=x()>", "=HYPERLINK(1)"):
            uow.turns.add(Turn(channel, None, "q", None, None, "<b>x</b>", True, 0.0, seed.at("2026-03-05")))
        uow.commit()
    staff = client_for(api, "stella")
    page = staff.get("/admin/analytics", params={"month": "2026-03"}).text
    assert "<svg onload" not in page and "&lt;svg onload=x()&gt;" in page and "<b>x</b>" not in page
    rows = list(csv.reader(io.StringIO(staff.get("/admin/analytics.csv", params={"month": "2026-03"}).text)))
    channels = [r[1] for r in rows if r[0] == "channel"]
    assert "'=HYPERLINK(1)" in channels and "=HYPERLINK(1)" not in channels


def test_chat_turns_count_as_questions_but_greetings_do_not(api: FastAPI) -> None:
    chat = TestClient(api)
    for text in ("你好", "新竹分署可以刷卡繳嗎？"):
        assert chat.post("/api/chat", json={"session_id": "analytics-1", "text": text}).status_code == 200
    today = dt.datetime.now(dt.UTC).date().isoformat()
    page = client_for(api, "ada").get("/admin/analytics", params={"from": today, "to": today}).text
    assert figure(page, "turns") == "2" and figure(page, "questions") == "1"
    assert figure(page, "answered") == "1" and "pay-credit-card" in page
