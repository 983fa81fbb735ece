"""Import an agency's case export (CSV) into the store: per-row validation, idempotent upsert, hashed verifiers.

Format: UTF-8 (with or without BOM), comma-separated, one header row; lines starting with `#`
before the header are comments. Columns (header names exact, any order):

| column | required | content |
| --- | --- | --- |
| `agency` | unless `--agency` is given | agency code, e.g. `aea-hsinchu` |
| `case_number` | yes | in any form the parser accepts; stored canonical |
| `status` | yes | progress text shown to the verified citizen |
| `amount_outstanding` | no | whole NT$ (`12,000`, `NT$12000` accepted); empty = not stated |
| `handling_unit` | yes | e.g. `執行科第3股` |
| `unit_phone` | yes | the unit's phone number |
| `id_tail` | one of these two | last four digits of the national ID / resident certificate number |
| `query_code` | one of these two | the 8-character query code printed on the notice |
| `demo` | no | `1`/`true` marks fictional demonstration cases |

Verifiers are hashed with the server's pepper before storage; delete the export after importing.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot.core.case_number import AGENCY_SCHEMES, canonical_case_number, scheme_for
from bot.core.verifier import CaseHasher
from bot.domain.cases import Case, CaseImport, StoredCase, VerifierKind
from bot.services.ports import UnitOfWork

REQUIRED = ("case_number", "status", "handling_unit", "unit_phone")
COLUMNS = ("agency", *REQUIRED, "amount_outstanding", "id_tail", "query_code", "demo")
_AMOUNT_NOISE = re.compile(r"^(?:NT\$|NTD|\$)|[,\s]|元$", re.IGNORECASE)
_PHONE = re.compile(r"[0-9()+\-#*\s]+(?:(?:分機|轉|ext\.?|x)\s*[0-9]{1,6})?", re.IGNORECASE)
_TRUE, _FALSE = {"1", "true", "yes", "y", "是"}, {"", "0", "false", "no", "n", "否"}


class ImportFileError(ValueError):
    """The file as a whole cannot be imported (encoding, header, agency); nothing was written."""


@dataclass(frozen=True)
class RowProblem:
    """Why one data row was rejected (never quotes a verifier)."""

    line: int
    message: str


@dataclass
class ImportReport:
    """What an import did."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    rejected: list[RowProblem] = field(default_factory=list)


def _check_agency(agency: str) -> str | None:
    """A problem with an agency code, or None."""
    if scheme_for(agency) is not None:
        return None
    if agency == "mvs-tainan":
        return "臺南監理站沒有案號查詢 / mvs-tainan has no case lookup"
    return f"未知的機關代碼 / unknown agency {agency!r} (expected one of: {', '.join(AGENCY_SCHEMES)})"


def read_cases_csv(data: bytes, agency: str | None = None) -> tuple[list[CaseImport], list[RowProblem]]:
    """Parse and validate an export; rows with problems are reported by line number and left out."""
    if agency is not None and (problem := _check_agency(agency)) is not None:
        raise ImportFileError(problem)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError(f"檔案不是 UTF-8 文字 / the file is not UTF-8 text (byte {exc.start})") from exc
    lines = text.splitlines()
    skipped = 0
    while skipped < len(lines) and (not lines[skipped].strip() or lines[skipped].lstrip().startswith("#")):
        skipped += 1
    reader = csv.reader(io.StringIO("\n".join(lines[skipped:])), strict=True)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise ImportFileError("檔案沒有標題列 / the file has no header row") from None
    except csv.Error as exc:
        raise ImportFileError(f"標題列無法解析 / line {skipped + 1}: {exc}") from exc
    _check_header(header, agency)
    items: list[CaseImport] = []
    problems: list[RowProblem] = []
    seen: dict[tuple[str, str], int] = {}
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise ImportFileError(f"CSV 格式錯誤 / malformed CSV at line {reader.line_num + skipped}: {exc}") from exc
        line = reader.line_num + skipped
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            problems.append(RowProblem(line, f"欄位數不符 / {len(cells)} fields, the header has {len(header)}"))
            continue
        row = {h: c.strip() for h, c in zip(header, cells, strict=True)}
        item = _row_to_case(row, agency)
        if isinstance(item, str):
            problems.append(RowProblem(line, item))
            continue
        key = (item.case.agency, item.case.case_number)
        if key in seen:
            problems.append(RowProblem(line, f"重複案號 / duplicate of line {seen[key]}"))
            continue
        seen[key] = line
        items.append(item)
    return items, problems


