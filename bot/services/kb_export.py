"""`faq export`: write the stored knowledge base back to the faq/ YAML files, stably, so git stays the source."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.domain.model import Agency, FaqEntry, KnowledgeBase, Lexicon, OutOfScopeCategory
from bot.services.editing import guess_file
from bot.services.kb_files import (
    AGENCIES_FILE,
    LEXICON_FILE,
    OUT_OF_SCOPE_FILE,
    KbFormatError,
    load_agencies,
    load_lexicon,
    load_out_of_scope,
    parse_entry,
)

_SPECIAL = {AGENCIES_FILE, LEXICON_FILE, OUT_OF_SCOPE_FILE}


@dataclass
class ExportReport:
    """Which files `faq export` wrote, left alone (content already equal) or removed (no entries left)."""

    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def export_kb(kb: KnowledgeBase, files: dict[str, str], target: Path) -> ExportReport:
    """Write `kb` into `target` (entry id -> file from `files`, in folder order; new entries by topic).

    A file whose content already equals the stored content is left byte-for-byte alone, so exporting right
    after a load changes nothing in git; a rewritten file keeps its leading comment block. Loading the
    export reproduces the stored content exactly.
    """
    target.mkdir(parents=True, exist_ok=True)
    report = ExportReport()
    planned = plan_entry_files(kb, files)
    for name, entries in planned.items():
        _write_if_changed(target / name, entries, _same_entries, _entries_yaml, report)
    agencies = _agency_order(kb.agencies, target / AGENCIES_FILE)
    _write_if_changed(target / AGENCIES_FILE, agencies, _same_agencies, _agencies_yaml, report)
    _write_if_changed(target / LEXICON_FILE, kb.lexicon, _same_lexicon, _lexicon_yaml, report)
    _write_if_changed(target / OUT_OF_SCOPE_FILE, kb.out_of_scope, _same_oos, _oos_yaml, report)
    for path in sorted(target.glob("*.yaml")):
        if path.name in _SPECIAL or path.name in planned:
            continue
        data = _read(path)
        if isinstance(data, dict) and "entries" in data:  # an entry file whose entries all moved elsewhere
            path.unlink()
            report.removed.append(path.name)
    return report


def plan_entry_files(kb: KnowledgeBase, files: dict[str, str]) -> dict[str, list[FaqEntry]]:
    """File name -> its entries in order: the loaded folder's order first, then new entries by id; files sorted."""
    order = {entry_id: i for i, entry_id in enumerate(files)}
    by_file: dict[str, list[FaqEntry]] = defaultdict(list)
    for entry in sorted(kb.entries, key=lambda e: (order.get(e.id, len(order)), e.id)):
        by_file[files.get(entry.id) or guess_file(files, kb, entry.topic)].append(entry)
    return {name: by_file[name] for name in sorted(by_file)}


