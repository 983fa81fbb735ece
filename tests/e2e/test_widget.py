"""The chat widget in headless Chromium against the real `civicbot serve`: what a citizen on an agency site does."""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from playwright.sync_api import Dialog, Page, expect

from tests.e2e.conftest import Server

LAUNCHER_ZH = "開啟線上客服"
INPUT_ZH = "輸入您的問題"
HOSTILE = '<script>alert(1)</script><img src=x onerror="alert(2)"><b>粗體</b>'


def agency_html(server: Server, attrs: str) -> str:
    """An agency's page that embeds the widget with one tag (and has CSS that must not leak into it)."""
    return f"""<!doctype html><html lang="zh-Hant-TW"><head><meta charset="utf-8"><title>機關網站</title>
<style>button, div, p {{ color: #f0f !important; font-size: 40px; }}</style></head>
<body><h1>某機關網站</h1><p><a href="#top">回到頁首</a></p>
<script src="{server.base_url}/static/widget.js" {attrs} defer></script></body></html>"""


def agency_site(page: Page, server: Server, *, attrs: str) -> None:
    """Open a stand-in agency page on the server's origin (answered by the browser, not the server)."""
    url = f"{server.base_url}/agency-site/index.html"
    html = agency_html(server, attrs)
    page.route(url, lambda route: route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html))
    page.goto(url)


@pytest.fixture()
def agency_origin(web_server: Server) -> Iterator[str]:
    """A separate web server (another origin) playing the agency's own site."""
    html = agency_html(web_server, 'data-agency="aea-hsinchu" data-lang="zh-TW"').encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(html)))
            self.end_headers()
            self.wfile.write(html)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - keep test output quiet
            pass

    site = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=site.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{site.server_address[1]}"
    site.shutdown()
    site.server_close()


def open_widget(page: Page, launcher_name: str = LAUNCHER_ZH) -> None:
    """Open the chat and wait for the server's greeting with its menu of services."""
    page.get_by_role("button", name=launcher_name).click()
    expect(page.get_by_role("dialog")).to_be_visible()
    expect(page.locator(".cb-bot")).to_have_count(1)


def ask(page: Page, text: str, input_name: str = INPUT_ZH) -> dict[str, Any]:
    """Type a question, press Enter and return the reply JSON once the widget has shown it."""
    before = page.locator(".cb-bot").count()
    box = page.get_by_label(input_name)
    box.fill(text)
    with page.expect_response(lambda r: r.url.endswith("/api/chat")) as info:
        box.press("Enter")
    reply: dict[str, Any] = info.value.json() if info.value.ok else {}
    expect(page.locator(".cb-bot")).to_have_count(before + 1)
    return reply


def last_bot(page: Page) -> Any:
    return page.locator(".cb-bot").last


def record_dialogs(page: Page) -> list[str]:
    """Every alert/confirm the page opens (an injected script would open one), dismissed."""
    seen: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        seen.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return seen


def test_demo_page_is_marked_and_embeds_the_widget_with_one_tag(page: Page, web_server: Server) -> None:
    page.goto(web_server.base_url + "/")
    expect(page.locator(".demo-banner")).to_contain_text("示範頁面")
    tags = page.locator('script[src$="/static/widget.js"]')
    expect(tags).to_have_count(1)
    assert tags.get_attribute("data-agency") == "aea-hsinchu"
    expect(page.locator("#embed-snippet")).to_contain_text(f"{web_server.base_url}/static/widget.js")
    open_widget(page)
    # The greeting comes from the server with the common services as quick replies; the header names the agency.
    expect(last_bot(page)).to_contain_text("請直接輸入您的問題")
    expect(last_bot(page).get_by_role("button", name="繳款方式")).to_be_visible()
    expect(page.get_by_role("heading", name="新竹分署線上客服")).to_be_visible()


def test_question_gets_an_answer_with_its_source(page: Page, web_server: Server) -> None:
    page.goto(web_server.base_url + "/")
    open_widget(page)
    reply = ask(page, "可以刷卡繳嗎？")
    assert reply["faq_id"] == "pay-credit-card" and reply["agency"] == "aea-hsinchu"
    answer = last_bot(page)
    expect(answer.locator(".cb-text")).to_contain_text("信用卡")
    expect(answer.locator(".cb-source")).to_have_text(
        "資料來源：新竹分署111年度服務躍升執行成果報告，二、服務遞送 (一)服務便捷 (5)"
    )
    expect(page.locator(".cb-user").last).to_have_text("您說：可以刷卡繳嗎？")


