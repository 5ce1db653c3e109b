"""From the uploaded bytes to rows of cells under known columns.

1. Decode: UTF-16 when the file starts with its byte-order mark (Excel's "Unicode text"), else
   UTF-8 with or without a BOM, else Windows-1252 (Excel's "CSV" on a UK Windows machine). A file
   that is none of these, or holds NUL characters, is refused at line 1.
2. The delimiter: comma, semicolon or tab. csv.Sniffer guesses from the first lines; the guess
   is kept when it splits the header into the columns we know, otherwise each delimiter is tried
   and the one that finds the most known columns wins.
3. Headers are matched to outcomes.rules.IMPORT_COLUMNS (and their aliases) without regard to
   case, spaces, underscores or hyphens. A missing required column or a column given twice
   refuses the file; a column we do not use is a warning.
4. Rows: blank lines are skipped; a row with more non-blank values than there are headers is
   refused; line numbers are those a text editor shows (a row whose quoted cell spans lines is
   numbered by its first line).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from outcomes import rules
from outcomes.importing.problems import Problem, Severity, refused, warning

if TYPE_CHECKING:
    from _csv import Reader

DELIMITERS = (",", ";", "\t")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}
_SNIFF_BYTES = 64 * 1024

_COLUMN_OF_KEY: dict[str, str] = {
    rules.import_header_key(alias): column.name
    for column in rules.IMPORT_COLUMNS
    for alias in (column.name, *column.aliases)
}


@dataclass
class ParsedFile:
    """The file as rows of cells. `columns` maps each known column found to its index in a row;
    `rows` holds (line number, cells padded to the header's width). `problems` holds what is
    wrong with the file as a whole or with a row's shape; when any of them refuses the file at
    line 1, `rows` is empty."""

    encoding: str = ""
    delimiter: str = ","
    columns: dict[str, int] = field(default_factory=dict)
    rows: list[tuple[int, list[str]]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def delimiter_name(self) -> str:
        return DELIMITER_NAMES.get(self.delimiter, repr(self.delimiter))


def decode(data: bytes) -> tuple[str, str] | None:
    """(text, encoding name), or None when the bytes are not text in an encoding we read."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError:
            return None
    try:
        return data.decode("utf-8-sig"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError:
        return None


def _header_cells(text: str, delimiter: str) -> list[str]:
    first = next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), [])
    return [cell.strip().lstrip("\ufeff") for cell in first]


def _known(headers: list[str]) -> int:
    return len(
        {_COLUMN_OF_KEY[k] for h in headers if (k := rules.import_header_key(h)) in _COLUMN_OF_KEY}
    )


def choose_delimiter(text: str) -> str:
    """The delimiter of `text` (see the module docstring, step 2)."""
    sample = text[:_SNIFF_BYTES]
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        sniffed = ","
    candidates = [sniffed, *(d for d in DELIMITERS if d != sniffed)]
    if _known(_header_cells(sample, sniffed)) >= len(rules.IMPORT_REQUIRED_COLUMNS):
        return sniffed
    return max(candidates, key=lambda d: _known(_header_cells(sample, d)))  # first wins ties


def parse_file(data: bytes) -> ParsedFile:
    """Decode, find the delimiter and the columns, and read every row (module docstring)."""
    parsed = ParsedFile()
    decoded = decode(data)
    if decoded is None:
        parsed.problems.append(
            refused(1, "", "The file is not text we can read: save it as CSV (UTF-8).")
        )
        return parsed
    text, parsed.encoding = decoded
    if "\x00" in text:
        parsed.problems.append(
            refused(1, "", "The file holds NUL characters: it is not a CSV text file.")
        )
        return parsed
    if not text.strip():
        parsed.problems.append(refused(1, "", "The file is empty."))
        return parsed
    parsed.delimiter = choose_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=parsed.delimiter)
    try:
        headers = [cell.strip().lstrip("\ufeff") for cell in next(reader)]
    except (csv.Error, StopIteration):
        parsed.problems.append(refused(1, "", "The first line must be the column headers."))
        return parsed
    if not _map_headers(parsed, headers):
        return parsed
    _read_rows(parsed, reader, width=len(headers))
    return parsed


def _map_headers(parsed: ParsedFile, headers: list[str]) -> bool:
    for index, header in enumerate(headers):
        if not header:
            continue  # a trailing delimiter: no column
        column = _COLUMN_OF_KEY.get(rules.import_header_key(header))
        if column is None:
            parsed.problems.append(
                warning(1, "", "This column is not one the import reads; it is ignored.", header)
            )
        elif column in parsed.columns:
            parsed.problems.append(
                refused(1, column, "Two columns of the file are this one column.", header)
            )
        else:
            parsed.columns[column] = index
    missing = [name for name in rules.IMPORT_REQUIRED_COLUMNS if name not in parsed.columns]
    if missing:
        parsed.problems.append(
            refused(
                1,
                "",
                "Columns missing: " + ", ".join(missing) + ".",
                f"read with the {parsed.delimiter_name} as delimiter",
            )
        )
    return not any(p.severity == Severity.REFUSED for p in parsed.problems)


def _read_rows(parsed: ParsedFile, reader: Reader, *, width: int) -> None:
    line_end = reader.line_num
    try:
        for cells in reader:
            line, line_end = line_end + 1, reader.line_num
            if not any(cells):
                continue  # a blank line, or only delimiters (a row of spaces: values.py)
            if len(parsed.rows) >= rules.IMPORT_MAX_ROWS:
                parsed.problems.append(
                    refused(line, "", f"More than {rules.IMPORT_MAX_ROWS:,} rows: split the file.")
                )
                parsed.rows.clear()
                return
            if len(cells) > width:
                if any(cell.strip() for cell in cells[width:]):
                    parsed.problems.append(
                        refused(line, "", "This row has more values than there are columns.")
                    )
                    continue
                cells = cells[:width]
            elif len(cells) < width:
                cells = cells + [""] * (width - len(cells))
            parsed.rows.append((line, cells))
    except csv.Error as error:
        parsed.problems.append(
            refused(reader.line_num, "", "The CSV cannot be read from here.", str(error))
        )
        parsed.rows.clear()
    if not parsed.rows and not any(p.severity == Severity.REFUSED for p in parsed.problems):
        parsed.problems.append(refused(1, "", "The file has headers but no rows."))
