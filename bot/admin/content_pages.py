"""HTML for the console's content pages: the entry list and the entry form (every value goes through `e()`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from urllib.parse import quote

from bot.admin.entry_form import BlockForm, EntryForm
from bot.admin.pages import csrf_field, e, layout, message
from bot.domain.model import STATUSES, FaqEntry, KnowledgeBase
from bot.services.users import User

STATUS_LABELS = {"published": "已發布 published", "draft": "草稿 draft", "retired": "已停用 retired"}
FILTERS = ("all", *STATUSES)
STYLE = (
    "<style>textarea{font:inherit;width:100%;max-width:60rem}fieldset{margin:.6rem 0;border:1px solid #d5d9e0}"
    ".problems li{margin:.2rem 0}ins{background:#e3f6e8;text-decoration:none}del{background:#fbe4e4}"
    "td pre{white-space:pre-wrap;margin:0;font:inherit}.status-draft{color:#8a5300}.status-retired{color:#5a6270}"
    ".inline{display:inline}</style>"
)


def entry_url(entry_id: str, suffix: str = "") -> str:
    """The console address of one entry (its edit form, or e.g. "/history")."""
    return f"/admin/entries/{quote(entry_id, safe='')}{suffix}"


def when(moment: dt.datetime) -> str:
    """A stored time for the page (stored in UTC; SQLite hands it back without a zone)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def status_label(status: str) -> str:
    """A status as shown to editors."""
    return f'<span class="status-{e(status)}">{e(STATUS_LABELS.get(status, status))}</span>'


def problems_list(problems: Sequence[str]) -> str:
    """Why a change was refused, one line each."""
    if not problems:
        return ""
    items = "".join(f"<li>{e(p)}</li>" for p in problems)
    return f'<div class="error problems" role="alert"><p>未儲存 Not saved:</p><ul>{items}</ul></div>'


def not_found_page(text: str, *, user: User, csrf: str) -> str:
    """A 404 inside the console."""
    body = message(text, error=True) + '<p><a href="/admin/entries">回條目清單 Back to entries</a></p>'
    return layout("找不到 Not found", body, user=user, csrf=csrf)


def entries_page(kb: KnowledgeBase, *, status: str, query: str, user: User, csrf: str, note: str | None = None) -> str:
    """Every stored entry with a status filter and a text filter on id and question."""
    counts = {s: sum(1 for x in kb.entries if x.status == s) for s in STATUSES} | {"all": len(kb.entries)}
    options = "".join(
        f'<option value="{s}"{" selected" if s == status else ""}>{e(STATUS_LABELS.get(s, "全部 all"))} ({counts[s]})'
        "</option>"
        for s in FILTERS
    )
    needle = query.casefold()
    shown = [
        x
        for x in kb.entries
        if (status == "all" or x.status == status)
        and (not needle or needle in x.id.casefold() or needle in x.question_zh.casefold())
    ]
    rows = "".join(
        f'<tr class="entry" data-entry="{e(x.id)}" data-status="{e(x.status)}">'
        f'<td><a href="{e(entry_url(x.id))}"><code>{e(x.id)}</code></a></td><td>{e(x.topic)}</td>'
        f"<td>{e(x.question_zh)}</td><td>{status_label(x.status)}</td>"
        f"<td>{e(x.last_reviewed.isoformat() if x.last_reviewed else '—')}</td><td>{e(', '.join(x.agencies))}</td>"
        f'<td><a href="{e(entry_url(x.id))}">編輯 Edit</a> · <a href="{e(entry_url(x.id, "/history"))}">'
        "歷程 History</a></td></tr>"
        for x in shown
    )
    body = (
        message(note) + '<form method="get" action="/admin/entries"><label for="status">狀態 Status</label>'
        f'<select id="status" name="status">{options}</select> <label for="q">條目或問題 Id or question</label>'
        f'<input id="q" name="q" value="{e(query)}" size="30" maxlength="200"> '
        '<button type="submit">篩選 Filter</button>'
        '</form><p><a href="/admin/entries/new">新增條目 New entry</a></p>'
        + (
            "<table><tr><th>條目 Id</th><th>主題 Topic</th><th>問題 Question</th><th>狀態 Status</th>"
            f"<th>最近審閱 Last reviewed</th><th>機關 Agencies</th><th></th></tr>{rows}</table>"
            if rows
            else "<p>沒有相符的條目。 No matching entries.</p>"
        )
    )
    return layout("條目 Entries", body, user=user, csrf=csrf)


