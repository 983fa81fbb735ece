"""Tokenisation for matching: synonym canonicalisation, jieba words, character bigrams, English words."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from importlib import resources

import jieba

from bot.core.normalize import normalize
from bot.domain.model import Lexicon

# Weight of a character bigram relative to a word in the lexical score: bigrams rescue typos and
# unsegmented words but must not outvote whole words.
BIGRAM_WEIGHT = 0.5
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_LATIN_WORD = re.compile(r"[a-z0-9]+")
_DOMAIN_FREQ = 2_000_000  # high enough that jieba keeps domain terms whole

_jieba_lock = threading.Lock()
_base_tokenizer: jieba.Tokenizer | None = None


def _load_base_tokenizer() -> jieba.Tokenizer:
    """Load jieba once per process on the bundled compact Traditional dictionary."""
    global _base_tokenizer
    with _jieba_lock:
        if _base_tokenizer is None:
            jieba.setLogLevel(logging.WARNING)
            path = resources.files("bot.core.resources").joinpath("words.txt")
            tokenizer = jieba.Tokenizer(dictionary=str(path))
            tokenizer.initialize()
            _base_tokenizer = tokenizer
        return _base_tokenizer


class Tokenizer:
    """Turns normalised text into weighted terms; built once per lexicon by the composition root."""

    def __init__(
        self, lexicon: Lexicon, extra_words: Iterable[str] = (), agency_aliases: dict[str, str] | None = None
    ) -> None:
        self._jieba = _load_base_tokenizer()
        self._canonical: dict[str, str] = {}
        for group in lexicon.synonyms:
            forms = [normalize(w) for w in group if normalize(w)]
            if not forms:
                continue
            for form in forms:
                self._canonical.setdefault(form, forms[0])
        words = {normalize(w) for w in (*lexicon.domain_words, *extra_words)}
        words |= {c for c in self._canonical.values()}
        with _jieba_lock:
            for word in sorted(w for w in words if w and _CJK_RUN.fullmatch(w.replace(" ", ""))):
                self._jieba.add_word(word.replace(" ", ""), freq=_DOMAIN_FREQ)
        self._stopwords = frozenset(normalize(w) for w in lexicon.stopwords)
        self._synonym_re = re.compile(_trie_pattern(self._canonical)) if self._canonical else None
        self._alias_to_code: dict[str, str] = {}
        for alias, code in (agency_aliases or {}).items():
            form = self.canonicalize(normalize(alias))
            if form:
                self._alias_to_code.setdefault(form, code)
        forms = sorted(self._alias_to_code, key=len, reverse=True)
        self._alias_re = (
            re.compile("|".join(rf"\b{re.escape(f)}\b" if f.isascii() else re.escape(f) for f in forms))
            if forms
            else None
        )

    def strip_agency(self, canonical: str) -> tuple[str | None, str]:
        """Find an agency named in canonical text; return its code and the text without the name.

        Used on both sides: a question naming an agency is filtered to that agency, and an indexed
        variant naming one is matched on the rest of its words.
        """
        if self._alias_re is None:
            return None, canonical
        found = self._alias_re.search(canonical)
        if not found:
            return None, canonical
        stripped = (canonical[: found.start()] + " " + canonical[found.end() :]).strip()
        return self._alias_to_code[found.group(0)], re.sub(r"\s+", " ", stripped)

    def canonicalize(self, normalized: str) -> str:
        """Rewrite every synonym to its group's canonical form (longest match first, left to right).

        One trie-shaped regular expression (a branch per character, so no backtracking across
        hundreds of alternatives); ASCII surfaces only match whole words.
        """
        if self._synonym_re is None:
            return normalized
        return self._synonym_re.sub(lambda m: self._canonical[m.group(0)], normalized)

    def words(self, canonical: str) -> list[str]:
        """Content words of canonicalised text: jieba words for CJK runs, Latin words, no stopwords."""
        out: list[str] = []
        for chunk in canonical.split(" "):
            if not chunk:
                continue
            for piece in _split_scripts(chunk):
                if _CJK_RUN.fullmatch(piece):
                    out.extend(w for w in self._jieba.lcut(piece, HMM=True) if w not in self._stopwords)
                else:
                    for w in _LATIN_WORD.findall(piece):
                        w = _stem(w)
                        # Bare numbers say nothing about the topic ("1 OR 1=1" must not match).
                        if w not in self._stopwords and not w.isdigit():
                            out.append(w)
        return out

    def terms(self, text: str) -> dict[str, float]:
        """Weighted terms of raw text: `w:` words (1.0) and `b:` CJK bigrams (BIGRAM_WEIGHT)."""
        canonical = self.canonicalize(normalize(text))
        return self.terms_of_canonical(canonical)

    def terms_of_canonical(self, canonical: str) -> dict[str, float]:
        """Weighted terms of already-canonicalised text."""
        terms: dict[str, float] = {}
        for w in self.words(canonical):
            terms["w:" + w] = terms.get("w:" + w, 0.0) + 1.0
        for run in _CJK_RUN.findall(canonical):
            if len(run) == 1 and ("w:" + run) not in terms:
                terms["w:" + run] = terms.get("w:" + run, 0.0) + 1.0
            for i in range(len(run) - 1):
                key = "b:" + run[i : i + 2]
                terms[key] = terms.get(key, 0.0) + BIGRAM_WEIGHT
        return terms


def _trie_pattern(surfaces: Iterable[str]) -> str:
    """A regex matching any surface, longest first; ASCII surfaces only as whole words."""
    trie: dict[str, dict] = {}  # type: ignore[type-arg]
    for surface in surfaces:
        node = trie
        for ch in surface:
            node = node.setdefault(ch, {})
        node[""] = {}

    def branch(node: dict, ascii_path: bool) -> str:  # type: ignore[type-arg]
        alternatives = [
            re.escape(ch) + branch(child, ascii_path and ch.isascii()) for ch, child in sorted(node.items()) if ch
        ]
        if "" in node:  # a surface ends here: tried after every longer one
            alternatives.append(_WORD_END if ascii_path else "")
        if len(alternatives) == 1:
            return alternatives[0]
        return "(?:" + "|".join(alternatives) + ")"

    roots = []
    for ch, child in sorted(trie.items()):
        start = _WORD_START if ch.isascii() else ""
        roots.append(start + re.escape(ch) + branch(child, ch.isascii()))
    return "|".join(roots)


_WORD_START = r"(?<![a-z0-9])"
_WORD_END = r"(?![a-z0-9])"


def _split_scripts(chunk: str) -> list[str]:
    """Split a chunk into alternating CJK and non-CJK pieces (Latin, digits)."""
    pieces: list[str] = []
    last = 0
    for m in _CJK_RUN.finditer(chunk):
        if m.start() > last:
            pieces.append(chunk[last : m.start()])
        pieces.append(m.group(0))
        last = m.end()
    if last < len(chunk):
        pieces.append(chunk[last:])
    return pieces


def _stem(word: str) -> str:
    """A light English stemmer: plural and -ing/-ed endings, enough for FAQ questions."""
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word
