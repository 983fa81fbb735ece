"""Group open unanswered questions into clusters of similar questions, with suggested FAQ entries."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from bot.core.index import OOS_PREFIX
from bot.core.normalize import normalize
from bot.core.tokenize import Tokenizer
from bot.domain.model import KnowledgeBase
from bot.domain.records import UnansweredQuestion

# Jaccard similarity of term sets (words + character bigrams) a question needs with a cluster's leader.
DEFAULT_THRESHOLD = 0.3
# Added to the similarity when both questions' best stored FAQ candidate is the same entry: the matcher's
# guess is a strong hint of the same intent even when citizens word it differently (but never enough alone).
CANDIDATE_BONUS = 0.2
# Terms in more than this share of the questions (可以, 分署 …) say little about the intent and are ignored.
COMMON_TERM_SHARE = 0.25
_MEDOID_SAMPLE = 40

Features = Callable[[str], Iterable[str]]


@dataclass(frozen=True)
class Suggestion:
    """An FAQ entry the cluster's questions most likely belong to."""

    faq_id: str
    score: float  # mean confidence over the members that listed it (0 for those that did not)
    votes: int  # how many members listed it among their candidates


@dataclass(frozen=True)
class Cluster:
    """Similar open unanswered questions; `id` is the smallest member id, so a member's id finds it too."""

    id: int
    representative: str
    count: int
    first_seen: dt.datetime
    last_seen: dt.datetime
    channels: dict[str, int]
    agencies: dict[str, int]
    reasons: dict[str, int]
    member_ids: tuple[int, ...]
    texts: tuple[str, ...]  # distinct member texts, most frequent first
    suggestions: tuple[Suggestion, ...] = field(default_factory=tuple)
    out_of_scope: str | None = None  # the out-of-scope category most members matched first, if most did

    def to_dict(self) -> dict[str, object]:
        """Plain data for `--json` and the admin console."""
        return {
            "id": self.id,
            "representative": self.representative,
            "count": self.count,
            "first_seen": self.first_seen.isoformat(),
            "last_seen": self.last_seen.isoformat(),
            "channels": self.channels,
            "agencies": self.agencies,
            "reasons": self.reasons,
            "member_ids": list(self.member_ids),
            "texts": list(self.texts),
            "out_of_scope": self.out_of_scope,
            "suggestions": [
                {"faq_id": s.faq_id, "score": round(s.score, 4), "votes": s.votes} for s in self.suggestions
            ],
        }


def char_features(text: str) -> set[str]:
    """Fallback features without a tokenizer: CJK character bigrams and Latin words of the normalised text."""
    norm = normalize(text)
    out: set[str] = set()
    for chunk in norm.split(" "):
        if chunk.isascii():
            if chunk:
                out.add("w:" + chunk)
            continue
        out.update("b:" + chunk[i : i + 2] for i in range(len(chunk) - 1))
        if len(chunk) == 1:
            out.add("w:" + chunk)
    return out


def cluster_questions(
    questions: Sequence[UnansweredQuestion],
    features: Features = char_features,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    candidate_bonus: float = CANDIDATE_BONUS,
    known_entries: set[str] | None = None,
    max_suggestions: int = 3,
) -> list[Cluster]:
    """Cluster questions (leader clustering with prefix-filter blocking); biggest clusters first.

    Identical normalised texts are merged first; the most frequent phrasing leads a cluster and every other
    question joins the most similar leader at or above `threshold`, else leads its own cluster. The
    prefix filter (terms ordered rarest first) finds every leader that can reach the threshold without
    comparing all pairs, so 10,000 questions take well under a second after tokenising. Two questions whose
    best stored candidate is the same entry get `candidate_bonus` added to their similarity.
    """
    units: dict[str, list[UnansweredQuestion]] = defaultdict(list)
    for q in questions:
        units[normalize(q.masked_text) or q.masked_text].append(q)
    keys = sorted(units, key=lambda k: (-len(units[k]), min(q.id or 0 for q in units[k])))
    term_sets = [frozenset(features(units[k][0].masked_text)) for k in keys]
    df: Counter[str] = Counter(t for terms in term_sets for t in terms)
    common = max(3, int(len(keys) * COMMON_TERM_SHARE)) if len(keys) >= 20 else len(keys) + 1
    rank = {t: (n, t) for t, n in df.items()}
    ordered = [sorted((t for t in terms if df[t] <= common), key=rank.__getitem__) for terms in term_sets]
    tops = [_top_candidate(units[k]) for k in keys]
    floor = max(0.05, threshold - candidate_bonus)  # the prefix filter must find every leader that can qualify

    def prefix_len(n: int) -> int:
        return n - math.ceil(floor * n) + 1

    leaders: list[int] = []  # unit indexes
    leader_of: list[int] = [-1] * len(keys)
    index: dict[str, list[int]] = defaultdict(list)  # prefix term -> leader unit indexes
    for u, terms in enumerate(ordered):
        best, best_sim = -1, threshold
        if terms:
            seen: set[int] = set()
            mine = set(terms)
            for t in terms[: prefix_len(len(terms))]:
                for lead in index.get(t, ()):
                    if lead in seen:
                        continue
                    seen.add(lead)
                    other = ordered[lead]
                    inter = len(mine.intersection(other))
                    sim = inter / (len(mine) + len(other) - inter)
                    if sim >= floor and tops[u] is not None and tops[u] == tops[lead]:
                        sim += candidate_bonus
                    if sim >= best_sim and (sim > best_sim or best < 0):
                        best, best_sim = lead, sim
        if best >= 0:
            leader_of[u] = best
            continue
        leader_of[u] = u
        leaders.append(u)
        if terms:
            for t in terms[: prefix_len(len(terms))]:
                index[t].append(u)

    groups: dict[int, list[int]] = defaultdict(list)
    for u, lead in enumerate(leader_of):
        groups[lead].append(u)
    clusters = [
        _summarise([units[keys[u]] for u in members], [ordered[u] for u in members], known_entries, max_suggestions)
        for members in groups.values()
    ]
    clusters.sort(key=lambda c: (-c.count, -c.last_seen.timestamp(), c.id))
    return clusters


