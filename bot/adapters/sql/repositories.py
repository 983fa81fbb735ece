"""SQL repositories: translate between rows and domain types; never hand rows outwards."""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, selectinload

from bot.adapters.sql.editorial import bump_version, read_version
from bot.adapters.sql.hot_path import hot_path
from bot.adapters.sql.orm import (
    AgencyRow,
    FaqAnswerRow,
    FaqEntryRow,
    FaqVariantRow,
    KbSettingRow,
    OutOfScopeRow,
    TurnRow,
    UnansweredRow,
)
from bot.domain.model import (
    Agency,
    AnswerBlock,
    FaqEntry,
    KnowledgeBase,
    Lexicon,
    OutOfScopeCategory,
    Source,
)
from bot.domain.records import SyncReport, Turn, UnansweredQuestion
from bot.domain.serialize import content_hash, source_to_dict


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class SqlKnowledgeRepository:
    """Knowledge-base content in SQL."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self) -> KnowledgeBase:
        """Read everything needed to build the matcher."""
        agencies = self.get_agencies()
        rows = self.session.scalars(
            select(FaqEntryRow)
            .options(selectinload(FaqEntryRow.variants), selectinload(FaqEntryRow.answers))
            .order_by(FaqEntryRow.id)
        )
        entries = tuple(_entry_from_row(r) for r in rows)
        categories: dict[str, tuple[str, list[str]]] = {}
        for r in self.session.scalars(select(OutOfScopeRow).order_by(OutOfScopeRow.id)):
            categories.setdefault(r.category, (r.note, []))[1].append(r.text)
        oos = tuple(OutOfScopeCategory(c, note, tuple(ex)) for c, (note, ex) in categories.items())
        lex_row = self.session.get(KbSettingRow, "lexicon")
        lexicon = _lexicon_from_json(lex_row.value) if lex_row else Lexicon()
        return KnowledgeBase(agencies, entries, oos, lexicon)

    def has_entries(self) -> bool:
        """True when any FAQ entry is stored."""
        return self.session.scalar(select(FaqEntryRow.id).limit(1)) is not None

    def sync(self, kb: KnowledgeBase, files: Mapping[str, str] | None = None) -> SyncReport:
        """Make stored content equal to `kb`; stored entries missing from `kb` are retired.

        Bumps the content version when anything the matcher or the answers use changed.
        """
        report = SyncReport()
        agencies_before = self.get_agencies()
        for agency in kb.agencies:
            self.session.merge(
                AgencyRow(
                    code=agency.code,
                    name_zh=agency.name_zh,
                    name_en=agency.name_en,
                    short_zh=agency.short_zh,
                    short_en=agency.short_en,
                    aliases=list(agency.aliases),
                    documents=list(agency.documents),
                )
            )
        existing = {r.id: r for r in self.session.scalars(select(FaqEntryRow))}
        now = _utcnow()
        for position, entry in enumerate(kb.entries):
            digest = content_hash(entry)
            row = existing.pop(entry.id, None)
            if row is None:
                row = _entry_to_row(entry, digest, now)
                self.session.add(row)
                report.added.append(entry.id)
            elif row.content_hash != digest:
                _update_row(row, entry, digest, now)
                report.changed.append(entry.id)
            else:
                report = SyncReport(report.added, report.changed, report.retired, report.unchanged + 1)
            if files is not None:
                row.file, row.position = files.get(entry.id, row.file), position
        for row in existing.values():
            if row.status != "retired":
                row.status = "retired"
                row.updated_at = now
                report.retired.append(row.id)
        oos_changed = self._sync_out_of_scope(kb)
        lex_row = self.session.get(KbSettingRow, "lexicon")
        lexicon = _lexicon_to_json(kb.lexicon)
        lex_changed = lex_row is None or lex_row.value != lexicon
        if lex_changed:
            self.session.merge(KbSettingRow(key="lexicon", value=lexicon))
        self.session.flush()
        entries_changed = bool(report.added or report.changed or report.retired)
        agencies_changed = agencies_before != tuple(sorted(kb.agencies, key=lambda a: a.code))
        if entries_changed or oos_changed or lex_changed or agencies_changed:
            bump_version(self.session)
        return report

    def get_agencies(self) -> tuple[Agency, ...]:
        """The stored agencies, by code."""
        return tuple(
            Agency(r.code, r.name_zh, r.name_en, r.short_zh, r.short_en, tuple(r.aliases), tuple(r.documents))
            for r in self.session.scalars(select(AgencyRow).order_by(AgencyRow.code))
        )

    def version(self) -> int:
        """The content version."""
        return read_version(self.session)

    def save_entry(self, entry: FaqEntry, file: str | None = None) -> None:
        """Insert or replace one entry and bump the content version."""
        digest, now = content_hash(entry), _utcnow()
        row = self.session.get(FaqEntryRow, entry.id)
        if row is None:
            row = _entry_to_row(entry, digest, now)
            self.session.add(row)
        else:
            _update_row(row, entry, digest, now)
        if file is not None:
            row.file = file
        self.session.flush()
        bump_version(self.session)

    def files(self) -> dict[str, str]:
        """Entry id -> file, in folder order (then by id)."""
        rows = self.session.execute(
            select(FaqEntryRow.id, FaqEntryRow.file)
            .where(FaqEntryRow.file.is_not(None))
            .order_by(FaqEntryRow.position.is_(None), FaqEntryRow.position, FaqEntryRow.id)
        )
        return {entry_id: file for entry_id, file in rows if file}

    def _sync_out_of_scope(self, kb: KnowledgeBase) -> bool:
        wanted = [(c.category, c.note, ex) for c in kb.out_of_scope for ex in c.examples]
        stored = [
            (r.category, r.note, r.text) for r in self.session.scalars(select(OutOfScopeRow).order_by(OutOfScopeRow.id))
        ]
        if stored != wanted:
            self.session.execute(delete(OutOfScopeRow))
            self.session.add_all(OutOfScopeRow(category=c, note=n, text=t) for c, n, t in wanted)
        return stored != wanted


def _entry_from_row(r: FaqEntryRow) -> FaqEntry:
    return FaqEntry(
        id=r.id,
        topic=r.topic,
        question_zh=r.question_zh,
        question_en=r.question_en,
        variants=tuple(v.text for v in r.variants),
        answers=tuple(
            AnswerBlock(tuple(a.agencies), a.zh, a.en, tuple(Source(s["document"], s["section"]) for s in a.sources))
            for a in r.answers
        ),
        status=r.status,
        last_reviewed=r.last_reviewed,
    )


def _entry_to_row(entry: FaqEntry, digest: str, now: dt.datetime) -> FaqEntryRow:
    row = FaqEntryRow(id=entry.id, content_hash=digest, updated_at=now)
    _update_row(row, entry, digest, now)
    return row


def _update_row(row: FaqEntryRow, entry: FaqEntry, digest: str, now: dt.datetime) -> None:
    row.topic = entry.topic
    row.question_zh = entry.question_zh
    row.question_en = entry.question_en
    row.status = entry.status
    row.last_reviewed = entry.last_reviewed
    row.content_hash = digest
    row.updated_at = now
    row.variants = [FaqVariantRow(position=i, text=t) for i, t in enumerate(entry.variants)]
    row.answers = [
        FaqAnswerRow(
            position=i,
            agencies=list(b.agencies),
            zh=b.zh,
            en=b.en,
            sources=[source_to_dict(s) for s in b.sources],
        )
        for i, b in enumerate(entry.answers)
    ]


def _lexicon_to_json(lexicon: Lexicon) -> dict[str, Any]:
    return {
        "synonyms": [list(g) for g in lexicon.synonyms],
        "domain_words": list(lexicon.domain_words),
        "stopwords": list(lexicon.stopwords),
    }


def _lexicon_from_json(value: dict[str, Any]) -> Lexicon:
    return Lexicon(
        synonyms=tuple(tuple(g) for g in value.get("synonyms", [])),
        domain_words=tuple(value.get("domain_words", [])),
        stopwords=tuple(value.get("stopwords", [])),
    )


class SqlUnansweredRepository:
    """The unanswered log in SQL."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, question: UnansweredQuestion) -> int:
        sql = hot_path(self.session)  # every fallback message: the hand-written path
        values = {
            "masked_text": question.masked_text,
            "channel": question.channel,
            "agency": question.agency,
            "reason": question.reason,
            "candidates": sql.to_json(list(question.candidates)),
            "status": question.status,
            "created_at": sql.to_datetime(question.created_at),
        }
        return sql.new_id(self.session, "insert_unanswered", values)

    def list(self, limit: int = 100, status: str | None = "open") -> list[UnansweredQuestion]:
        query = select(UnansweredRow).order_by(UnansweredRow.created_at.desc(), UnansweredRow.id.desc()).limit(limit)
        if status is not None:
            query = query.where(UnansweredRow.status == status)
        return [_unanswered_from_row(r) for r in self.session.scalars(query)]

    def get(self, ids: Collection[int]) -> builtins.list[UnansweredQuestion]:
        """The questions with these ids (any status), oldest first."""
        wanted = sorted(set(ids))
        rows: list[UnansweredRow] = []
        for start in range(0, len(wanted), 500):  # keep the IN list within every driver's limits
            chunk = wanted[start : start + 500]
            rows.extend(self.session.scalars(select(UnansweredRow).where(UnansweredRow.id.in_(chunk))))
        return [_unanswered_from_row(r) for r in sorted(rows, key=lambda r: r.id)]

    def resolve(self, ids: Collection[int], status: str, resolution: str | None, editor: str, at: dt.datetime) -> int:
        """Set status and resolution of these questions; returns how many rows changed."""
        wanted, changed = sorted(set(ids)), 0
        for start in range(0, len(wanted), 500):
            done = self.session.execute(
                update(UnansweredRow)
                .where(UnansweredRow.id.in_(wanted[start : start + 500]))
                .values(status=status, resolution=resolution, resolved_by=editor, resolved_at=at)
                .execution_options(synchronize_session=False)
            )
            changed += int(getattr(done, "rowcount", 0) or 0)
        return changed


