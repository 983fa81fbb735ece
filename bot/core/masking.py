"""Mask personal data (national ID / resident numbers, phone numbers, e-mail, card numbers) before storage or logs."""

from __future__ import annotations

import re
import unicodedata

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# Taiwan national ID (A123456789) and resident certificate numbers (old: AB12345678, new: A812345678).
_NATIONAL_ID = re.compile(r"(?<![A-Za-z0-9])[A-Za-z](?:[1289]\d|[A-Da-d]\d)\d{7}(?![A-Za-z0-9])")
_CARD = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")
_PHONE = re.compile(r"(?<!\d)(?:\+?886[ -]?|0)(?:9\d{2}[ -]?\d{3}[ -]?\d{3}|\(?\d{1,2}\)?[ -]?\d{3,4}[ -]?\d{4})(?!\d)")
_PAREN_PHONE = re.compile(r"\(0\d{1,2}\)\s?\d{3,4}[ -]?\d{4}")

MASKS = (
    (_EMAIL, "[email]"),
    (_NATIONAL_ID, "[national-id]"),
    (_CARD, "[card-number]"),
    (_PAREN_PHONE, "[phone]"),
    (_PHONE, "[phone]"),
)


def mask_pii(text: str) -> str:
    """Return `text` with personal data replaced by placeholders (width-folded first, so ＡＢ… cannot slip by)."""
    text = unicodedata.normalize("NFKC", text)
    for pattern, placeholder in MASKS:
        text = pattern.sub(placeholder, text)
    return text
