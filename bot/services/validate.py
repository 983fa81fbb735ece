"""Knowledge-base checks behind `civicbot faq validate`."""

from __future__ import annotations

import re

from bot.core.normalize import normalize
from bot.domain.model import CORE_TOPICS, KnowledgeBase

_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
MIN_VARIANTS = 5


def validate_kb(kb: KnowledgeBase, entry_files: dict[str, str] | None = None) -> list[str]:
    """Every problem that must block the content from going live, as readable lines."""
    files = entry_files or {}
    problems: list[str] = []
    agencies = {a.code: a for a in kb.agencies}
    seen_ids: set[str] = set()
    variant_owner: dict[str, str] = {}

    for entry in kb.entries:
        where = f"{files.get(entry.id, '?')}: {entry.id or '<no id>'}"
        if not entry.id or not _ID.match(entry.id):
            problems.append(f"{where}: id must be lowercase letters, digits and '-'")
        if entry.id in seen_ids:
            problems.append(f"{where}: duplicate id")
        seen_ids.add(entry.id)
        if not entry.topic:
            problems.append(f"{where}: missing topic")
        if not entry.question_zh:
            problems.append(f"{where}: missing question.zh")
        core = entry.topic in CORE_TOPICS
        # A draft (e.g. pre-filled from unanswered questions) may be incomplete; publishing needs everything.
        complete = entry.status != "draft"
        if complete and core and not entry.question_en:
            problems.append(f"{where}: core topic needs question.en")
        if complete and len(entry.variants) < MIN_VARIANTS:
            problems.append(f"{where}: needs at least {MIN_VARIANTS} variants (has {len(entry.variants)})")
        if complete and entry.last_reviewed is None:
            problems.append(f"{where}: missing or invalid last_reviewed date")
        if complete and not entry.answers:
            problems.append(f"{where}: no answers")
        covered: set[str] = set()
        for n, block in enumerate(entry.answers, start=1):
            bwhere = f"{where}: answer #{n}"
            if complete and not block.zh:
                problems.append(f"{bwhere}: empty answer (zh)")
            if complete and core and not block.en:
                problems.append(f"{bwhere}: core topic needs an English answer (en)")
            if not block.agencies:
                problems.append(f"{bwhere}: no agencies")
            for code in block.agencies:
                if code not in agencies:
                    problems.append(f"{bwhere}: unknown agency {code!r}")
                elif code in covered:
                    problems.append(f"{bwhere}: agency {code!r} has two answer blocks")
                covered.add(code)
            if complete and not block.sources:
                problems.append(f"{bwhere}: missing source")
            allowed = {d for c in block.agencies if c in agencies for d in agencies[c].documents}
            for source in block.sources:
                if not source.document or not source.section:
                    problems.append(f"{bwhere}: source needs both document and section")
                elif source.document not in allowed:
                    problems.append(
                        f"{bwhere}: source document {source.document!r} is not one of its agencies' documents"
                    )
        own: set[str] = set()
        for text in (entry.question_zh, *entry.variants):
            key = normalize(text)
            if not key or key in own:
                continue
            own.add(key)
            other = variant_owner.get(key)
            if other is not None and other != entry.id:
                problems.append(f"{where}: variant {text!r} is also a variant of {other}")
            variant_owner.setdefault(key, entry.id)

    for agency in kb.agencies:
        if not agency.code or not agency.name_zh:
            problems.append(f"agencies.yaml: agency {agency.code!r} needs code and name.zh")
    return problems