def _unanswered_from_row(r: UnansweredRow) -> UnansweredQuestion:
    return UnansweredQuestion(
        masked_text=r.masked_text,
        channel=r.channel,
        agency=r.agency,
        reason=r.reason,
        candidates=tuple(r.candidates),
        created_at=r.created_at,
        id=r.id,
        status=r.status,
        resolution=r.resolution,
    )


class SqlTurnRepository:
    """Conversation turns in SQL."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, turn: Turn) -> int:
        sql = hot_path(self.session)  # one per message: the hand-written path
        values = {
            "channel": turn.channel,
            "session_key": turn.session_key,
            "masked_text": turn.masked_text,
            "faq_id": turn.faq_id,
            "topic": turn.topic,
            "agency": turn.agency,
            "fallback": turn.fallback,
            "score": turn.score,
            "created_at": sql.to_datetime(turn.created_at),
            "kind": turn.kind,
        }
        return sql.new_id(self.session, "insert_turn", values)

    def count(self) -> int:
        return int(self.session.scalar(select(func.count()).select_from(TurnRow)) or 0)

    def get(self, turn_id: int) -> Turn | None:
        r = self.session.get(TurnRow, turn_id)
        if r is None:
            return None
        return Turn(
            channel=r.channel,
            session_key=r.session_key,
            masked_text=r.masked_text,
            faq_id=r.faq_id,
            topic=r.topic,
            agency=r.agency,
            fallback=r.fallback,
            score=r.score,
            created_at=r.created_at,
            id=r.id,
            kind=r.kind,
        )
