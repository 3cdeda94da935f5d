"""Importing KPI values from a CSV or XLSX file, on the command line and the upload page.

Every row is checked before anything is written; a file with any bad row changes nothing at
all (the whole database is compared before and after) and the refusal names every bad row by
the spreadsheet's own row number. A good file adds values, corrects others (the old value
stays in the history) and leaves identical ones alone; the statuses of the actions the KPIs
feed follow at once.
"""

from __future__ import annotations

import functools
import io
import itertools
import re
import zipfile
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from bs4 import Tag
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import TestResponse, encode_multipart

from tests.conftest import KINGSTON, db_fingerprint
from tests.tracker.helpers import (
    QUARTER,
    SLUG,
    TODAY,
    approve,
    browser,
    csrf_token,
    db,
    error_summary,
    field_error,
    page,
    pin_today,
    status_of,
    status_rows,
    submit_update,
    text_of,
    visible,
)
from tests.tracker.signing import ADMIN, BOARD
from tracker.models import KPI, Action, AuditEvent, Commitment, KPIValue, User
from tracker.services import kpi_import_xlsx
from tracker.services.kpi_import import MAX_ROWS

HEADER = "kpi,period,value,note\n"
PLAN = ("Safer Kingston Partnership Plan 2024-2029, 1 April 2024 to 31 March 2029")


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    pin_today(monkeypatch)


# -- helpers ----------------------------------------------------------------------------------


def write(tmp_path: Path, text: str, name: str = "values.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def run(app: Flask, path: Path, *options: str):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(
        args=["kpi", "import", str(path), "--today", TODAY.isoformat(), *options])


def recorded(app: Flask, ref: str | None = None) -> list[tuple[str, str, float, str, str]]:
    """Every KPI value row, oldest first: KPI, period, value, note, where it came from."""
    with db(app) as s:
        query = (select(KPI.ref, KPIValue.period, KPIValue.value, KPIValue.note,
                        KPIValue.source).join(KPI, KPI.id == KPIValue.kpi_id)
                 .order_by(KPIValue.id))
        if ref is not None:
            query = query.where(KPI.ref == ref)
        return [tuple(row) for row in s.execute(query)]  # type: ignore[misc]


def events(app: Flask, action: str) -> list[AuditEvent]:
    with db(app) as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == action)
                              .order_by(AuditEvent.id)))


def xlsx(rows: list[list[object]], percent_cells: tuple[str, ...] = ()) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    for ref in percent_cells:
        sheet[ref].number_format = "0.0%"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def problem_rows(html: str) -> list[tuple[str, str]]:
    """The upload page's table of problems: (row, problem) as a reader sees them."""
    marker = page(html).find(id="problems")
    assert isinstance(marker, Tag), "no table of problems on the page"
    found = marker if marker.name == "table" else marker.find_next("table")
    assert isinstance(found, Tag), "no table of problems on the page"
    rows = []
    for row in found.select("tr.govuk-table__row"):
        cells = row.find_all("td")
        if cells:
            rows.append(tuple(text_of(c) for c in cells))
    return rows  # type: ignore[return-value]


# -- a good file ------------------------------------------------------------------------------


def test_a_good_csv_imports_every_value(kingston_app: Flask, tmp_path: Path) -> None:
    # a BOM, headings in another order with capitals and spaces, an empty row, "1,234",
    # a decimal, a percentage written with %, an annual KPI
    path = write(tmp_path, "\ufeff Value ,KPI,Period , NOTE\n"
                           '"1,234",asb-incidents,2025/26 Q1,\n'
                           ",,,\n"
                           "12.5,adult-reoffending,2025-26-Q2,MoJ quarterly release\n"
                           "45%,marac-repeat,2025/26 Q3,\n"
                           "72,residents-feel-safe,2025/26,\n")

    result = run(kingston_app, path, "--by", "Community Safety Team")

    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == (
        f"Imported {path}: 4 added, 0 corrected, 0 unchanged.")
    assert recorded(kingston_app) == [
        ("asb-incidents", "2025/26 Q1", 1234.0, "", "import"),
        ("adult-reoffending", "2025/26 Q2", 12.5, "MoJ quarterly release", "import"),
        ("marac-repeat", "2025/26 Q3", 45.0, "", "import"),
        ("residents-feel-safe", "2025/26", 72.0, "", "import"),
    ]
    with db(kingston_app) as s:
        row = s.scalars(select(KPIValue).order_by(KPIValue.id)).first()
        assert row is not None and row.data_source == "Imported from values.csv"
    each = events(kingston_app, "kpi_value.recorded")
    assert [e.object_ref for e in each] == ["asb-incidents", "adult-reoffending",
                                            "marac-repeat", "residents-feel-safe"]
    assert {e.actor_label for e in each} == {"Community Safety Team"}
    [imported] = events(kingston_app, "kpi.imported")
    assert imported.summary == "values.csv: 4 added, 0 corrected, 0 unchanged"
    assert imported.actor_label == "Community Safety Team"
    assert imported.new is not None
    assert {k: imported.new[k] for k in ("file", "rows", "added", "corrected", "unchanged")} \
        == {"file": "values.csv", "rows": 4, "added": 4, "corrected": 0, "unchanged": 0}


def test_a_good_xlsx_imports_every_value(kingston_app: Flask, tmp_path: Path) -> None:
    # numbers as numbers, a cell formatted as a percentage (0.455 shown as 45.5%), a number
    # typed as text, an empty row in the middle: row numbers stay the spreadsheet's
    data = xlsx([["Period", "KPI", "Value"],
                 ["2025/26 Q1", "knife-crime-injury", 4],
                 [None, None, None],
                 ["2025/26 Q1", "drug-treatment-completions", 0.455],
                 ["2025/26 Q2", "neighbourhood-crime", "1,180"]], percent_cells=("C4",))
    path = tmp_path / "values.xlsx"
    path.write_bytes(data)

    result = run(kingston_app, path)

    assert result.exit_code == 0, result.output
    assert f"Imported {path}: 3 added, 0 corrected, 0 unchanged." in result.output
    assert recorded(kingston_app) == [
        ("knife-crime-injury", "2025/26 Q1", 4.0, "", "import"),
        ("drug-treatment-completions", "2025/26 Q1", 45.5, "", "import"),
        ("neighbourhood-crime", "2025/26 Q2", 1180.0, "", "import"),
    ]


