"""Hybrid matcher: BM25-weighted term coverage plus rapidfuzz similarity, agency filter, calibrated confidence."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz

from bot.core.index import OOS_PREFIX, Index
from bot.core.normalize import normalize
from bot.core.tokenize import Tokenizer
from bot.domain.model import Agency

# How many targets (entries or out-of-scope categories) are re-ranked with every feature.
RERANK_TARGETS = 24
RERANK_TEXTS = 48
# The raw score weighs (Calibration.weights, summing to 1 so the score is in [0, 1]): entry
# coverage (query terms found in the entry's questions, or more weakly its answer), best
# single-text coverage, that text's precision, and character-level fuzzy similarity.


FEATURES = ("score", "entry_coverage", "fuzzy", "margin", "oos_gap", "oov", "query_terms")


@dataclass(frozen=True)
class Calibration:
    """Ranking weights, the logistic confidence model and the fallback threshold, fitted by scripts/calibrate."""

    weights: tuple[float, float, float, float] = (0.40, 0.25, 0.10, 0.25)  # entry, text, precision, fuzzy
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


class Matcher:
    """Scores questions against an Index; stateless per query, safe to share between threads."""

    def __init__(
        self, index: Index, tokenizer: Tokenizer, agencies: tuple[Agency, ...], calibration: Calibration
    ) -> None:
        self.index = index
        self.tokenizer = tokenizer
        self.calibration = calibration
        self._known_agencies = {a.code for a in agencies}
        self._agency_masks: dict[str, np.ndarray] = {}

    def _agency_mask(self, agency: str) -> np.ndarray:
        """Targets that may answer for `agency`: entries with a block for it, and all OOS categories."""
        mask = self._agency_masks.get(agency)
        if mask is None:
            mask = np.array(
                [agency in agencies or self.index.is_oos[i] for i, agencies in enumerate(self.index.target_agencies)],
                dtype=bool,
            )
            self._agency_masks[agency] = mask
        return mask

    def detect_agency(self, canonical: str) -> tuple[str | None, str]:
        """Find an agency named in the question; return it and the question without the name."""
        return self.tokenizer.strip_agency(canonical)

    def match(self, text: str, agency: str | None = None, k: int = 5) -> MatchResult:
        """Rank the knowledge base's targets for `text`; `agency` restricts answers to that agency."""
        canonical = self.tokenizer.canonicalize(normalize(text))
        named, query = self.detect_agency(canonical)
        if named is not None:
            agency = named
        if agency is not None and agency not in self._known_agencies:
            agency = None
        q_terms = self.tokenizer.terms_of_canonical(query)
        if not q_terms or self.index.size == 0:
            return MatchResult((), agency)

        index = self.index
        bm25 = np.zeros(index.size, dtype=np.float64)
        matched = np.zeros(index.size, dtype=np.float64)
        entry_cov = np.zeros(len(index.targets), dtype=np.float64)
        q_mass = e_mass = unknown_mass = 0.0
        for term, qw in q_terms.items():
            term_id = index.vocab.get(term)
            if term_id is None:
                q_mass += qw * index.max_text_idf
                e_mass += qw * index.max_target_idf
                unknown_mass += qw * index.max_target_idf
                continue
            idf = float(index.text_idf[term_id])
            q_mass += qw * idf
            ids, weights = index.text_postings.get(term_id)
            bm25[ids] += qw * weights
            matched[ids] += qw * idf
            t_idf = float(index.target_idf[term_id])
            e_mass += qw * t_idf
            if not index.in_scope_term[term_id]:
                unknown_mass += qw * t_idf
            t_ids, t_weights = index.target_postings.get(term_id)
            entry_cov[t_ids] += qw * t_idf * t_weights
        entry_cov /= e_mass
        oov = unknown_mass / e_mass
        query_size = math.log1p(sum(1 for t in q_terms if t.startswith("w:")))
        w_entry, w_text, w_precision, w_fuzzy = self.calibration.weights
        if agency is not None:
            allowed = self._agency_mask(agency)
            entry_cov = np.where(allowed, entry_cov, -1.0)
            bm25 = np.where(allowed[index.text_target], bm25, -1.0)
        chosen = {int(t) for t in _top_indices(entry_cov, RERANK_TARGETS) if entry_cov[t] > 0}
        chosen |= {int(index.text_target[d]) for d in _top_indices(bm25, RERANK_TEXTS) if bm25[d] > 0}
        scored: list[tuple[int, float, float, float]] = []
        for target in chosen:
            docs = index.target_texts[target]
            best_cov = best_prec = best_fuzzy = 0.0
            for doc in docs:
                cov = matched[doc] / q_mass
                if cov > best_cov:
                    best_cov = cov
                    best_prec = min(1.0, matched[doc] / index.text_mass[doc])
                best_fuzzy = max(best_fuzzy, fuzz.ratio(query, index.texts[doc]) / 100.0)
            ecov = min(1.0, max(0.0, float(entry_cov[target])))
            score = w_entry * ecov + w_text * min(1.0, best_cov) + w_precision * best_prec + w_fuzzy * best_fuzzy
            scored.append((target, score, ecov, best_fuzzy))
        scored.sort(key=lambda x: -x[1])
        in_scope = [x[1] for x in scored if not index.is_oos[x[0]]][:2]
        best_oos = next((x[1] for x in scored if index.is_oos[x[0]]), 0.0)
        candidates = []
        for t, s, cov, fz in scored[:k]:
            rival = in_scope[1] if len(in_scope) > 1 and s >= in_scope[0] else (in_scope[0] if in_scope else 0.0)
            features = (s, cov, fz, s - rival, best_oos - s, oov, query_size)
            candidates.append(Candidate(index.targets[t], s, self.calibration.confidence(features), features))
        return MatchResult(tuple(candidates), agency)


def _top_indices(values: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k largest values, largest first."""
    if values.size <= k:
        return np.argsort(-values)
    part = np.argpartition(-values, k)[:k]
    return part[np.argsort(-values[part])]
