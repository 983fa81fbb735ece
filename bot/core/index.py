"""An in-memory lexical index over every question text of the knowledge base (BM25 weights)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from bot.core.normalize import normalize
from bot.core.tokenize import Tokenizer
from bot.domain.model import KnowledgeBase

BM25_K1 = 1.2
BM25_B = 0.5
# How much a query term found only in an entry's answer counts, relative to one in its questions.
ANSWER_WEIGHT = 0.6
OOS_PREFIX = "__oos__:"


@dataclass(frozen=True)
class IndexedText:
    """One searchable text (canonical question, variant or out-of-scope example)."""

    target: int  # index into Index.targets
    canonical: str  # normalised + canonicalised text, for fuzzy comparison


class Index:
    """Inverted index: term -> (text ids, BM25 weights); texts pool into targets (entries or OOS)."""

    def __init__(
        self,
        targets: list[str],
        texts: list[IndexedText],
        postings: dict[str, tuple[np.ndarray, np.ndarray]],
        idf: dict[str, float],
        target_agencies: list[frozenset[str]],
        target_texts: list[list[int]],
        target_postings: dict[str, tuple[np.ndarray, np.ndarray]],
        target_idf: dict[str, float],
    ) -> None:
        self.targets = targets
        self.texts = texts
        self.postings = postings
        self.idf = idf
        self.max_idf = max(idf.values(), default=1.0)
        self.target_agencies = target_agencies
        self.target_texts = target_texts
        self.text_target = np.array([t.target for t in texts], dtype=np.int32)
        self.is_oos = np.array([t.startswith(OOS_PREFIX) for t in targets], dtype=bool)
        # Entry-level evidence: term -> (target ids, 1.0 where the term is in the entry's questions,
        # ANSWER_WEIGHT where only its answer has it). IDF over targets, not texts.
        self.target_postings = target_postings
        self.target_idf = target_idf
        self.max_target_idf = max(target_idf.values(), default=1.0)

    @property
    def size(self) -> int:
        """Number of indexed texts."""
        return len(self.texts)


def build_index(kb: KnowledgeBase, tokenizer: Tokenizer) -> Index:
    """Index the published entries' questions and variants, plus the out-of-scope examples."""
    targets: list[str] = []
    target_agencies: list[frozenset[str]] = []
    raw: list[tuple[int, str]] = []
    answer_terms: dict[int, set[str]] = {}
    for entry in kb.published():
        tid = len(targets)
        targets.append(entry.id)
        target_agencies.append(frozenset(entry.agencies))
        answer_text = " ".join(f"{b.zh} {b.en or ''}" for b in entry.answers)
        answer_terms[tid] = set(tokenizer.terms(answer_text))
        for text in (entry.question_zh, entry.question_en or "", *entry.variants):
            if text:
                raw.append((tid, text))
    for cat in kb.out_of_scope:
        tid = len(targets)
        targets.append(OOS_PREFIX + cat.category)
        target_agencies.append(frozenset())
        raw.extend((tid, ex) for ex in cat.examples)

    texts: list[IndexedText] = []
    term_lists: list[dict[str, float]] = []
    seen: set[tuple[int, str]] = set()
    for tid, text in raw:
        canonical = tokenizer.canonicalize(normalize(text))
        if not canonical or (tid, canonical) in seen:
            continue
        seen.add((tid, canonical))
        terms = tokenizer.terms_of_canonical(canonical)
        if not terms:
            continue
        texts.append(IndexedText(tid, canonical))
        term_lists.append(terms)

    n = len(texts)
    lengths = np.array([sum(t.values()) for t in term_lists], dtype=np.float64) if n else np.zeros(0)
    avgdl = float(lengths.mean()) if n else 1.0
    df: dict[str, int] = {}
    for terms in term_lists:
        for term in terms:
            df[term] = df.get(term, 0) + 1
    idf = {t: math.log(1.0 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}
    ids: dict[str, list[int]] = {}
    weights: dict[str, list[float]] = {}
    for doc, terms in enumerate(term_lists):
        norm = BM25_K1 * (1 - BM25_B + BM25_B * lengths[doc] / avgdl)
        for term, tf in terms.items():
            ids.setdefault(term, []).append(doc)
            weights.setdefault(term, []).append(idf[term] * tf * (BM25_K1 + 1) / (tf + norm))
    postings = {
        t: (np.array(ids[t], dtype=np.int32), np.array(weights[t], dtype=np.float64)) for t in ids
    }
    target_texts: list[list[int]] = [[] for _ in targets]
    for doc, text in enumerate(texts):
        target_texts[text.target].append(doc)
    question_terms: list[set[str]] = [set() for _ in targets]
    for doc, text in enumerate(texts):
        question_terms[text.target].update(term_lists[doc])
    t_ids: dict[str, list[int]] = {}
    t_weights: dict[str, list[float]] = {}
    for tid in range(len(targets)):
        q_terms = question_terms[tid]
        for term in q_terms | answer_terms.get(tid, set()):
            t_ids.setdefault(term, []).append(tid)
            t_weights.setdefault(term, []).append(1.0 if term in q_terms else ANSWER_WEIGHT)
    n_t = max(len(targets), 1)
    target_idf = {t: math.log(1.0 + (n_t - len(v) + 0.5) / (len(v) + 0.5)) for t, v in t_ids.items()}
    target_postings = {
        t: (np.array(t_ids[t], dtype=np.int32), np.array(t_weights[t], dtype=np.float64)) for t in t_ids
    }
    return Index(targets, texts, postings, idf, target_agencies, target_texts, target_postings, target_idf)
