"""Plain-data forms of knowledge-base types (for hashing, storage and the YAML files)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from bot.domain.model import AnswerBlock, FaqEntry, Source


def entry_to_dict(entry: FaqEntry) -> dict[str, Any]:
    """The entry as the YAML file writes it (stable key order)."""
    question: dict[str, str] = {"zh": entry.question_zh}
    if entry.question_en:
        question["en"] = entry.question_en
    return {
        "id": entry.id,
        "topic": entry.topic,
        "question": question,
        "variants": list(entry.variants),
        "answers": [block_to_dict(b) for b in entry.answers],
        "status": entry.status,
        "last_reviewed": entry.last_reviewed.isoformat() if entry.last_reviewed else None,
    }


def block_to_dict(block: AnswerBlock) -> dict[str, Any]:
    """An answer block as plain data."""
    out: dict[str, Any] = {"agencies": list(block.agencies), "zh": block.zh}
    if block.en:
        out["en"] = block.en
    out["source"] = [source_to_dict(s) for s in block.sources]
    return out


def source_to_dict(source: Source) -> dict[str, str]:
    """A source as plain data."""
    return {"document": source.document, "section": source.section}


def content_hash(entry: FaqEntry) -> str:
    """A stable fingerprint of everything an editor can change in an entry."""
    payload = json.dumps(entry_to_dict(entry), ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
