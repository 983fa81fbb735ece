"""Field-level differences between two recorded versions of an entry (the history's before/after plain data)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Fields shown one value per line; their diff lists the lines removed and added.
LINE_FIELDS = ("variants", "sources")


@dataclass(frozen=True)
class FieldChange:
    """One field that differs: its readable name, the old and new values, and for line fields the lines that moved."""

    field: str
    before: str | None
    after: str | None
    removed: tuple[str, ...] = ()
    added: tuple[str, ...] = ()

    @property
    def lines(self) -> bool:
        """True for one-value-per-line fields (variants, sources)."""
        return self.field.rsplit(" ", 1)[-1] in LINE_FIELDS


def flatten(entry: Mapping[str, Any] | None) -> dict[str, str]:
    """An entry's plain data as readable field name -> text, in the entry's own order."""
    if not entry:
        return {}
    question = entry.get("question") or {}
    out = {
        "id": str(entry.get("id") or ""),
        "topic": str(entry.get("topic") or ""),
        "question zh": str(question.get("zh") or ""),
        "question en": str(question.get("en") or ""),
        "variants": "\n".join(str(v) for v in entry.get("variants") or ()),
        "status": str(entry.get("status") or ""),
        "last_reviewed": str(entry.get("last_reviewed") or ""),
    }
    for n, block in enumerate(entry.get("answers") or (), start=1):
        sources = block.get("source") or block.get("sources") or ()
        out |= {
            f"answer #{n} agencies": ", ".join(str(a) for a in block.get("agencies") or ()),
            f"answer #{n} zh": str(block.get("zh") or ""),
            f"answer #{n} en": str(block.get("en") or ""),
            f"answer #{n} sources": "\n".join(f"{s.get('document', '')} | {s.get('section', '')}" for s in sources),
        }
    return out


def field_changes(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> list[FieldChange]:
    """The fields that differ between two versions (for a created entry: every field that has a value)."""
    old, new = flatten(before), flatten(after)
    changes = []
    for name in [*new, *(k for k in old if k not in new)]:
        was, now = old.get(name) or None, new.get(name) or None
        if was == now:
            continue
        change = FieldChange(name, was, now)
        if change.lines:
            old_lines, new_lines = (was or "").splitlines(), (now or "").splitlines()
            removed = tuple(line for line in old_lines if line not in new_lines)
            added = tuple(line for line in new_lines if line not in old_lines)
            change = FieldChange(name, was, now, removed, added)
        changes.append(change)
    return changes