def test_quick_reply_chooses_the_agency(page: Page, web_server: Server) -> None:
    agency_site(page, web_server, attrs='data-lang="zh-TW"')  # a portal that names no agency
    open_widget(page)
    reply = ask(page, "可以分期嗎")
    assert reply["kind"] == "choose_agency"
    choices = page.locator(".cb-bot").nth(1).get_by_role("group", name="建議選項")
    expect(choices.get_by_role("button")).to_have_count(len(reply["quick_replies"]))
    with page.expect_request(lambda r: r.url.endswith("/api/chat")) as sent:
        choices.get_by_role("button", name="宜蘭分署").click()
    body = json.loads(sent.value.post_data or "{}")
    assert body["payload"] == "ag:aea-yilan" and body["text"] is None
    expect(page.locator(".cb-bot")).to_have_count(3)
    expect(page.locator(".cb-user").last).to_have_text("您說：宜蘭分署")
    expect(last_bot(page).locator(".cb-source").first).to_contain_text("資料來源：宜蘭分署105年度提升服務品質執行計畫")
    # The earlier choices are spent: they can no longer be clicked.
    expect(choices.get_by_role("button", name="新竹分署")).to_be_disabled()


def test_feedback_is_stored(page: Page, web_server: Server) -> None:
    page.goto(web_server.base_url + "/")
    open_widget(page)
    reply = ask(page, "可以刷卡繳嗎？")
    assert reply["feedback"] is True
    with page.expect_response(lambda r: r.url.endswith("/api/feedback")) as info:
        last_bot(page).get_by_role("button", name="沒有幫助").click()
    assert info.value.status == 200
    assert json.loads(info.value.request.post_data or "{}")["turn_id"] == reply["turn_id"]
    expect(last_bot(page).locator(".cb-thanks")).to_have_text("謝謝您的回饋！")
    expect(last_bot(page).get_by_role("button", name="有幫助")).to_have_count(0)
    with sqlite3.connect(f"file:{web_server.db_path}?mode=ro", uri=True) as db:
        rows = db.execute(
            "SELECT faq_id, helpful, channel FROM answer_feedback WHERE turn_id = ?", (reply["turn_id"],)
        ).fetchall()
    assert rows == [("pay-credit-card", 0, "web")]


def test_demo_case_lookup(page: Page, web_server: Server) -> None:
    """The first demo case of the Hsinchu Branch in data/demo/README.md, typed sloppily, then its verifier."""
    page.goto(web_server.base_url + "/")
    open_widget(page)
    assert ask(page, "我想查詢案件進度")["state"] == "case_number"
    expect(last_bot(page)).to_contain_text("請輸入您的案號")
    assert ask(page, "113綜所稅執54321")["state"] == "case_verify"
    expect(last_bot(page)).to_contain_text("末四碼")
    reply = ask(page, "4321")
    assert reply["kind"] == "case" and reply["state"] == "idle"
    result = last_bot(page).locator(".cb-text")
    expect(result).to_contain_text("113年度綜所稅執字第00054321號")
    expect(result).to_contain_text("96,400")
    expect(result).to_contain_text("示範資料")
    # The verifier is neither echoed in the chat nor kept in the tab's storage.
    expect(page.locator(".cb-user").last).to_have_text("您說：••••（驗證資料，已隱藏）")
    history = json.loads(page.evaluate("sessionStorage.getItem('civicbot:history:aea-hsinchu')"))
    typed = [entry.get("text") for entry in history if entry["role"] == "user"]
    assert typed == ["我想查詢案件進度", "113綜所稅執54321", None]
    # The demo page's own table works too: the second case, verified by its query code.
    number, _, code = page.locator("#demo-cases tbody tr").nth(1).locator("td").all_inner_texts()
    ask(page, "查詢案件進度")
    ask(page, number)
    ask(page, code.lower())
    expect(last_bot(page).locator(".cb-text")).to_contain_text(f"案號 {number}")


def test_script_tags_in_a_question_are_shown_as_text(page: Page, web_server: Server) -> None:
    dialogs = record_dialogs(page)
    page.goto(web_server.base_url + "/")
    open_widget(page)
    reply = ask(page, HOSTILE)
    assert reply["fallback"] is True
    expect(page.locator(".cb-user .cb-text").last).to_have_text(HOSTILE)
    expect(page.locator(".cb-log script, .cb-log img, .cb-log b")).to_have_count(0)
    page.wait_for_timeout(300)  # an injected onerror handler would have fired by now
    assert dialogs == []


