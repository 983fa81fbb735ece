"""The analytics dashboard in headless Chromium against the real `civicbot serve`: staff see charts and figures."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Server
from tests.e2e.test_admin_browser import add_account, sign_in


@pytest.fixture(scope="module")
def staff(web_server: Server) -> str:
    """A staff account on the server's database."""
    add_account(web_server, "sam", "staff")
    return "sam"


def test_staff_open_the_dashboard_and_see_charts_and_figures(page: Page, web_server: Server, staff: str) -> None:
    for i, text in enumerate(("你好", "新竹分署可以刷卡繳嗎？", "火星的天氣如何")):
        body = {"session_id": f"analytics-e2e-{i}", "text": text}
        assert httpx.post(f"{web_server.base_url}/api/chat", json=body, timeout=30).status_code == 200
    sign_in(page, web_server, staff)
    expect(page).to_have_url(f"{web_server.base_url}/admin/search")
    page.get_by_role("link", name="統計 Analytics").click()
    expect(page).to_have_url(f"{web_server.base_url}/admin/analytics")
    expect(page.get_by_role("heading", name="每日提問數 Questions per day")).to_be_visible()
    charts = page.locator("svg.chart")
    expect(charts).to_have_count(4)
    for i in range(4):
        expect(charts.nth(i)).to_be_visible()
    expect(page.get_by_role("img", name="每日提問數 Questions per day")).to_be_visible()
    expect(page.locator('[data-figure="questions"]')).to_have_text("2")  # the greeting is not a question
    expect(page.locator('[data-figure="answered_rate"]')).to_have_text("50.0%")
    expect(page.locator('[data-figure="fallback_rate"]')).to_have_text("50.0%")
    expect(page.locator("#entries")).to_contain_text("pay-credit-card")

    page.get_by_label("管道 Channel").select_option("web")
    page.get_by_role("button", name="顯示 Show").click()
    expect(page).to_have_url(re.compile(r"/admin/analytics\?.*&channel=web$"))
    expect(page.locator('[data-figure="questions"]')).to_have_text("2")
    with page.expect_download() as download:
        page.get_by_role("link", name="下載 CSV Download CSV").click()
    assert (
        download.value.suggested_filename.startswith("civicbot-analytics-")
        and "web" in download.value.suggested_filename
    )
