"""Personal data is masked before anything is stored or logged."""

from __future__ import annotations

import pytest

from bot.core.masking import mask_pii


@pytest.mark.parametrize(
    ("raw", "secret", "placeholder"),
    [
        ("我的身分證是A123456789", "A123456789", "[national-id]"),
        ("居留證 AB12345678 要怎麼辦", "AB12345678", "[national-id]"),
        ("新式居留證 A812345678", "A812345678", "[national-id]"),
        ("全形ｆ２２３４５６７８９也要遮", "223456789", "[national-id]"),
        ("手機0912-345-678請回電", "345-678", "[phone]"),
        ("call +886 912 345 678", "912 345 678", "[phone]"),
        ("市話(02)2345-6789", "2345-6789", "[phone]"),
        ("市話 03-5234567", "5234567", "[phone]"),
        ("email: someone.x+tag@example.com.tw", "example.com", "[email]"),
        ("卡號 4111 1111 1111 1111", "4111", "[card-number]"),
    ],
)
def test_personal_data_is_masked(raw: str, secret: str, placeholder: str) -> None:
    masked = mask_pii(raw)
    assert secret not in masked
    assert placeholder in masked


@pytest.mark.parametrize("text", ["案號111年度執字第12345號", "欠款 35000 元", "新竹分署8樓"])
def test_ordinary_numbers_are_kept(text: str) -> None:
    assert mask_pii(text) == text