def test_a_correction_keeps_the_earlier_value_in_the_history(kingston_app: Flask,
                                                              tmp_path: Path) -> None:
    first = write(tmp_path, HEADER + "asb-incidents,2025/26 Q1,270,\n"
                                     "asb-incidents,2025/26 Q2,260,\n", "june.csv")
    assert run(kingston_app, first).exit_code == 0
    second = write(tmp_path, HEADER + "asb-incidents,2025/26 Q1,265,Revised by the MPS\n"
                                      "asb-incidents,2025/26 Q2,260,\n"
                                      "asb-incidents,2025/26 Q3,250,\n", "july.csv")

    result = run(kingston_app, second)

    assert result.exit_code == 0, result.output
    assert "  corrected asb-incidents 2025/26 Q1: 265 (was 270)" in result.output.splitlines()
    assert "  added asb-incidents 2025/26 Q3: 250" in result.output.splitlines()
    assert result.output.splitlines()[-1] == (
        f"Imported {second}: 1 added, 1 corrected, 1 unchanged.")
    assert recorded(kingston_app, "asb-incidents") == [
        ("asb-incidents", "2025/26 Q1", 270.0, "", "import"),
        ("asb-incidents", "2025/26 Q2", 260.0, "", "import"),
        ("asb-incidents", "2025/26 Q1", 265.0, "Revised by the MPS", "import"),
        ("asb-incidents", "2025/26 Q3", 250.0, "", "import"),
    ]
    [corrected] = events(kingston_app, "kpi_value.corrected")
    assert corrected.summary == "2025/26 Q1: 265 (was 270)"
    # the KPI's page counts the correction and still shows the earlier value
    page = browser(kingston_app).get("/kpis/asb-incidents")
    assert page.status_code == 200
    assert "Revised by the MPS" in visible(page.get_data(as_text=True))


def test_importing_the_same_file_again_changes_nothing(kingston_app: Flask,
                                                       tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "asb-incidents,2025/26 Q1,270,Checked\n"
                                    "marac-repeat,2025/26 Q1,33%,\n")
    assert run(kingston_app, path).exit_code == 0
    before = db_fingerprint(kingston_app)

    result = run(kingston_app, path)

    assert result.exit_code == 0, result.output
    assert result.output == f"Imported {path}: 0 added, 0 corrected, 2 unchanged.\n"
    assert db_fingerprint(kingston_app) == before


def test_a_file_without_notes_does_not_wipe_the_notes_recorded(kingston_app: Flask,
                                                              tmp_path: Path) -> None:
    with_note = write(tmp_path, HEADER + "asb-incidents,2025/26 Q1,270,Checked\n", "a.csv")
    assert run(kingston_app, with_note).exit_code == 0
    before = db_fingerprint(kingston_app)
    without = write(tmp_path, "kpi,period,value\nasb-incidents,2025/26 Q1,270\n", "b.csv")

    result = run(kingston_app, without)

    assert "0 added, 0 corrected, 1 unchanged." in result.output
    assert db_fingerprint(kingston_app) == before


def test_a_dry_run_writes_nothing_and_says_what_would_change(kingston_app: Flask,
                                                             tmp_path: Path) -> None:
    assert run(kingston_app, write(tmp_path, HEADER + "asb-incidents,2025/26 Q1,270,\n"
                                                      "asb-incidents,2025/26 Q2,260,\n",
                                   "first.csv")).exit_code == 0
    before = db_fingerprint(kingston_app)
    path = write(tmp_path, HEADER + "asb-incidents,2025/26 Q1,275,\n"
                                    "asb-incidents,2025/26 Q2,260,\n"
                                    "da-reports,2025/26 Q2,160,\n")

    result = run(kingston_app, path, "--dry-run")

    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "  correct asb-incidents 2025/26 Q1: 275 (was 270)",
        "  add da-reports 2025/26 Q2: 160",
        f"Would import {path}: 1 to add, 1 to correct, 1 unchanged "
        "(dry run: nothing was changed).",
    ]
    assert db_fingerprint(kingston_app) == before


# -- bad rows ---------------------------------------------------------------------------------

GOOD_ROW = "asb-incidents,2025/26 Q1,270,\n"

BAD_ROWS = {
    "unknown KPI, with a suggestion": (
        "asb-incident,2025/26 Q2,270,",
        "there is no KPI 'asb-incident' in the plan; did you mean 'asb-incidents'?"),
    "unknown KPI, far from any": (
        "burglaries,2025/26 Q2,270,",
        "there is no KPI 'burglaries' in the plan: use the KPI's id, such as "
        "neighbourhood-crime"),
    "a KPI's name instead of its id": (
        "Accidental dwelling fires,2025/26 Q2,7,",
        "there is no KPI 'Accidental dwelling fires' in the plan; did you mean "
        "'accidental-dwelling-fires'?"),
    "empty KPI": (
        ",2025/26 Q2,270,",
        "the kpi is empty: enter the KPI's id from the plan, such as neighbourhood-crime"),
    "bad quarter": (
        "asb-incidents,2025/26 Q5,270,",
        "asb-incidents: '2025/26 Q5' is not a quarter such as 2025/26 Q1"),
    "a quarter for an annual KPI": (
        "residents-feel-safe,2025/26 Q1,72,",
        "residents-feel-safe: '2025/26 Q1' is not a year such as 2025/26"),
    "empty period": (
        "asb-incidents,,270,",
        "the period is empty: enter a quarter such as 2025/26 Q1"),
    "not a number": (
        "asb-incidents,2025/26 Q2,n/a,",
        "'n/a' is not a number: write it with digits, like 1234, 1,234 or 12.5"),
    "an empty value": (
        "asb-incidents,2025/26 Q2,,",
        "the value is empty: enter a number, or delete the row"),
    "a percentage for a count": (
        "asb-incidents,2025/26 Q2,12%,",
        "'12%' is a percentage, but asb-incidents is not measured in percent (its unit is "
        "count): enter the number without %"),
    "badly grouped digits": (
        'asb-incidents,2025/26 Q2,"1,23",',
        "'1,23' is not a number: write it with digits, like 1234, 1,234 or 12.5"),
    "a negative count": (
        "asb-incidents,2025/26 Q2,-4,",
        "-4 is negative, and asb-incidents cannot be (its unit is count): check the figure"),
    "a percentage over 100": (
        "marac-repeat,2025/26 Q2,112,",
        "112 is not a percentage from 0 to 100"),
    "a percentage over 100, with %": (
        "marac-repeat,2025/26 Q2,100.5%,",
        "100.5 is not a percentage from 0 to 100"),
    "after the plan": (
        "asb-incidents,2029/30 Q1,270,",
        f"asb-incidents: 2029/30 Q1 is outside the plan ({PLAN})"),
    "before the baseline year": (
        "asb-incidents,2022/23 Q4,270,",
        f"asb-incidents: 2022/23 Q4 is outside the plan ({PLAN})"),
    "a future quarter": (
        "asb-incidents,2026/27 Q4,270,",
        "asb-incidents: 2026/27 Q4 has not started yet"),
    "a value in a column without a heading": (
        "asb-incidents,2025/26 Q2,270,,stray",
        "column E has no heading: clear the cell, or head the column note"),
    "a note that is too long": (
        "asb-incidents,2025/26 Q2,270," + "x" * 2001,
        "the note is 2,001 characters long: shorten it to 2,000 or fewer"),
}


