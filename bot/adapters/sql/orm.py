"""Table definitions (SQLAlchemy 2.x declarative); Alembic migrations own the schema."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    """Declarative base for civicbot tables."""


class AgencyRow(Base):
    __tablename__ = "agencies"
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    short_zh: Mapped[str] = mapped_column(String(100))
    short_en: Mapped[str] = mapped_column(String(100))
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    documents: Mapped[list[str]] = mapped_column(JSON, default=list)


class FaqEntryRow(Base):
    __tablename__ = "faq_entries"
    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    topic: Mapped[str] = mapped_column(String(40), index=True)
    question_zh: Mapped[str] = mapped_column(Text)
    question_en: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="published", index=True)
    last_reviewed: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    file: Mapped[str | None] = mapped_column(String(100), nullable=True)  # the faq/ file `faq export` writes it to
    position: Mapped[int | None] = mapped_column(Integer, nullable=True)  # order in the loaded folder
    variants: Mapped[list[FaqVariantRow]] = relationship(
        back_populates="entry", cascade="all, delete-orphan", order_by="FaqVariantRow.position"
    )
    answers: Mapped[list[FaqAnswerRow]] = relationship(
        back_populates="entry", cascade="all, delete-orphan", order_by="FaqAnswerRow.position"
    )


class FaqVariantRow(Base):
    __tablename__ = "faq_variants"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entry_id: Mapped[str] = mapped_column(ForeignKey("faq_entries.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    entry: Mapped[FaqEntryRow] = relationship(back_populates="variants")


class FaqAnswerRow(Base):
    __tablename__ = "faq_answers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entry_id: Mapped[str] = mapped_column(ForeignKey("faq_entries.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    agencies: Mapped[list[str]] = mapped_column(JSON)
    zh: Mapped[str] = mapped_column(Text)
    en: Mapped[str | None] = mapped_column(Text, nullable=True)
    sources: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    entry: Mapped[FaqEntryRow] = relationship(back_populates="answers")


class OutOfScopeRow(Base):
    __tablename__ = "out_of_scope_examples"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    category: Mapped[str] = mapped_column(String(80), index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text)


class KbSettingRow(Base):
    """Whole-knowledge-base settings stored as JSON (the matcher's lexicon)."""

    __tablename__ = "kb_settings"
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)


class UnansweredRow(Base):
    __tablename__ = "unanswered_questions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    masked_text: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(20))
    agency: Mapped[str | None] = mapped_column(String(40), nullable=True)
    reason: Mapped[str] = mapped_column(String(40))
    candidates: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    resolution: Mapped[str | None] = mapped_column(String(100), nullable=True)  # FAQ entry attached to / drafted
    resolved_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ContentVersionRow(Base):
    """One row: the knowledge-base content version, bumped in the transaction of every content change."""

    __tablename__ = "content_version"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class IndexBlobRow(Base):
    """A built search index shared between processes (numpy archive + metadata), keyed by content fingerprint."""

    __tablename__ = "index_blobs"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)


class FaqChangeRow(Base):
    """The editorial history: every content change with editor, time, action and the entry before/after."""

    __tablename__ = "faq_changes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    editor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(30))
    entry_id: Mapped[str | None] = mapped_column(String(100), nullable=True, index=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    content_version: Mapped[int | None] = mapped_column(Integer, nullable=True)


class TurnRow(Base):
    __tablename__ = "conversation_turns"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(20))
    session_key: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)
    masked_text: Mapped[str] = mapped_column(Text)
    faq_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    topic: Mapped[str | None] = mapped_column(String(40), nullable=True)
    agency: Mapped[str | None] = mapped_column(String(40), nullable=True)
    fallback: Mapped[bool] = mapped_column(Boolean)
    score: Mapped[float] = mapped_column(Float)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="answer", server_default="answer")


class FeedbackRow(Base):
    __tablename__ = "answer_feedback"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    turn_id: Mapped[int | None] = mapped_column(ForeignKey("conversation_turns.id"), nullable=True)
    faq_id: Mapped[str] = mapped_column(String(100), index=True)
    helpful: Mapped[bool] = mapped_column(Boolean)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    channel: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    # set when an editor has looked at a not-helpful rating (it leaves the console's queue)
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    reviewed_by: Mapped[str | None] = mapped_column(String(100), nullable=True)


class ConversationRow(Base):
    """Dialogue state per channel user (user_key is a hash of the platform id)."""

    __tablename__ = "conversations"
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    user_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(30))
    agency: Mapped[str | None] = mapped_column(String(40), nullable=True)
    language: Mapped[str] = mapped_column(String(8))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    fallback_streak: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)


class ProcessedEventRow(Base):
    """Webhook deliveries already handled (LINE webhookEventId, Telegram update_id): redeliveries are skipped."""

    __tablename__ = "processed_events"
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)


class CaseRow(Base):
    """A case as exported by an agency's case system (`civicbot cases import`). Verifiers are stored hashed."""

    __tablename__ = "cases"
    __table_args__ = (UniqueConstraint("agency", "case_number", name="uq_cases_agency_number"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agency: Mapped[str] = mapped_column(String(40), index=True)
    case_number: Mapped[str] = mapped_column(String(40), index=True)
    status: Mapped[str] = mapped_column(Text)
    amount_outstanding: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # NT$
    handling_unit: Mapped[str] = mapped_column(String(200))
    unit_phone: Mapped[str] = mapped_column(String(60))
    id_tail_hash: Mapped[str | None] = mapped_column(String(128), nullable=True)  # last 4 of national ID
    query_code_hash: Mapped[str | None] = mapped_column(String(128), nullable=True)  # code printed on the notice
    demo: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class CaseGuardRow(Base):
    """Failed-verification counter and lock per case number and per user (five failures lock for 15 minutes)."""

    __tablename__ = "case_guards"
    guard_key: Mapped[str] = mapped_column(String(100), primary_key=True)  # "case:<hash>" | "user:<hash>"
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class CaseAuditRow(Base):
    """Every case-lookup attempt: who (hashed), which case (masked), what happened."""

    __tablename__ = "case_audit"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    user_key: Mapped[str] = mapped_column(String(64))
    agency: Mapped[str | None] = mapped_column(String(40), nullable=True)
    case_ref: Mapped[str] = mapped_column(String(100))  # masked case number
    outcome: Mapped[str] = mapped_column(String(30))  # bot.domain.cases.AuditOutcome
    verifier_kind: Mapped[str | None] = mapped_column(String(20), nullable=True)  # never the verifier itself


class UserRow(Base):
    """An admin-console account (never a citizen)."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))  # argon2id
    role: Mapped[str] = mapped_column(String(20))  # admin | editor | staff
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)


class AdminAuditRow(Base):
    """Every admin-console action and sign-in attempt (failed sign-ins also drive the rate limit)."""

    __tablename__ = "admin_audit"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(40))
    client: Mapped[str | None] = mapped_column(String(64), nullable=True)  # client IP address
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