def describe_group(
    questions: Sequence[UnansweredQuestion],
    features: Features = char_features,
    known_entries: set[str] | None = None,
    max_suggestions: int = 3,
) -> Cluster:
    """Summarise questions chosen together (by an editor) as one cluster."""
    if not questions:
        raise ValueError("no questions to describe")
    units: dict[str, list[UnansweredQuestion]] = defaultdict(list)
    for q in questions:
        units[normalize(q.masked_text) or q.masked_text].append(q)
    groups = list(units.values())
    return _summarise(groups, [sorted(set(features(g[0].masked_text))) for g in groups], known_entries, max_suggestions)


def _top_candidate(questions: list[UnansweredQuestion]) -> str | None:
    """The FAQ entry most often ranked first by the matcher for these (identical) questions."""
    firsts = Counter(str(q.candidates[0].get("faq_id")) for q in questions if q.candidates)
    return firsts.most_common(1)[0][0] if firsts else None


def _summarise(
    unit_members: list[list[UnansweredQuestion]],
    unit_terms: list[list[str]],
    known_entries: set[str] | None,
    max_suggestions: int,
) -> Cluster:
    members = [q for unit in unit_members for q in unit]
    ids = sorted(q.id or 0 for q in members)
    by_count = sorted(range(len(unit_members)), key=lambda i: (-len(unit_members[i]), unit_members[i][0].id or 0))
    texts = tuple(unit_members[i][0].masked_text for i in by_count)
    return Cluster(
        id=ids[0],
        representative=unit_members[_medoid(unit_terms, unit_members)][0].masked_text,
        count=len(members),
        first_seen=min(q.created_at for q in members),
        last_seen=max(q.created_at for q in members),
        channels=dict(Counter(q.channel for q in members).most_common()),
        agencies=dict(Counter(q.agency for q in members if q.agency).most_common()),
        reasons=dict(Counter(q.reason for q in members).most_common()),
        member_ids=tuple(ids),
        texts=texts,
        suggestions=suggest_entries(members, known_entries, max_suggestions),
        out_of_scope=_out_of_scope_hint(members),
    )


def _out_of_scope_hint(members: Sequence[UnansweredQuestion]) -> str | None:
    """The out-of-scope category (matcher target `__oos__:<category>`) ranked first for most members."""
    firsts = Counter(str(q.candidates[0].get("faq_id", "")) for q in members if q.candidates)
    oos = Counter({k.removeprefix(OOS_PREFIX): n for k, n in firsts.items() if k.startswith(OOS_PREFIX)})
    if not oos or sum(oos.values()) * 2 <= len(members):
        return None
    return oos.most_common(1)[0][0]


def _medoid(unit_terms: list[list[str]], unit_members: list[list[UnansweredQuestion]]) -> int:
    """The phrasing most similar to the others (weighted by how often each was asked); ties: most asked."""
    if len(unit_terms) <= 2:
        return max(range(len(unit_members)), key=lambda i: (len(unit_members[i]), -(unit_members[i][0].id or 0)))
    sample = sorted(range(len(unit_terms)), key=lambda i: -len(unit_members[i]))[:_MEDOID_SAMPLE]
    sets = {i: set(unit_terms[i]) for i in sample}

    def centrality(i: int) -> tuple[float, int]:
        total = 0.0
        for j in sample:
            if j != i and (sets[i] or sets[j]):
                inter = len(sets[i] & sets[j])
                total += len(unit_members[j]) * inter / (len(sets[i] | sets[j]) or 1)
        return total, len(unit_members[i])

    return max(sample, key=centrality)


def suggest_entries(
    members: Sequence[UnansweredQuestion], known_entries: set[str] | None = None, limit: int = 3
) -> tuple[Suggestion, ...]:
    """The FAQ entries the members' stored candidates point to most (mean confidence over all members)."""
    totals: dict[str, float] = defaultdict(float)
    votes: Counter[str] = Counter()
    for q in members:
        for c in q.candidates:
            faq_id = str(c.get("faq_id", ""))
            if not faq_id or (known_entries is not None and faq_id not in known_entries):
                continue
            totals[faq_id] += float(c.get("score", 0.0))
            votes[faq_id] += 1
    n = max(1, len(members))
    ranked = sorted(totals, key=lambda f: (-totals[f], -votes[f], f))
    return tuple(Suggestion(f, totals[f] / n, votes[f]) for f in ranked[:limit])


def tokenizer_features(tokenizer: Tokenizer) -> Features:
    """Features from the matcher's tokenizer: synonyms canonicalised, agency names dropped, words and bigrams."""

    def features(text: str) -> list[str]:
        canonical = tokenizer.canonicalize(normalize(text))
        return list(tokenizer.terms_of_canonical(tokenizer.strip_agency(canonical)[1]))

    return features


def kb_features(kb: KnowledgeBase) -> Features:
    """Clustering features with the knowledge base's lexicon and agency names (as the matcher tokenises)."""
    aliases = {a: agency.code for agency in kb.agencies for a in (agency.short_zh, agency.name_zh, *agency.aliases)}
    return tokenizer_features(Tokenizer(kb.lexicon, extra_words=aliases, agency_aliases=aliases))
