"""Importing data.police.uk street-level crime files into Kingston's KPIs.

The files are made here in police.uk's own layout (blank Crime IDs on antisocial behaviour
rows, locations quoted because they hold commas, rows from the neighbouring borough, crime
types no KPI counts) and the counts per quarter are checked against counts made by a plain
loop over the same rows.
"""

from __future__ import annotations

import csv
import io
import random
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from tests.conftest import db_fingerprint
from tests.tracker.helpers import TODAY, db, pin_today
from tracker.models import KPI, AuditEvent, KPIValue
from tracker.services.police_import import HEADER

TYPES = ("Burglary", "Robbery", "Theft from the person", "Vehicle crime", "Shoplifting",
         "Violence and sexual offences", "Anti-social behaviour", "Drugs")
NEIGHBOURHOOD = {"Burglary", "Robbery", "Theft from the person", "Vehicle crime"}
AREAS = (("E01002845", "Kingston upon Thames 001A"), ("E01002901", "Kingston upon Thames 019C"),
         ("E01003795", "Richmond upon Thames 004B"), ("E01004010", "Kingstonish 001A"))


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    pin_today(monkeypatch)


def crime_rows(month: str, count: int, seed: int) -> Iterator[list[str]]:
    """``count`` rows of one month, as police.uk writes them."""
    chance = random.Random(seed)
    for n in range(count):
        kind = chance.choice(TYPES)
        code, name = chance.choice(AREAS)
        crime_id = "" if kind == "Anti-social behaviour" else f"{seed:04d}{n:060x}"[:64]
        yield [crime_id, month, "Metropolitan Police Service", "Metropolitan Police Service",
               f"-0.{chance.randint(100000, 999999)}", f"51.{chance.randint(100000, 999999)}",
               f"On or near {chance.choice(['Eden Street, Kingston', 'High Street', 'A, B'])}",
               code, name, kind, "" if not crime_id else "Investigation complete; no suspect "
               "identified", ""]


