"""Normaliser: the same form for index and query; idempotent and total."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.normalize import clean_input, is_english, normalize


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("可以刷卡ㄇ？？", "可以刷卡"),  # Zhuyin particle and full-width punctuation dropped
        ("怎么缴费啊", "怎麼繳費"),  # Simplified -> Traditional, final particle dropped
        ("ＡＢＣ１２３　台中分署！", "abc123 臺中分署"),  # width folding, case folding, 台/臺 folded
        ("信用卡繳款可以嗎😀", "信用卡繳款可以"),  # emoji and particle dropped
        ("Can I pay by Credit Card?", "can i pay by credit card"),
        ("<script>alert(1)</script>", "script alert 1 script"),
        ("繳\u200b費\x00\x07", "繳費"),  # zero-width and control characters
        ("裡面、裏面", "裏面 裏面"),  # Taiwan variant characters folded to one form
    ],
)
def test_normalize_examples(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_simplified_and_traditional_meet() -> None:
    assert normalize("通讯投标怎么办理") == normalize("通訊投標怎麼辦理")


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=300))
def test_normalize_is_idempotent_and_total(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200))
def test_clean_input_removes_every_control_character(text: str) -> None:
    import unicodedata

    cleaned = clean_input(text)
    assert all(unicodedata.category(ch)[0] != "C" for ch in cleaned)


def test_is_english() -> None:
    assert is_english("How do I pay?")
    assert not is_english("How do I 繳費?")
    assert not is_english("12345")
