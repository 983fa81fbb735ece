"""Knowledge-base types, independent of files, databases and channels."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

CORE_TOPICS = ("payment", "instalment", "auction", "case_progress", "complaint")
STATUSES = ("published", "draft", "retired")


@dataclass(frozen=True)
class Agency:
    """An agency the assistant answers for."""

    code: str
    name_zh: str
    name_en: str
    short_zh: str
    short_en: str
    aliases: tuple[str, ...] = ()
    documents: tuple[str, ...] = ()


@dataclass(frozen=True)
class Source:
    """Where an answer's facts come from: a source document's title and section."""

    document: str
    section: str


@dataclass(frozen=True)
class AnswerBlock:
    """The answer for a group of agencies whose answer is the same."""

    agencies: tuple[str, ...]
    zh: str
    en: str | None
    sources: tuple[Source, ...]


@dataclass(frozen=True)
class FaqEntry:
    """One FAQ intent: a canonical question, the ways citizens ask it, per-agency answers."""

    id: str
    topic: str
    question_zh: str
    question_en: str | None
    variants: tuple[str, ...]
    answers: tuple[AnswerBlock, ...]
    status: str = "published"
    last_reviewed: dt.date | None = None

    @property
    def agencies(self) -> tuple[str, ...]:
        """Every agency that has an answer block in this entry, in block order."""
        seen: dict[str, None] = {}
        for block in self.answers:
            for code in block.agencies:
                seen.setdefault(code, None)
        return tuple(seen)

    def block_for(self, agency: str) -> AnswerBlock | None:
        """The answer block that applies to `agency`, if any."""
        return next((b for b in self.answers if agency in b.agencies), None)


@dataclass(frozen=True)
class OutOfScopeCategory:
    """Example questions the assistant must not answer (they teach the matcher the scope's edge)."""

    category: str
    note: str
    examples: tuple[str, ...]


@dataclass(frozen=True)
class Lexicon:
    """Synonym groups (canonical form first) and extra domain words for the tokeniser."""

    synonyms: tuple[tuple[str, ...], ...] = ()
    domain_words: tuple[str, ...] = ()
    stopwords: tuple[str, ...] = ()


@dataclass(frozen=True)
class KnowledgeBase:
    """Everything the matcher and the answer composer need."""

    agencies: tuple[Agency, ...]
    entries: tuple[FaqEntry, ...]
    out_of_scope: tuple[OutOfScopeCategory, ...] = ()
    lexicon: Lexicon = field(default_factory=Lexicon)

    def agency(self, code: str) -> Agency | None:
        """Look an agency up by code."""
        return next((a for a in self.agencies if a.code == code), None)

    def entry(self, entry_id: str) -> FaqEntry | None:
        """Look an entry up by id."""
        return next((e for e in self.entries if e.id == entry_id), None)

    def published(self) -> tuple[FaqEntry, ...]:
        """Entries the assistant may answer with."""
        return tuple(e for e in self.entries if e.status == "published")