def _read(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None


def _write_if_changed(path: Path, content: Any, same: Any, render: Any, report: ExportReport) -> None:
    header = ""
    if path.exists():
        try:
            if same(path, content):
                report.unchanged.append(path.name)
                return
        except (KbFormatError, AttributeError, TypeError, ValueError):
            pass  # unreadable or foreign content: rewrite it
        header = _leading_comments(path.read_text(encoding="utf-8"))
    path.write_text(header + render(content), encoding="utf-8")
    report.written.append(path.name)


def _leading_comments(text: str) -> str:
    """The comment block a file starts with (kept when the file is rewritten)."""
    lines: list[str] = []
    for line in text.splitlines(keepends=True):
        if not line.startswith("#"):
            break
        lines.append(line)
    return "".join(lines)


def _same_entries(path: Path, entries: list[FaqEntry]) -> bool:
    data = _read(path)
    if not isinstance(data, dict) or not isinstance(data.get("entries"), list):
        return False
    return [parse_entry(raw) for raw in data["entries"]] == entries


def _same_agencies(path: Path, agencies: tuple[Agency, ...]) -> bool:
    return load_agencies(path.parent) == agencies


def _same_lexicon(path: Path, lexicon: Lexicon) -> bool:
    return load_lexicon(path.parent) == lexicon


def _same_oos(path: Path, categories: tuple[OutOfScopeCategory, ...]) -> bool:
    return load_out_of_scope(path.parent) == categories


def _agency_order(agencies: tuple[Agency, ...], existing: Path) -> tuple[Agency, ...]:
    """The existing file's order for known codes, then the rest by code (the store keeps them by code)."""
    known: list[str] = []
    if existing.exists():
        try:
            known = [a.code for a in load_agencies(existing.parent)]
        except KbFormatError:
            known = []
    rank = {code: i for i, code in enumerate(known)}
    return tuple(sorted(agencies, key=lambda a: (rank.get(a.code, len(rank)), a.code)))


# --- rendering: the hand-written files' layout (block lists, short lists in flow style) ------------------


def scalar(value: Any) -> str:
    """One YAML scalar on one line, quoted only when YAML needs it."""
    out = yaml.safe_dump(value, allow_unicode=True, width=1_000_000, default_flow_style=True)
    return out.removesuffix("\n").removesuffix("\n...").strip()


def _flow(values: tuple[str, ...] | list[str]) -> str:
    return "[" + ", ".join(scalar(v) for v in values) + "]"


def _entries_yaml(entries: list[FaqEntry]) -> str:
    if not entries:
        return "entries: []\n"
    blocks = []
    for e in entries:
        lines = [f"  - id: {scalar(e.id)}", f"    topic: {scalar(e.topic)}", "    question:"]
        lines.append(f"      zh: {scalar(e.question_zh)}")
        if e.question_en:
            lines.append(f"      en: {scalar(e.question_en)}")
        lines.append("    variants:" if e.variants else "    variants: []")
        lines.extend(f"      - {scalar(v)}" for v in e.variants)
        lines.append("    answers:" if e.answers else "    answers: []")
        for b in e.answers:
            lines.append(f"      - agencies: {_flow(b.agencies)}")
            lines.append(f"        zh: {scalar(b.zh)}")
            if b.en:
                lines.append(f"        en: {scalar(b.en)}")
            lines.append("        source:" if b.sources else "        source: []")
            for s in b.sources:
                lines.append(f"          - document: {scalar(s.document)}")
                lines.append(f"            section: {scalar(s.section)}")
        lines.append(f"    status: {scalar(e.status)}")
        if e.last_reviewed is not None:
            lines.append(f"    last_reviewed: {e.last_reviewed.isoformat()}")
        blocks.append("\n".join(lines) + "\n")
    return "entries:\n" + "\n".join(blocks)


def _agencies_yaml(agencies: tuple[Agency, ...]) -> str:
    lines = ["agencies:"]
    for a in agencies:
        lines.append(f"  - code: {scalar(a.code)}")
        lines.append(f"    name: {{zh: {scalar(a.name_zh)}, en: {scalar(a.name_en)}}}")
        lines.append(f"    short: {{zh: {scalar(a.short_zh)}, en: {scalar(a.short_en)}}}")
        lines.append(f"    aliases: {_flow(a.aliases)}")
        lines.append(f"    documents: {_flow(a.documents)}")
    return "\n".join(lines) + "\n"


def _lexicon_yaml(lexicon: Lexicon) -> str:
    lines = ["synonyms:" if lexicon.synonyms else "synonyms: []"]
    lines.extend(f"  - {_flow(group)}" for group in lexicon.synonyms)
    lines.append("domain_words:" if lexicon.domain_words else "domain_words: []")
    lines.extend(f"  - {scalar(w)}" for w in lexicon.domain_words)
    lines.append(f"stopwords: {_flow(lexicon.stopwords)}")
    return "\n".join(lines) + "\n"


def _oos_yaml(categories: tuple[OutOfScopeCategory, ...]) -> str:
    if not categories:
        return "out_of_scope: []\n"
    blocks = []
    for c in categories:
        lines = [f"  - category: {scalar(c.category)}", f"    note: {scalar(c.note)}"]
        lines.append("    examples:" if c.examples else "    examples: []")
        lines.extend(f"      - {scalar(x)}" for x in c.examples)
        blocks.append("\n".join(lines) + "\n")
    return "out_of_scope:\n" + "\n".join(blocks)
