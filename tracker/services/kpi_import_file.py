"""Reading a spreadsheet of KPI values: a CSV (UTF-8, with or without a BOM, comma
separated) or the first sheet of an XLSX workbook, whose first non-empty row names the columns
``kpi``, ``period``, ``value`` and optionally ``note`` (any case, any order).

Row numbers are the spreadsheet's own: the header is row 1, and empty rows are skipped but keep
their numbers. A file that cannot be read, or whose header is wrong, is refused with
:class:`ImportRefused` naming every problem.

A file is also refused when it passes one of the caps below, and it is refused as soon as it
passes it: the rest is not read. A KPI file needs four columns and at most 50,000 rows; the
caps leave room for any such file, and stop a small file that unpacks to millions of cells (a
"cell bomb") from tying up the server. An XLSX is read lazily, a row at a time, with openpyxl's
read-only reader, and only its first worksheet is opened; what openpyxl reads from the zip goes
through :mod:`tracker.services.kpi_import_xlsx`, which counts its XML elements (whole rows are
parsed at once, so a row is bounded before it is parsed) and refuses a workbook with a DTD.
"""

from __future__ import annotations

import csv
import functools
import io
import re
import warnings
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO, NamedTuple

from openpyxl.utils import get_column_letter

from plans.yamlsource import suggest
from tracker.services.kpi_import_xlsx import (
    KEEP_COLUMNS,
    BoundedReader,
    Refusal,
)

# -- caps -------------------------------------------------------------------------------------
# Every file, CSV or XLSX:
MAX_BYTES = 5 * 1024 * 1024  # the file as uploaded
MAX_ROWS = 50_000  # rows with a value, not counting the header or empty rows
MAX_LAST_ROW = 1_048_576  # rows counting empty ones: the most a spreadsheet has
MAX_COLUMNS = 10  # a row's cells up to its last value: a KPI file needs four
MAX_CELLS = 250_000  # cells read in all, empty ones included: 50,000 rows of five cells
MAX_CELL_CHARS = 32_767  # the most a spreadsheet cell holds (a note may have 2,000)
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


@functools.lru_cache(maxsize=256)
def column_letter(index: int) -> str:
    letter: str = get_column_letter(index + 1)
    return letter


def _refuse(message: str) -> ImportRefused:
    return ImportRefused([Problem(None, message)])


def _lines(rows: Iterable[Sequence[Any]], cell: Callable[[Any], Cell]) -> list[Line]:
    """The rows that are not empty, numbered from 1; refused as soon as a cap is passed, before
    the next row is read."""
    lines: list[Line] = []
    read = 0
    for number, values in enumerate(rows, start=1):
        if number > MAX_LAST_ROW:
            raise _refuse(f"the file has more than {MAX_LAST_ROW:,} rows, counting empty ones "
                          "(the most a spreadsheet has): delete the empty rows below the values")
        read += len(values)
        if read > MAX_CELLS:
            raise _refuse(f"the file has more than {MAX_CELLS:,} cells, counting empty ones: "
                          f"{KEEP_COLUMNS}, delete the empty columns beside them, or split it "
                          "into smaller files")
        cells = [cell(value) for value in values]
        while cells and blank(cells[-1].value):
            cells.pop()
        if not cells:
            continue
        if len(cells) > MAX_COLUMNS:
            where = column_letter(len(cells) - 1) if len(cells) <= 16_384 else f"{len(cells):,}"
            raise _refuse(f"the file has more than {MAX_COLUMNS} columns (row {number} has a "
                          f"value in column {where}): {KEEP_COLUMNS}")
        for index, found in enumerate(cells):
            if isinstance(found.value, str) and len(found.value) > MAX_CELL_CHARS:
                raise _too_long(number, column_letter(index))
        lines.append(Line(number, cells))
        if len(lines) > MAX_ROWS + 1:
            raise _too_many()
    return lines


def _too_many() -> ImportRefused:
    return _refuse(f"the file has more than {MAX_ROWS:,} rows: split it into smaller files")


def _too_long(row: int, column: str | None) -> ImportRefused:
    where = f"the cell in row {row}, column {column}," if column else f"a cell in row {row}"
    return _refuse(f"{where} has more than {MAX_CELL_CHARS:,} characters (the most a "
                   "spreadsheet cell holds): shorten it")


# -- CSV --------------------------------------------------------------------------------------


def _csv_lines(data: bytes, name: str) -> list[Line]:
    if data.startswith(b"PK\x03\x04"):
        raise _refuse(f"{name} is an Excel workbook, not a CSV file: name it .xlsx, or "
                      f"{SAVE_AS}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _refuse(f"{name} is not UTF-8 text: {SAVE_AS}") from None
    return _lines(_csv_records(text, name), Cell)


def _csv_records(text: str, name: str) -> Iterator[list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    number = 0
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            # the csv module stops at a field of more than csv.field_size_limit() characters
            if str(error).startswith("field larger than field limit"):
                raise _too_long(number + 1, None) from None
            raise _refuse(f"{name} cannot be read as CSV ({error}): {SAVE_AS}") from None
        number += 1
        yield record


# -- XLSX -------------------------------------------------------------------------------------


def _xlsx_cell(cell: Any) -> Cell:
    value = cell.value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Cell(value, "%" in (getattr(cell, "number_format", "") or ""))
    return Cell(value)


def _xlsx_lines(data: bytes, name: str) -> list[Line]:
    cannot_open = f"{name} cannot be opened as an Excel workbook: {SAVE_AS}"
    try:
        reader = BoundedReader(data)
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError):
        raise _refuse(cannot_open) from None
    with reader.archive:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # openpyxl warns about features it drops
                reader.read()
                if not reader.wb.worksheets:
                    raise _refuse(f"{name} has no sheet: put the values on its first sheet")
                return _lines(reader.wb.worksheets[0].iter_rows(), _xlsx_cell)
        except ImportRefused:
            raise
        except Refusal as refusal:
            raise _refuse(f"{name} {refusal.text}") from None
        except Exception:  # noqa: BLE001 - a broken workbook fails in many ways; all mean the same
            raise _refuse(cannot_open) from None


# -- the header -------------------------------------------------------------------------------


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