@pytest.mark.parametrize("bad_row, message", list(BAD_ROWS.values()), ids=list(BAD_ROWS))
def test_a_bad_row_is_refused_with_its_row_number(kingston_app: Flask, tmp_path: Path,
                                                  bad_row: str, message: str) -> None:
    # a good row 2, an empty row 3, the bad row 4
    path = write(tmp_path, HEADER + GOOD_ROW + "\n" + bad_row + "\n")
    before = db_fingerprint(kingston_app)

    result = run(kingston_app, path)

    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "Refused: 1 row has a problem. Nothing was changed.",
        f"row 4: {message}",
    ]
    assert db_fingerprint(kingston_app) == before


def test_a_duplicate_row_names_both_rows(kingston_app: Flask, tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + GOOD_ROW + "da-reports,2025/26 Q1,150,\n"
                                               "asb-incidents,2025-26-Q1,275,\n")
    result = run(kingston_app, path)

    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "Refused: 1 row has a problem. Nothing was changed.",
        "row 4: asb-incidents 2025/26 Q1 is also on row 2: keep only one of rows 2 and 4",
    ]
    assert recorded(kingston_app) == []


def test_a_retired_kpi_takes_no_values(kingston_app: Flask, tmp_path: Path) -> None:
    text = KINGSTON.read_text(encoding="utf-8")
    block = re.search(r"\n  - id: accidental-dwelling-fires\n.*?\n\n", text, re.S)
    assert block is not None
    text = text.replace(block.group(0), "\n").replace(
        "      kpis: [accidental-dwelling-fires]\n", "")
    assert "accidental-dwelling-fires" not in text
    reviewed = write(tmp_path, text, "plans.yaml")
    loaded = kingston_app.test_cli_runner().invoke(args=["plan", "load", str(reviewed)])
    assert loaded.exit_code == 0, loaded.output
    with db(kingston_app) as s:
        kpi = s.scalars(select(KPI).where(KPI.ref == "accidental-dwelling-fires")).one()
        assert kpi.retired_at is not None
        retired = f"{kpi.retired_at.day} {kpi.retired_at:%B %Y}"
    before = db_fingerprint(kingston_app)

    result = run(kingston_app, write(tmp_path, HEADER + "accidental-dwelling-fires,2025/26 Q1,"
                                                        "6,\n"))

    assert result.exit_code == 1
    assert result.output.splitlines()[1:] == [
        f"row 2: the KPI accidental-dwelling-fires was retired from the plan on {retired}: "
        "it takes no new values, so delete the row"]
    assert db_fingerprint(kingston_app) == before


def test_a_file_mixing_good_and_bad_rows_changes_nothing_and_lists_every_bad_row(
        kingston_app: Flask, tmp_path: Path) -> None:
    assert run(kingston_app, write(tmp_path, HEADER + GOOD_ROW, "first.csv")).exit_code == 0
    before = db_fingerprint(kingston_app)
    path = write(tmp_path, HEADER
                 + "asb-incidents,2025/26 Q1,280,a correction\n"          # 2: good
                 + "asb-incidnets,2025/26 Q2,n/a,\n"                      # 3: two problems
                 + "da-reports,2025/26 Q1,150,\n"                         # 4: good
                 + "\n"                                                   # 5: empty
                 + "marac-repeat,2025/26 Q9,140,\n"                       # 6: two problems
                 + "da-reports,2025/26 Q2,160,\n"                         # 7: good
                 + "da-reports,2025/26 Q1,151,\n")                        # 8: duplicate of 4

    result = run(kingston_app, path)

    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "Refused: 3 rows have problems. Nothing was changed.",
        "row 3: there is no KPI 'asb-incidnets' in the plan; did you mean 'asb-incidents'?",
        "row 3: 'n/a' is not a number: write it with digits, like 1234, 1,234 or 12.5",
        "row 6: marac-repeat: '2025/26 Q9' is not a quarter such as 2025/26 Q1",
        "row 6: 140 is not a percentage from 0 to 100",
        "row 8: da-reports 2025/26 Q1 is also on row 4: keep only one of rows 4 and 8",
    ]
    assert db_fingerprint(kingston_app) == before


# -- files that cannot be read ----------------------------------------------------------------

BAD_FILES = {
    "a missing column": (
        "values.csv", b"kpi,value\nasb-incidents,270\n",
        ["Refused: the header row has a problem. Nothing was changed.",
         "row 1: there is no 'period' column: add a column headed period"]),
    "an unknown column": (
        "values.csv", b"kpi,period,valeu,source\nasb-incidents,2025/26 Q1,270,MPS\n",
        ["Refused: the header row has problems. Nothing was changed.",
         "row 1: column C is headed 'valeu', which is not one of kpi, period, value, note; "
         "did you mean 'value'?",
         "row 1: column D is headed 'source', which is not one of kpi, period, value, note: "
         "rename the column or delete it",
         "row 1: there is no 'value' column: add a column headed value"]),
    "a column twice": (
        "values.csv", b"kpi,period,value,Value\nasb-incidents,2025/26 Q1,270,271\n",
        ["Refused: the header row has a problem. Nothing was changed.",
         "row 1: there are two 'value' columns (C and D): keep one"]),
    "semicolons": (
        "values.csv", b"kpi;period;value\nasb-incidents;2025/26 Q1;270\n",
        ["Refused: the header row has a problem. Nothing was changed.",
         "row 1: the columns must be separated by commas, not semicolons or tabs: save it "
         "from your spreadsheet as 'CSV UTF-8 (Comma delimited)' or 'Excel Workbook'"]),
    "an empty file": (
        "values.csv", b"",
        ["Refused: values.csv is empty: it needs a header row (kpi, period, value, note) and "
         "a row for each value. Nothing was changed."]),
    "only empty rows": (
        "values.csv", b"\xef\xbb\xbf\r\n,,,\r\n",
        ["Refused: values.csv is empty: it needs a header row (kpi, period, value, note) and "
         "a row for each value. Nothing was changed."]),
    "a header and no values": (
        "values.csv", b"kpi,period,value\n\n",
        ["Refused: values.csv has a header row but no values: add a row under the header for "
         "each value. Nothing was changed."]),
    "a text file": (
        "values.txt", b"kpi,period,value\nasb-incidents,2025/26 Q1,270\n",
        ["Refused: values.txt is not a CSV or XLSX file: save it from your spreadsheet as "
         "'CSV UTF-8 (Comma delimited)' or 'Excel Workbook'. Nothing was changed."]),
    "an old Excel file": (
        "values.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100,
        ["Refused: values.xls is not a CSV or XLSX file: save it from your spreadsheet as "
         "'CSV UTF-8 (Comma delimited)' or 'Excel Workbook'. Nothing was changed."]),
    "an .xlsx that is not a workbook": (
        "values.xlsx", b"kpi,period,value\nasb-incidents,2025/26 Q1,270\n",
        ["Refused: values.xlsx cannot be opened as an Excel workbook: save it from your "
         "spreadsheet as 'CSV UTF-8 (Comma delimited)' or 'Excel Workbook'. Nothing was "
         "changed."]),
    "a zip that is not a workbook": (
        "values.xlsx", b"PK\x05\x06" + b"\0" * 18,
        ["Refused: values.xlsx cannot be opened as an Excel workbook: save it from your "
         "spreadsheet as 'CSV UTF-8 (Comma delimited)' or 'Excel Workbook'. Nothing was "
         "changed."]),
    "a workbook named .csv": (
        "values.csv", xlsx([["kpi", "period", "value"]]),
        ["Refused: values.csv is an Excel workbook, not a CSV file: name it .xlsx, or save "
         "it from your spreadsheet as 'CSV UTF-8 (Comma delimited)' or 'Excel Workbook'. "
         "Nothing was changed."]),
    "not UTF-8": (
        "values.csv", "kpi,period,value,note\nasb-incidents,2025/26 Q1,270,£\n"
        .encode("cp1252"),
        ["Refused: values.csv is not UTF-8 text: save it from your spreadsheet as 'CSV UTF-8 "
         "(Comma delimited)' or 'Excel Workbook'. Nothing was changed."]),
    "an empty workbook": (
        "values.xlsx", xlsx([]),
        ["Refused: values.xlsx is empty: it needs a header row (kpi, period, value, note) and "
         "a row for each value. Nothing was changed."]),
}


