"""SQL repositories: translate between rows and domain types; never hand rows outwards."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import Table, delete, func, insert, select
from sqlalchemy.orm import Session, selectinload

from bot.adapters.sql.orm import (
    AgencyRow,
    FaqAnswerRow,
    FaqEntryRow,
    FaqVariantRow,
    FeedbackRow,
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
from bot.domain.records import Feedback, SyncReport, Turn, UnansweredQuestion
from bot.domain.serialize import content_hash, source_to_dict


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class SqlKnowledgeRepository:
    """Knowledge-base content in SQL."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self) -> KnowledgeBase:
        """Read everything needed to build the matcher."""
        agencies = tuple(
            Agency(r.code, r.name_zh, r.name_en, r.short_zh, r.short_en, tuple(r.aliases), tuple(r.documents))
            for r in self.session.scalars(select(AgencyRow).order_by(AgencyRow.code))
        )
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

    def sync(self, kb: KnowledgeBase) -> SyncReport:
        """Make stored content equal to `kb`; stored entries missing from `kb` are retired."""
        report = SyncReport()
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
        for entry in kb.entries:
            digest = content_hash(entry)
            row = existing.pop(entry.id, None)
            if row is None:
                self.session.add(_entry_to_row(entry, digest, now))
                report.added.append(entry.id)
            elif row.content_hash != digest:
                _update_row(row, entry, digest, now)
                report.changed.append(entry.id)
            else:
                report = SyncReport(report.added, report.changed, report.retired, report.unchanged + 1)
        for row in existing.values():
            if row.status != "retired":
                row.status = "retired"
                row.updated_at = now
                report.retired.append(row.id)
        self._sync_out_of_scope(kb)
        self.session.merge(KbSettingRow(key="lexicon", value=_lexicon_to_json(kb.lexicon)))
        self.session.flush()
        return report

    def _sync_out_of_scope(self, kb: KnowledgeBase) -> None:
        wanted = [(c.category, c.note, ex) for c in kb.out_of_scope for ex in c.examples]
        stored = [
            (r.category, r.note, r.text) for r in self.session.scalars(select(OutOfScopeRow).order_by(OutOfScopeRow.id))
        ]
        if stored != wanted:
            self.session.execute(delete(OutOfScopeRow))
            self.session.add_all(OutOfScopeRow(category=c, note=n, text=t) for c, n, t in wanted)


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
        row = UnansweredRow(
            masked_text=question.masked_text,
            channel=question.channel,
            agency=question.agency,
            reason=question.reason,
            candidates=list(question.candidates),
            status=question.status,
            created_at=question.created_at,
        )
        self.session.add(row)
        self.session.flush()
        return row.id

    def list(self, limit: int = 100, status: str | None = "open") -> list[UnansweredQuestion]:
        query = select(UnansweredRow).order_by(UnansweredRow.created_at.desc(), UnansweredRow.id.desc()).limit(limit)
        if status is not None:
            query = query.where(UnansweredRow.status == status)
        return [
            UnansweredQuestion(
                masked_text=r.masked_text,
                channel=r.channel,
                agency=r.agency,
                reason=r.reason,
                candidates=tuple(r.candidates),
                created_at=r.created_at,
                id=r.id,
                status=r.status,
            )
            for r in self.session.scalars(query)
        ]


_TURNS = cast(Table, TurnRow.__table__)
_INSERT_TURN = insert(_TURNS).returning(_TURNS.c.id)


class SqlTurnRepository:
    """Conversation turns in SQL."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, turn: Turn) -> int:
        # Core insert (one per message): much cheaper than an ORM flush on the hot path.
        values = {
            "channel": turn.channel,
            "session_key": turn.session_key,
            "masked_text": turn.masked_text,
            "faq_id": turn.faq_id,
            "topic": turn.topic,
            "agency": turn.agency,
            "fallback": turn.fallback,
            "score": turn.score,
            "created_at": turn.created_at,
            "kind": turn.kind,
        }
        return int(self.session.execute(_INSERT_TURN, values).scalar_one())

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


class SqlFeedbackRepository:
    """Answer feedback in SQL."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, feedback: Feedback) -> int:
        row = FeedbackRow(
            turn_id=feedback.turn_id,
            faq_id=feedback.faq_id,
            helpful=feedback.helpful,
            comment=feedback.comment,
            channel=feedback.channel,
            created_at=feedback.created_at,
        )
        self.session.add(row)
        self.session.flush()
        return row.id