def _block_fields(n: int, block: BlockForm, kb: KnowledgeBase) -> str:
    names = {a.code: a.short_zh for a in kb.agencies}
    boxes = "".join(
        f'<label><input type="checkbox" name="b{n}_agencies" value="{e(code)}"'
        f"{' checked' if code in block.agencies else ''}> {e(names.get(code, ''))} {e(code)}</label>"
        for code in [*names, *(c for c in block.agencies if c not in names)]
    )
    label = f"#{n + 1}"
    remove = (
        f'<p><label><input type="checkbox" name="b{n}_remove" value="1"{" checked" if block.remove else ""}> '
        f"刪除此區塊 Remove answer {label}</label></p>"
        if not block.empty
        else '<p class="muted">新增回答區塊：不需要就留白。 A new block: leave it empty if not needed.</p>'
    )
    return (
        f'<fieldset class="block" data-block="{n}"><legend>回答 Answer {label}</legend>'
        f"<p>機關 Agencies {label}: {boxes}</p>"
        f'<p><label for="b{n}-zh">中文回答 Answer (zh) {label}</label><br>'
        f'<textarea id="b{n}-zh" name="b{n}_zh" rows="4">{e(block.zh)}</textarea></p>'
        f'<p><label for="b{n}-en">英文回答 Answer (en) {label}</label><br>'
        f'<textarea id="b{n}-en" name="b{n}_en" rows="3">{e(block.en)}</textarea></p>'
        f'<p><label for="b{n}-sources">來源 Sources {label}</label> '
        '<span class="muted">每行一個「文件名稱 | 章節」 one "document title | section" per line (required)</span><br>'
        f'<textarea id="b{n}-sources" name="b{n}_sources" rows="2">{e(block.sources)}</textarea></p>'
        f"{remove}</fieldset>"
    )


def _status_forms(entry: FaqEntry, expected: str, csrf: str) -> str:
    """Publish (the review step) and retire, each a one-button form carrying the version the editor saw."""
    hidden = f'{csrf_field(csrf)}<input type="hidden" name="expected" value="{e(expected)}">'
    forms = []
    if entry.status != "published":
        label = "發布 Publish" if entry.status == "draft" else "重新發布 Republish"
        forms.append(
            f'<form method="post" action="{e(entry_url(entry.id, "/publish"))}" class="inline">{hidden}'
            f'<button type="submit">{label}</button></form>'
        )
    if entry.status != "retired":
        forms.append(
            f'<form method="post" action="{e(entry_url(entry.id, "/retire"))}" class="inline">{hidden}'
            '<button type="submit">停用 Retire</button></form>'
        )
    return " ".join(forms)


def entry_page(
    form: EntryForm,
    kb: KnowledgeBase,
    *,
    entry: FaqEntry | None,
    user: User,
    csrf: str,
    note: str | None = None,
    error: str | None = None,
    problems: Sequence[str] = (),
) -> str:
    """The create form (entry None) or the edit form of a stored entry, with its status and review actions."""
    topics = sorted({x.topic for x in kb.entries})
    if entry is None:
        action, title = "/admin/entries", "新增條目 New entry"
        head = (
            '<p class="muted">新條目先存為草稿，發布後才會用來回答。 '
            "New entries are saved as drafts; publish to go live.</p>"
            '<p><label for="entry-id">條目編號 Id</label> <input id="entry-id" name="id" '
            f'value="{e(form.id)}" required maxlength="100" pattern="[a-z0-9][a-z0-9\\-]*"> '
            '<span class="muted">小寫英數與 - lowercase letters, digits, "-"; never reused</span></p>'
        )
        status = ""
    else:
        action, title = entry_url(entry.id), f"編輯條目 Edit {entry.id}"
        head = f'<input type="hidden" name="expected" value="{e(form.expected)}">'
        status = (
            f'<section class="card"><p>狀態 Status: {status_label(entry.status)} · 最近審閱 Last reviewed: '
            f"{e(entry.last_reviewed.isoformat() if entry.last_reviewed else '—')} · "
            f'<a href="{e(entry_url(entry.id, "/history"))}">此條目的歷程 History of this entry</a></p>'
            f"<p>{_status_forms(entry, form.expected, csrf)}</p></section>"
        )
    blocks = "".join(_block_fields(n, b, kb) for n, b in enumerate(form.blocks))
    body = (
        STYLE
        + message(note)
        + message(error, error=True)
        + problems_list(problems)
        + status
        + f'<form method="post" action="{e(action)}" class="entry-form">{csrf_field(csrf)}{head}'
        f'<input type="hidden" name="blocks" value="{len(form.blocks)}">'
        f'<p><label for="topic">主題 Topic</label> <input id="topic" name="topic" value="{e(form.topic)}" '
        'list="topics" required maxlength="40"><datalist id="topics">'
        + "".join(f'<option value="{e(t)}">' for t in topics)
        + "</datalist></p>"
        f'<p><label for="question-zh">中文問題 Question (zh)</label><br><input id="question-zh" name="question_zh" '
        f'value="{e(form.question_zh)}" size="60" required></p>'
        f'<p><label for="question-en">英文問題 Question (en)</label><br><input id="question-en" name="question_en" '
        f'value="{e(form.question_en)}" size="60"></p>'
        '<p><label for="variants">問法 Variants</label> <span class="muted">每行一個 one per line; 發布需至少 5 個 '
        'publishing needs 5</span><br><textarea id="variants" name="variants" rows="6">'
        f"{e(form.variants)}</textarea></p>"
        f"{blocks}"
        '<p><button type="submit">儲存 Save</button> '
        '<button type="submit" name="add_block" value="1" formnovalidate>'
        "多一個回答區塊 Add an answer block</button></p></form>"
    )
    return layout(title, body, user=user, csrf=csrf)
