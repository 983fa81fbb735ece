"""Hybrid matcher: lexical candidates, a learned linear re-ranker, agency filter, calibrated confidence."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process

from bot.core.index import ANSWER_WEIGHT, OOS_PREFIX, Index
from bot.core.normalize import normalize
from bot.core.tokenize import Tokenizer
from bot.domain.model import Agency

# How many targets (entries or out-of-scope categories) are re-ranked with every feature.
RERANK_TARGETS = 24
RERANK_TEXTS = 48

# Per-candidate features the re-ranker weighs (Calibration.weights, fitted by scripts/calibrate.py
# on held-out folds of the knowledge base):
#   entry_coverage  query terms found in the entry's questions (or, more weakly, its answer), idf-weighted
#   centrality      the same, weighted by the share of the entry's texts containing each term
#   text_coverage   best single text's coverage of the query; text_precision: how much of that text matched
#   fuzzy           best character-level similarity to one of the entry's texts
#   bm25            best text's BM25 score relative to the best text overall
#   coverage_gap    entry coverage minus the best candidate's (<= 0)
#   topic_support   how strongly the entry's topic is supported by the other candidates, relative to the best topic
#   oos             1 for out-of-scope categories (lets them compete on their own footing)
#   oos_unsupported 1 for an out-of-scope category when every word of the query is one in-scope entries
#                   use ("可以緩繳嗎" names nothing out of scope, unlike "瓦斯費可以延後繳嗎")
RANK_FEATURES = (
    "entry_coverage",
    "centrality",
    "text_coverage",
    "text_precision",
    "fuzzy",
    "bm25",
    "coverage_gap",
    "topic_support",
    "oos",
    "oos_unsupported",
)
# The confidence model's features for one candidate.
# Query length is deliberately absent: it says more about who wrote a test set than about the answer.
FEATURES = ("score", "entry_coverage", "text_coverage", "fuzzy", "margin", "oos_gap", "oov")


@dataclass(frozen=True)
class Calibration:
    """Re-ranking weights, the logistic confidence model and the fallback threshold, fitted by scripts/calibrate."""

    weights: tuple[float, ...] = (0.40, 0.0, 0.25, 0.10, 0.25, 0.0, 0.0, 0.0, 0.0, 0.0)  # one per RANK_FEATURES
    coefficients: tuple[float, ...] = (12.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)  # one per FEATURES name
    intercept: float = -6.0
    threshold: float = 0.5
    low_band: float = 0.15  # answers within this distance above the threshold are logged for review

    def confidence(self, features: tuple[float, ...]) -> float:
        """Calibrated probability that a candidate is the right answer."""
        z = self.intercept + sum(c * f for c, f in zip(self.coefficients, features, strict=True))
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


@dataclass(frozen=True)
class Candidate:
    """A scored match target: an FAQ entry id, or an out-of-scope category."""

    target: str
    score: float
    confidence: float
    features: tuple[float, ...] = ()  # FEATURES, in order

    @property
    def out_of_scope(self) -> bool:
        """True when the target is an out-of-scope example category."""
        return self.target.startswith(OOS_PREFIX)


@dataclass(frozen=True)
class MatchResult:
    """Ranked candidates for one question, and the agency the question applies to."""

    candidates: tuple[Candidate, ...]
    agency: str | None


@dataclass(frozen=True)
class CandidateSet:
    """Every re-ranked target for one question with its RANK_FEATURES row, and query-level facts."""

    targets: np.ndarray  # target ids into Index.targets
    features: np.ndarray  # shape (len(targets), len(RANK_FEATURES))
    oov: float  # share of the query's weight in words no in-scope entry uses
    agency: str | None
    unmatched_oos: np.ndarray  # the RANK_FEATURES row of an out-of-scope category that matches nothing


class Matcher:
    """Scores questions against an Index; stateless per query, safe to share between threads."""

    def __init__(
        self, index: Index, tokenizer: Tokenizer, agencies: tuple[Agency, ...], calibration: Calibration
    ) -> None:
        self.index = index
        self.tokenizer = tokenizer
        self.calibration = calibration
        self._known_agencies = {a.code for a in agencies}
        self._agency_masks: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        # Per target posting, the weight of its coverage: 1 for question terms, ANSWER_WEIGHT for answer-only
        # terms (share 0). Computed once here instead of one np.where per query term.
        self._cov_weight = np.where(index.target_postings.weights > 0, 1.0, ANSWER_WEIGHT)
        self._texts = np.array(index.texts, dtype=object)  # fancy-indexable, for the fuzzy comparison
        # Per-term scalars as Python lists: the per-query-term loop reads them without numpy scalar boxing.
        self._in_scope: list[bool] = index.in_scope_term.tolist()
        self._text_idf: list[float] = index.text_idf.tolist()
        self._target_idf: list[float] = index.target_idf.tolist()

    def _agency_mask(self, agency: str) -> tuple[np.ndarray, np.ndarray]:
        """Targets (and their texts) that may answer for `agency`: entries with a block for it, all OOS categories."""
        masks = self._agency_masks.get(agency)
        if masks is None:
            targets = np.array(
                [agency in agencies or self.index.is_oos[i] for i, agencies in enumerate(self.index.target_agencies)],
                dtype=bool,
            )
            masks = (targets, targets[self.index.text_target])
            self._agency_masks[agency] = masks
        return masks

    def detect_agency(self, canonical: str) -> tuple[str | None, str]:
        """Find an agency named in the question; return it and the question without the name."""
        return self.tokenizer.strip_agency(canonical)

    def match(self, text: str, agency: str | None = None, k: int = 5) -> MatchResult:
        """Rank the knowledge base's targets for `text`; `agency` restricts answers to that agency."""
        cands = self.candidates(text, agency)
        if cands.targets.size == 0:
            return MatchResult((), cands.agency)
        weights = np.asarray(self.calibration.weights, dtype=np.float64)
        scores = cands.features @ weights
        order = np.argsort(-scores, kind="stable")
        is_oos = self.index.is_oos[cands.targets]
        in_scope = [float(scores[i]) for i in order if not is_oos[i]][:2]
        # An out-of-scope category that was not retrieved still competes, as one that matches nothing.
        best_oos = max((float(scores[i]) for i in order if is_oos[i]), default=float(cands.unmatched_oos @ weights))
        out = []
        for i in order[:k]:
            s = float(scores[i])
            rival = in_scope[1] if len(in_scope) > 1 and s >= in_scope[0] else (in_scope[0] if in_scope else 0.0)
            row = cands.features[i]
            features = (s, float(row[0]), float(row[2]), float(row[4]), s - rival, best_oos - s, cands.oov)
            target = self.index.targets[int(cands.targets[i])]
            out.append(Candidate(target, s, self.calibration.confidence(features), features))
        return MatchResult(tuple(out), cands.agency)

    def candidates(self, text: str, agency: str | None = None) -> CandidateSet:
        """Retrieve candidate targets for `text` and compute their re-ranking features."""
        canonical = self.tokenizer.canonicalize(normalize(text))
        named, query = self.detect_agency(canonical)
        if named is not None:
            agency = named
        if agency is not None and agency not in self._known_agencies:
            agency = None
        q_terms = self.tokenizer.terms_of_canonical(query)
        index = self.index
        if not q_terms or index.size == 0:
            return CandidateSet(np.zeros(0, dtype=np.int64), np.zeros((0, len(RANK_FEATURES))), 0.0, agency, _NO_ROW)

        # Per query term: the query-level masses (in term order, as Python floats), and the known terms.
        # Then every known term's postings are gathered at once and summed per text / per target in one
        # bincount each: a handful of array operations per question instead of several per term.
        known: list[int] = []
        known_weights: list[float] = []
        q_mass = e_mass = unknown_mass = 0.0
        foreign_word = False  # a query word that no in-scope entry uses
        in_scope, text_idf, target_idf = self._in_scope, self._text_idf, self._target_idf
        for term, qw in q_terms.items():
            term_id = index.vocab.get(term)
            if term_id is None:
                foreign_word = foreign_word or term.startswith("w:")
                q_mass += qw * index.max_text_idf
                e_mass += qw * index.max_target_idf
                unknown_mass += qw * index.max_target_idf
                continue
            q_mass += qw * text_idf[term_id]
            t_idf = target_idf[term_id]
            e_mass += qw * t_idf
            if not in_scope[term_id]:
                foreign_word = foreign_word or term.startswith("w:")
                unknown_mass += qw * t_idf
            known.append(term_id)
            known_weights.append(qw)
        n_texts, n_targets = index.size, len(index.targets)
        bm25: np.ndarray
        matched: np.ndarray
        entry_cov: np.ndarray
        centrality: np.ndarray
        if known:
            tp, gp = index.text_postings, index.target_postings
            ids = np.array(known, dtype=np.int64)
            qw_all = np.array(known_weights, dtype=np.float64)
            # Products are taken in each posting array's own dtype, as a Python-float factor would be (NEP 50).
            at, lengths = _posting_positions(tp.indptr, ids)
            rows = tp.rows[at]
            bm25_w = tp.weights[at] * np.repeat(qw_all.astype(tp.weights.dtype), lengths)
            bm25 = np.bincount(rows, weights=bm25_w, minlength=n_texts)
            matched = np.bincount(rows, weights=np.repeat(qw_all * index.text_idf[ids], lengths), minlength=n_texts)
            t_mass = qw_all * index.target_idf[ids]
            at, lengths = _posting_positions(gp.indptr, ids)
            rows = gp.rows[at]
            cov_w = self._cov_weight[at] * np.repeat(t_mass, lengths)
            entry_cov = np.bincount(rows, weights=cov_w, minlength=n_targets)
            share_w = gp.weights[at] * np.repeat(t_mass.astype(gp.weights.dtype), lengths)  # 0 = answer only
            centrality = np.bincount(rows, weights=share_w, minlength=n_targets)
        else:
            bm25, matched = np.zeros(n_texts), np.zeros(n_texts)
            entry_cov, centrality = np.zeros(n_targets), np.zeros(n_targets)
        entry_cov /= e_mass
        centrality /= e_mass
        oov = unknown_mass / e_mass
        if agency is not None:
            allowed_targets, allowed_texts = self._agency_mask(agency)
            entry_cov = np.where(allowed_targets, entry_cov, -1.0)
            bm25 = np.where(allowed_texts, bm25, -1.0)
        top_targets = _top_indices(entry_cov, RERANK_TARGETS)
        top_texts = _top_indices(bm25, RERANK_TEXTS)
        top_texts = top_texts[bm25[top_texts] > 0]
        cand = np.union1d(top_targets[entry_cov[top_targets] > 0], index.text_target[top_texts]).astype(np.int64)
        if cand.size == 0:
            return CandidateSet(np.zeros(0, dtype=np.int64), np.zeros((0, len(RANK_FEATURES))), oov, agency, _NO_ROW)
        feats = np.zeros((cand.size, len(RANK_FEATURES)), dtype=np.float64)
        feats[:, 0] = np.clip(entry_cov[cand], 0.0, 1.0)
        feats[:, 1] = np.clip(centrality[cand], 0.0, 1.0)

        # Text-level features: every text of every candidate, reduced per candidate.
        starts, ends = index.text_bounds[cand], index.text_bounds[cand + 1]
        lengths = ends - starts
        has_texts = lengths > 0
        if has_texts.any():
            seg = np.repeat(np.arange(cand.size), lengths)
            docs = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(int(lengths.sum()))
            cov_d = matched[docs] / q_mass
            prec_d = np.minimum(1.0, matched[docs] / index.text_mass[docs])
            fuzzy_d = process.cdist([query], self._texts[docs].tolist(), scorer=fuzz.ratio)[0] / 100.0
            last = np.cumsum(lengths[has_texts]) - 1
            best = np.lexsort((prec_d, cov_d, seg))[last]  # per candidate: best coverage, then precision
            rows = np.flatnonzero(has_texts)
            feats[rows, 2] = np.minimum(1.0, cov_d[best])
            feats[rows, 3] = prec_d[best]
            firsts = last - lengths[has_texts] + 1
            feats[rows, 4] = np.maximum.reduceat(fuzzy_d, firsts)
            top_bm25 = float(bm25.max())
            if top_bm25 > 0:
                feats[rows, 5] = np.maximum.reduceat(bm25[docs], firsts).clip(0.0) / top_bm25
        feats[:, 6] = feats[:, 0] - feats[:, 0].max()
        # Topic support: sum of the two best entry coverages among candidates of the same topic.
        topic_ids = index.target_topic_id[cand]
        order = np.lexsort((feats[:, 0], topic_ids))  # by topic, then coverage ascending
        by_topic = topic_ids[order]
        top_two = np.ones(order.size, dtype=bool)  # the last two of each topic's run
        top_two[:-1] = by_topic[1:] != by_topic[:-1]
        top_two[:-2] |= by_topic[2:] != by_topic[:-2]
        top_two[-2:] = True
        picked = order[top_two]
        support = np.bincount(topic_ids[picked], weights=feats[picked, 0], minlength=len(index.topic_names))
        feats[:, 7] = support[topic_ids] - support.max()
        feats[:, 8] = index.is_oos[cand]
        feats[:, 9] = index.is_oos[cand] & (not foreign_word)
        unmatched = np.zeros(len(RANK_FEATURES))
        unmatched[6] = -feats[:, 0].max()
        unmatched[7] = -support.max()
        unmatched[8] = 1.0
        unmatched[9] = not foreign_word
        return CandidateSet(cand, feats, oov, agency, unmatched)


_NO_ROW = np.zeros(len(RANK_FEATURES))


def _posting_positions(indptr: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of every posting of the terms `ids` (term by term, in order), and each term's posting count."""
    starts = indptr[ids]
    lengths = indptr[ids + 1] - starts
    offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
    return offsets + np.arange(offsets.size), lengths


def _top_indices(values: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k largest values, largest first."""
    if values.size <= k:
        return np.argsort(-values)
    part = np.argpartition(-values, k)[:k]
    return part[np.argsort(-values[part])]
