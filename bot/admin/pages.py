"""HTML for the admin console, built from Python strings; every stored or typed value goes through `e()`."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

from bot.domain.results import AnswerResult
from bot.services.clustering import Cluster
from bot.services.users import ROLES, User

STYLE = """
body{font-family:system-ui,"Noto Sans TC",sans-serif;margin:0;color:#1b1b1b;background:#f6f7f9}
header{background:#123c69;color:#fff;padding:.6rem 1rem;display:flex;gap:1rem;align-items:center;flex-wrap:wrap}
header a{color:#fff}header form{margin-left:auto}main{padding:1rem;max-width:70rem}
section.card{background:#fff;border:1px solid #d5d9e0;border-radius:6px;padding:.8rem 1rem;margin:.8rem 0}
table{border-collapse:collapse}td,th{border-bottom:1px solid #e3e6ea;padding:.25rem .5rem;text-align:left}
.muted{color:#5a6270;font-size:.9em}.error{color:#a40000}.notice{color:#0b6b2e}
label{margin-right:.5rem}input,select,button{font:inherit;margin:.15rem}
"""


def e(value: object) -> str:
    """Escape for HTML text and attribute values."""
    return html.escape(str(value), quote=True)


def csrf_field(token: str) -> str:
    """The hidden CSRF input every form carries."""
    return f'<input type="hidden" name="csrf_token" value="{e(token)}">'


def layout(title: str, body: str, *, user: User | None = None, csrf: str = "") -> str:
    """The page shell: navigation by role, sign-out form, no scripts and nothing from another origin."""
    nav = ""
    if user is not None:
        links = [("/admin/search", "快速查詢 Search"), ("/admin/analytics", "統計 Analytics")]
        if user.can("editor"):
            links[:0] = [
                ("/admin/unanswered", "未回答問題 Unanswered"),
                ("/admin/entries", "條目 Entries"),
                ("/admin/feedback", "負評 Feedback"),
                ("/admin/history", "歷程 History"),
            ]
        if user.can("admin"):
            links.append(("/admin/users", "帳號 Users"))
        nav = " ".join(f'<a href="{href}">{e(text)}</a>' for href, text in links)
        nav += (
            f'<form method="post" action="/admin/logout">{csrf_field(csrf)}'
            f'<span>{e(user.username)}（{e(user.role)}）</span> <button type="submit">登出 Sign out</button></form>'
        )
    return (
        '<!doctype html><html lang="zh-TW"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{e(title)} · civicbot 管理</title><style>{STYLE}</style></head>"
        f"<body><header><strong>civicbot 管理 Admin</strong>{nav}</header><main><h1>{e(title)}</h1>{body}</main>"
        "</body></html>"
    )


def message(text: str | None, *, error: bool = False) -> str:
    """A one-line notice or error."""
    if not text:
        return ""
    return f'<p class="{"error" if error else "notice"}" role="status">{e(text)}</p>'


def login_page(csrf: str, error: str | None = None) -> str:
    """The sign-in form."""
    body = (
        message(error, error=True)
        + f'<section class="card"><form method="post" action="/admin/login">{csrf_field(csrf)}'
        '<p><label for="username">帳號 Username</label>'
        '<input id="username" name="username" autocomplete="username" required></p>'
        '<p><label for="password">密碼 Password</label>'
        '<input id="password" name="password" type="password" autocomplete="current-password" required></p>'
        '<button type="submit">登入 Sign in</button></form></section>'
    )
    return layout("登入 Sign in", body)


def _counts(counts: dict[str, int]) -> str:
    return "、".join(f"{e(k)} ×{n}" for k, n in counts.items()) or "—"


def cluster_card(c: Cluster, *, can_edit: bool, csrf: str) -> str:
    """One cluster: what citizens asked, where and when, suggestions, and (for editors) the resolve form."""
    texts = "".join(f"<li>{e(t)}</li>" for t in c.texts[:5])
    suggestions = "".join(
        f"<li><code>{e(s.faq_id)}</code> <span class='muted'>{s.score:.2f} · {s.votes} 票</span></li>"
        for s in c.suggestions
    )
    out = (
        f'<section class="card cluster" id="cluster-{c.id}" data-cluster="{c.id}">'
        f"<h2>{e(c.representative)} <span class='muted'>×{c.count}</span></h2>"
        f"<p class='muted'>首次 first {e(c.first_seen.strftime('%Y-%m-%d %H:%M'))} · "
        f"最近 last {e(c.last_seen.strftime('%Y-%m-%d %H:%M'))} · 管道 {_counts(c.channels)} · "
        f"機關 {_counts(c.agencies)} · 原因 {_counts(c.reasons)}</p>"
        f"<ul class='texts'>{texts}</ul>"
        + (f"<p>建議條目 Suggested:</p><ul class='suggestions'>{suggestions}</ul>" if suggestions else "")
    )
    if can_edit:
        ids = "".join(f'<input type="hidden" name="qid" value="{q}">' for q in c.member_ids)
        first = c.suggestions[0].faq_id if c.suggestions else ""
        out += (
            f'<form method="post" action="/admin/unanswered/{c.id}/resolve" class="resolve">{csrf_field(csrf)}{ids}'
            f'<label>條目 FAQ id <input name="faq_id" value="{e(first)}" list="faqs-{c.id}"></label>'
            f'<datalist id="faqs-{c.id}">'
            + "".join(f'<option value="{e(s.faq_id)}">' for s in c.suggestions)
            + "</datalist>"
            '<button type="submit" name="action" value="attach">加入此條目 Attach</button>'
            '<button type="submit" name="action" value="new">建立草稿 Draft new</button>'
            '<button type="submit" name="action" value="dismiss">不處理 Dismiss</button></form>'
        )
    return out + "</section>"


def unanswered_page(clusters: Sequence[Cluster], *, user: User, csrf: str, note: str | None, error: str | None) -> str:
    """The unanswered queue, biggest cluster first."""
    cards = "".join(cluster_card(c, can_edit=user.can("editor"), csrf=csrf) for c in clusters)
    body = message(note) + message(error, error=True) + (cards or "<p>沒有待處理的問題。 Nothing open.</p>")
    return layout("未回答問題 Unanswered questions", body, user=user, csrf=csrf)


def search_page(query: str, results: Iterable[AnswerResult], *, user: User, csrf: str, error: str | None) -> str:
    """Staff quick search: the best answers with scores and sources."""
    rows = []
    for r in results:
        sources = "".join(f"<li>{e(s.document)} {e(s.section)}</li>" for s in r.sources)
        rows.append(
            f'<section class="card result" data-faq="{e(r.faq_id or "")}"><h2>{e(r.canonical_question or "")}</h2>'
            f"<p class='muted'><code>{e(r.faq_id or '')}</code> · 信心 score {r.score:.2f}</p>"
            f"<p>{e(r.answer or '')}</p><ul class='sources'>{sources}</ul></section>"
        )
    form = (
        '<form method="get" action="/admin/search"><label for="q">問題 Question</label>'
        f'<input id="q" name="q" value="{e(query)}" size="40" maxlength="300"> '
        '<button type="submit">查詢 Search</button></form>'
    )
    listed = "".join(rows) or ("<p>沒有相符的條目。 No match.</p>" if query else "")
    return layout("快速查詢 Quick search", form + message(error, error=True) + listed, user=user, csrf=csrf)


def users_page(users: Sequence[User], *, user: User, csrf: str, note: str | None, error: str | None) -> str:
    """Accounts, and the form to add one (admins)."""
    rows = "".join(
        f"<tr><td>{e(u.username)}</td><td>{e(u.role)}</td><td>{e(u.created_at.strftime('%Y-%m-%d'))}</td>"
        f"<td>{'停用 disabled' if u.disabled else '啟用 active'}</td><td>"
        f'<form method="post" action="/admin/users/{e(u.username)}/{"enable" if u.disabled else "disable"}">'
        f'{csrf_field(csrf)}<button type="submit">{"啟用 Enable" if u.disabled else "停用 Disable"}</button>'
        "</form></td></tr>"
        for u in users
    )
    options = "".join(f'<option value="{r}">{r}</option>' for r in ROLES)
    body = (
        message(note)
        + message(error, error=True)
        + f"<table><tr><th>帳號</th><th>角色 Role</th><th>建立 Created</th><th>狀態</th><th></th></tr>{rows}</table>"
        f'<section class="card"><h2>新增帳號 Add user</h2><form method="post" action="/admin/users">'
        f'{csrf_field(csrf)}<label>帳號 <input name="username" required></label>'
        f'<label>角色 <select name="role">{options}</select></label>'
        '<label>密碼 <input name="password" type="password" autocomplete="new-password" required></label>'
        '<button type="submit">新增 Add</button></form></section>'
    )
    return layout("帳號管理 Users", body, user=user, csrf=csrf)
