"""Reading the first sheet of an XLSX workbook lazily and within bounds, for the KPI import.

openpyxl's read-only reader reads a row at a time; this module makes sure it can be tied up
by no workbook, however small the file and however many cells it unpacks to (a "cell bomb"):

- what openpyxl reads from the zip goes through :class:`_Part`, which counts the XML
  elements of each part as it is read (parsed alongside, by expat, as openpyxl's own parser
  is), before openpyxl builds anything from them, and refuses a workbook with a DTD (an XLSX
  never has one, and entities could expand a few bytes into any number of cells);
- only the first worksheet is opened, and the size it declares is neither read nor trusted
  (openpyxl pads every row to it, and reads the whole sheet to find it when it is missing).

It leans on two of openpyxl's own classes (``ExcelReader`` and ``ReadOnlyWorksheet``), so
openpyxl is pinned to its 3.1 releases; the KPI import's tests exercise every path here.
A cap passed is :class:`Refusal`, whose text follows the file's name.
"""

from __future__ import annotations

import io
import xml.parsers.expat
import zipfile
from typing import IO, TYPE_CHECKING, Any, Literal

from openpyxl.reader.excel import ExcelReader
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from openpyxl.xml.constants import SHARED_STRINGS

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

# An XLSX is a zip of XML files. 50,000 rows of four cells, each typed as text, unpack to about
# 15 MB and 600,000 XML elements:
MAX_UNPACKED = 50 * 1024 * 1024  # bytes read from the zip, once unpacked
MAX_ELEMENTS = 1_500_000  # XML elements read from the workbook, all its parts together
MAX_TEXT_ELEMENTS = 500_000  # in its table of shared text (two for each piece of text)
MAX_ELEMENTS_AT_ONCE = 20_000  # in one row (room for 16,384 empty cells, a sheet's width), in
# the sheet outside its rows, or in any other part (formatting, settings): openpyxl builds each
# of those whole (19,000 cell formats take it 15 MB; real workbooks have a few hundred)

SAVE_AS_CSV = "save it as 'CSV UTF-8 (Comma delimited)'"
KEEP_COLUMNS = "keep only the columns kpi, period, value and note"
COPY_COLUMNS = ("copy the kpi, period, value and note columns into a new workbook, or "
                + SAVE_AS_CSV)


class Refusal(Exception):
    """A workbook passed a cap while openpyxl read it: ``text`` follows the file's name.
    Not a ValueError, which openpyxl's reader wraps in its own."""

    def __init__(self, text: str) -> None:
        self.text = text
        super().__init__(text)


class _Archive(zipfile.ZipFile):
    """The workbook's zip, as openpyxl reads it: every part it opens is counted (_Part)."""

    def __init__(self, data: bytes) -> None:
        super().__init__(io.BytesIO(data))
        self.unpacked = 0  # bytes read so far, from every part
        self.elements = 0  # XML elements read so far, from every part
        self.text_part: str | None = None  # the shared strings, once openpyxl finds them
        self.sheet_part: str | None = None  # the first worksheet

    def open(self, name: str | zipfile.ZipInfo, mode: Literal["r", "w"] = "r",
             pwd: bytes | None = None, *, force_zip64: bool = False) -> IO[bytes]:
        stream = super().open(name, mode, pwd, force_zip64=force_zip64)
        if mode != "r":
            return stream
        part = name.filename if isinstance(name, zipfile.ZipInfo) else name
        return io.BufferedReader(_Part(stream, self, part))


