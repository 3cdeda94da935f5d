"""Reading a spreadsheet of KPI values: a CSV (UTF-8, with or without a BOM, comma
separated) or the first sheet of an XLSX workbook, whose first non-empty row names the columns
``kpi``, ``period``, ``value`` and optionally ``note`` (any case, any order).

Row numbers are the spreadsheet's own: the header is row 1, and empty rows are skipped but keep
their numbers. A file that cannot be read, is over 5 MB or has more than 50,000 rows, or whose
header is wrong, is refused with :class:`ImportRefused` naming every problem.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
import zipfile
from dataclasses import dataclass
from typing import BinaryIO, NamedTuple

from plans.yamlsource import suggest

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 50_000
MAX_UNPACKED = 100 * 1024 * 1024  # an XLSX is a zip: what it may hold once unpacked
COLUMNS = ("kpi", "period", "value", "note")
REQUIRED = ("kpi", "period", "value")
EXTENSIONS = (".csv", ".xlsx")
SAVE_AS = "save it from your spreadsheet as 'CSV UTF-8 (Comma delimited)' or 'Excel Workbook'"


# -- problems ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the file: on a row (the header is row 1), or with the file."""

    row: int | None
    message: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.message}" if self.row is not None else self.message


class ImportRefused(ValueError):
    """The file is refused whole; ``problems`` lists every problem found."""

    def __init__(self, problems: list[Problem], header_row: int | None = None) -> None:
        self.problems = problems
        self.header_row = header_row
        super().__init__(self.headline)

    @property
    def rows(self) -> list[int]:
        return sorted({p.row for p in self.problems if p.row is not None})

    @property
    def headline(self) -> str:
        """``3 rows have problems``, ``the header row has a problem``, or the file's problem."""
        file_level = [p for p in self.problems if p.row is None]
        if file_level:
            return file_level[0].message
        if self.header_row is not None and self.rows == [self.header_row]:
            many = len(self.problems) != 1
            return f"the header row has {'problems' if many else 'a problem'}"
        count = len(self.rows)
        return f"{count} row{'s have problems' if count != 1 else ' has a problem'}"


# -- reading the file -------------------------------------------------------------------------


class Cell(NamedTuple):
    value: object
    is_percent: bool = False  # an XLSX cell formatted as a percentage


@dataclass(frozen=True)
class Line:
    """A row of the sheet that is not empty, by the spreadsheet's own number."""

    row: int
    cells: list[Cell]


@dataclass
class Sheet:
    header_row: int
    columns: dict[int, str]  # column index -> name (kpi, period, value, note)
    lines: list[Line]
    has_note: bool


def read_limited(stream: BinaryIO) -> bytes:
    """Read an upload, but never more than one byte past the limit."""
    return stream.read(MAX_BYTES + 1)


def display_name(filename: str) -> str:
    return re.split(r"[\\/]", filename or "")[-1].strip() or "the file"


def blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    letter: str = get_column_letter(index + 1)
    return letter


def _refuse(message: str) -> ImportRefused:
    return ImportRefused([Problem(None, message)])


def _csv_lines(data: bytes, name: str) -> list[Line]:
    if data.startswith(b"PK\x03\x04"):
        raise _refuse(f"{name} is an Excel workbook, not a CSV file: name it .xlsx, or "
                      f"{SAVE_AS}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _refuse(f"{name} is not UTF-8 text: {SAVE_AS}") from None
    lines: list[Line] = []
    try:
        for number, record in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
            if all(blank(v) for v in record):
                continue
            lines.append(Line(number, [Cell(v) for v in record]))
            if len(lines) > MAX_ROWS + 1:
                raise _too_many()
    except csv.Error as error:
        raise _refuse(f"{name} cannot be read as CSV ({error}): {SAVE_AS}") from None
    return lines


def _xlsx_lines(data: bytes, name: str) -> list[Line]:
    import openpyxl

    cannot_open = f"{name} cannot be opened as an Excel workbook: {SAVE_AS}"
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(i.file_size for i in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise _refuse(cannot_open) from None
    if unpacked > MAX_UNPACKED:
        raise _refuse(f"{name} is too large once unpacked: split it into smaller files")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about features it drops
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - a broken workbook fails in many ways; all mean the same
        raise _refuse(cannot_open) from None
    lines: list[Line] = []
    try:
        if not book.worksheets:
            raise _refuse(f"{name} has no sheet: put the values on its first sheet")
        sheet = book.worksheets[0]
        for number, cells in enumerate(sheet.iter_rows(min_row=1), start=1):
            values = [Cell(c.value, "%" in (getattr(c, "number_format", "") or ""))
                      for c in cells]
            if all(blank(c.value) for c in values):
                continue
            lines.append(Line(number, values))
            if len(lines) > MAX_ROWS + 1:
                raise _too_many()
    except ImportRefused:
        raise
    except Exception:  # noqa: BLE001
        raise _refuse(cannot_open) from None
    finally:
        book.close()
    return lines


def _too_many() -> ImportRefused:
    return _refuse(f"the file has more than {MAX_ROWS:,} rows: split it into smaller files")


def read_sheet(data: bytes, filename: str) -> Sheet:
    """The file's header and rows, or :class:`ImportRefused` if it cannot be read."""
    name = display_name(filename)
    extension = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in EXTENSIONS:
        raise _refuse(f"{name} is not a CSV or XLSX file: {SAVE_AS}")
    if len(data) > MAX_BYTES:
        raise _refuse(f"{name} is larger than 5 MB: split it into smaller files")
    if not data.strip(b" \t\r\n\xef\xbb\xbf"):
        raise _refuse(f"{name} is empty: it needs a header row (kpi, period, value, note) "
                      "and a row for each value")
    lines = _csv_lines(data, name) if extension == ".csv" else _xlsx_lines(data, name)
    if not lines:
        raise _refuse(f"{name} is empty: it needs a header row (kpi, period, value, note) "
                      "and a row for each value")
    header, rows = lines[0], lines[1:]
    columns = _columns(header, is_csv=extension == ".csv")
    if not rows:
        raise _refuse(f"{name} has a header row but no values: add a row under the header "
                      "for each value")
    return Sheet(header.row, columns, rows, has_note="note" in columns.values())


def _columns(header: Line, *, is_csv: bool) -> dict[int, str]:
    problems: list[Problem] = []
    columns: dict[int, str] = {}
    where: dict[str, int] = {}
    for index, cell in enumerate(header.cells):
        if blank(cell.value):
            continue
        raw = str(cell.value).strip()
        name = raw.lower()
        letter = column_letter(index)
        if name not in COLUMNS:
            if is_csv and (";" in raw or "\t" in raw):
                raise ImportRefused([Problem(header.row, "the columns must be separated by "
                                             f"commas, not semicolons or tabs: {SAVE_AS}")],
                                    header_row=header.row)
            hint = suggest(name, COLUMNS) or ": rename the column or delete it"
            problems.append(Problem(header.row, f"column {letter} is headed '{raw}', which is "
                                    f"not one of kpi, period, value, note{hint}"))
        elif name in where:
            problems.append(Problem(header.row, f"there are two '{name}' columns "
                                    f"({column_letter(where[name])} and {letter}): keep one"))
        else:
            where[name] = index
            columns[index] = name
    for name in REQUIRED:
        if name not in where:
            problems.append(Problem(header.row, f"there is no '{name}' column: add a column "
                                    f"headed {name}"))
    if problems:
        raise ImportRefused(problems, header_row=header.row)
    return columns

