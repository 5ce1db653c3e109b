"""The import's downloads built from outcomes.rules.IMPORT_COLUMNS: the template (a CSV with the
headers only - an example row would be imported by whoever forgets to delete it) and the data
dictionary (every column: name, type, allowed values, required, meaning)."""

from __future__ import annotations

import csv
import io

from outcomes import rules

KIND_NAMES = {
    "nhs_number": "NHS number",
    "choice": "one of a list",
    "whole_number": "whole number",
    "date": "date",
    "yes_no": "yes/no",
    "text": "text",
}
DICTIONARY_HEADER = ("column", "type", "allowed values", "required", "meaning", "also accepted as")


def template_csv() -> str:
    """The header row every import file starts with, in the dictionary's order."""
    out = io.StringIO()
    csv.writer(out).writerow(rules.IMPORT_COLUMN_NAMES)
    return out.getvalue()


def dictionary_rows() -> list[tuple[str, str, str, str, str, str]]:
    """One row per column, as DICTIONARY_HEADER names them."""
    return [
        (
            column.name,
            KIND_NAMES[column.kind],
            column.allowed,
            "required" if column.required else "optional",
            column.meaning,
            ", ".join(column.aliases),
        )
        for column in rules.IMPORT_COLUMNS
    ]


def dictionary_csv() -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(DICTIONARY_HEADER)
    writer.writerows(dictionary_rows())
    return out.getvalue()
