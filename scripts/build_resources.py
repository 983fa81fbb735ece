"""Regenerate the matcher's bundled language resources from installed packages (run by developers, not at run time).

- `bot/core/resources/words.txt`: the most frequent words of jieba's dictionary, converted to
  Traditional Chinese (Taiwan) with OpenCC, in jieba's `word freq` format. A compact dictionary
  keeps the tokeniser's start-up under a quarter of a second (jieba's full one takes ~0.9 s).
- `bot/core/resources/s2t_chars.tsv`: a one-to-one Simplified -> Traditional character table,
  resolved to a fixpoint so that applying it twice changes nothing (the normaliser relies on it).
"""

from __future__ import annotations

import os
from pathlib import Path

import jieba
import opencc

OUT = Path(__file__).resolve().parents[1] / "bot" / "core" / "resources"
TOP_WORDS = 60_000


def build_words(converter: opencc.OpenCC) -> None:
    """Write the compact Traditional-Chinese word list."""
    src = Path(os.path.dirname(jieba.__file__)) / "dict.txt"
    rows = [line.split() for line in src.read_text(encoding="utf-8").splitlines()]
    rows = [r for r in rows if len(r) >= 2 and r[1].isdigit()]
    rows.sort(key=lambda r: -int(r[1]))
    best: dict[str, int] = {}
    for word, freq, *_ in rows[:TOP_WORDS]:
        trad = converter.convert(word)
        best[trad] = max(best.get(trad, 0), int(freq))
    lines = [f"{w} {f}" for w, f in sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))]
    (OUT / "words.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


def build_chars(converter: opencc.OpenCC) -> None:
    """Write the Simplified -> Traditional character table, chains resolved."""
    table: dict[str, str] = {}
    for cp in range(0x4E00, 0xA000):
        ch = chr(cp)
        out = converter.convert(ch)
        if len(out) == 1 and out != ch:
            table[ch] = out
    # Resolve chains (a -> b -> c) and drop cycles so one pass is a fixpoint.
    resolved: dict[str, str] = {}
    for src in table:
        seen = {src}
        dst = table[src]
        while dst in table and dst not in seen:
            seen.add(dst)
            dst = table[dst]
        if dst != src and dst not in table:
            resolved[src] = dst
    lines = [f"{s}\t{t}" for s, t in sorted(resolved.items())]
    (OUT / "s2t_chars.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    """Build both resources."""
    OUT.mkdir(parents=True, exist_ok=True)
    build_words(opencc.OpenCC("s2twp"))
    build_chars(opencc.OpenCC("s2t"))


if __name__ == "__main__":
    main()
