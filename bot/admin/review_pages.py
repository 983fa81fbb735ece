"""HTML for what editors look back on: the change history (field by field, before → after) and the not-helpful queue."""

from __future__ import annotations

from collections.abc import Sequence

from bot.admin.content_pages import STYLE, entry_url, when
from bot.admin.pages import csrf_field, e, layout, message
from bot.domain.editorial import ChangeRecord
from bot.domain.model import KnowledgeBase
from bot.services.entry_diff import FieldChange, field_changes
from bot.services.feedback_queue import FeedbackGroup
from bot.services.users import User

ACTION_LABELS = {
    "load": "載入 load",
    "create": "建立 create",
    "edit": "編輯 edit",
    "publish": "發布 publish",
    "retire": "停用 retire",
    "attach": "加入問法 attach",
    "draft_from_cluster": "由未回答問題建立草稿 draft from unanswered",
    "dismiss": "不處理 dismiss",
}


def _value(text: str | None) -> str:
    return f"<pre>{e(text)}</pre>" if text else '<span class="muted">（空 empty）</span>'


def _change_row(change: FieldChange) -> str:
    head = f'<tr data-field="{e(change.field)}"><th>{e(change.field)}</th>'
    if change.lines and change.before and change.after:  # one value per line: only the lines that moved
        removed = "".join(f"<del>− {e(line)}</del><br>" for line in change.removed)
        added = "".join(f"<ins>+ {e(line)}</ins><br>" for line in change.added)
        if not removed and not added:
            removed = added = '<span class="muted">順序變更 reordered</span>'
        return f"{head}<td>{removed}</td><td>{added}</td></tr>"
    before = f"<del>{_value(change.before)}</del>" if change.before else _value(None)
    after = f"<ins>{_value(change.after)}</ins>" if change.after else _value(None)
    return f"{head}<td>{before}</td><td>{after}</td></tr>"


def change_card(record: ChangeRecord) -> str:
    """One recorded change: who, when, what, and the fields it changed."""
    entry = (
        f' <a href="{e(entry_url(record.entry_id))}"><code>{e(record.entry_id)}</code></a>' if record.entry_id else ""
    )
    version = f" · 版本 version {record.content_version}" if record.content_version is not None else ""
    details = "".join(f"<li>{e(k)}: {e(v)}</li>" for k, v in record.details.items())
    rows = "".join(_change_row(c) for c in field_changes(record.before, record.after))
    table = (
        f'<table class="diff"><tr><th>欄位 Field</th><th>修改前 Before</th><th>修改後 After</th></tr>{rows}</table>'
        if rows
        else '<p class="muted">內容未變 No content change.</p>'
    )
    return (
        f'<section class="card change" data-change="{record.id}" data-action="{e(record.action)}">'
        f"<h2>{e(ACTION_LABELS.get(record.action, record.action))}{entry}</h2>"
        f'<p class="muted">{e(when(record.created_at))} · <span class="editor">{e(record.editor)}</span>{version}</p>'
        + (f'<ul class="muted">{details}</ul>' if details else "")
        + table
        + "</section>"
    )


def history_page(records: Sequence[ChangeRecord], *, entry_id: str | None, user: User, csrf: str) -> str:
    """Recorded changes, newest first: all recent ones, or one entry's."""
    if entry_id is None:
        title, intro = "最近修改 Recent changes", ""
    else:
        title = f"修改歷程 History of {entry_id}"
        intro = f'<p><a href="{e(entry_url(entry_id))}">編輯此條目 Edit this entry</a></p>'
    cards = "".join(change_card(r) for r in records) or "<p>沒有紀錄。 No changes recorded.</p>"
    return layout(title, STYLE + intro + cards, user=user, csrf=csrf)


def _group_card(group: FeedbackGroup, kb: KnowledgeBase, csrf: str) -> str:
    entry = kb.entry(group.faq_id)
    rows = "".join(
        f'<tr class="rating" data-feedback="{item.id}"><td><input type="checkbox" name="fid" value="{item.id}" '
        f'checked aria-label="已檢視 reviewed {item.id}"></td><td>{e(when(item.created_at))}</td>'
        f"<td>{e(item.channel)}</td><td>{e(item.agency or '—')}</td>"
        f'<td class="question">{e(item.question or "—")}</td><td>{e(item.comment or "")}</td></tr>'
        for item in group.items
    )
    return (
        f'<section class="card feedback" data-faq="{e(group.faq_id)}">'
        f'<h2><a href="{e(entry_url(group.faq_id))}"><code>{e(group.faq_id)}</code></a> '
        f"{e(entry.question_zh if entry else '')} <span class='muted'>×{group.count}</span></h2>"
        f'<form method="post" action="/admin/feedback/review">{csrf_field(csrf)}'
        "<table><tr><th></th><th>時間 Time</th><th>管道 Channel</th><th>機關 Agency</th>"
        f"<th>民眾的問題 Question asked</th><th>意見 Comment</th></tr>{rows}</table>"
        '<button type="submit">標記已檢視 Mark reviewed</button></form></section>'
    )


def feedback_page(
    groups: Sequence[FeedbackGroup], kb: KnowledgeBase, *, sort: str, user: User, csrf: str, note: str | None
) -> str:
    """Answers citizens rated not helpful, by entry, with the question each citizen asked."""
    options = "".join(
        f'<option value="{value}"{" selected" if value == sort else ""}>{text}</option>'
        for value, text in (("count", "負評最多 most rated down"), ("recent", "最新 most recent"))
    )
    sorter = (
        '<form method="get" action="/admin/feedback"><label for="sort">排序 Sort</label>'
        f'<select id="sort" name="sort">{options}</select> <button type="submit">排序 Sort</button></form>'
    )
    cards = "".join(_group_card(g, kb, csrf) for g in groups) or "<p>沒有待檢視的負評。 Nothing to review.</p>"
    total = sum(g.count for g in groups)
    intro = f'<p class="muted">待檢視 {total} 則 open ratings; 問題已遮蔽個資 questions are masked.</p>'
    return layout("負評 Not-helpful answers", STYLE + message(note) + sorter + intro + cards, user=user, csrf=csrf)
