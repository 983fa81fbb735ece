"""Text normalisation shared by indexing and querying, so both sides see the same form."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from importlib import resources

MAX_QUESTION_CHARS = 2000

# Variant characters that Taiwan uses interchangeably; folded to one form (after s2t).
_VARIANT_FOLDS = {"裡": "裏", "着": "著", "爲": "為", "峯": "峰", "羣": "群", "綫": "線", "衆": "眾", "啓": "啟"}
# Zhuyin used as chat particles (可以刷卡ㄇ, 好ㄉ) and tone marks: dropped.
_ZHUYIN = re.compile(r"[\u3100-\u312f\u31a0-\u31bf\u02c7\u02ca\u02cb\u02d9]+")
# Sentence-final particles: they carry tone, not meaning.
_FINAL_PARTICLES = re.compile(r"(?:[嗎嘛呢吧啊呀喔哦啦耶欸唷咧囉耶哇嗯捏]+)(?=\s|$)")
_ZERO_WIDTH = re.compile(r"[\u200b-\u200f\u2028-\u202f\u2060-\u206f\ufeff]")
_NON_WORD = re.compile(r"[^\w\s]|_", re.UNICODE)
_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=1)
def _char_table() -> dict[int, str]:
    """Simplified -> Traditional character table plus Taiwan variant folds."""
    text = resources.files("bot.core.resources").joinpath("s2t_chars.tsv").read_text(encoding="utf-8")
    table: dict[int, str] = {}
    for line in text.splitlines():
        if "\t" in line:
            src, dst = line.split("\t", 1)
            table[ord(src)] = _VARIANT_FOLDS.get(dst, dst)
    for src, dst in _VARIANT_FOLDS.items():
        table[ord(src)] = dst
    # Targets must map to themselves, or a second pass would change them again.
    for key in list(table):
        while ord(table[key]) in table and table[ord(table[key])] != table[key]:
            table[key] = table[ord(table[key])]
    return table


def clean_input(text: str) -> str:
    """Strip control and zero-width characters and surrounding space, keeping the text readable."""
    text = _ZERO_WIDTH.sub("", text)
    if not text.isprintable():  # only then can it hold control or format characters
        text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    return _SPACES.sub(" ", text).strip()


def normalize(text: str) -> str:
    """Return the matching form of `text`: width-folded, Traditional, case-folded, no punctuation.

    The function is idempotent: normalize(normalize(x)) == normalize(x).
    """
    text = unicodedata.normalize("NFKC", text)
    text = clean_input(text)
    text = text.translate(_char_table())
    text = text.casefold()
    # casefold/NFKC can expose new characters; run the width fold once more.
    text = unicodedata.normalize("NFKC", text).translate(_char_table())
    text = _ZHUYIN.sub(" ", text)
    text = _NON_WORD.sub(" ", text)
    text = _FINAL_PARTICLES.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def is_english(text: str) -> bool:
    """True when the text has Latin letters and no CJK characters (answer in English)."""
    has_cjk = any("\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" for ch in text)
    return not has_cjk and any(ch.isascii() and ch.isalpha() for ch in text)
