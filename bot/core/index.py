"""An in-memory lexical index over every question text of the knowledge base, in compact CSR arrays."""

from __future__ import annotations

import ctypes
import hashlib
import json
from array import array
from collections.abc import Callable

import numpy as np

from bot.core.normalize import normalize
from bot.core.tokenize import BIGRAM_WEIGHT, Tokenizer
from bot.domain.model import KnowledgeBase

BM25_K1 = 1.2
BM25_B = 0.5
# How much a query term found only in an entry's answer counts, relative to one in its questions.
ANSWER_WEIGHT = 0.6
OOS_PREFIX = "__oos__:"
OOS_TOPIC = "__oos__"
INDEX_FORMAT = 3


class Postings:
    """Term id -> (row ids, weights) in compressed sparse rows."""

    def __init__(self, rows: np.ndarray, weights: np.ndarray, indptr: np.ndarray) -> None:
        self.rows = rows
        self.weights = weights
        self.indptr = indptr

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
    questions, ANSWER_WEIGHT for terms only in its answer), and per target the share of its texts
    that contain each term (how central a word is to the intent, 0 for answer-only terms).
    """

    def __init__(
        self,
        targets: list[str],
        target_agencies: list[frozenset[str]],
        target_topics: list[str],
        texts: list[str],
        vocab: dict[str, int],
        arrays: dict[str, np.ndarray],
    ) -> None:
        self.targets = targets
        self.target_agencies = target_agencies
        self.target_topics = target_topics
        self.texts = texts
        self.vocab = vocab
        self.arrays = arrays
        self.text_target: np.ndarray = arrays["text_target"]
        self.text_idf: np.ndarray = arrays["text_idf"]
        self.target_idf: np.ndarray = arrays["target_idf"]
        self.text_mass: np.ndarray = arrays["text_mass"]
        self.in_scope_term: np.ndarray = arrays["in_scope_term"]
        self.text_postings = Postings(arrays["tp_rows"], arrays["tp_weights"], arrays["tp_indptr"])
        # Target postings carry the share of the target's texts containing the term; a share of 0
        # marks an answer-only term, weighted ANSWER_WEIGHT (question terms weigh 1.0).
        self.target_postings = Postings(arrays["gp_rows"], arrays["gp_share"], arrays["gp_indptr"])
        self.max_text_idf = float(self.text_idf.max()) if self.text_idf.size else 1.0
        self.max_target_idf = float(self.target_idf.max()) if self.target_idf.size else 1.0
        self.is_oos = np.array([t.startswith(OOS_PREFIX) for t in targets], dtype=bool)
        topic_names = sorted(set(target_topics))
        self.topic_names = topic_names
        self.target_topic_id = np.array([topic_names.index(t) for t in target_topics], dtype=np.int32)
        bounds = np.searchsorted(self.text_target, np.arange(len(targets) + 1))  # texts are grouped by target
        self.text_bounds = bounds.astype(np.int64)

    def texts_of(self, target: int) -> range:
        """Row ids of the texts of one target."""
        return range(int(self.text_bounds[target]), int(self.text_bounds[target + 1]))

    @property
    def size(self) -> int:
        """Number of indexed texts."""
        return len(self.texts)


class _Builder:
    """Streams texts into flat typed arrays; no per-text Python containers outlive one text.

    Row ids are implied by per-text and per-target counts (texts and targets are added in order),
    and term frequencies (multiples of BIGRAM_WEIGHT = 0.5) are kept as small integers.
    """

    def __init__(self, tokenizer: Tokenizer) -> None:
        self.tokenizer = tokenizer
        self.vocab: dict[str, int] = {}
        self.texts: list[str] = []
        self.text_target = array("i")
        self.t_term, self.t_count, self.t_tf2 = array("i"), array("i"), array("B")
        self.lengths = array("f")
        self.g_term, self.g_count, self.g_share = array("i"), array("i"), array("B")  # share in 1/255ths
        self._answer_cache: dict[str, tuple[int, ...]] = {}  # identical answers are tokenised once

    def release_caches(self) -> None:
        """Drop what only the tokenising pass needed."""
        self._answer_cache.clear()

    def add_target(self, tid: int, raw_texts: list[str], answer: str) -> None:
        seen: set[str] = set()
        counts: dict[int, int] = {}
        for raw in raw_texts:
            _named, canonical = self.tokenizer.strip_agency(self.tokenizer.canonicalize(normalize(raw)))
            if not canonical or canonical in seen:
                continue
            terms = self.tokenizer.terms_of_canonical(canonical)
            if not terms:
                continue
            seen.add(canonical)
            self.texts.append(canonical)
            self.text_target.append(tid)
            self.lengths.append(sum(terms.values()))
            self.t_count.append(len(terms))
            for term, tf in terms.items():
                term_id = self.vocab.setdefault(term, len(self.vocab))
                self.t_term.append(term_id)
                self.t_tf2.append(min(255, round(tf * 2)))
                counts[term_id] = counts.get(term_id, 0) + 1
        answer_terms: tuple[int, ...] = ()
        if answer:
            cached = self._answer_cache.get(answer)
            if cached is None:
                cached = tuple(self.vocab.setdefault(t, len(self.vocab)) for t in self.tokenizer.terms(answer))
                self._answer_cache[answer] = cached
            answer_terms = cached
        n_texts = max(len(seen), 1)
        before = len(self.g_term)
        for term_id, count in counts.items():
            self.g_term.append(term_id)
            self.g_share.append(max(1, round(255 * count / n_texts)))
        for term_id in answer_terms:
            if term_id not in counts:
                self.g_term.append(term_id)
                self.g_share.append(0)
        self.g_count.append(len(self.g_term) - before)


def _group_by_term(
    term_ids: np.ndarray,
    df: np.ndarray,
    block_columns: Callable[[int, int], tuple[np.ndarray, ...]],
    dtypes: tuple[type, ...],
    block: int = 1 << 18,
) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """Stable counting sort of postings by term, written straight into the final CSR arrays.

    `block_columns(lo, hi)` returns the columns (row ids, weights) of postings lo..hi; only one
    block's temporaries exist at a time.
    """
    indptr = np.zeros(df.size + 1, dtype=np.int64)
    np.cumsum(df, out=indptr[1:])
    next_free = indptr[:-1].copy()
    outs: tuple[np.ndarray, ...] = tuple(np.empty(term_ids.size, dtype=dt) for dt in dtypes)
    for lo in range(0, term_ids.size, block):
        hi = min(lo + block, term_ids.size)
        terms = term_ids[lo:hi]
        order = np.argsort(terms, kind="stable")
        ordered = terms[order]
        # Within this block, the k-th posting of a term goes k places after the term's next free slot.
        dest = next_free[ordered] + (np.arange(hi - lo) - np.searchsorted(ordered, ordered, side="left"))
        for out, column in zip(outs, block_columns(lo, hi), strict=True):
            out[dest] = column[order]
        next_free += np.bincount(terms, minlength=df.size)
    return indptr, outs


def _trim_heap() -> None:
    """Hand freed heap pages back to the OS (glibc keeps them otherwise); a no-op elsewhere.

    Tokenising thousands of texts churns through small allocations; without this the process
    keeps tens of megabytes of dead heap for as long as it lives.
    """
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _np(buf: array, dtype: type) -> np.ndarray:  # type: ignore[type-arg]
    """A zero-copy numpy view of an array.array (empty arrays become empty numpy arrays)."""
    return np.frombuffer(buf, dtype=dtype) if len(buf) else np.zeros(0, dtype=dtype)


def build_index(kb: KnowledgeBase, tokenizer: Tokenizer) -> Index:
    """Index the published entries' questions and variants, plus the out-of-scope examples."""
    b = _Builder(tokenizer)
    targets: list[str] = []
    target_agencies: list[frozenset[str]] = []
    target_topics: list[str] = []
    for entry in kb.published():
        targets.append(entry.id)
        target_agencies.append(frozenset(entry.agencies))
        target_topics.append(entry.topic)
        answer = " ".join(f"{blk.zh} {blk.en or ''}" for blk in entry.answers)
        b.add_target(len(targets) - 1, [entry.question_zh, entry.question_en or "", *entry.variants], answer)
    for cat in kb.out_of_scope:
        targets.append(OOS_PREFIX + cat.category)
        target_agencies.append(frozenset())
        target_topics.append(OOS_TOPIC)
        b.add_target(len(targets) - 1, list(cat.examples), "")

    b.release_caches()
    _trim_heap()
    n_terms = len(b.vocab)
    is_bigram = np.fromiter((t.startswith("b:") for t in b.vocab), dtype=bool, count=n_terms)
    arrays: dict[str, np.ndarray] = {"text_target": _np(b.text_target, np.int32).copy()}

    arrays.update(_text_postings(b, n_terms, is_bigram))
    b.t_term, b.t_count, b.t_tf2 = array("i"), array("i"), array("B")  # release the build buffers
    _trim_heap()
    arrays.update(_target_postings(b, targets, n_terms))
    b.g_term, b.g_count, b.g_share = array("i"), array("i"), array("B")
    _trim_heap()
    return Index(targets, target_agencies, target_topics, b.texts, b.vocab, arrays)


