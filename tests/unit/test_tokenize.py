"""Tokeniser: synonyms meet, domain words stay whole."""

from __future__ import annotations

from bot.core.matcher import Matcher
from bot.core.normalize import normalize


def test_synonyms_are_canonicalised(matcher: Matcher) -> None:
    tk = matcher.tokenizer
    assert tk.canonicalize(normalize("可以刷卡嗎")) == tk.canonicalize(normalize("可以信用卡嗎"))
    assert "拍賣" in tk.canonicalize(normalize("法拍屋"))
    assert tk.canonicalize(normalize("pay by credit card")) == tk.canonicalize(normalize("繳納 by 信用卡"))


def test_domain_words_stay_whole(matcher: Matcher) -> None:
    words = matcher.tokenizer.words(matcher.tokenizer.canonicalize(normalize("傳繳通知書上的虛擬帳號怎麼用")))
    assert "傳繳通知書" in words
    assert "虛擬帳號" in words


def test_terms_have_words_and_bigrams(matcher: Matcher) -> None:
    terms = matcher.tokenizer.terms("通訊投標")
    assert "w:通訊投標" in terms
    assert any(t.startswith("b:") for t in terms)


def test_longest_synonym_wins_and_ascii_needs_whole_words(matcher: Matcher) -> None:
    tk = matcher.tokenizer
    assert tk.canonicalize(normalize("分期付款")) == tk.canonicalize(normalize("分期"))  # not 分期 + 付款
    assert "信用卡" in tk.canonicalize(normalize("credit card"))
    assert "信用卡" not in tk.canonicalize(normalize("xcredit cardx"))  # inside another word: untouched
    assert tk.canonicalize(normalize("fbi")) == "fbi"  # fb is a synonym of 臉書, fbi is not


def test_canonical_forms_are_fixed_points(matcher: Matcher) -> None:
    """Canonicalising twice changes nothing (index and query meet on one form)."""
    tk = matcher.tokenizer
    for text in ("可以刷卡嗎", "臉書粉專", "wifi 可以用嗎", "聲明異義狀", "online banking 轉帳", "開庭要報到"):
        once = tk.canonicalize(normalize(text))
        assert tk.canonicalize(once) == once
