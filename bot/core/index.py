"""An in-memory lexical index over every question text of the knowledge base, in compact CSR arrays."""

from __future__ import annotations

import math
from array import array

import numpy as np

from bot.core.normalize import normalize
from bot.core.tokenize import BIGRAM_WEIGHT, Tokenizer
from bot.domain.model import KnowledgeBase

BM25_K1 = 1.2
BM25_B = 0.5
# How much a query term found only in an entry's answer counts, relative to one in its questions.
ANSWER_WEIGHT = 0.6
OOS_PREFIX = "__oos__:"


class Postings:
    """Term id -> (row ids, weights) in compressed sparse rows."""

    def __init__(self, term_ids: np.ndarray, rows: np.ndarray, weights: np.ndarray, n_terms: int) -> None:
        order = np.argsort(term_ids, kind="stable")
        self.rows = rows[order].astype(np.int32)
        self.weights = weights[order].astype(np.float32)
        counts = np.bincount(term_ids, minlength=n_terms)
        self.indptr = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)

    def get(self, term_id: int) -> tuple[np.ndarray, np.ndarray]:
        """Rows containing the term and their weights."""
        start, end = self.indptr[term_id], self.indptr[term_id + 1]
        return self.rows[start:end], self.weights[start:end]

    def frequency(self) -> np.ndarray:
        """How many rows contain each term."""
        return np.diff(self.indptr)


class Index:
    """Texts (questions, variants, OOS examples) pool into targets (entries or out-of-scope categories).

    Two levels of postings: per text (BM25 weights) and per target (1.0 for terms of the target's
    questions, ANSWER_WEIGHT for terms only in its answer).
    """

    def __init__(
        self,
        targets: list[str],
        target_agencies: list[frozenset[str]],
        texts: list[str],
        text_target: np.ndarray,
        vocab: dict[str, int],
        text_postings: Postings,
        text_idf: np.ndarray,
        target_postings: Postings,
        target_idf: np.ndarray,
    ) -> None:
        self.targets = targets
        self.target_agencies = target_agencies
        self.texts = texts
        self.text_target = text_target
        self.vocab = vocab
        self.text_postings = text_postings
        self.text_idf = text_idf
        self.target_postings = target_postings
        self.target_idf = target_idf
        self.max_text_idf = float(text_idf.max()) if text_idf.size else 1.0
        self.max_target_idf = float(target_idf.max()) if target_idf.size else 1.0
        self.is_oos = np.array([t.startswith(OOS_PREFIX) for t in targets], dtype=bool)
        order = np.argsort(text_target, kind="stable")
        bounds = np.searchsorted(text_target[order], np.arange(len(targets) + 1))
        self.target_texts = [order[bounds[i] : bounds[i + 1]] for i in range(len(targets))]
        bigram = np.array([t.startswith("b:") for t in vocab], dtype=bool) if vocab else np.zeros(0, dtype=bool)
        term_weight = np.where(bigram, BIGRAM_WEIGHT, 1.0) * text_idf if vocab else np.zeros(0)
        term_of_posting = np.repeat(np.arange(len(vocab)), text_postings.frequency())
        self.text_mass = np.maximum(
            np.bincount(text_postings.rows, weights=term_weight[term_of_posting], minlength=len(texts)), 1e-9
        )
        # Terms that occur in at least one in-scope entry (the rest are "unknown" to the content).
        in_scope_rows = ~self.is_oos[target_postings.rows] if target_postings.rows.size else np.zeros(0, dtype=bool)
        term_of_target_posting = np.repeat(np.arange(len(vocab)), target_postings.frequency())
        self.in_scope_term = np.zeros(len(vocab), dtype=bool)
        self.in_scope_term[term_of_target_posting[in_scope_rows]] = True

    @property
    def size(self) -> int:
        """Number of indexed texts."""
        return len(self.texts)


