"""The console's entry form: what an editor typed (kept as typed, to show again) and the FaqEntry it describes."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass

from bot.domain.model import AnswerBlock, FaqEntry, Source
from bot.domain.serialize import content_hash

MAX_BLOCKS = 20  # answer blocks one form may carry (the largest entry has a handful)
RESERVED_IDS = ("new",)  # /admin/entries/new is the create form
_SPLIT_CODES = re.compile(r"[\s,，、;；]+")


@dataclass(frozen=True)
class BlockForm:
    """One answer block as typed: agency codes, answers, and sources "document title | section", one per line."""

    agencies: tuple[str, ...] = ()
    zh: str = ""
    en: str = ""
    sources: str = ""
    remove: bool = False

    @property
    def empty(self) -> bool:
        """True when nothing was typed in the block (the spare block at the end of the form)."""
        return not (self.agencies or self.zh.strip() or self.en.strip() or self.sources.strip())


@dataclass(frozen=True)
class EntryForm:
    """The whole form; `expected` is the content hash of the stored entry the editor started from (edits only)."""

    id: str = ""
    topic: str = ""
    question_zh: str = ""
    question_en: str = ""
    variants: str = ""
    blocks: tuple[BlockForm, ...] = ()
    expected: str = ""

    def with_spare_block(self) -> EntryForm:
        """The form with the blocks that have content plus one empty block to fill in."""
        kept = tuple(b for b in self.blocks if not b.empty)
        return dataclasses.replace(self, blocks=(*kept, BlockForm())[:MAX_BLOCKS])


def from_entry(entry: FaqEntry) -> EntryForm:
    """The form pre-filled with a stored entry."""
    blocks = tuple(
        BlockForm(
            agencies=b.agencies,
            zh=b.zh,
            en=b.en or "",
            sources="\n".join(f"{s.document} | {s.section}" for s in b.sources),
        )
        for b in entry.answers
    )
    return EntryForm(
        id=entry.id,
        topic=entry.topic,
        question_zh=entry.question_zh,
        question_en=entry.question_en or "",
        variants="\n".join(entry.variants),
        blocks=blocks,
        expected=content_hash(entry),
    )


def from_fields(fields: dict[str, list[str]]) -> EntryForm:
    """The form as posted (fields `b<n>_agencies`, `b<n>_zh`, … for answer blocks 0 … blocks-1)."""

    def one(name: str) -> str:
        return (fields.get(name) or [""])[0]

    try:
        count = min(max(int(one("blocks") or 0), 0), MAX_BLOCKS)
    except ValueError:
        count = 0
    blocks = []
    for n in range(count):
        codes = [c for value in fields.get(f"b{n}_agencies", []) for c in _SPLIT_CODES.split(value) if c]
        blocks.append(
            BlockForm(
                agencies=tuple(dict.fromkeys(codes)),
                zh=one(f"b{n}_zh"),
                en=one(f"b{n}_en"),
                sources=one(f"b{n}_sources"),
                remove=bool(one(f"b{n}_remove")),
            )
        )
    return EntryForm(
        id=one("id").strip(),
        topic=one("topic").strip(),
        question_zh=one("question_zh").strip(),
        question_en=one("question_en").strip(),
        variants=one("variants"),
        blocks=tuple(blocks),
        expected=one("expected").strip(),
    )


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def parse_sources(text: str, where: str) -> tuple[tuple[Source, ...], list[str]]:
    """Sources from "document title | section" lines, and what is wrong with them."""
    sources, problems = [], []
    for n, line in enumerate(_lines(text), start=1):
        document, bar, section = line.partition("|")
        if not bar or not document.strip() or not section.strip():
            problems.append(f"{where}: source line {n} must be 'document title | section' (來源格式：文件名稱 | 章節)")
            continue
        sources.append(Source(document.strip(), section.strip()))
    return tuple(sources), problems


def to_entry(form: EntryForm, *, status: str, last_reviewed: dt.date | None) -> tuple[FaqEntry, list[str]]:
    """The entry the form describes, and the form's own problems (the service validates the rest).

    Every answer block needs at least one source, drafts included: an answer is never saved without one.
    """
    problems = []
    if form.id in RESERVED_IDS:
        problems.append(f"{form.id}: this id is reserved (此編號保留)")
    blocks = []
    kept = [b for b in form.blocks if not b.remove and not b.empty]
    for n, block in enumerate(kept, start=1):
        where = f"{form.id or '<no id>'}: answer #{n}"
        sources, wrong = parse_sources(block.sources, where)
        problems += wrong
        if not sources and not wrong:
            problems.append(f"{where}: missing source — at least one 'document title | section' (必須填寫來源)")
        blocks.append(AnswerBlock(block.agencies, block.zh.strip(), block.en.strip() or None, sources))
    if not kept:
        problems.append(f"{form.id or '<no id>'}: at least one answer block with a source is required (至少一個回答)")
    entry = FaqEntry(
        id=form.id,
        topic=form.topic,
        question_zh=form.question_zh,
        question_en=form.question_en or None,
        variants=tuple(dict.fromkeys(_lines(form.variants))),
        answers=tuple(blocks),
        status=status,
        last_reviewed=last_reviewed,
    )
    return entry, problems
