"""Editorial records: the change history of knowledge-base content and what a resolution did."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

# What an editor (or `faq load`) did; one ChangeRecord per action and entry.
ACTIONS = ("load", "create", "edit", "publish", "retire", "attach", "draft_from_cluster", "dismiss")


@dataclass(frozen=True)
class ChangeRecord:
    """One recorded change: who, when, what, on which entry, and the entry before and after (plain data)."""

    editor: str
    action: str
    created_at: dt.datetime
    entry_id: str | None = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    details: dict[str, Any] = field(default_factory=dict)  # e.g. unanswered question ids, skipped variants
    content_version: int | None = None  # the content version this change produced
    id: int | None = None