class _Part(io.RawIOBase):
    """One part of the workbook, counted as openpyxl reads it. Its XML is parsed alongside
    (by expat, as openpyxl's own parser is), so that elements are counted before openpyxl
    builds anything from them. openpyxl builds a whole row of the sheet before handing it
    over, builds each other part whole (its formatting, settings, names), and keeps what it
    does not know until the end of the sheet: so a row, the sheet outside its rows and any
    other part may hold MAX_ELEMENTS_AT_ONCE elements, the shared text MAX_TEXT_ELEMENTS and
    the workbook MAX_ELEMENTS. A DTD, which could expand a few bytes into any number of
    elements, is refused outright."""

    def __init__(self, stream: IO[bytes], archive: _Archive, name: str) -> None:
        super().__init__()
        self._stream = stream
        self._archive = archive
        self._is_text = name == archive.text_part
        self._is_sheet = name == archive.sheet_part
        self._built = 0  # elements openpyxl builds whole: all but those in the sheet's rows
        self._depth = 0
        self._row: int | None = None  # elements so far in the row being read, when in one
        self._row_depth = 0
        self._parser: Any = None
        if name.endswith((".xml", ".rels")):
            self._parser = xml.parsers.expat.ParserCreate(namespace_separator=" ")
            self._parser.StartElementHandler = self._start
            self._parser.StartDoctypeDeclHandler = self._doctype
            if self._is_sheet:
                self._parser.EndElementHandler = self._end

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        data = self._stream.read(len(view))
        self._archive.unpacked += len(data)
        if self._archive.unpacked > MAX_UNPACKED:
            raise Refusal(f"is larger than {MAX_UNPACKED // (1024 * 1024)} MB once unpacked: "
                           f"split it into smaller files, or {SAVE_AS_CSV}")
        if self._parser is not None:
            self._parser.Parse(data, not data)
            if not data:
                self._parser = None  # the whole part is parsed
        view[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._stream.close()
        super().close()

    def _start(self, tag: str, _attributes: object) -> None:
        self._depth += 1
        self._archive.elements += 1
        if self._archive.elements > MAX_ELEMENTS:
            raise Refusal(f"is too complex to read (more than {MAX_ELEMENTS:,} XML elements "
                           f"once unpacked): {COPY_COLUMNS}")
        if self._row is not None:
            self._row += 1
            if self._row > MAX_ELEMENTS_AT_ONCE:
                raise Refusal(f"has a row of more than {MAX_ELEMENTS_AT_ONCE:,} cells and "
                               f"other XML elements: {KEEP_COLUMNS}")
        elif self._is_sheet and tag.rpartition(" ")[2] == "row":
            self._row, self._row_depth = 0, self._depth
        else:
            self._built += 1
            if self._is_text and self._built > MAX_TEXT_ELEMENTS:
                raise Refusal(f"is too complex to read (more than {MAX_TEXT_ELEMENTS:,} XML "
                               f"elements of text once unpacked): {COPY_COLUMNS}")
            if not self._is_text and self._built > MAX_ELEMENTS_AT_ONCE:
                raise Refusal(f"is too complex to read (more than {MAX_ELEMENTS_AT_ONCE:,} "
                               f"XML elements of formatting and settings in one part once "
                               f"unpacked): {COPY_COLUMNS}")

    def _end(self, _tag: str) -> None:
        if self._row is not None and self._depth == self._row_depth:
            self._row = None  # the end of the row (a row inside it is part of it)
        self._depth -= 1

    def _doctype(self, *_args: object) -> None:
        raise Refusal(f"cannot be read: it declares a DTD, which an Excel workbook never "
                       f"does. {COPY_COLUMNS[0].upper()}{COPY_COLUMNS[1:]}")


class _UnsizedSheet(ReadOnlyWorksheet):  # type: ignore[misc]
    """A read-only worksheet that neither reads nor trusts the size the sheet declares:
    reading it means reading the whole sheet when the size is missing, and openpyxl pads every
    row to it (a sheet can claim to be 16,384 columns wide)."""

    def _get_size(self) -> None:
        pass


class BoundedReader(ExcelReader):  # type: ignore[misc]
    """openpyxl's read-only reader, reading through an _Archive, that opens only the first
    worksheet (the others are not read at all)."""

    archive: _Archive

    def __init__(self, data: bytes) -> None:
        super().__init__(io.BytesIO(data), read_only=True, keep_vba=False, data_only=True,
                         keep_links=False)
        self.archive.close()  # the zip openpyxl opened: replaced by an _Archive of the same data
        self.archive = _Archive(data)

    def read_strings(self) -> None:
        found = self.package.find(SHARED_STRINGS)
        if found is not None:
            self.archive.text_part = found.PartName[1:]
        super().read_strings()

    def read_worksheets(self) -> None:
        for sheet, rel in self.parser.find_sheets():
            if rel.target in self.valid_files and "chartsheet" not in rel.Type:
                self.archive.sheet_part = rel.target
                self.wb._sheets.append(_UnsizedSheet(self.wb, sheet.name, rel.target,
                                                     self.shared_strings))
                return