@pytest.mark.parametrize("name, data, lines", list(BAD_FILES.values()), ids=list(BAD_FILES))
def test_a_file_that_cannot_be_read_is_refused(kingston_app: Flask, tmp_path: Path,
                                               name: str, data: bytes,
                                               lines: list[str]) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    before = db_fingerprint(kingston_app)

    result = run(kingston_app, path)

    assert result.exit_code == 1
    assert result.output.splitlines() == lines
    assert db_fingerprint(kingston_app) == before


def test_a_file_over_5_mb_is_refused(kingston_app: Flask, tmp_path: Path) -> None:
    row = "asb-incidents,2025/26 Q1,270," + "x" * 1000 + "\n"
    path = write(tmp_path, HEADER + row * (5 * 1024 + 10))
    assert path.stat().st_size > 5 * 1024 * 1024

    result = run(kingston_app, path)

    assert result.exit_code == 1
    assert result.output == ("Refused: values.csv is larger than 5 MB: split it into smaller "
                             "files. Nothing was changed.\n")


def test_a_file_of_more_than_50000_rows_is_refused(kingston_app: Flask, tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + GOOD_ROW * (MAX_ROWS + 1))
    assert path.stat().st_size < 5 * 1024 * 1024

    result = run(kingston_app, path)

    assert result.exit_code == 1
    assert result.output == ("Refused: the file has more than 50,000 rows: split it into "
                             "smaller files. Nothing was changed.\n")


def test_a_missing_file_is_named(kingston_app: Flask, tmp_path: Path) -> None:
    result = run(kingston_app, tmp_path / "nope.csv")
    assert result.exit_code == 1
    assert result.output == (f"Refused: cannot read {tmp_path / 'nope.csv'}: No such file or "
                             "directory. Nothing was changed.\n")


# -- the upload page --------------------------------------------------------------------------


def upload(client: FlaskClient, name: str, data: bytes, *, dry_run: bool = False):  # type: ignore[no-untyped-def]
    page = client.get("/kpis/import")
    assert page.status_code == 200
    form: dict[str, object] = {"csrf_token": csrf_token(page.get_data(as_text=True)),
                               "file": (io.BytesIO(data), name)}
    if dry_run:
        form["dry_run"] = "y"
    return client.post("/kpis/import", data=form, content_type="multipart/form-data")


@pytest.fixture
def admin(kingston_app: Flask) -> Iterator[FlaskClient]:
    yield browser(kingston_app, ADMIN)


def test_the_upload_page_explains_the_file(admin: FlaskClient) -> None:
    page = admin.get("/kpis/import")
    text = visible(page.get_data(as_text=True))
    assert page.status_code == 200
    assert "a quarter such as 2026/27 Q2 for quarterly KPIs, a year such as 2026/27 for " \
           "annual ones" in text
    assert "An example file kpi period value note neighbourhood-crime 2026/27 Q2 1,234" in text
    assert 'enctype="multipart/form-data"' in page.get_data(as_text=True)


def test_an_admin_imports_a_csv_on_the_upload_page(kingston_app: Flask,
                                                   admin: FlaskClient) -> None:
    response = upload(admin, "values.csv",
                      (HEADER + GOOD_ROW + "marac-repeat,2025/26 Q1,33.5%,\n").encode())

    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    assert "Imported values.csv: 2 added, 0 corrected, 0 unchanged" in visible(html)
    assert "govuk-notification-banner--success" in html
    assert "2 asb-incidents 2025/26 Q1 270 Added" in visible(html)
    assert recorded(kingston_app) == [
        ("asb-incidents", "2025/26 Q1", 270.0, "", "import"),
        ("marac-repeat", "2025/26 Q1", 33.5, "", "import"),
    ]
    with db(kingston_app) as s:
        admin_id = s.scalars(select(User.id).where(User.email == ADMIN)).one()
        assert {v.recorded_by_id for v in s.scalars(select(KPIValue))} == {admin_id}
    [imported] = events(kingston_app, "kpi.imported")
    assert imported.actor_label == ADMIN


def test_an_admin_imports_an_xlsx_on_the_upload_page(kingston_app: Flask,
                                                     admin: FlaskClient) -> None:
    data = xlsx([["kpi", "period", "value", "note"],
                 ["residents-feel-safe", "2025/26", 0.71, "Residents' Survey"]],
                percent_cells=("C2",))
    response = upload(admin, "survey.xlsx", data)

    assert response.status_code == 200
    assert "Imported survey.xlsx: 1 added, 0 corrected, 0 unchanged" in visible(
        response.get_data(as_text=True))
    assert recorded(kingston_app) == [
        ("residents-feel-safe", "2025/26", 71.0, "Residents' Survey", "import")]


def test_checking_a_file_on_the_upload_page_saves_nothing(kingston_app: Flask,
                                                          admin: FlaskClient) -> None:
    before = db_fingerprint(kingston_app)
    response = upload(admin, "values.csv", (HEADER + GOOD_ROW).encode(), dry_run=True)

    text = visible(response.get_data(as_text=True))
    assert response.status_code == 200
    assert "values.csv has no problems Importing it would add 1 value, correct 0 and leave 0 " \
           "unchanged. Nothing was saved." in text
    assert "2 asb-incidents 2025/26 Q1 270 To add" in text
    after = db_fingerprint(kingston_app)
    # signing in and showing pages touches sessions; the values and audit trail are untouched
    for table in ("kpi_values", "audit_events", "action_statuses", "rollup_statuses"):
        assert after[table] == before[table], table


