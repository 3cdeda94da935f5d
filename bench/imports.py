"""Time refusing KPI files past the import caps, and measure their peak memory, beside
checking a small valid file.

    python -m bench.imports [--runs 5] [--cases "cell bomb XLSX,..."]

Builds a database with the Kingston plan (``plans.yaml``) in a temporary folder and writes
each file of :data:`CASES` there once. Then, ``--runs`` times for each file, a fresh Python
process opens the app, reads the file as the upload page does (``read_limited``) and passes it
to :func:`tracker.services.kpi_import.import_values` with ``dry_run=True``: the service the
upload page calls when "Check the file only" is ticked, and ``tracker kpi import --dry-run``
too. The child times that call alone and reports its peak resident memory, the app it has
loaded included (Linux's ``VmHWM``: unlike ``ru_maxrss``, it does not carry over the size of
the process that started it), and its resident memory just before the call. The figures are
printed as min / median / max beside the goals (:data:`GOAL_SECONDS`, :data:`GOAL_MB`) and
beside the reference files, measured in the same run. Today is pinned to 25 November 2026.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent
TODAY = date(2026, 11, 25)
GOAL_SECONDS = 5.0
GOAL_MB = 300.0
TIMEOUT_SECONDS = 600
HEADER = "kpi,period,value,note\n"
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"

# -- the files ----------------------------------------------------------------------------------


def _workbook(sheet: Callable[[IO[bytes]], None], strings: str | None = None) -> bytes:
    """The smallest XLSX openpyxl opens: one sheet, whose XML ``sheet`` writes (streamed into
    the zip, so that a sheet of 90 MB is never held whole), and optional shared strings."""
    package = "http://schemas.openxmlformats.org/package/2006"
    office = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    spreadsheet = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    overrides = (f'<Override PartName="/xl/workbook.xml" ContentType="{spreadsheet}.sheet.main+'
                 'xml"/>'
                 f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{spreadsheet}.'
                 'worksheet+xml"/>')
    links = (f'<Relationship Id="rId1" Type="{office}/worksheet" '
             'Target="worksheets/sheet1.xml"/>')
    if strings is not None:
        overrides += (f'<Override PartName="/xl/sharedStrings.xml" ContentType="{spreadsheet}.'
                      'sharedStrings+xml"/>')
        links += (f'<Relationship Id="rId2" Type="{office}/sharedStrings" '
                  'Target="sharedStrings.xml"/>')
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", (
            f'<Types xmlns="{package}/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            f"{overrides}</Types>"))
        archive.writestr("_rels/.rels", (
            f'<Relationships xmlns="{package}/relationships"><Relationship Id="rId1" '
            f'Type="{office}/officeDocument" Target="xl/workbook.xml"/></Relationships>'))
        archive.writestr("xl/workbook.xml", (
            f'<workbook xmlns="{MAIN}" xmlns:r="{office}"><sheets>'
            '<sheet name="Values" sheetId="1" r:id="rId1"/></sheets></workbook>'))
        archive.writestr("xl/_rels/workbook.xml.rels", (
            f'<Relationships xmlns="{package}/relationships">{links}</Relationships>'))
        if strings is not None:
            archive.writestr("xl/sharedStrings.xml", strings)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as stream:
            stream.write(f'<worksheet xmlns="{MAIN}"><sheetData>'.encode())
            sheet(stream)
            stream.write(b"</sheetData></worksheet>")
    return out.getvalue()


def _text_cells(*texts: str) -> str:
    return "".join(f'<c t="inlineStr"><is><t>{t}</t></is></c>' for t in texts)


HEADER_CELLS = _text_cells("kpi", "period", "value", "note")


def _header_row() -> bytes:
    return f"<row>{HEADER_CELLS}</row>".encode()


def cell_bomb() -> bytes:
    """The measured "cell bomb": a header, then 49,999 rows of 120 numbers (about 230 KB
    zipped, 90 MB unpacked, and no declared size)."""
    return numbers(50_000, 120)


def wide_row(cells: int = 2_000_000) -> bytes:
    def sheet(stream: IO[bytes]) -> None:
        stream.write(_header_row() + b"<row>" + b"<c/>" * cells + b"</row>")
    return _workbook(sheet)


def far_rows(last: int, valid: bool) -> bytes:
    row = _text_cells("asb-incidents", "2025/26 Q1") + "<c><v>270</v></c>" if valid else \
        "<c><v>1</v></c>"
    def sheet(stream: IO[bytes]) -> None:
        stream.write(f'<row r="1">{HEADER_CELLS}</row>'.encode())
        stream.write(f'<row r="{last}">{row}</row>'.encode())
    return _workbook(sheet)


def many_strings(count: int = 1_000_000) -> bytes:
    strings = (f'<sst xmlns="{MAIN}">'
               + "".join(f"<si><t>{i:07d}</t></si>" for i in range(count)) + "</sst>")
    def sheet(stream: IO[bytes]) -> None:
        stream.write(_header_row())
    return _workbook(sheet, strings)


def numbers(rows: int, cells: int) -> bytes:
    """A header, then rows of ``cells`` numbers: within the caps up to 10 cells and
    25,000 rows."""
    def sheet(stream: IO[bytes]) -> None:
        stream.write(_header_row())
        row = b"<row>" + b"<c><v>1</v></c>" * cells + b"</row>"
        for _ in range(rows - 1):
            stream.write(row)
    return _workbook(sheet)


def unknown_elements(count: int = 4_000_000) -> bytes:
    def sheet(stream: IO[bytes]) -> None:
        stream.write(_header_row())
        for _ in range(count // 1000):
            stream.write(b"<x/>" * 1000)
    return _workbook(sheet)


def valid_rows(app: Any) -> list[tuple[str, str, str]]:
    """A value for every KPI of the plan in each period of 2025/26: a good file to check."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from tracker.db import get_engine
    from tracker.models import KPI

    with Session(get_engine(app)) as session:
        kpis = list(session.scalars(select(KPI).where(KPI.retired_at.is_(None))
                                    .order_by(KPI.position)))
    periods = {"quarterly": [f"2025/26 Q{q}" for q in range(1, 5)], "annual": ["2025/26"],
               "monthly": [f"2025-{m:02d}" for m in range(4, 13)]}
    return [(k.ref, period, "50") for k in kpis for period in periods[k.frequency]]


