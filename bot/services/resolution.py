"""Resolve unanswered questions (one, or a whole cluster): attach to an entry, draft a new entry, or dismiss."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bot.core.masking import MASKS
from bot.core.normalize import normalize
from bot.domain.model import AnswerBlock, FaqEntry, KnowledgeBase
from bot.domain.records import UnansweredQuestion
from bot.services.clustering import (
    DEFAULT_THRESHOLD,
    Cluster,
    Features,
    char_features,
    cluster_questions,
    describe_group,
)
from bot.services.editing import EditError, UnknownEntry, colliding_texts, guess_file, record_change
from bot.services.ports import UnitOfWork

GUESS_MIN_SCORE = 0.2  # a new draft takes topic and agency from the best suggestion only when it is this likely
MAX_OPEN = 200_000  # open questions read for clustering (far above any real backlog)
_PLACEHOLDERS = re.compile("|".join(re.escape(p) for p in sorted({p for _, p in MASKS})))


class UnknownQuestion(EditError):
    """No unanswered question (or cluster) has this id, or it is no longer open."""


@dataclass(frozen=True)
class Resolution:
    """What one resolution did."""

    action: str  # attach | new | dismiss
    question_ids: tuple[int, ...]
    entry_id: str | None = None
    added_variants: tuple[str, ...] = ()
    skipped: dict[str, str] = field(default_factory=dict)  # text -> why it was not added as a variant
    content_version: int | None = None

    def to_dict(self) -> dict[str, object]:
        """Plain data for `--json` and the admin console."""
        return dataclasses.asdict(self) | {
            "question_ids": list(self.question_ids),
            "added_variants": list(self.added_variants),
        }


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def variant_text(masked: str) -> str:
    """A logged question as a variant: mask placeholders dropped, whitespace collapsed."""
    return re.sub(r"\s+", " ", _PLACEHOLDERS.sub(" ", masked)).strip()


class ResolutionService:
    """The editors' loop over the unanswered log: clusters, and one-step resolutions recorded in the history.

    Dismissed questions are only marked "dismissed" (out of scope); they are not added to the out-of-scope
    examples, which stay editor-curated in faq/out_of_scope.yaml (a dismissed question may be plain noise).
    """

    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        features: Features = char_features,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        clock: Callable[[], dt.datetime] = _utcnow,
        prepare: Callable[[KnowledgeBase, UnitOfWork], None] | None = None,
    ) -> None:
        self.uow_factory = uow_factory
        self.prepare = prepare  # LiveKnowledge.prepare: index built and cached before the change is visible
        self.features = features
        self.threshold = threshold
        self.clock = clock

    # --- reading -------------------------------------------------------------------------------

    def clusters(self, limit: int | None = None) -> list[Cluster]:
        """Open unanswered questions grouped by similarity, biggest first."""
        with self.uow_factory() as uow:
            open_questions = uow.unanswered.list(limit=MAX_OPEN, status="open")
            known = {e.id for e in uow.knowledge.get().entries if e.status != "retired"}
        found = cluster_questions(open_questions, self.features, threshold=self.threshold, known_entries=known)
        return found[:limit] if limit is not None else found

    def members(self, target_id: int, *, single: bool = False) -> list[int]:
        """The open question ids `target_id` stands for: its whole cluster (a cluster id is its smallest member)."""
        with self.uow_factory() as uow:
            open_questions = uow.unanswered.list(limit=MAX_OPEN, status="open")
            if not any(q.id == target_id for q in open_questions):
                found = uow.unanswered.get([target_id])
                if found:
                    raise UnknownQuestion(f"unanswered question #{target_id} is already {found[0].status}")
                raise UnknownQuestion(f"no unanswered question or cluster #{target_id}")
        if single:
            return [target_id]
        for cluster in cluster_questions(open_questions, self.features, threshold=self.threshold):
            if target_id in cluster.member_ids:
                return list(cluster.member_ids)
        return [target_id]

    # --- one-step resolutions by question or cluster id ---------------------------------------

    def attach(self, target_id: int, faq_id: str, editor: str, *, single: bool = False) -> Resolution:
        """Add the cluster's questions as variants of `faq_id` and mark them resolved."""
        return self.attach_questions(self.members(target_id, single=single), faq_id, editor)

    def new(self, target_id: int, editor: str, *, entry_id: str | None = None, single: bool = False) -> Resolution:
        """Create a draft entry pre-filled from the cluster and mark its questions resolved with the draft's id."""
        return self.draft_from_questions(self.members(target_id, single=single), editor, entry_id=entry_id)

    def dismiss(self, target_id: int, editor: str, *, single: bool = False) -> Resolution:
        """Mark the cluster's questions out of scope."""
        return self.dismiss_questions(self.members(target_id, single=single), editor)

    # --- the same by explicit question ids (what the admin console sends) ---------------------

    def attach_questions(self, ids: Sequence[int], faq_id: str, editor: str) -> Resolution:
        """Attach these open questions to `faq_id`; texts that would overlap another entry are skipped."""
        now = self.clock()
        with self.uow_factory() as uow:
            questions = self._open(uow, ids)
            kb = uow.knowledge.get()
            entry = kb.entry(faq_id)
            if entry is None:
                raise UnknownEntry(f"no FAQ entry {faq_id!r}")
            if entry.status == "retired":
                raise EditError(f"{faq_id} is retired; attach to a published or draft entry")
            added, skipped = self._new_variants(kb, entry, questions)
            after = dataclasses.replace(entry, variants=(*entry.variants, *added))
            qids = tuple(q.id or 0 for q in questions)
            if added:
                uow.knowledge.save_entry(after)
                self._prepare(uow)
            details = {"question_ids": list(qids), "added": list(added), "skipped": skipped}
            record_change(uow, editor, "attach", entry, after, now, details)
            uow.unanswered.resolve(qids, "resolved", faq_id, editor, now)
            version = uow.knowledge.version()
            uow.commit()
        return Resolution("attach", qids, faq_id, tuple(added), skipped, version)

    def draft_from_questions(self, ids: Sequence[int], editor: str, *, entry_id: str | None = None) -> Resolution:
        """A draft entry: canonical question = the cluster's representative, variants = the other questions.

        Topic and agency come from the best suggested entry and the questions' agencies; the answer and its
        source are left for the editor, and a draft is neither published nor matched.
        """
        now = self.clock()
        with self.uow_factory() as uow:
            questions = self._open(uow, ids)
            kb = uow.knowledge.get()
            known = {e.id for e in kb.entries if e.status != "retired"}
            group = describe_group(questions, self.features, known)
            new_id = entry_id or _free_id(kb, f"draft-{group.id}")
            if kb.entry(new_id) is not None:
                raise EditError(f"{new_id}: an entry with this id exists (ids are never reused)")
            best = group.suggestions[0] if group.suggestions else None
            suggested = kb.entry(best.faq_id) if best is not None and best.score >= GUESS_MIN_SCORE else None
            topic = suggested.topic if suggested else "other"
            agency = next(iter(group.agencies), None) or (
                suggested.agencies[0] if suggested and suggested.agencies else None
            )
            question = variant_text(group.representative)
            taken = colliding_texts(kb, new_id, [question])
            if taken:
                raise EditError(f"{question!r} is already a question of {taken[question]}: attach it there instead")
            shell = FaqEntry(new_id, topic, question, None, (), (), status="draft")
            added, skipped = self._new_variants(kb, shell, questions)
            skipped.pop(question, None)  # the canonical question itself
            draft = dataclasses.replace(
                shell, variants=tuple(added), answers=(AnswerBlock((agency,), "", None, ()),) if agency else ()
            )
            uow.knowledge.save_entry(draft, guess_file(uow.knowledge.files(), kb, topic))
            self._prepare(uow)
            qids = tuple(q.id or 0 for q in questions)
            details = {
                "question_ids": list(qids),
                "skipped": skipped,
                "suggested": [s.faq_id for s in group.suggestions],
            }
            record_change(uow, editor, "draft_from_cluster", None, draft, now, details)
            uow.unanswered.resolve(qids, "resolved", new_id, editor, now)
            version = uow.knowledge.version()
            uow.commit()
        return Resolution("new", qids, new_id, draft.variants, skipped, version)

    def dismiss_questions(self, ids: Sequence[int], editor: str) -> Resolution:
        """Mark these open questions out of scope (status "dismissed"); the knowledge base is unchanged."""
        now = self.clock()
        with self.uow_factory() as uow:
            questions = self._open(uow, ids)
            qids = tuple(q.id or 0 for q in questions)
            record_change(uow, editor, "dismiss", None, None, now, {"question_ids": list(qids)})
            uow.unanswered.resolve(qids, "dismissed", None, editor, now)
            uow.commit()
        return Resolution("dismiss", qids)

    # --- helpers --------------------------------------------------------------------------------

    def _prepare(self, uow: UnitOfWork) -> None:
        if self.prepare is not None:
            self.prepare(uow.knowledge.get(), uow)

    def _open(self, uow: UnitOfWork, ids: Sequence[int]) -> list[UnansweredQuestion]:
        found = uow.unanswered.get(ids)
        missing = sorted(set(ids) - {q.id for q in found})
        if missing:
            raise UnknownQuestion(f"no unanswered question #{missing[0]}")
        closed = [q for q in found if q.status != "open"]
        if closed:
            raise UnknownQuestion(f"unanswered question #{closed[0].id} is already {closed[0].status}")
        return found

    def _new_variants(
        self, kb: KnowledgeBase, entry: FaqEntry, questions: Sequence[UnansweredQuestion]
    ) -> tuple[list[str], dict[str, str]]:
        """Distinct question texts not yet in `entry`; those overlapping another entry are skipped with why."""
        own = {normalize(t) for t in (entry.question_zh, *entry.variants)}
        counts = Counter(variant_text(q.masked_text) for q in questions)
        added: list[str] = []
        skipped: dict[str, str] = {}
        taken = colliding_texts(kb, entry.id, counts)
        for text, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            key = normalize(text)
            if not key:
                skipped[text] = "empty after normalisation"
            elif key in own:
                skipped[text] = f"already a question of {entry.id}"
            elif text in taken:
                skipped[text] = f"already a question of {taken[text]}"
            else:
                own.add(key)
                added.append(text)
        return added, skipped


def _free_id(kb: KnowledgeBase, base: str) -> str:
    """`base`, or `base-2`, `base-3` … when taken (ids are never reused)."""
    candidate, n = base, 1
    while kb.entry(candidate) is not None:
        n += 1
        candidate = f"{base}-{n}"
    return candidate