def test_html_in_answers_is_shown_as_text(page: Page, web_server: Server) -> None:
    """Even a compromised or buggy server cannot inject markup: every field is rendered as text."""
    dialogs = record_dialogs(page)
    evil = {
        "text": '<img src=x onerror="alert(3)">答案\n第二行',
        "quick_replies": [{"label": "<b>選我</b>", "payload": "faq:x"}],
        "faq_id": "x",
        "topic": None,
        "agency": None,
        "fallback": False,
        "sources": [{"document": "<script>alert(4)</script>", "section": "<i>章節</i>", "agency": None}],
        "state": "idle",
        "language": "zh-TW",
        "turn_id": 1,
        "feedback": True,
        "kind": "answer",
    }
    page.goto(web_server.base_url + "/")
    open_widget(page)
    page.route(
        "**/api/chat",
        lambda route: route.fulfill(
            status=200, content_type="application/json", body=json.dumps(evil, ensure_ascii=False)
        ),
    )
    ask(page, "任何問題")
    answer = last_bot(page)
    expect(answer.locator(".cb-text")).to_have_text('<img src=x onerror="alert(3)">答案\n第二行')
    expect(answer.locator(".cb-source")).to_have_text("資料來源：<script>alert(4)</script>，<i>章節</i>")
    expect(answer.get_by_role("button", name="<b>選我</b>")).to_be_visible()
    expect(page.locator(".cb-log script, .cb-log img, .cb-log b, .cb-log i")).to_have_count(0)
    # Line breaks in answers are kept.
    assert answer.locator(".cb-text").evaluate("e => getComputedStyle(e).whiteSpace") == "pre-wrap"
    page.wait_for_timeout(300)
    assert dialogs == []