def test_a_refused_upload_lists_every_bad_row(kingston_app: Flask, admin: FlaskClient) -> None:
    before = db_fingerprint(kingston_app)
    response = upload(admin, "values.csv", (
        HEADER + GOOD_ROW + "asb-incident,2025/26 Q2,270,\nmarac-repeat,2025/26 Q2,101,\n"
    ).encode())

    html = response.get_data(as_text=True)
    assert response.status_code == 400
    message = ("The file was refused: 2 rows have problems (listed below). Nothing was saved: "
               "correct the file and upload it again")
    assert error_summary(html) == [message]
    assert field_error(html, "file") == message
    assert problem_rows(html) == [
        ("3", "There is no KPI 'asb-incident' in the plan; did you mean 'asb-incidents'?"),
        ("4", "101 is not a percentage from 0 to 100"),
    ]
    after = db_fingerprint(kingston_app)
    for table in ("kpi_values", "audit_events", "action_statuses", "rollup_statuses"):
        assert after[table] == before[table], table


@pytest.mark.parametrize("name, data, message", [
    ("values.txt", b"kpi,period,value\n",
     "The file was refused: values.txt is not a CSV or XLSX file: save it from your "
     "spreadsheet as 'CSV UTF-8 (Comma delimited)' or 'Excel Workbook'. Nothing was saved"),
    ("values.xlsx", b"not a workbook",
     "The file was refused: values.xlsx cannot be opened as an Excel workbook: save it from "
     "your spreadsheet as 'CSV UTF-8 (Comma delimited)' or 'Excel Workbook'. Nothing was "
     "saved"),
    ("values.csv", b"kpi,period\n",
     "The file was refused: the header row has a problem (listed below). Nothing was saved: "
     "correct the file and upload it again"),
])
def test_an_upload_that_cannot_be_read_says_why_beside_the_field(
        kingston_app: Flask, admin: FlaskClient, name: str, data: bytes, message: str) -> None:
    response = upload(admin, name, data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert error_summary(html) == [message]
    assert field_error(html, "file") == message
    assert recorded(kingston_app) == []


def test_an_upload_without_a_file_asks_for_one(admin: FlaskClient) -> None:
    token = csrf_token(admin.get("/kpis/import").get_data(as_text=True))
    response = admin.post("/kpis/import", data={"csrf_token": token},
                          content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert error_summary(html) == ["Select a CSV or XLSX file to import"]


def test_an_upload_over_the_size_limit_is_refused_on_the_page(kingston_app: Flask,
                                                              admin: FlaskClient) -> None:
    token = csrf_token(admin.get("/kpis/import").get_data(as_text=True))
    # encoded in memory: the test client would otherwise spool it to a file nobody closes
    boundary, body = encode_multipart({"csrf_token": token, "file": FileStorage(
        io.BytesIO(b"x" * (5 * 1024 * 1024 + 1)), "big.csv")})
    response = admin.post("/kpis/import", data=body,
                          content_type=f"multipart/form-data; boundary={boundary}")
    html = response.get_data(as_text=True)
    assert response.status_code == 413
    assert field_error(html, "file") == ("The file is larger than 5 MB: split it into "
                                         "smaller files")
    assert recorded(kingston_app) == []


def test_an_upload_without_the_csrf_token_is_refused(kingston_app: Flask,
                                                     admin: FlaskClient) -> None:
    response = admin.post("/kpis/import", data={"file": (io.BytesIO(
        (HEADER + GOOD_ROW).encode()), "values.csv")}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert recorded(kingston_app) == []


def test_a_board_member_cannot_import(kingston_app: Flask) -> None:
    board = browser(kingston_app, BOARD)
    assert board.get("/kpis/import").status_code == 403
    token = csrf_token(board.get("/account").get_data(as_text=True))
    response = board.post("/kpis/import", data={
        "csrf_token": token, "file": (io.BytesIO((HEADER + GOOD_ROW).encode()), "values.csv")},
        content_type="multipart/form-data")
    assert response.status_code == 403
    assert recorded(kingston_app) == []


def test_anonymous_visitors_are_sent_to_sign_in(kingston_app: Flask) -> None:
    visitor = browser(kingston_app)
    response = visitor.get("/kpis/import")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in")
    response = visitor.post("/kpis/import", data={
        "file": (io.BytesIO((HEADER + GOOD_ROW).encode()), "values.csv")},
        content_type="multipart/form-data")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in")
    assert recorded(kingston_app) == []


# -- files past the caps ----------------------------------------------------------------------
# A small file can unpack to millions of cells (a "cell bomb": 234 KB of XLSX holding 50,000
# rows of 120 cells once took minutes and gigabytes to refuse). Such a file is refused as soon
# as it passes a cap, with a message naming the cap and what to do, and nothing is written.

WORKBOOK_PARTS = {
    "[Content_Types].xml": (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.'
        'openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'),
    "_rels/.rels": (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
    "xl/workbook.xml": (
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="Values" sheetId="1" r:id="rId1"/></sheets></workbook>'),
    "xl/_rels/workbook.xml.rels": (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/worksheet" Target="worksheets/sheet1.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>'),
}
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def text_cells(*texts: str) -> bytes:
    return "".join(f'<c t="inlineStr"><is><t>{t}</t></is></c>' for t in texts).encode()


HEADER_ROW = b"<row>" + text_cells("kpi", "period", "value", "note") + b"</row>"
GOOD_XLSX_ROW = b"<row>" + text_cells("asb-incidents", "2025/26 Q1") + b"<c><v>270</v></c></row>"


def raw_xlsx(rows: Iterable[bytes], *, prolog: bytes = b"", before: bytes = b"",
             strings: str = "") -> bytes:
    """An XLSX written as XML straight into the zip (openpyxl would take minutes to write a
    cell bomb): one sheet whose ``<sheetData>`` holds ``rows``, streamed into the zip;
    ``prolog`` goes before the sheet's root element, ``before`` before its data."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in WORKBOOK_PARTS.items():
            archive.writestr(name, text)
        archive.writestr("xl/sharedStrings.xml", f'<sst xmlns="{MAIN}">{strings}</sst>')
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(prolog + f'<worksheet xmlns="{MAIN}">'.encode() + before
                        + b"<sheetData>")
            for row in rows:
                sheet.write(row)
            sheet.write(b"</sheetData></worksheet>")
    return out.getvalue()


@functools.cache
def cell_bomb() -> bytes:
    """The measured cell bomb: a header, then 49,999 rows of 120 numbers, with no declared
    size (about 230 KB zipped, 90 MB unpacked)."""
    row = b"<row>" + b"<c><v>1</v></c>" * 120 + b"</row>"
    return raw_xlsx(itertools.chain([HEADER_ROW], itertools.repeat(row, 49_999)))


def upload_large(client: FlaskClient, name: str, data: bytes, *,
                 dry_run: bool = False) -> TestResponse:
    """:func:`upload`, with the request encoded in memory: the test client would otherwise
    spool a large file to a temporary file nobody closes."""
    token = csrf_token(client.get("/kpis/import").get_data(as_text=True))
    fields: dict[str, object] = {"csrf_token": token, "file": FileStorage(io.BytesIO(data), name)}
    if dry_run:
        fields["dry_run"] = "y"
    boundary, body = encode_multipart(fields)
    return client.post("/kpis/import", data=body,
                       content_type=f"multipart/form-data; boundary={boundary}")


@pytest.fixture
def unpacked(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the bytes unpacked from any zip while the test runs: the work a workbook cost."""
    counts: list[int] = []
    read = zipfile.ZipExtFile.read

    def counting(self: zipfile.ZipExtFile, n: int | None = -1) -> bytes:
        data = read(self, n)
        counts.append(len(data))
        return data

    monkeypatch.setattr(zipfile.ZipExtFile, "read", counting)
    return counts


TOO_MANY_COLUMNS = ("the file has more than 10 columns (row 2 has a value in column DP): keep "
                    "only the columns kpi, period, value and note")
TOO_MANY_CELLS = ("the file has more than 250,000 cells, counting empty ones: keep only the "
                  "columns kpi, period, value and note, delete the empty columns beside them, "
                  "or split it into smaller files")


def test_a_cell_bomb_is_refused_on_the_command_line_before_most_of_it_is_read(
        kingston_app: Flask, tmp_path: Path, unpacked: list[int]) -> None:
    path = tmp_path / "values.xlsx"
    path.write_bytes(cell_bomb())
    assert path.stat().st_size < 300 * 1024
    before = db_fingerprint(kingston_app)
    unpacked.clear()

    result = run(kingston_app, path, "--dry-run")

    assert result.exit_code == 1
    assert result.output == f"Refused: {TOO_MANY_COLUMNS}. Nothing was changed.\n"
    # the sheet unpacks to 90 MB; it was refused within its first rows
    assert 0 < sum(unpacked) < 1024 * 1024
    assert db_fingerprint(kingston_app) == before


def test_a_cell_bomb_is_refused_on_the_upload_page(kingston_app: Flask,
                                                   admin: FlaskClient) -> None:
    assert admin.get("/kpis/import").status_code == 200
    before = db_fingerprint(kingston_app)

    response = upload_large(admin, "values.xlsx", cell_bomb(), dry_run=True)

    html = response.get_data(as_text=True)
    assert response.status_code == 400
    message = f"The file was refused: {TOO_MANY_COLUMNS}. Nothing was saved"
    assert error_summary(html) == [message]
    assert field_error(html, "file") == message
    assert 'id="problems"' not in html
    assert db_fingerprint(kingston_app) == before


CSV_PAST_THE_CAPS = {
    "too many columns": (
        "wide.csv", (HEADER + ("1," * 119 + "1\n") * 20_000).encode(), TOO_MANY_COLUMNS),
    "too many cells": (
        "padded.csv", (HEADER + (GOOD_ROW.strip() + "," * 16 + "\n") * 50_000).encode(),
        TOO_MANY_CELLS),
    "a row of a million cells": (
        "row.csv", (HEADER + "," * 1_000_000 + "\n").encode(), TOO_MANY_CELLS),
}


@pytest.mark.parametrize("name, data, message", list(CSV_PAST_THE_CAPS.values()),
                         ids=list(CSV_PAST_THE_CAPS))
def test_a_csv_past_the_caps_is_refused_on_the_command_line(
        kingston_app: Flask, tmp_path: Path, name: str, data: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    assert len(data) < 5 * 1024 * 1024
    before = db_fingerprint(kingston_app)

    result = run(kingston_app, path)

    assert result.exit_code == 1
    assert result.output == f"Refused: {message}. Nothing was changed.\n"
    assert db_fingerprint(kingston_app) == before


@pytest.mark.parametrize("name, data, message", list(CSV_PAST_THE_CAPS.values())[:2],
                         ids=list(CSV_PAST_THE_CAPS)[:2])
def test_a_csv_past_the_caps_is_refused_on_the_upload_page(
        kingston_app: Flask, admin: FlaskClient, name: str, data: bytes, message: str) -> None:
    assert admin.get("/kpis/import").status_code == 200
    before = db_fingerprint(kingston_app)

    response = upload_large(admin, name, data)

    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert error_summary(html) == [f"The file was refused: {message}. Nothing was saved"]
    assert recorded(kingston_app) == []
    assert db_fingerprint(kingston_app) == before


def test_the_column_cap_counts_up_to_the_last_value_in_a_row(kingston_app: Flask,
                                                             tmp_path: Path) -> None:
    # trailing empty cells (a spreadsheet's used range) are not columns; a value in column J
    # is within the cap (and reported on its row), one in column K is past it
    padded = write(tmp_path, HEADER + GOOD_ROW.strip() + "," * 30 + "\n", "padded.csv")
    result = run(kingston_app, padded)
    assert result.exit_code == 0, result.output
    assert recorded(kingston_app) == [("asb-incidents", "2025/26 Q1", 270.0, "", "import")]

    in_j = write(tmp_path, HEADER + "asb-incidents,2025/26 Q2,270,,,,,,,x\n", "j.csv")
    assert run(kingston_app, in_j).output.splitlines() == [
        "Refused: 1 row has a problem. Nothing was changed.",
        "row 2: column J has no heading: clear the cell, or head the column note"]

    in_k = write(tmp_path, HEADER + "asb-incidents,2025/26 Q2,270,,,,,,,,x\n", "k.csv")
    assert run(kingston_app, in_k).output == (
        "Refused: the file has more than 10 columns (row 2 has a value in column K): keep "
        "only the columns kpi, period, value and note. Nothing was changed.\n")


@pytest.mark.parametrize("name, data, message", [
    ("cell.csv", (HEADER + "asb-incidents,2025/26 Q1,270," + "x" * 40_000 + "\n").encode(),
     "the cell in row 2, column D, has more than 32,767 characters (the most a spreadsheet "
     "cell holds): shorten it"),
    # past the csv module's own limit (131,072): the same cap, said the same way
    ("field.csv", (HEADER + GOOD_ROW + 'asb-incidents,2025/26 Q2,270,"'
                   + "x" * 4_000_000 + '"\n').encode(),
     "a cell in row 3 has more than 32,767 characters (the most a spreadsheet cell holds): "
     "shorten it"),
    ("cell.xlsx", raw_xlsx([HEADER_ROW, b'<row><c t="s"><v>0</v></c></row>'],
                           strings="<si><t>" + "x" * 40_000 + "</t></si>"),
     "the cell in row 2, column A, has more than 32,767 characters (the most a spreadsheet "
     "cell holds): shorten it"),
], ids=["CSV", "CSV past the csv module's limit", "XLSX"])
def test_a_cell_too_long_for_a_spreadsheet_is_refused(kingston_app: Flask, tmp_path: Path,
                                                      name: str, data: bytes,
                                                      message: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    before = db_fingerprint(kingston_app)

    result = run(kingston_app, path)

    assert result.output == f"Refused: {message}. Nothing was changed.\n"
    assert db_fingerprint(kingston_app) == before


def test_a_long_cell_is_not_repeated_whole_in_a_problem(kingston_app: Flask,
                                                        tmp_path: Path) -> None:
    long = "asb-incidents " * 2000  # 28,000 characters
    path = write(tmp_path, HEADER + f"{long},2025/26 Q1,270,\nasb-incidents,{long},270,\n"
                                    f"asb-incidents,2025/26 Q2,{long},\n")

    result = run(kingston_app, path)

    shown = "'asb-incidents asb-incidents asb-incidents asb-incidents asb\u2026'"
    assert result.output.splitlines() == [
        "Refused: 3 rows have problems. Nothing was changed.",
        f"row 2: there is no KPI {shown} in the plan: use the KPI's id, such as "
        "neighbourhood-crime",
        f"row 3: asb-incidents: {shown} is not a quarter such as 2025/26 Q1",
        f"row 4: {shown} is not a number: write it with digits, like 1234, 1,234 or 12.5",
    ]


def test_rows_far_apart_are_read_quickly_and_keep_their_numbers(kingston_app: Flask,
                                                                tmp_path: Path) -> None:
    path = tmp_path / "far.xlsx"
    path.write_bytes(raw_xlsx([
        b'<row r="1">' + text_cells("kpi", "period", "value", "note") + b"</row>",
        b'<row r="1000000"><c t="inlineStr"><is><t>asb-incidnets</t></is></c></row>']))
    result = run(kingston_app, path)
    assert result.output.splitlines()[1:] == [
        "row 1000000: there is no KPI 'asb-incidnets' in the plan; did you mean "
        "'asb-incidents'?",
        "row 1000000: the value is empty: enter a number, or delete the row"]


def test_a_row_past_the_last_row_of_a_spreadsheet_is_refused(kingston_app: Flask,
                                                             tmp_path: Path) -> None:
    path = tmp_path / "far.xlsx"
    path.write_bytes(raw_xlsx([HEADER_ROW, b'<row r="2000000000"><c><v>1</v></c></row>']))
    result = run(kingston_app, path)
    assert result.output == (
        "Refused: the file has more than 1,048,576 rows, counting empty ones (the most a "
        "spreadsheet has): delete the empty rows below the values. Nothing was changed.\n")


def test_the_size_a_sheet_declares_is_not_trusted(kingston_app: Flask, tmp_path: Path) -> None:
    # the sheet claims to be 16,384 columns wide: padded to that, its empty rows 3 to 39
    # would be more than 250,000 cells
    path = tmp_path / "values.xlsx"
    path.write_bytes(raw_xlsx([
        b'<row r="1">' + text_cells("kpi", "period", "value", "note") + b"</row>",
        GOOD_XLSX_ROW.replace(b"<row>", b'<row r="2">'),
        b'<row r="40">' + text_cells("da-reports", "2025/26 Q1") + b"<c><v>150</v></c></row>",
    ], before=b'<dimension ref="A1:XFD40"/>'))
    result = run(kingston_app, path)
    assert result.exit_code == 0, result.output
    assert recorded(kingston_app) == [("asb-incidents", "2025/26 Q1", 270.0, "", "import"),
                                      ("da-reports", "2025/26 Q1", 150.0, "", "import")]


COPY = ("copy the kpi, period, value and note columns into a new workbook, or save it as "
        "'CSV UTF-8 (Comma delimited)'")


@pytest.mark.parametrize("cap, value, data, message", [
    (None, None, raw_xlsx([HEADER_ROW, b"<row>" + b"<c/>" * 30_000 + b"</row>"]),
     "values.xlsx has a row of more than 20,000 cells and other XML elements: keep only the "
     "columns kpi, period, value and note"),
    # a row inside a row is part of it
    (None, None, raw_xlsx([HEADER_ROW, b"<row><row/>" + b"<c/>" * 30_000 + b"</row>"]),
     "values.xlsx has a row of more than 20,000 cells and other XML elements: keep only the "
     "columns kpi, period, value and note"),
    # openpyxl keeps, or builds whole, what is outside the rows
    (None, None, raw_xlsx([HEADER_ROW, b"<x/>" * 30_000, GOOD_XLSX_ROW]),
     "values.xlsx is too complex to read (more than 20,000 XML elements of formatting and "
     f"settings in one part once unpacked): {COPY}"),
    ("MAX_ELEMENTS", 1_000, raw_xlsx([HEADER_ROW, b"<x/>" * 2_000, GOOD_XLSX_ROW]),
     f"values.xlsx is too complex to read (more than 1,000 XML elements once unpacked): {COPY}"),
    ("MAX_TEXT_ELEMENTS", 100, raw_xlsx([HEADER_ROW, GOOD_XLSX_ROW],
                                        strings="<si><t>x</t></si>" * 60),
     "values.xlsx is too complex to read (more than 100 XML elements of text once unpacked): "
     f"{COPY}"),
    ("MAX_UNPACKED", 1024 * 1024, raw_xlsx([HEADER_ROW, b" " * 2 * 1024 * 1024,
                                            GOOD_XLSX_ROW]),
     "values.xlsx is larger than 1 MB once unpacked: split it into smaller files, or save it "
     "as 'CSV UTF-8 (Comma delimited)'"),
    (None, None, raw_xlsx([HEADER_ROW, b"<row>&cells;</row>"],
                          prolog=b'<!DOCTYPE worksheet [<!ENTITY cells "<c><v>1</v></c>">]>'),
     "values.xlsx cannot be read: it declares a DTD, which an Excel workbook never does. Copy "
     "the kpi, period, value and note columns into a new workbook, or save it as 'CSV UTF-8 "
     "(Comma delimited)'"),
], ids=["a row of 30,000 cells", "a row in a row", "too much outside the rows",
        "too many XML elements", "too much shared text",
        "too large once unpacked", "a DTD"])
def test_a_workbook_past_an_xml_cap_is_refused(kingston_app: Flask, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch,
                                               cap: str | None, value: int | None,
                                               data: bytes, message: str) -> None:
    if cap is not None:  # a lower cap, so that the test builds a small file
        monkeypatch.setattr(kpi_import_xlsx, cap, value)
    path = tmp_path / "values.xlsx"
    path.write_bytes(data)
    before = db_fingerprint(kingston_app)

    result = run(kingston_app, path)

    assert result.output == f"Refused: {message}. Nothing was changed.\n"
    assert db_fingerprint(kingston_app) == before


def test_the_xml_caps_leave_room_for_a_workbook_that_passes_them(
        kingston_app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the same workbooks as above with the caps as they are: what a cap refuses is the excess
    path = tmp_path / "values.xlsx"
    path.write_bytes(raw_xlsx([HEADER_ROW, b"<row>" + b"<c/>" * 15_000 + b"</row>",
                               b"<x/>" * 15_000, b" " * 2 * 1024 * 1024, GOOD_XLSX_ROW],
                              strings="<si><t>x</t></si>" * 60))
    result = run(kingston_app, path)
    assert result.exit_code == 0, result.output
    assert recorded(kingston_app) == [("asb-incidents", "2025/26 Q1", 270.0, "", "import")]


# -- statuses follow the values ---------------------------------------------------------------

KPI_RED = "    - {name: KPI off target, if: {kpi: red}, then: red}\n"
LAST_RAG_RULE = "    - {name: As assessed by the lead, then: self}\n"


def _with_kpi_rule(tmp_path: Path, text: str) -> Path:
    assert text.count(LAST_RAG_RULE) == 1
    return write(tmp_path, text.replace(LAST_RAG_RULE, KPI_RED + LAST_RAG_RULE), "plans.yaml")


def _open_action(app: Flask, kpi_ref: str, *, via_part: bool = False) -> tuple[str, str]:
    """An action open in the pinned quarter that the KPI feeds through its commitment (or,
    with ``via_part``, through the commitment its part belongs to): its ref and owner."""
    with db(app) as s:
        kpi = s.scalars(select(KPI).where(KPI.ref == kpi_ref)).one()
        linked = [c.id for c in kpi.commitments]
        if via_part:
            linked = list(s.scalars(select(Commitment.id).where(
                Commitment.parent_id.in_(linked))))
        action = s.scalars(select(Action).where(
            Action.commitment_id.in_(linked), Action.retired_at.is_(None),
            Action.due > date(2026, 9, 30)).order_by(Action.position)).first()
        assert action is not None and "2026/27" in action.years
        return action.ref, action.owner.email


@pytest.mark.parametrize("rated, colour, rule, because", [
    # the rule added for this test
    ("amber", "red", "KPI off target", ""),
    # Kingston's own rule
    ("green", "amber", "Rated Green but a linked KPI is Red",
     "rated Green by the owner, 40% complete; "),
])
def test_an_imported_red_value_changes_the_status_of_the_actions_it_feeds(
        kingston_app: Flask, tmp_path: Path, rated: str, colour: str, rule: str,
        because: str) -> None:
    plan = _with_kpi_rule(tmp_path, KINGSTON.read_text(encoding="utf-8"))
    loaded = kingston_app.test_cli_runner().invoke(args=["plan", "load", str(plan)])
    assert loaded.exit_code == 0, loaded.output
    ref, owner = _open_action(kingston_app, "marac-repeat")
    extra = {"corrective_action": "Recovery plan agreed."} if rated == "amber" else {}
    assert submit_update(browser(kingston_app, owner), ref, SLUG, rag=rated,
                         **extra).status_code == 302
    approve(kingston_app, ref)  # an owner's update counts once its group's lead approves it
    assert status_of(kingston_app, ref)[:2] == (rated, "As assessed by the lead")

    # target 31% (lower is better) with a 10% tolerance: 60% is Red
    result = run(kingston_app, write(tmp_path, HEADER + f"marac-repeat,{QUARTER},60%,\n"),
                 "--by", "Community Safety Team")

    assert result.exit_code == 0, result.output
    reason = f"{rule}: {because}KPI marac-repeat is Red in {QUARTER}"
    assert status_of(kingston_app, ref) == (colour, rule, reason)
    changed = [e for e in events(kingston_app, "status.changed") if e.object_ref == ref]
    assert changed[-1].actor_label == "Community Safety Team"
    assert changed[-1].new == {"quarter": QUARTER, "colour": colour, "rule": rule}
    page = browser(kingston_app).get(f"/actions/{ref}").get_data(as_text=True)
    assert status_rows(page)[QUARTER] == (
        f"{QUARTER} {colour.capitalize()} {reason} Rule: {rule}")


def test_an_import_recomputes_actions_under_the_parts_of_a_linked_commitment(
        kingston_app: Flask, tmp_path: Path) -> None:
    """A KPI linked to a commitment feeds the actions of its parts (statuses.kpi_facts), so
    an import must recompute those too."""
    text = KINGSTON.read_text(encoding="utf-8")
    links = "    commitments: [2.a, 2.c.iii, 2.e]\n"
    assert text.count(links) == 1  # knife-crime-injury
    plan = _with_kpi_rule(tmp_path, text.replace(links, "    commitments: [2.a, 2.c, 2.e]\n"))
    loaded = kingston_app.test_cli_runner().invoke(args=["plan", "load", str(plan)])
    assert loaded.exit_code == 0, loaded.output
    ref, owner = _open_action(kingston_app, "knife-crime-injury", via_part=True)
    assert submit_update(browser(kingston_app, owner), ref, SLUG, rag="amber",
                         corrective_action="Recovery plan agreed.").status_code == 302
    approve(kingston_app, ref)
    assert status_of(kingston_app, ref)[:2] == ("amber", "As assessed by the lead")

    # target 14 a year (lower is better), 15% tolerance: 40 in a quarter is Red
    result = run(kingston_app, write(tmp_path, HEADER + f"knife-crime-injury,{QUARTER},40,\n"))

    assert result.exit_code == 0, result.output
    assert status_of(kingston_app, ref)[:2] == ("red", "KPI off target")


def test_a_file_with_very_many_problems_lists_the_first_and_says_how_many_more(
        kingston_app: Flask) -> None:
    """The page lists the first problems, not hundreds of thousands of them."""
    from tests.tracker.helpers import browser, token_for, visible
    from tests.tracker.signing import ADMIN
    from tracker.views.kpi_import import PROBLEMS_LISTED

    rows = "".join(f"no-such-kpi-{n},2025/26 Q1,{n}\n" for n in range(PROBLEMS_LISTED + 40))
    admin = browser(kingston_app, ADMIN)
    before = db_fingerprint(kingston_app)
    response = admin.post("/kpis/import", data={
        "csrf_token": token_for(admin, "/kpis/import"),
        "file": (io.BytesIO(f"kpi,period,value\n{rows}".encode()), "values.csv")},
        content_type="multipart/form-data")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    listed = [row for row in page(html).select("tr.govuk-table__row")
              if (cell := row.find("td")) is not None and text_of(cell)[:1].isdigit()]
    assert len(listed) == PROBLEMS_LISTED
    assert "40 more problems are not listed here" in visible(html)
    assert db_fingerprint(kingston_app) == before