def _check_header(header: list[str], agency: str | None) -> None:
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        raise ImportFileError(f"不認得的欄位 / unknown columns: {', '.join(unknown)} (allowed: {', '.join(COLUMNS)})")
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ImportFileError(f"缺少欄位 / missing columns: {', '.join(missing)}")
    if len(set(header)) != len(header):
        raise ImportFileError("欄位名稱重複 / a column name appears twice")
    if "id_tail" not in header and "query_code" not in header:
        raise ImportFileError("需要 id_tail 或 query_code 欄位 / the file needs an id_tail or query_code column")
    if "agency" not in header and agency is None:
        raise ImportFileError("沒有 agency 欄位，請用 --agency 指定機關 / no agency column: pass --agency CODE")


def _row_to_case(row: dict[str, str], default_agency: str | None) -> CaseImport | str:
    """A validated case, or the problem with the row."""
    agency = row.get("agency", "").lower() or default_agency or ""
    if default_agency is not None and agency != default_agency:
        return f"機關與 --agency 不符 / agency {agency!r} differs from --agency {default_agency}"
    if (problem := _check_agency(agency)) is not None:
        return problem
    number = canonical_case_number(row["case_number"], agency)
    if number is None:
        example = AGENCY_SCHEMES[agency].example
        return f"案號格式不符 / case_number is not a valid {agency} case number (e.g. {example})"
    for name, limit in (("status", 500), ("handling_unit", 200), ("unit_phone", 60)):
        if not row[name] or len(row[name]) > limit:
            return f"{name} 必填且不超過 {limit} 字 / {name} is required, at most {limit} characters"
    if not _PHONE.fullmatch(row["unit_phone"]) or sum(ch.isdigit() for ch in row["unit_phone"]) < 7:
        return "unit_phone 不是電話號碼 / unit_phone is not a phone number"
    amount_text = _AMOUNT_NOISE.sub("", row.get("amount_outstanding", ""))
    if amount_text and not (amount_text.isascii() and amount_text.isdigit()):
        return "amount_outstanding 須為非負整數（新臺幣元） / amount_outstanding must be whole NT$, not negative"
    id_tail, query_code = row.get("id_tail", "").upper(), row.get("query_code", "").replace("-", "").upper()
    if id_tail and not re.fullmatch(r"[0-9]{4}", id_tail):
        return "id_tail 須為身分證號末4碼數字 / id_tail must be exactly the last 4 digits (never the whole ID)"
    if query_code and not re.fullmatch(r"[A-Z0-9]{8}", query_code):
        return "query_code 須為8碼英數字 / query_code must be 8 letters or digits"
    if not id_tail and not query_code:
        return "需要 id_tail 或 query_code / a case needs id_tail or query_code, or nobody could look it up"
    demo = row.get("demo", "").lower()
    if demo not in _TRUE | _FALSE:
        return "demo 須為 1 或 0 / demo must be 1 or 0"
    case = Case(
        agency,
        number,
        row["status"],
        int(amount_text) if amount_text else None,
        row["handling_unit"],
        row["unit_phone"],
        demo in _TRUE,
    )
    return CaseImport(case, id_tail or None, query_code or None)


def import_cases(
    items: list[CaseImport],
    uow_factory: Callable[[], UnitOfWork],
    hasher: CaseHasher,
    *,
    replace_agencies: tuple[str, ...] = (),
) -> ImportReport:
    """Upsert the cases in one transaction; with `replace_agencies`, their cases missing from `items` go."""
    report = ImportReport()
    with uow_factory() as uow:
        for item in items:
            case = item.case
            stored = StoredCase(
                case,
                hasher.verifier(case.agency, case.case_number, VerifierKind.ID_TAIL, item.id_tail)
                if item.id_tail
                else None,
                hasher.verifier(case.agency, case.case_number, VerifierKind.QUERY_CODE, item.query_code)
                if item.query_code
                else None,
            )
            outcome = uow.cases.upsert(stored)
            setattr(report, outcome, getattr(report, outcome) + 1)
        for agency in replace_agencies:
            keep = {i.case.case_number for i in items if i.case.agency == agency}
            report.removed += uow.cases.remove_missing(agency, keep)
        uow.commit()
    return report


def load_demo_cases(path: Path, uow_factory: Callable[[], UnitOfWork], hasher: CaseHasher) -> ImportReport:
    """Load the bundled fictional cases (every one flagged demo, whatever the file says)."""
    items, problems = read_cases_csv(path.read_bytes())
    if problems:
        raise ImportFileError(f"{path}: line {problems[0].line}: {problems[0].message}")
    demo = [dataclasses.replace(i, case=dataclasses.replace(i.case, demo=True)) for i in items]
    return import_cases(demo, uow_factory, hasher)
