"""Entry editing in headless Chromium against `civicbot serve`: an editor drafts, publishes, the chat answers."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Server
from tests.e2e.test_admin_browser import add_account, sign_in

ENTRY = "desk-umbrella"
QUESTION = "分署可以借雨傘嗎"
VARIANTS = ("下雨天分署有傘可以借嗎", "分署借傘", "忘記帶傘可以跟分署借嗎", "分署有沒有愛心傘", "雨傘出借")
ANSWER = "新竹分署服務台備有愛心傘，離開前請歸還。"
SOURCE = "新竹分署111年度服務躍升執行成果報告 | 一、基礎服務 (三)服務便捷性"


def chat(server: Server, session: str) -> dict[str, Any]:
    body = {"session_id": session, "text": QUESTION, "agency": "aea-hsinchu"}
    r = httpx.post(f"{server.base_url}/api/chat", json=body, timeout=30)
    assert r.status_code == 200, r.text
    return dict(r.json())


@pytest.fixture(scope="module")
def editor_account(web_server: Server) -> None:
    """An editor account on the server's database."""
    add_account(web_server, "eddie", "editor")


def test_an_editor_drafts_and_publishes_an_entry_and_the_assistant_answers_with_it(
    page: Page, web_server: Server, editor_account: None
) -> None:
    assert chat(web_server, "content-e2e-1").get("faq_id") != ENTRY
    sign_in(page, web_server, "eddie")
    page.get_by_role("link", name="條目 Entries").click()
    page.get_by_role("link", name="新增條目 New entry").click()
    page.get_by_label("條目編號 Id").fill(ENTRY)
    page.get_by_label("主題 Topic").fill("service_desk")
    page.get_by_label("中文問題 Question (zh)").fill(QUESTION)
    page.get_by_label("問法 Variants").fill("\n".join(VARIANTS))
    page.get_by_label("新竹分署 aea-hsinchu").check()
    page.get_by_label("中文回答 Answer (zh) #1").fill(ANSWER)
    page.get_by_label("來源 Sources #1").fill(SOURCE)
    page.get_by_role("button", name="儲存 Save").click()
    expect(page).to_have_url(f"{web_server.base_url}/admin/entries/{ENTRY}?done=create")
    expect(page.get_by_role("status")).to_contain_text("已建立草稿")
    assert chat(web_server, "content-e2e-2").get("faq_id") != ENTRY  # a draft is not answered with

    page.get_by_role("button", name="發布 Publish").click()
    expect(page.get_by_role("status")).to_contain_text("已發布")
    answered = chat(web_server, "content-e2e-3")
    assert answered["faq_id"] == ENTRY and ANSWER in answered["text"] and answered["fallback"] is False

    page.get_by_role("link", name="此條目的歷程 History of this entry").click()
    expect(page.locator("section.change")).to_have_count(2)
    expect(page.locator("section.change").first).to_contain_text("eddie")
