"""The admin console in headless Chromium against the real `civicbot serve`: an editor resolves, staff only looks."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.conftest import ROOT
from tests.e2e.conftest import Server

QUESTION = "颱風天分署照常上班嗎"  # logged as unanswered until an editor attaches it
SEARCH = "分署幾點開門"
ENTRY = "desk-opening-hours"
PASSWORD = "correct-horse-battery"


def chat(server: Server, session: str) -> dict[str, Any]:
    body = {"session_id": session, "text": QUESTION, "agency": "aea-hsinchu"}
    r = httpx.post(f"{server.base_url}/api/chat", json=body, timeout=30)
    assert r.status_code == 200, r.text
    return dict(r.json())


def add_account(server: Server, name: str, role: str) -> None:
    """An account made as an administrator would: `civicbot users add` on the server's database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIVICBOT_")}
    env["CIVICBOT_DATA_DIR"] = str(server.data_dir)
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "users", "add", name, "--role", role, "--password-stdin"],
        input=f"{PASSWORD}\n".encode(),
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr.decode()


@pytest.fixture(scope="module")
def accounts(web_server: Server) -> None:
    """An editor and a staff account on the server's database."""
    add_account(web_server, "eddie", "editor")
    add_account(web_server, "stella", "staff")


def sign_in(page: Page, server: Server, username: str) -> None:
    page.goto(f"{server.base_url}/admin/login")
    page.get_by_label("帳號 Username").fill(username)
    page.get_by_label("密碼 Password").fill(PASSWORD)
    page.get_by_role("button", name="登入 Sign in").click()


def test_an_editor_attaches_a_cluster_and_the_assistant_answers(page: Page, web_server: Server, accounts: None) -> None:
    before = chat(web_server, "admin-e2e-1")
    assert before.get("faq_id") != ENTRY
    sign_in(page, web_server, "eddie")
    expect(page).to_have_url(f"{web_server.base_url}/admin/unanswered")
    card = page.locator("section.cluster", has_text=QUESTION)
    expect(card).to_have_count(1)
    card.get_by_label("條目 FAQ id").fill(ENTRY)
    card.get_by_role("button", name="加入此條目 Attach").click()
    expect(page.get_by_role("status")).to_contain_text(ENTRY)
    expect(page.locator("section.cluster", has_text=QUESTION)).to_have_count(0)
    after = chat(web_server, "admin-e2e-2")
    assert after["faq_id"] == ENTRY and after["fallback"] is False


def test_staff_can_search_but_not_resolve(page: Page, web_server: Server, accounts: None) -> None:
    httpx.post(f"{web_server.base_url}/api/chat", json={"session_id": "admin-e2e-3", "text": "火星的天氣如何"})
    sign_in(page, web_server, "stella")
    expect(page).to_have_url(f"{web_server.base_url}/admin/search")
    page.get_by_label("問題 Question").fill(SEARCH)
    page.get_by_role("button", name="查詢 Search").click()
    expect(page.locator("section.result").first).to_have_attribute("data-faq", ENTRY)
    expect(page.locator("form.resolve")).to_have_count(0)
    response = page.goto(f"{web_server.base_url}/admin/unanswered")
    assert response is not None and response.status == 403
