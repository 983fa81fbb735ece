"""Case-number parsing: sloppy input to one canonical form, garbage rejected, never an exception."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from bot.core.case_number import (
    AEA,
    AGENCY_SCHEMES,
    PROSECUTOR,
    canonical_case_number,
    parse_case_number,
)
from bot.services.case_lookup import NO_CASE_LOOKUP
from tests.conftest import FAQ_DIR

AEA_CANONICAL = "113年度營稅執字第00012345號"


@pytest.mark.parametrize(
    "typed",
    [
        "113年度營稅執字第00012345號",
        "113營稅執12345",
        "１１３年度營稅執字第００１２３４５號",
        "113-營稅執-00012345",
        " 113 年度 營稅執 字第 12345 號 ",
        "113年營稅執字12345號",
        "113营税执字第12345号",  # simplified characters
        "新竹分署113年度營稅執字第00012345號",
        "法務部行政執行署新竹分署 113營稅執12345",
        "113/營稅執/00012345",
        "113年度營稅執第12345號",
    ],
)
def test_sloppy_enforcement_numbers_become_canonical(typed: str) -> None:
    assert canonical_case_number(typed, "aea-hsinchu") == AEA_CANONICAL


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("113年度偵字第1234號", "113年度偵字第1234號"),
        ("113偵1234", "113年度偵字第1234號"),
        ("113偵字第001234號", "113年度偵字第1234號"),
        ("臺東地檢署 113年度執字第 2345 號", "113年度執字第2345號"),
        ("台東地檢113執2345", "113年度執字第2345號"),
        ("99年度偵緝字第88號", "99年度偵緝字第88號"),
        ("114 他 5", "114年度他字第5號"),
    ],
)
def test_prosecutor_numbers(typed: str, canonical: str | None) -> None:
    assert canonical_case_number(typed, "tpo-taitung") == canonical


def test_special_enforcement_words_and_padding() -> None:
    assert canonical_case_number("112綜所稅執特專1234", "aea-yilan") == "112年度綜所稅執特專字第00001234號"
    assert canonical_case_number("112健保執7", "aea-taichung") == "112年度健保執字第00000007號"


@pytest.mark.parametrize(
    ("typed", "agency"),
    [
        ("", "aea-hsinchu"),
        ("我的案號是多少", "aea-hsinchu"),
        ("113偵1234", "aea-hsinchu"),  # a prosecutor's word at an enforcement branch
        ("113營稅執12345", "tpo-taitung"),
        ("113營稅執0", "aea-hsinchu"),  # serial zero
        ("113營稅執123456789", "aea-hsinchu"),  # nine significant digits
        ("13營稅執12345", "aea-hsinchu"),  # ROC year 13
        ("1130營稅執12345", "aea-hsinchu"),
        ("113營稅執", "aea-hsinchu"),
        ("營稅執12345", "aea-hsinchu"),
        ("113年度營稅執字第12345號 請幫我查", "aea-hsinchu"),
        ("113營稅執12345", "mvs-tainan"),  # no case lookup at the motor vehicles station
        ("113營稅執12345", None),
        ("113營稅執12345", "no-such-agency"),
        ("A123456789", "aea-hsinchu"),
        ("113營稅執" + "1" * 500, "aea-hsinchu"),
        ("113營稅執١٢٣", "aea-hsinchu"),  # Arabic-Indic digits are not case numbers
    ],
)
def test_garbage_is_rejected(typed: str, agency: str | None) -> None:
    assert parse_case_number(typed, agency) is None


def test_masked_form_hides_the_serial_tail() -> None:
    parsed = parse_case_number(AEA_CANONICAL, "aea-hsinchu")
    assert parsed is not None and parsed.masked == "113年度營稅執字第0001****號"
    short = parse_case_number("113偵12", "tpo-taitung")
    assert short is not None and short.masked == "113年度偵字第**號"


def test_format_hints_are_bilingual_with_an_example() -> None:
    for scheme in (AEA, PROSECUTOR):
        zh, en = scheme.hint()
        assert scheme.example in zh and scheme.example in en
        assert canonical_case_number(scheme.example, next(a for a, s in AGENCY_SCHEMES.items() if s is scheme))


def test_every_agency_either_has_a_scheme_or_says_where_to_ask() -> None:
    codes = {a["code"] for a in yaml.safe_load((FAQ_DIR / "agencies.yaml").read_text(encoding="utf-8"))["agencies"]}
    assert codes == set(AGENCY_SCHEMES) | set(NO_CASE_LOOKUP)
    assert not set(AGENCY_SCHEMES) & set(NO_CASE_LOOKUP)


AGENCIES = st.sampled_from([*AGENCY_SCHEMES, "mvs-tainan", "", "x"])


@given(st.text(max_size=80), AGENCIES)
def test_parsing_never_raises_and_canonical_form_is_a_fixpoint(text: str, agency: str) -> None:
    canonical = canonical_case_number(text, agency)
    if canonical is not None:
        assert canonical_case_number(canonical, agency) == canonical


SEPARATORS = st.sampled_from(["", " ", "-", "　", "/"])


@given(
    year=st.integers(80, 150),
    word=st.sampled_from(sorted(AEA.words)),
    serial=st.integers(1, 99_999_999),
    pad=st.booleans(),
    full_width=st.booleans(),
    long_form=st.booleans(),
    sep=SEPARATORS,
)
def test_generated_variants_of_one_number_agree(
    year: int, word: str, serial: int, pad: bool, full_width: bool, long_form: bool, sep: str
) -> None:
    digits = str(serial).zfill(8) if pad else str(serial)
    typed = f"{year}年度{sep}{word}字第{sep}{digits}號" if long_form else f"{year}{sep}{word}{sep}{digits}"
    if full_width:
        typed = typed.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"})
    assert canonical_case_number(typed, "aea-taichung") == f"{year}年度{word}字第{str(serial).zfill(8)}號"