def _text_postings(b: _Builder, n_terms: int, is_bigram: np.ndarray) -> dict[str, np.ndarray]:
    """BM25 weight of every (term, text) posting, computed and grouped by term one block at a time.

    A 10k-entry knowledge base has ~3M postings: no full-size temporaries, float32 throughout.
    """
    n_texts = len(b.texts)
    counts = _np(b.t_count, np.int32)
    term_ids = _np(b.t_term, np.int32)
    tf2 = _np(b.t_tf2, np.uint8)
    doc_len = _np(b.lengths, np.float32)
    df = np.bincount(term_ids, minlength=n_terms)
    text_idf = np.log1p((n_texts - df + 0.5) / (df + 0.5))
    idf32 = text_idf.astype(np.float32)
    mass_of_term = (np.where(is_bigram, BIGRAM_WEIGHT, 1.0) * text_idf).astype(np.float32)
    text_starts = np.zeros(n_texts + 1, dtype=np.int64)
    np.cumsum(counts, out=text_starts[1:])
    avgdl = float(doc_len.mean()) if n_texts else 1.0
    text_mass = np.zeros(n_texts, dtype=np.float64)

    def block(lo: int, hi: int) -> tuple[np.ndarray, ...]:
        terms = term_ids[lo:hi]
        rows = (np.searchsorted(text_starts, np.arange(lo, hi), side="right") - 1).astype(np.int32)
        np.add(text_mass, np.bincount(rows, weights=mass_of_term[terms], minlength=n_texts), out=text_mass)
        tf = tf2[lo:hi].astype(np.float32) * 0.5
        norm = BM25_K1 * (1 - BM25_B + BM25_B * doc_len[rows] / avgdl) + tf
        return rows, (idf32[terms] * tf * (BM25_K1 + 1) / norm).astype(np.float32)

    indptr, (rows, weights) = _group_by_term(term_ids, df, block, (np.int32, np.float32))
    return {
        "tp_rows": rows,
        "tp_weights": weights,
        "tp_indptr": indptr,
        "text_idf": text_idf,
        "text_mass": np.maximum(text_mass, 1e-9).astype(np.float32),
    }