def test_keyboard_only(page: Page, web_server: Server) -> None:
    page.goto(web_server.base_url + "/")
    launcher = page.get_by_role("button", name=LAUNCHER_ZH)
    expect(launcher).to_be_visible()
    for _ in range(10):  # Tab from the top of the page until the launcher has focus
        page.keyboard.press("Tab")
        if launcher.evaluate("e => e.getRootNode().activeElement === e"):
            break
    else:
        pytest.fail("Tab never reached the chat launcher")
    ring = launcher.evaluate(
        "e => [e.matches(':focus-visible'), getComputedStyle(e).outlineStyle, "
        "parseFloat(getComputedStyle(e).outlineWidth)]"
    )
    assert ring[0] is True and ring[1] != "none" and ring[2] >= 2, f"no visible focus ring: {ring}"
    page.keyboard.press("Enter")
    box = page.get_by_label(INPUT_ZH)
    expect(box).to_be_focused()
    expect(page.locator(".cb-bot")).to_have_count(1)
    page.keyboard.type("可以刷卡繳嗎？")
    with page.expect_response(lambda r: r.url.endswith("/api/chat")):
        page.keyboard.press("Enter")
    expect(last_bot(page).locator(".cb-source")).to_contain_text("資料來源：")
    expect(box).to_have_value("")
    expect(box).to_be_focused()
    page.keyboard.press("Shift+Tab")  # back from the input into the conversation: the latest answer's rating
    expect(page.get_by_role("button", name="沒有幫助")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_be_hidden()
    assert launcher.evaluate("e => e.getRootNode().activeElement === e")
    expect(launcher).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("Enter")  # reopening keeps the conversation
    expect(page.locator(".cb-bot")).to_have_count(2)


def test_english_interface_and_language_toggle(page: Page, web_server: Server) -> None:
    agency_site(page, web_server, attrs='data-agency="aea-hsinchu" data-lang="en"')
    open_widget(page, "Open the chat assistant")
    expect(last_bot(page)).to_contain_text("Hello")
    reply = ask(page, "Can I pay by credit card?", "Type your question")
    assert reply["faq_id"] == "pay-credit-card" and reply["language"] == "en"
    expect(last_bot(page).locator(".cb-source")).to_contain_text("Source: ")
    expect(last_bot(page).get_by_role("button", name="Helpful", exact=True)).to_be_visible()
    page.get_by_role("button", name="切換為中文").click()
    expect(page.get_by_label(INPUT_ZH)).to_be_visible()
    expect(page.get_by_role("dialog")).to_have_attribute("lang", "zh-Hant-TW")
    expect(last_bot(page).locator(".cb-source")).to_contain_text("資料來源：")


def test_widget_works_cross_origin_on_an_agency_site(page: Page, web_server: Server, agency_origin: str) -> None:
    """The agency's page is on its own origin; the widget talks to the civicbot server it was loaded from."""
    page.goto(agency_origin + "/services.html")
    assert page.evaluate("location.origin") == agency_origin != web_server.base_url
    open_widget(page)
    with page.expect_request(lambda r: r.url.endswith("/api/chat")) as sent:
        ask(page, "可以刷卡繳嗎？")
    assert sent.value.url == f"{web_server.base_url}/api/chat"
    expect(last_bot(page).locator(".cb-source")).to_contain_text("新竹分署")
    # The host page's own CSS does not reach inside the widget.
    color = last_bot(page).locator(".cb-text").evaluate("e => getComputedStyle(e).color")
    assert color == "rgb(17, 24, 39)"


def test_conversation_survives_a_page_change(page: Page, web_server: Server) -> None:
    page.goto(web_server.base_url + "/")
    open_widget(page)
    ask(page, "可以刷卡繳嗎？")
    session = page.evaluate("sessionStorage.getItem('civicbot:session:aea-hsinchu')")
    assert re.fullmatch(r"[0-9a-f]{32}", session)
    page.reload()
    expect(page.get_by_role("dialog")).to_be_visible()
    expect(page.locator(".cb-bot")).to_have_count(2)
    expect(page.locator(".cb-user")).to_have_text(["您說：可以刷卡繳嗎？"])
    with page.expect_request(lambda r: r.url.endswith("/api/chat")) as sent:
        ask(page, "可以分期嗎")
    assert json.loads(sent.value.post_data or "{}")["session_id"] == session


def test_errors_and_limits_get_a_polite_message(page: Page, web_server: Server) -> None:
    page.goto(web_server.base_url + "/")
    open_widget(page)
    box = page.get_by_label(INPUT_ZH)
    expect(box).to_have_attribute("maxlength", "2000")
    box.fill("繳" * 2000)
    expect(page.locator("#cb-counter")).to_contain_text("2000 / 2000 字 — 訊息最多 2000 字")
    box.fill("")
    page.route("**/api/chat", lambda route: route.fulfill(status=500, body="boom"))
    ask(page, "可以刷卡繳嗎？")
    expect(last_bot(page)).to_contain_text("抱歉，系統暫時無法回應，請稍後再試。")
    page.unroute("**/api/chat")
    page.route(
        "**/api/chat",
        lambda route: route.fulfill(status=422, content_type="application/json", body='{"detail": "bad"}'),
    )
    ask(page, "可以刷卡繳嗎？")
    expect(last_bot(page)).to_contain_text("抱歉，這則訊息無法處理")
    page.unroute("**/api/chat")
    page.route("**/api/chat", lambda route: route.abort("internetdisconnected"))
    box.fill("可以刷卡繳嗎？")
    box.press("Enter")
    expect(page.locator(".cb-bot")).to_have_count(4)
    expect(last_bot(page)).to_contain_text("連線失敗")
    # The real server's answer to text that is only control characters is a 4xx, shown politely too.
    page.unroute("**/api/chat")
    ask(page, "\u0007\u0008")
    expect(last_bot(page)).to_contain_text("抱歉，這則訊息無法處理")


CONTRAST_JS = """
root => {
  const lum = c => { const [r, g, b] = c.match(/[\\d.]+/g).slice(0, 3).map(Number).map(v => {
    v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const opaque = c => { const m = c.match(/[\\d.]+/g); return m && (m.length < 4 || Number(m[3]) === 1); };
  const background = el => {
    for (let n = el; n; n = n.parentElement || (n.getRootNode() && n.getRootNode().host)) {
      const bg = getComputedStyle(n).backgroundColor;
      if (opaque(bg)) return bg;
    }
    return "rgb(255, 255, 255)";
  };
  const out = [];
  for (const el of root.querySelectorAll("*")) {
    const text = [...el.childNodes].filter(n => n.nodeType === 3).map(n => n.data.trim()).join("");
    if (!text || !el.getClientRects().length || el.closest(".cb-sr")) continue;
    const fg = getComputedStyle(el).color, bg = background(el);
    const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    out.push({ text: text.slice(0, 20), ratio: (a + 0.05) / (b + 0.05), fg, bg });
  }
  return out;
}
"""


def test_accessibility_basics(page: Page, web_server: Server) -> None:
    page.goto(web_server.base_url + "/")
    launcher = page.get_by_role("button", name=LAUNCHER_ZH)
    expect(launcher).to_have_attribute("aria-expanded", "false")
    open_widget(page)
    ask(page, "可以刷卡繳嗎？")
    dialog = page.get_by_role("dialog", name="新竹分署線上客服")
    expect(dialog).to_be_visible()
    log = dialog.get_by_role("log")
    expect(log).to_have_attribute("aria-live", "polite")
    expect(dialog.get_by_role("textbox", name=INPUT_ZH)).to_be_visible()
    for button in dialog.get_by_role("button").all():  # every button has an accessible name
        name = button.evaluate("e => (e.getAttribute('aria-label') || e.textContent).trim()")
        assert name, button.evaluate("e => e.outerHTML")
    # Screen readers hear who said what.
    expect(page.locator(".cb-user .cb-sr").first).to_have_text("您說：")
    host = page.locator("#civicbot-widget")
    ratios = host.evaluate(f"h => ({CONTRAST_JS})(h.shadowRoot)")
    low = [r for r in ratios if r["ratio"] < 4.5]
    assert ratios and not low, f"text below 4.5:1 contrast: {low}"
