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