def write_file(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def month_files(tmp_path: Path, months: list[str], count: int = 300
                ) -> tuple[list[Path], list[list[str]]]:
    paths, every = [], []
    for i, month in enumerate(months):
        rows = list(crime_rows(month, count, seed=i + 1))
        every.extend(rows)
        paths.append(write_file(tmp_path / f"{month}-metropolitan-street.csv", rows))
    return paths, every


def run(app: Flask, *args: str):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(
        args=["kpi", "import-police", *args, "--today", TODAY.isoformat()])


def stored(app: Flask, ref: str) -> dict[str, tuple[float, bool, str]]:
    """The value that counts per period: (value, provisional, note)."""
    with db(app) as s:
        rows = s.execute(select(KPIValue.period, KPIValue.value, KPIValue.provisional,
                                KPIValue.note).join(KPI).where(KPI.ref == ref)
                         .order_by(KPIValue.id))
        return {period: (value, provisional, note) for period, value, provisional, note in rows}


def by_quarter(rows: list[list[str]], types: set[str]) -> dict[str, int]:
    """Counted independently: a plain loop over the rows, the quarter worked out by hand."""
    counted: dict[str, int] = {}
    for row in rows:
        if not row[8].startswith("Kingston upon Thames ") or row[9] not in types:
            continue
        year, month = int(row[1][:4]), int(row[1][5:])
        first = year if month >= 4 else year - 1
        label = f"{first}/{(first + 1) % 100:02d} Q{(month - 4) % 12 // 3 + 1}"
        counted[label] = counted.get(label, 0) + 1
    return counted


MONTHS = ["2025-04", "2025-05", "2025-06", "2025-07", "2025-08"]  # Q1 whole, Q2 two months


def test_counts_per_quarter_match_an_independent_count_and_a_partial_quarter_is_provisional(
        kingston_app: Flask, tmp_path: Path) -> None:
    paths, rows = month_files(tmp_path, MONTHS)
    assert any(r[0] == "" for r in rows) and any("," in r[6] for r in rows)

    result = run(kingston_app, *map(str, paths))

    assert result.exit_code == 0, result.output
    crime, asb = by_quarter(rows, NEIGHBOURHOOD), by_quarter(rows, {"Anti-social behaviour"})
    got = stored(kingston_app, "neighbourhood-crime")
    assert got["2025/26 Q1"] == (crime["2025/26 Q1"], False, "")
    assert got["2025/26 Q2"] == (crime["2025/26 Q2"], True,
                                 "Provisional: 2 of 3 months in the police.uk files")
    assert stored(kingston_app, "asb-incidents")["2025/26 Q1"][:2] == (asb["2025/26 Q1"], False)
    assert "1,500 rows read from 5 files" in result.output
    assert "(provisional: 2 of 3 months)" in result.output


def test_the_same_files_again_change_nothing_and_the_missing_month_completes_the_quarter(
        kingston_app: Flask, tmp_path: Path) -> None:
    paths, rows = month_files(tmp_path, MONTHS)
    assert run(kingston_app, *map(str, paths)).exit_code == 0
    before = db_fingerprint(kingston_app)

    again = run(kingston_app, *map(str, paths))

    assert again.exit_code == 0, again.output
    assert "0 added, 0 corrected, 4 unchanged" in again.output
    assert db_fingerprint(kingston_app) == before

    september, more = month_files(tmp_path, ["2025-09"])
    assert run(kingston_app, *map(str, paths + september)).exit_code == 0
    whole = by_quarter(rows + more, NEIGHBOURHOOD)["2025/26 Q2"]
    assert stored(kingston_app, "neighbourhood-crime")["2025/26 Q2"] == (whole, False, "")


def test_months_before_the_baseline_are_left_out_and_counted(kingston_app: Flask,
                                                             tmp_path: Path) -> None:
    paths, _ = month_files(tmp_path, ["2023-03", "2023-04"], count=50)
    result = run(kingston_app, *map(str, paths))
    assert result.exit_code == 0, result.output
    assert "50 rows before the baseline (April 2023) left out." in result.output
    assert "2022/23 Q4" not in stored(kingston_app, "neighbourhood-crime")


def test_a_dry_run_writes_nothing(kingston_app: Flask, tmp_path: Path) -> None:
    paths, _ = month_files(tmp_path, MONTHS[:1])
    before = db_fingerprint(kingston_app)
    result = run(kingston_app, *map(str, paths), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Would import" in result.output and "2 to add" in result.output
    assert db_fingerprint(kingston_app) == before


@pytest.mark.parametrize(("change", "message"), [
    (lambda text: text.replace("Crime type", "Crime kind", 1),
     "{name} line 1: the header is not that of a data.police.uk street-level crime file"),
    (lambda text: text.replace("\n", "\n2025-04,cut short\n", 3),
     "{name} line 4: 2 columns, not 12"),
    (lambda text: text.replace(",2025-04,", ",April 2025,", 2),
     "{name} line 3: the Month 'April 2025' is not a month written YYYY-MM"),
])
def test_a_bad_file_is_refused_whole_with_its_line(kingston_app: Flask, tmp_path: Path,
                                                   change, message) -> None:  # type: ignore[no-untyped-def]
    good, _ = month_files(tmp_path, ["2025-05"])
    bad, _ = month_files(tmp_path, ["2025-04"])
    bad[0].write_text(change(bad[0].read_text()))
    before = db_fingerprint(kingston_app)

    result = run(kingston_app, str(good[0]), str(bad[0]))

    assert result.exit_code == 1
    assert message.format(name=bad[0].name) in result.output
    assert "Nothing was changed." in result.output
    assert db_fingerprint(kingston_app) == before


def test_the_same_month_in_two_files_is_refused(kingston_app: Flask, tmp_path: Path) -> None:
    paths, _ = month_files(tmp_path, ["2025-04"])
    copy = tmp_path / "copy.csv"
    copy.write_bytes(paths[0].read_bytes())
    before = db_fingerprint(kingston_app)
    result = run(kingston_app, str(paths[0]), str(copy))
    assert result.exit_code == 1
    assert (f"copy.csv line 2: 2025-04 for Metropolitan Police Service is also in "
            f"{paths[0].name}; give each month's file once") in result.output
    assert db_fingerprint(kingston_app) == before


def test_a_large_file_is_streamed(kingston_app: Flask, tmp_path: Path) -> None:
    """100,000 rows import with a peak far below the file's size (nothing holds it whole)."""
    path = write_file_streamed(tmp_path / "big.csv", crime_rows("2025-04", 100_000, seed=7))
    size = path.stat().st_size
    tracemalloc.start()
    try:
        result = run(kingston_app, str(path))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.exit_code == 0, result.output
    assert "100,000 rows read" in result.output
    assert peak < size / 4, (peak, size)


def write_file_streamed(path: Path, rows: Iterator[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for row in rows:
            writer.writerow(row)
    return path


def test_a_provisional_value_is_marked_on_the_kpi_page_and_not_measured(
        kingston_app: Flask, tmp_path: Path) -> None:
    from tests.tracker.signing import ADMIN, signed_in

    paths, _ = month_files(tmp_path, MONTHS)
    assert run(kingston_app, *map(str, paths)).exit_code == 0
    page = signed_in(kingston_app, ADMIN).get("/kpis/neighbourhood-crime").get_data(as_text=True)
    assert "2025/26 Q2 (provisional: 2 of 3 months)" in " ".join(page.split())


def test_the_import_is_audited_once(kingston_app: Flask, tmp_path: Path) -> None:
    paths, _ = month_files(tmp_path, MONTHS[:1])
    assert run(kingston_app, *map(str, paths)).exit_code == 0
    with db(kingston_app) as s:
        found = list(s.scalars(select(AuditEvent).where(AuditEvent.action == "kpi.imported")))
    assert len(found) == 1





def upload(client, paths: list[Path], dry_run: bool):  # type: ignore[no-untyped-def]
    from tests.tracker.helpers import csrf_token

    token = csrf_token(client.get("/kpis/import-police").get_data(as_text=True))
    data: dict[str, object] = {"csrf_token": token,
                               "files": [(io.BytesIO(p.read_bytes()), p.name) for p in paths]}
    if dry_run:
        data["dry_run"] = "y"
    return client.post("/kpis/import-police", data=data, content_type="multipart/form-data")


def test_the_upload_page_previews_then_imports_as_an_admin(kingston_app: Flask,
                                                           tmp_path: Path) -> None:
    from tests.tracker.signing import ADMIN, signed_in

    paths, rows = month_files(tmp_path, MONTHS)
    client = signed_in(kingston_app, ADMIN)
    before = db_fingerprint(kingston_app)
    preview = upload(client, paths, dry_run=True)
    assert preview.status_code == 200
    text = " ".join(preview.get_data(as_text=True).split())
    assert "2025/26 Q2 (provisional: 2 of 3 months)" in text and "To add" in text
    assert db_fingerprint(kingston_app) == before

    done = upload(client, paths, dry_run=False)
    assert done.status_code == 200
    assert "Imported: 4 added" in done.get_data(as_text=True)
    assert stored(kingston_app, "neighbourhood-crime")["2025/26 Q1"][0] == \
        by_quarter(rows, NEIGHBOURHOOD)["2025/26 Q1"]


def test_the_upload_page_refuses_a_bad_file_and_members(kingston_app: Flask,
                                                         tmp_path: Path) -> None:
    from tests.tracker.signing import ADMIN, MEMBER, signed_in

    paths, _ = month_files(tmp_path, ["2025-04"])
    paths[0].write_text(paths[0].read_text().replace("Crime type", "Type", 1))
    client = signed_in(kingston_app, ADMIN)
    before = db_fingerprint(kingston_app)
    refused = upload(client, paths, dry_run=False)
    assert refused.status_code == 400
    assert f"{paths[0].name} line 1: the header is not" in refused.get_data(as_text=True)
    assert db_fingerprint(kingston_app) == before
    assert signed_in(kingston_app, MEMBER).get("/kpis/import-police").status_code == 403
