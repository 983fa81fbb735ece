"""Measure the matcher on a labelled question set: top-1, topic accuracy, out-of-scope recall, false fallback."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from bot.domain.results import AnswerResult
from bot.services.answering import AnswerService, InputError

TARGETS = {"top1": 0.90, "topic_accuracy": 0.95, "oos_recall": 0.90, "false_fallback": 0.05}


@dataclass
class EvalReport:
    """Counts and rates over one labelled set."""

    in_scope: int = 0
    out_of_scope: int = 0
    top1_hits: int = 0
    topic_hits: int = 0
    oos_fallbacks: int = 0
    false_fallbacks: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    def rates(self) -> dict[str, float]:
        """The four headline figures."""
        n = max(self.in_scope, 1)
        return {
            "top1": self.top1_hits / n,
            "topic_accuracy": self.topic_hits / n,
            "oos_recall": self.oos_fallbacks / max(self.out_of_scope, 1),
            "false_fallback": self.false_fallbacks / n,
        }

    def meets_targets(self) -> bool:
        """True when every figure meets its target."""
        r = self.rates()
        return (
            r["top1"] >= TARGETS["top1"]
            and r["topic_accuracy"] >= TARGETS["topic_accuracy"]
            and r["oos_recall"] >= TARGETS["oos_recall"]
            and r["false_fallback"] <= TARGETS["false_fallback"]
        )


def read_jsonl(lines: Iterable[str]) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    """Parse JSONL lines: (line number, object or None, error or None); blank lines are skipped."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, None, f"invalid JSON: {exc.msg}"
            continue
        if not isinstance(obj, dict) or not isinstance(obj.get("q"), str):
            yield number, None, "each line needs a JSON object with a string field 'q'"
            continue
        yield number, obj, None


def answer_line(service: AnswerService, obj: dict[str, Any]) -> dict[str, Any]:
    """Answer one eval line without recording it (evaluation must not pollute the logs)."""
    agency = obj.get("agency") if isinstance(obj.get("agency"), str) else None
    try:
        result: AnswerResult = service.ask(obj["q"], agency=agency, channel="eval", record=False)
    except InputError as exc:
        return {"question": obj["q"], "error": str(exc), "fallback": True, "answer": None, "faq_id": None}
    return result.to_dict()


def score(report: EvalReport, label: dict[str, Any], result: dict[str, Any]) -> None:
    """Add one labelled result to the report."""
    expected = label.get("faq_id")
    if expected is None:
        report.out_of_scope += 1
        report.oos_fallbacks += bool(result.get("fallback"))
        return
    report.in_scope += 1
    accepted = {expected, *label.get("also", [])}
    if result.get("fallback"):
        report.false_fallbacks += 1
        report.errors.append({"q": label["q"], "expected": expected, "got": None, "kind": "false_fallback"})
        return
    if result.get("faq_id") in accepted:
        report.top1_hits += 1
    else:
        report.errors.append({"q": label["q"], "expected": expected, "got": result.get("faq_id"), "kind": "wrong"})
    # An accepted alternative answer is on topic by definition, whatever its own topic label.
    if result.get("topic") == label.get("topic") or result.get("faq_id") in accepted:
        report.topic_hits += 1