def _target_postings(b: _Builder, targets: list[str], n_terms: int) -> dict[str, np.ndarray]:
    """Which targets use each term, the share of each target's texts that do, and target-level idf."""
    g_terms = _np(b.g_term, np.int32)
    g_counts = _np(b.g_count, np.int32)
    g_share = _np(b.g_share, np.uint8)
    n_targets = max(len(targets), 1)
    g_df = np.bincount(g_terms, minlength=n_terms)
    # Entries come before out-of-scope categories, so the first postings are the in-scope ones.
    n_entries = sum(1 for t in targets if not t.startswith(OOS_PREFIX))
    in_scope_term = np.zeros(n_terms, dtype=bool)
    in_scope_term[g_terms[: int(g_counts[:n_entries].sum())]] = True
    target_starts = np.zeros(len(targets) + 1, dtype=np.int64)
    np.cumsum(g_counts, out=target_starts[1:])

    def block(lo: int, hi: int) -> tuple[np.ndarray, ...]:
        rows = (np.searchsorted(target_starts, np.arange(lo, hi), side="right") - 1).astype(np.int32)
        return rows, (g_share[lo:hi] / 255).astype(np.float16)

    indptr, (rows, share) = _group_by_term(g_terms, g_df, block, (np.int32, np.float16))
    return {
        "gp_rows": rows,
        "gp_share": share,
        "gp_indptr": indptr,
        "target_idf": np.log1p((n_targets - g_df + 0.5) / (g_df + 0.5)),
        "in_scope_term": in_scope_term,
    }


def kb_fingerprint(kb: KnowledgeBase) -> str:
    """A key that changes whenever anything the index depends on changes (content, lexicon, format)."""
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
    meta: dict[str, object] = {
        "format": INDEX_FORMAT,
        "targets": index.targets,
        "target_agencies": [sorted(a) for a in index.target_agencies],
        "target_topics": index.target_topics,
        "texts": index.texts,
        "vocab": list(index.vocab),
    }
    return dict(index.arrays), meta


def index_from_parts(arrays: dict[str, np.ndarray], meta: dict[str, object]) -> Index:
    """Rebuild an Index from index_to_parts() output."""
    vocab_list: list[str] = list(meta["vocab"])  # type: ignore[call-overload]
    return Index(
        list(meta["targets"]),  # type: ignore[call-overload]
        [frozenset(a) for a in meta["target_agencies"]],  # type: ignore[attr-defined]
        list(meta["target_topics"]),  # type: ignore[call-overload]
        list(meta["texts"]),  # type: ignore[call-overload]
        {t: i for i, t in enumerate(vocab_list)},
        arrays,
    )
