"""What goes out to a channel for one question (never an ORM row)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class SourceRef:
    """A cited source: document title, section and the agency it belongs to."""

    document: str
    section: str
    agency: str | None = None


@dataclass(frozen=True)
class Alternative:
    """Another likely FAQ entry ("did you mean")."""

    faq_id: str
    question: str
    score: float


@dataclass(frozen=True)
class AgencyAnswer:
    """One agency's answer when the answer differs by agency and none was given."""

    agency: str
    agency_name: str
    answer: str
    sources: tuple[SourceRef, ...]


@dataclass(frozen=True)
class AnswerResult:
    """The assistant's result for one question; `answer` is None on fallback."""

    question: str
    answer: str | None
    faq_id: str | None
    topic: str | None
    agency: str | None
    score: float
    fallback: bool
    alternatives: tuple[Alternative, ...] = ()
    sources: tuple[SourceRef, ...] = ()
    language: str = "zh-TW"
    message: str | None = None  # what to tell the citizen on fallback
    reason: str | None = None  # why it fell back (or was logged): out_of_scope, low_confidence, ...
    canonical_question: str | None = None
    agency_answers: tuple[AgencyAnswer, ...] = ()
    logged: bool = False
    turn_id: int | None = None
    # The agency the question was matched for: named in it, else the one given (not part of the JSON contract).
    asked_agency: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract of `civicbot ask --json` and `civicbot eval`."""
        out = asdict(self)
        del out["asked_agency"]
        out["score"] = round(self.score, 4)
        out["alternatives"] = [{**asdict(a), "score": round(a.score, 4)} for a in self.alternatives]
        return out