def build_index(kb: KnowledgeBase, tokenizer: Tokenizer) -> Index:
    """Index the published entries' questions and variants, plus the out-of-scope examples."""
    targets: list[str] = []
    target_agencies: list[frozenset[str]] = []
    vocab: dict[str, int] = {}
    texts: list[str] = []
    text_target = array("i")
    t_term, t_row, t_tf = array("i"), array("i"), array("f")
    lengths = array("f")
    g_term, g_row, g_w = array("i"), array("i"), array("f")

    answer_cache: dict[str, set[int]] = {}  # identical answers (shared blocks) are tokenised once

    def add_texts(tid: int, raw_texts: list[str], answer: str) -> None:
        seen: set[str] = set()
        question_terms: set[int] = set()
        for raw in raw_texts:
            _named, canonical = tokenizer.strip_agency(tokenizer.canonicalize(normalize(raw)))
            if not canonical or canonical in seen:
                continue
            terms = tokenizer.terms_of_canonical(canonical)
            if not terms:
                continue
            seen.add(canonical)
            doc = len(texts)
            texts.append(canonical)
            text_target.append(tid)
            lengths.append(sum(terms.values()))
            for term, tf in terms.items():
                term_id = vocab.setdefault(term, len(vocab))
                t_term.append(term_id)
                t_row.append(doc)
                t_tf.append(tf)
                question_terms.add(term_id)
        answer_terms = answer_cache.get(answer) if answer else set()
        if answer_terms is None:
            answer_terms = {vocab.setdefault(t, len(vocab)) for t in tokenizer.terms(answer)}
            answer_cache[answer] = answer_terms
        for term_id in question_terms | answer_terms:
            g_term.append(term_id)
            g_row.append(tid)
            g_w.append(1.0 if term_id in question_terms else ANSWER_WEIGHT)

    for entry in kb.published():
        tid = len(targets)
        targets.append(entry.id)
        target_agencies.append(frozenset(entry.agencies))
        answer = " ".join(f"{b.zh} {b.en or ''}" for b in entry.answers)
        add_texts(tid, [entry.question_zh, entry.question_en or "", *entry.variants], answer)
    for cat in kb.out_of_scope:
        tid = len(targets)
        targets.append(OOS_PREFIX + cat.category)
        target_agencies.append(frozenset())
        add_texts(tid, list(cat.examples), "")

    n_terms = len(vocab)
    term_ids = np.frombuffer(t_term, dtype=np.int32) if t_term else np.zeros(0, dtype=np.int32)
    rows = np.frombuffer(t_row, dtype=np.int32) if t_row else np.zeros(0, dtype=np.int32)
    tfs = np.frombuffer(t_tf, dtype=np.float32).astype(np.float64) if t_tf else np.zeros(0)
    doc_len = np.frombuffer(lengths, dtype=np.float32).astype(np.float64) if lengths else np.zeros(0)
    n_texts = len(texts)
    df = np.bincount(term_ids, minlength=n_terms).astype(np.float64)
    text_idf = np.log1p((n_texts - df + 0.5) / (df + 0.5))
    avgdl = float(doc_len.mean()) if n_texts else 1.0
    norm = BM25_K1 * (1 - BM25_B + BM25_B * doc_len[rows] / avgdl) if n_texts else np.zeros(0)
    bm25 = text_idf[term_ids] * tfs * (BM25_K1 + 1) / (tfs + norm) if n_texts else np.zeros(0)
    text_postings = Postings(term_ids, rows, bm25, n_terms)

    g_terms = np.frombuffer(g_term, dtype=np.int32) if g_term else np.zeros(0, dtype=np.int32)
    g_rows = np.frombuffer(g_row, dtype=np.int32) if g_row else np.zeros(0, dtype=np.int32)
    g_weights = np.frombuffer(g_w, dtype=np.float32) if g_w else np.zeros(0, dtype=np.float32)
    n_targets = max(len(targets), 1)
    g_df = np.bincount(g_terms, minlength=n_terms).astype(np.float64)
    target_idf = np.array([math.log1p((n_targets - d + 0.5) / (d + 0.5)) for d in g_df]) if n_terms else np.zeros(0)
    target_postings = Postings(g_terms, g_rows, g_weights, n_terms)
    return Index(
        targets,
        target_agencies,
        texts,
        np.frombuffer(text_target, dtype=np.int32).copy() if text_target else np.zeros(0, dtype=np.int32),
        vocab,
        text_postings,
        text_idf,
        target_postings,
        target_idf,
    )


INDEX_FORMAT = 2


def kb_fingerprint(kb: KnowledgeBase) -> str:
    """A key that changes whenever anything the index depends on changes (content, lexicon, format)."""
    import hashlib
    import json

    from bot.domain.serialize import entry_to_dict

    payload = {
        "format": INDEX_FORMAT,
        "entries": [entry_to_dict(e) for e in kb.published()],
        "oos": [[c.category, list(c.examples)] for c in kb.out_of_scope],
        "lexicon": [list(map(list, kb.lexicon.synonyms)), list(kb.lexicon.domain_words), list(kb.lexicon.stopwords)],
        "agencies": [[a.code, a.short_zh, list(a.aliases)] for a in kb.agencies],
    }
    return hashlib.sha256(json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8")).hexdigest()[:32]


def index_to_parts(index: Index) -> tuple[dict[str, np.ndarray], dict[str, object]]:
    """Arrays and JSON-able metadata that fully describe an index (for the on-disk cache)."""
    arrays = {
        "text_target": index.text_target,
        "text_idf": index.text_idf,
        "target_idf": index.target_idf,
        "tp_rows": index.text_postings.rows,
        "tp_weights": index.text_postings.weights,
        "tp_indptr": index.text_postings.indptr,
        "gp_rows": index.target_postings.rows,
        "gp_weights": index.target_postings.weights,
        "gp_indptr": index.target_postings.indptr,
    }
    meta: dict[str, object] = {
        "format": INDEX_FORMAT,
        "targets": index.targets,
        "target_agencies": [sorted(a) for a in index.target_agencies],
        "texts": index.texts,
        "vocab": list(index.vocab),
    }
    return arrays, meta


def index_from_parts(arrays: dict[str, np.ndarray], meta: dict[str, object]) -> Index:
    """Rebuild an Index from index_to_parts() output."""
    vocab_list = list(meta["vocab"])  # type: ignore[call-overload]
    text_postings = Postings.__new__(Postings)
    text_postings.rows, text_postings.weights, text_postings.indptr = (
        arrays["tp_rows"],
        arrays["tp_weights"],
        arrays["tp_indptr"],
    )
    target_postings = Postings.__new__(Postings)
    target_postings.rows, target_postings.weights, target_postings.indptr = (
        arrays["gp_rows"],
        arrays["gp_weights"],
        arrays["gp_indptr"],
    )
    return Index(
        list(meta["targets"]),  # type: ignore[call-overload]
        [frozenset(a) for a in meta["target_agencies"]],  # type: ignore[attr-defined]
        list(meta["texts"]),  # type: ignore[call-overload]
        arrays["text_target"],
        {t: i for i, t in enumerate(vocab_list)},
        text_postings,
        arrays["text_idf"],
        target_postings,
        arrays["target_idf"],
    )
