"""Read the editor-maintained YAML knowledge base (`faq/`) into domain objects, reporting problems."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.domain.model import (
    STATUSES,
    Agency,
    AnswerBlock,
    FaqEntry,
    KnowledgeBase,
    Lexicon,
    OutOfScopeCategory,
    Source,
)

AGENCIES_FILE = "agencies.yaml"
LEXICON_FILE = "lexicon.yaml"
OUT_OF_SCOPE_FILE = "out_of_scope.yaml"
_SPECIAL = {AGENCIES_FILE, LEXICON_FILE, OUT_OF_SCOPE_FILE}


@dataclass
class LoadReport:
    """A loaded knowledge base plus the problems found while reading it (file: message)."""

    kb: KnowledgeBase
    problems: list[str] = field(default_factory=list)
    entry_files: dict[str, str] = field(default_factory=dict)  # entry id -> file name


class KbFormatError(ValueError):
    """The knowledge base folder cannot be read at all."""


def _text(value: Any) -> str:
    """A YAML scalar as stripped text ('' for null)."""
    return "" if value is None else str(value).strip()


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise KbFormatError(f"{path.name}: cannot read YAML: {exc}") from exc


def load_agencies(faq_dir: Path) -> tuple[Agency, ...]:
    """Read agencies.yaml."""
    data = _read_yaml(faq_dir / AGENCIES_FILE) or {}
    out = []
    for raw in data.get("agencies", []):
        name, short = raw.get("name", {}), raw.get("short", {})
        out.append(
            Agency(
                code=_text(raw.get("code")),
                name_zh=_text(name.get("zh")),
                name_en=_text(name.get("en")),
                short_zh=_text(short.get("zh")),
                short_en=_text(short.get("en")),
                aliases=tuple(_text(a) for a in raw.get("aliases", []) if _text(a)),
                documents=tuple(_text(d) for d in raw.get("documents", []) if _text(d)),
            )
        )
    return tuple(out)


def load_lexicon(faq_dir: Path) -> Lexicon:
    """Read lexicon.yaml (optional)."""
    path = faq_dir / LEXICON_FILE
    if not path.exists():
        return Lexicon()
    data = _read_yaml(path) or {}
    return Lexicon(
        synonyms=tuple(tuple(_text(w) for w in group if _text(w)) for group in data.get("synonyms", [])),
        domain_words=tuple(_text(w) for w in data.get("domain_words", []) if _text(w)),
        stopwords=tuple(_text(w) for w in data.get("stopwords", []) if _text(w)),
    )


def load_out_of_scope(faq_dir: Path) -> tuple[OutOfScopeCategory, ...]:
    """Read out_of_scope.yaml (optional)."""
    path = faq_dir / OUT_OF_SCOPE_FILE
    if not path.exists():
        return ()
    data = _read_yaml(path) or {}
    return tuple(
        OutOfScopeCategory(
            category=_text(c.get("category")),
            note=_text(c.get("note")),
            examples=tuple(_text(e) for e in c.get("examples", []) if _text(e)),
        )
        for c in data.get("out_of_scope", [])
    )


def _parse_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(_text(value)) if value else None
    except ValueError:
        return None


def parse_entry(raw: dict[str, Any]) -> FaqEntry:
    """Build an entry from its YAML mapping (missing parts become empty; validation reports them)."""
    question = raw.get("question") or {}
    blocks = []
    for b in raw.get("answers") or []:
        sources = tuple(
            Source(document=_text(s.get("document")), section=_text(s.get("section")))
            for s in (b.get("source") or [])
            if isinstance(s, dict)
        )
        agencies = b.get("agencies") or []
        blocks.append(
            AnswerBlock(
                agencies=tuple(_text(a) for a in (agencies if isinstance(agencies, list) else [agencies])),
                zh=_text(b.get("zh")),
                en=_text(b.get("en")) or None,
                sources=sources,
            )
        )
    return FaqEntry(
        id=_text(raw.get("id")),
        topic=_text(raw.get("topic")),
        question_zh=_text(question.get("zh")),
        question_en=_text(question.get("en")) or None,
        variants=tuple(_text(v) for v in (raw.get("variants") or []) if _text(v)),
        answers=tuple(blocks),
        status=_text(raw.get("status")) or "published",
        last_reviewed=_parse_date(raw.get("last_reviewed")),
    )


def load_kb(faq_dir: Path) -> LoadReport:
    """Read every file of the knowledge base folder."""
    faq_dir = Path(faq_dir)
    if not (faq_dir / AGENCIES_FILE).exists():
        raise KbFormatError(f"{faq_dir}: no {AGENCIES_FILE} (is this a knowledge-base folder?)")
    problems: list[str] = []
    entries: list[FaqEntry] = []
    entry_files: dict[str, str] = {}
    for path in sorted(faq_dir.glob("*.yaml")):
        if path.name in _SPECIAL:
            continue
        data = _read_yaml(path)
        if not isinstance(data, dict) or not isinstance(data.get("entries"), list):
            problems.append(f"{path.name}: expected a mapping with an 'entries' list")
            continue
        for i, raw in enumerate(data["entries"]):
            if not isinstance(raw, dict):
                problems.append(f"{path.name}: entry #{i + 1} is not a mapping")
                continue
            entry = parse_entry(raw)
            entries.append(entry)
            entry_files.setdefault(entry.id, path.name)
            if entry.status not in STATUSES:
                problems.append(f"{path.name}: {entry.id}: unknown status {entry.status!r}")
    kb = KnowledgeBase(
        agencies=load_agencies(faq_dir),
        entries=tuple(entries),
        out_of_scope=load_out_of_scope(faq_dir),
        lexicon=load_lexicon(faq_dir),
    )
    return LoadReport(kb, problems, entry_files)
