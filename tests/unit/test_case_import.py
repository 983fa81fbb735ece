"""Verifier normalisation and hashing, and validation of agency case exports (no I/O beyond memory)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.adapters.memory import InMemoryUnitOfWork, MemoryStore
from bot.config import Settings
from bot.core.verifier import CaseHasher, normalise_verifier
from bot.domain.cases import VerifierKind
from bot.services.case_import import ImportFileError, import_cases, load_demo_cases, read_cases_csv

ID, CODE = VerifierKind.ID_TAIL, VerifierKind.QUERY_CODE
HEADER = "agency,case_number,status,amount_outstanding,handling_unit,unit_phone,id_tail,query_code\n"
GOOD = 'aea-hsinchu,113營稅執12345,分期繳納中,"12,000",執行科第3股,03-5555-0101,6789,AB12CD34\n'


@pytest.mark.parametrize(
    ("typed", "kind", "expected"),
    [
        ("6789", None, (ID, "6789")),
        ("６７８９", None, (ID, "6789")),
        (" 6789 ", ID, (ID, "6789")),
        ("A123456789", None, (ID, "6789")),  # a whole national ID: only its last four are used
        ("ab12345678", None, (ID, "5678")),  # old resident certificate number
        ("ab12-cd34", None, (CODE, "AB12CD34")),
        ("AB12 CD34", CODE, (CODE, "AB12CD34")),
        ("6789", CODE, None),
        ("AB12CD34", ID, None),
        ("678", None, None),
        ("67890", None, None),
        ("", None, None),
        ("我不知道", None, None),
        ("1" * 100, None, None),
    ],
)
def test_verifier_forms(typed: str, kind: VerifierKind | None, expected: tuple[VerifierKind, str] | None) -> None:
    assert normalise_verifier(typed, kind) == expected


@given(st.text(max_size=80))
def test_verifier_normalisation_never_raises_and_is_stable(text: str) -> None:
    result = normalise_verifier(text)
    if result is not None:
        assert normalise_verifier(result[1], result[0]) == result


def test_hashes_are_keyed_bound_to_the_case_and_compared_safely() -> None:
    a, b = CaseHasher("pepper-one-for-tests"), CaseHasher("pepper-two-for-tests")
    digest = a.verifier("aea-hsinchu", "N1", ID, "6789")
    assert "6789" not in digest and len(digest) == 64
    assert digest != b.verifier("aea-hsinchu", "N1", ID, "6789")  # another pepper
    assert digest != a.verifier("aea-hsinchu", "N2", ID, "6789")  # another case
    assert a.matches(digest, "aea-hsinchu", "N1", ID, "6789")
    assert not a.matches(digest, "aea-hsinchu", "N1", ID, "6780")
    assert not a.matches(None, "aea-hsinchu", "N1", ID, "6789")
    assert not a.matches("not-hex-ü", "aea-hsinchu", "N1", ID, "6789")
    with pytest.raises(ValueError):
        CaseHasher("")


def test_dev_pepper_is_refused_outside_dev() -> None:
    with pytest.raises(ValueError, match="CASE_VERIFIER_PEPPER"):
        Settings(env="production", secret_key="a-real-secret-key-0123456789")
    ok = Settings(
        env="production", secret_key="a-real-secret-key-0123456789", case_verifier_pepper="a-real-pepper-0123456789"
    )
    assert ok.case_verifier_pepper == "a-real-pepper-0123456789"
    assert Settings(case_api_url="").case_api_url is None


def test_a_good_export_is_read_and_normalised() -> None:
    items, problems = read_cases_csv(("\ufeff" + HEADER + GOOD).encode("utf-8"))
    assert problems == []
    (item,) = items
    assert item.case.case_number == "113年度營稅執字第00012345號"
    assert item.case.amount_outstanding == 12000 and item.case.demo is False
    assert (item.id_tail, item.query_code) == ("6789", "AB12CD34")


def test_bad_rows_are_rejected_with_their_line_numbers_and_never_quote_a_verifier() -> None:
    rows = [
        GOOD,
        "aea-hsinchu,113營稅執12345,重複,,執行科,03-5555-0101,1111,\n",  # line 3: duplicate
        "aea-hsinchu,亂打的,x,,執行科,03-5555-0101,1111,\n",  # 4: bad case number
        "aea-hsinchu,113營稅執2,x,-5,執行科,03-5555-0101,1111,\n",  # 5: negative amount
        "aea-hsinchu,113營稅執3,x,,執行科,03-5555-0101,A123456789,\n",  # 6: whole ID
        "aea-hsinchu,113營稅執4,x,,執行科,03-5555-0101,,\n",  # 7: no verifier
        "mvs-tainan,113營稅執5,x,,監理站,06-5555-0101,2222,\n",  # 8: no case lookup there
        "aea-hsinchu,113營稅執6,,,執行科,03-5555-0101,3333,\n",  # 9: no status
        "aea-hsinchu,113營稅執7,x,,執行科,call me,4444,\n",  # 10: not a phone number
        "aea-hsinchu,113營稅執8,x\n",  # 11: short row
        "\n",  # blank lines are skipped
        "aea-yilan,113營稅執9,x,NT$1500,執行科,(03)5555-0101 分機 12,,zz99-yy88\n",  # 13: fine
    ]
    items, problems = read_cases_csv((HEADER + "".join(rows)).encode("utf-8"))
    assert [i.case.case_number for i in items] == ["113年度營稅執字第00012345號", "113年度營稅執字第00000009號"]
    assert items[1].case.amount_outstanding == 1500 and items[1].query_code == "ZZ99YY88"
    assert [p.line for p in problems] == [3, 4, 5, 6, 7, 8, 9, 10, 11]
    assert "duplicate of line 2" in problems[0].message
    assert all("A123456789" not in p.message and "1111" not in p.message for p in problems)


def test_comments_before_the_header_keep_line_numbers_right() -> None:
    data = "# DEMO\n# fictional\n" + HEADER + "aea-hsinchu,bad,x,,執行科,03-5555-0101,1111,\n"
    _, problems = read_cases_csv(data.encode("utf-8"))
    assert [p.line for p in problems] == [4]


@pytest.mark.parametrize(
    ("data", "agency", "message"),
    [
        (b"\xff\xfe garbage", None, "UTF-8"),
        (b"", None, "header"),
        (b"case_number,status\n", None, "missing columns"),
        (HEADER.replace("query_code", "name").encode(), None, "unknown columns: name"),
        (b"case_number,status,handling_unit,unit_phone,query_code\n", None, "--agency"),
        (b"case_number,status,handling_unit,unit_phone\n", "aea-hsinchu", "id_tail or query_code"),
        (HEADER.encode(), "aea-nowhere", "unknown agency"),
        (HEADER.encode(), "mvs-tainan", "no case lookup"),
        ((HEADER + 'aea-hsinchu,"113營稅執1\n').encode(), None, "malformed CSV"),
    ],
)
def test_bad_files_are_refused_as_a_whole(data: bytes, agency: str | None, message: str) -> None:
    with pytest.raises(ImportFileError, match=message):
        read_cases_csv(data, agency)


def test_agency_option_fills_and_checks_the_agency() -> None:
    header = "case_number,status,handling_unit,unit_phone,id_tail\n"
    items, _ = read_cases_csv((header + "113偵12,偵查中,仁股,089-555-0101,1234\n").encode(), "tpo-taitung")
    assert items[0].case.agency == "tpo-taitung" and items[0].case.case_number == "113年度偵字第12號"
    _, problems = read_cases_csv((HEADER + GOOD).encode(), "aea-yilan")
    assert "differs from --agency" in problems[0].message


def test_import_is_idempotent_and_replace_removes_missing_cases() -> None:
    store = MemoryStore()
    hasher = CaseHasher("pepper-for-tests-0123")
    items, _ = read_cases_csv((HEADER + GOOD + GOOD.replace("12345", "777")).encode())
    first = import_cases(items, lambda: InMemoryUnitOfWork(store), hasher)
    assert (first.added, first.updated, first.unchanged) == (2, 0, 0)
    again = import_cases(items, lambda: InMemoryUnitOfWork(store), hasher)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 2)
    changed, _ = read_cases_csv((HEADER + GOOD.replace("分期繳納中", "已結案")).encode())
    report = import_cases(changed, lambda: InMemoryUnitOfWork(store), hasher, replace_agencies=("aea-hsinchu",))
    assert (report.updated, report.removed) == (1, 1)
    stored = list(store.case_tables.cases.values())
    assert len(stored) == 1 and stored[0].case.status == "已結案"
    assert "6789" not in repr(stored) and "AB12CD34" not in repr(stored)


def test_the_demo_dataset_is_valid_and_all_demo() -> None:
    store = MemoryStore()
    report = load_demo_cases(Settings().demo_cases, lambda: InMemoryUnitOfWork(store), CaseHasher("p" * 20))
    assert report.added >= 12
    agencies = {c.case.agency for c in store.case_tables.cases.values()}
    assert agencies == {"aea-taichung", "aea-yilan", "aea-hsinchu", "tpo-taitung"}
    assert all(c.case.demo for c in store.case_tables.cases.values())