def _valid_xlsx(rows: list[tuple[str, str, str]]) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["kpi", "period", "value", "note"])
    for ref, period, value in rows:
        sheet.append([ref, period, float(value)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def cases(app: Any) -> dict[str, tuple[str, Callable[[], bytes]]]:
    """Each case: its file name and what builds the file (built once, before any run)."""
    good = valid_rows(app)
    csv_rows = "".join(f"{ref},{period},{value},\n" for ref, period, value in good)
    return {
        f"reference: {len(good)} valid values, CSV":
            ("values.csv", lambda: (HEADER + csv_rows).encode()),
        f"reference: {len(good)} valid values, XLSX":
            ("values.xlsx", lambda: _valid_xlsx(good)),
        "cell bomb XLSX: 50,000 rows x 120 cells":
            ("bomb.xlsx", cell_bomb),
        "CSV: 20,000 rows x 120 columns":
            ("wide.csv", lambda: (HEADER + ("1," * 119 + "1\n") * 20_000).encode()),
        "CSV: 50,000 rows of 4 values and 16 empty cells":
            ("padded.csv", lambda: (HEADER + ("asb-incidents,2025/26 Q1,270," + "," * 16
                                              + "\n") * 50_000).encode()),
        "CSV: one row of 2,000,000 cells":
            ("row.csv", lambda: (HEADER + "1," * 1_999_999 + "1\n").encode()),
        "CSV: one cell of 4,000,000 characters":
            ("cell.csv", lambda: (HEADER + "asb-incidents,2025/26 Q1,270,"
                                  + "x" * 4_000_000 + "\n").encode()),
        "XLSX: one row of 2,000,000 empty cells": ("row.xlsx", wide_row),
        "XLSX: 1,000,000 shared strings": ("strings.xlsx", many_strings),
        "XLSX: 4,000,000 unknown XML elements between rows":
            ("elements.xlsx", unknown_elements),
        "XLSX: rows 1 and 2,000,000,000": ("far.xlsx", lambda: far_rows(2_000_000_000, False)),
        "XLSX: rows 1 and 1,000,000 (valid)": ("gap.xlsx", lambda: far_rows(1_000_000, True)),
        "XLSX at the caps: 25,000 rows x 10 numbers (read in full)":
            ("within.xlsx", lambda: numbers(25_000, 10)),
    }


# -- one attempt, in its own process ---------------------------------------------------------


def attempt(db: str, path: str) -> dict[str, Any]:
    """Check the file as the upload page does; run in a fresh process (see :func:`measure`)."""
    from bench.scale import make_app

    app = make_app(db)
    with app.app_context():
        from tracker.db import get_session
        from tracker.services.kpi_import import ImportRefused, import_values, read_limited
        from tracker.services.plan_load import current_plan

        session = get_session()
        plan = current_plan(session)
        assert plan is not None
        with open(path, "rb") as stream:
            data = read_limited(stream)
        before = memory_mb("VmRSS")
        started = time.perf_counter()
        try:
            report = import_values(session, plan, "bench", data, Path(path).name, dry_run=True,
                                   today=TODAY)
            outcome = f"checked: {report.summary}"
        except ImportRefused as refused:
            outcome = f"refused: {refused.headline}"
        seconds = time.perf_counter() - started
        session.rollback()
    return {"seconds": seconds, "before_mb": before, "peak_mb": memory_mb("VmHWM"),
            "outcome": outcome}


def memory_mb(field: str) -> float:
    """``VmRSS`` (resident now) or ``VmHWM`` (the most it has been) of this process, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status (the benchmark needs Linux)")


def measure(db: Path, path: Path) -> dict[str, Any]:
    """One attempt in a fresh Python process, so that its peak memory is its own."""
    try:
        done = subprocess.run([sys.executable, "-m", "bench.imports", "--attempt", str(db),
                               str(path)], cwd=ROOT, capture_output=True, text=True,
                              timeout=TIMEOUT_SECONDS, check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"no answer in {TIMEOUT_SECONDS} s"}
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr else "failed"}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# -- the run ----------------------------------------------------------------------------------


def build_database(folder: Path) -> tuple[Path, Any]:
    from bench.scale import load, make_app
    from tracker import migrate
    from tracker.db import get_engine

    db = folder / "kingston.db"
    app = make_app(db)
    migrate.upgrade(get_engine(app))
    load(app, (ROOT / "plans.yaml").read_text(encoding="utf-8"))
    get_engine(app).dispose()
    return db, app


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    if args.attempt:
        print(json.dumps(attempt(*args.attempt)))
        return 0
    with tempfile.TemporaryDirectory(prefix="tracker-bench-imports-") as name:
        folder = Path(name)
        started = time.perf_counter()
        db, app = build_database(folder)
        every = cases(app)
        chosen = _chosen(args.cases, every)
        files = {}
        for case in chosen:
            filename, make = every[case]
            path = folder / filename
            path.write_bytes(make())
            files[case] = path
        print(f"Database with the Kingston plan and {len(chosen)} files ready in "
              f"{time.perf_counter() - started:.1f} s; today is {TODAY:%-d %B %Y}.")
        print(f"Each attempt: a fresh process checks the file with import_values(..., "
              f"dry_run=True); {args.runs} runs per file.\n")
        rows = []
        for case in chosen:
            results = [measure(db, files[case]) for _ in range(args.runs)]
            rows.append(_row(case, files[case], results))
            print(f"  {case}: done", file=sys.stderr, flush=True)
    _print_table(rows)
    return 0


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.imports", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cases", help="the files to time, by the start of their names, "
                        "comma-separated (default: all)")
    parser.add_argument("--attempt", nargs=2, metavar=("DB", "FILE"), help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def _chosen(text: str | None, every: dict[str, Any]) -> list[str]:
    if not text:
        return list(every)
    wanted = [part.strip() for part in text.split(",") if part.strip()]
    chosen = [case for case in every if any(case.startswith(w) for w in wanted)]
    if not chosen:
        raise SystemExit(f"no case starts with {text!r}; the cases are: " + "; ".join(every))
    return chosen


def _row(case: str, path: Path, results: list[dict[str, Any]]) -> dict[str, Any]:
    errors = [r["error"] for r in results if "error" in r]
    good = [r for r in results if "error" not in r]
    row: dict[str, Any] = {"case": case, "bytes": path.stat().st_size,
                           "outcome": good[0]["outcome"] if good else f"error: {errors[0]}"}
    if good:
        row.update(seconds=sorted(r["seconds"] for r in good),
                   peak=sorted(r["peak_mb"] for r in good),
                   before=statistics.median(r["before_mb"] for r in good))
    return row


def _spread(values: list[float], digits: int) -> str:
    return " / ".join(f"{v:.{digits}f}" for v in (values[0], statistics.median(values),
                                                   values[-1]))


def _size(count: int) -> str:
    return f"{count / 1024:,.0f} KB" if count < 1024 * 1024 else f"{count / 1024 ** 2:.1f} MB"


def _print_table(rows: list[dict[str, Any]]) -> None:
    head = ("file", "size", "seconds min / median / max", f"< {GOAL_SECONDS:g} s",
            "peak MB min / median / max", f"< {GOAL_MB:g} MB", "MB before")
    table = [head]
    for row in rows:
        if "seconds" not in row:
            table.append((row["case"], _size(row["bytes"]), "-", "-", "-", "-", "-"))
            continue
        table.append((row["case"], _size(row["bytes"]), _spread(row["seconds"], 2),
                      "yes" if row["seconds"][-1] < GOAL_SECONDS else "NO",
                      _spread(row["peak"], 0), "yes" if row["peak"][-1] < GOAL_MB else "NO",
                      f"{row['before']:.0f}"))
    widths = [max(len(r[i]) for r in table) for i in range(len(head))]
    for index, line in enumerate(table):
        print("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                        for i, (cell, w) in enumerate(zip(line, widths, strict=True))))
        if index == 0:
            print("  ".join("-" * w for w in widths))
    print("\nWhat each file got:")
    for row in rows:
        print(f"  {row['case']}: {row['outcome']}")


if __name__ == "__main__":
    sys.exit(main())
