"""`civicbot cases import` run as an operator would: reports, exit codes, nothing written on a bad file."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.e2e.test_cli import run

DEMO = str(ROOT / "data" / "demo" / "cases.csv")
HEADER = "agency,case_number,status,amount_outstanding,handling_unit,unit_phone,id_tail,query_code\n"


@pytest.fixture()
def env(tmp_path: Path) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith("CIVICBOT_")}
    out["CIVICBOT_DATA_DIR"] = str(tmp_path / "data")
    return out


def stored(env: dict[str, str]) -> list[tuple[str, str]]:
    with sqlite3.connect(Path(env["CIVICBOT_DATA_DIR"]) / "civicbot.db") as conn:
        return sorted(conn.execute("SELECT agency, case_number FROM cases").fetchall())


def test_first_use_loads_the_demo_cases_and_import_is_idempotent(env: dict[str, str]) -> None:
    assert run(["ask", "可以刷卡嗎"], env).returncode == 0  # first start on the embedded default
    assert len(stored(env)) == 12
    again = run(["cases", "import", DEMO], env)
    assert again.returncode == 0, again.stderr.decode()
    assert again.stdout.decode().strip() == "added 0, updated 0, unchanged 12, removed 0, rejected 0"


def test_rows_with_problems_are_reported_by_line_and_the_rest_imported(env: dict[str, str], tmp_path: Path) -> None:
    export = tmp_path / "export.csv"
    export.write_text(
        HEADER
        + "aea-yilan,113牌稅執777,已寄發傳繳通知書,1500,執行科第2股,03-5555-0202,1357,\n"
        + "aea-yilan,not-a-number,x,,執行科,03-5555-0202,1357,\n"
        + "aea-yilan,113牌稅執778,x,,執行科,03-5555-0202,A123456789,\n",
        encoding="utf-8-sig",
    )
    proc = run(["cases", "import", str(export)], env)
    out = proc.stdout.decode()
    assert proc.returncode == 1 and b"Traceback" not in proc.stderr
    assert "rejected line 3:" in out and "rejected line 4:" in out and "A123456789" not in out
    assert out.strip().endswith("added 1, updated 0, unchanged 0, removed 0, rejected 2")
    assert stored(env) == [("aea-yilan", "113年度牌稅執字第00000777號")]
    refused = run(["cases", "import", str(export), "--replace"], env)
    assert refused.returncode == 1 and b"nothing was imported" in refused.stderr


@pytest.mark.parametrize(
    ("args", "content", "message"),
    [
        (["--agency", "aea-nowhere"], HEADER, "unknown agency"),
        (["--agency", "mvs-tainan"], HEADER, "no case lookup"),
        ([], None, "cannot read"),
        ([], b"\xff\xfe\x00garbage", "UTF-8"),
        ([], "name,case_number\n王小明,113營稅執1\n", "unknown columns: name"),
    ],
)
def test_bad_files_exit_2_and_write_nothing(
    env: dict[str, str], tmp_path: Path, args: list[str], content: str | bytes | None, message: str
) -> None:
    path = tmp_path / "export.csv"
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    elif content is not None:
        path.write_bytes(content)
    proc = run(["cases", "import", str(path), *args], env)
    err = proc.stderr.decode("utf-8")
    assert proc.returncode == 2 and message in err and "Traceback" not in err
    assert not (Path(env["CIVICBOT_DATA_DIR"]) / "civicbot.db").exists()


def test_replace_removes_cases_missing_from_the_export(env: dict[str, str], tmp_path: Path) -> None:
    run(["cases", "import", DEMO], env)
    export = tmp_path / "taitung.csv"
    export.write_text(
        "case_number,status,handling_unit,unit_phone,query_code\n113偵99,偵查中,偵查（仁股）,089-555-0403,TT9X9X9X\n",
        encoding="utf-8",
    )
    proc = run(["cases", "import", str(export), "--agency", "tpo-taitung", "--replace"], env)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout.decode().strip() == "added 1, updated 0, unchanged 0, removed 3, rejected 0"
    taitung = [n for a, n in stored(env) if a == "tpo-taitung"]
    assert taitung == ["113年度偵字第99號"] and len(stored(env)) == 10


@pytest.mark.postgres
def test_server_database_must_be_upgraded_first(env: dict[str, str], fresh_pg: str) -> None:
    env = {**env, "CIVICBOT_DATABASE_URL": fresh_pg}
    not_ready = run(["cases", "import", DEMO], env)
    assert not_ready.returncode == 2 and b"civicbot db upgrade" in not_ready.stderr
    assert run(["db", "upgrade"], env).returncode == 0
    done = run(["cases", "import", DEMO], env)
    assert done.returncode == 0 and done.stdout.decode().startswith("added 12,")
