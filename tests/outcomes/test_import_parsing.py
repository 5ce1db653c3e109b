"""The outcome import reads files as data managers save them: headers in any case or spacing,
comma/semicolon/tab, UTF-8 (with or without BOM) or Excel's Windows-1252, ISO dates or UK dates
when the uploader says so, "14.0" days. And the column definition feeds the template and the
data dictionary."""

import csv
import io
from datetime import date

import pytest

from networks.models import ServiceUser
from outcomes import rules
from outcomes.importing import reports
from outcomes.importing.parsing import parse_file
from outcomes.importing.values import parse_date, parse_whole_number, read_rows
from outcomes.models import OutcomeAssessment
from tests.outcomes.import_helpers import HEADER, NOW, A, row


def cols(parsed):
    return set(parsed.columns)


def test_it_matches_headers_whatever_their_case_spaces_or_underscores():
    header = (
        "NHS Number,Trial Arm,TIMEPOINT_MONTHS,assessed on,Symptom-Level,relapse,"
        "Hospital Bed Days,disability_benefit,NeurolepticUse,work or study\n"
    )
    parsed = parse_file((header + row(A)).encode())
    assert cols(parsed) == set(rules.IMPORT_REQUIRED_COLUMNS)
    assert not parsed.problems


@pytest.mark.parametrize(("delimiter", "name"), [(",", "comma"), (";", "semicolon"), ("\t", "tab")])
def test_it_detects_the_delimiter(delimiter, name):
    text = (HEADER + row(A) + row(A, 24, "2017-03-01")).replace(",", delimiter)
    parsed = parse_file(text.encode())
    assert parsed.delimiter_name == name
    assert len(parsed.rows) == 2 and not parsed.problems


def test_it_falls_back_to_the_headers_when_the_sniffer_gives_up(monkeypatch):
    def give_up(self, sample, delimiters=None):
        raise csv.Error("Could not determine delimiter")

    monkeypatch.setattr(csv.Sniffer, "sniff", give_up)
    parsed = parse_file((HEADER + row(A)).replace(",", ";").encode())
    assert parsed.delimiter == ";" and not parsed.problems


def test_it_reads_utf8_with_a_bom_and_excels_windows_1252():
    text = HEADER.strip() + ",given_name\n" + row(A).strip() + ",Siobhán\n"
    for data, encoding in [
        (b"\xef\xbb\xbf" + text.encode("utf-8"), "UTF-8"),
        (text.encode("cp1252"), "Windows-1252"),
        (text.encode("utf-16"), "UTF-16"),
    ]:
        parsed = parse_file(data)
        assert parsed.encoding == encoding and not parsed.problems
        assert parsed.rows[0][1][parsed.columns["given_name"]] == "Siobhán"


def test_it_refuses_text_it_cannot_read_at_line_1():
    for data in [b"\x81\x8d\x8f\x90\x9d" * 10, HEADER.encode() + b"\x00\n"]:
        parsed = parse_file(data)
        assert [p.line for p in parsed.problems] == [1] and not parsed.rows


def test_it_names_missing_columns_and_warns_of_unused_ones():
    parsed = parse_file(b"nhs_number,trial_arm,study_id\n9434765919,POD,S1\n")
    refused = [p for p in parsed.problems if p.severity == "refused"]
    assert "timepoint_months" in refused[0].message and "nhs_number" not in refused[0].message
    assert any(p.severity == "warning" and p.detail == "study_id" for p in parsed.problems)


def test_it_numbers_lines_as_an_editor_shows_them():
    text = HEADER.strip() + ",given_name\n\n" + row(A).strip() + ',"two\nlines"\n' + row(A, 24)
    parsed = parse_file(text.encode())
    assert [line for line, _cells in parsed.rows] == [3, 5]


def test_it_refuses_a_row_with_more_values_than_columns_but_not_trailing_blanks():
    text = HEADER + row(A).strip() + ",,\n" + row(A, 24).strip() + ",extra\n"
    parsed = parse_file(text.encode())
    assert [(p.line, p.severity) for p in parsed.problems] == [(3, "refused")]
    assert [line for line, _ in parsed.rows] == [2]


def test_dates_are_iso_unless_the_uploader_says_day_month_year():
    assert parse_date("2015-03-04", day_first=False) == date(2015, 3, 4)
    assert "never guessed" in parse_date("04/03/2015", day_first=False)
    assert parse_date("04/03/2015", day_first=True) == date(2015, 3, 4)
    assert parse_date("4.3.2015", day_first=True) == date(2015, 3, 4)
    assert parse_date("2015-03-04", day_first=True) == date(2015, 3, 4)  # ISO cannot be misread
    assert "four digits" in parse_date("04/03/15", day_first=True)
    assert parse_date("2015-02-30", day_first=False) == "Not a real date."
    assert parse_date("30/02/2015", day_first=True) == "Not a real date."
    assert isinstance(parse_date("20150304", day_first=False), str)


def test_whole_numbers_accept_a_zero_fraction_only():
    assert [parse_whole_number(t) for t in ["14", "14.0", "14.", "0", "14.5", "1e3", "-1", ""]] == [
        14,
        14,
        14,
        0,
        None,
        None,
        None,
        None,
    ]


@pytest.mark.hazard("HAZ-11.C12")
def test_it_refuses_future_and_pre_1900_dates_through_the_plausibility_rules():
    text = HEADER + row(A, 0, "2026-06-02") + row(A, 12, "1899-12-31") + row(A, 24, "2026-06-01")
    rows, problems = read_rows(parse_file(text.encode()), day_first=False, now=NOW)
    assert [(p.line, p.column) for p in problems] == [(2, "assessed_on"), (3, "assessed_on")]
    assert "future" in problems[0].message and "1900" in problems[1].message
    assert [r.line for r in rows] == [4]  # today is fine


def test_the_follow_up_windows():
    baseline = date(2015, 3, 1)
    assert rules.assessment_window(baseline_on=baseline, timepoint_months=12) == (
        date(2015, 12, 1),
        date(2016, 6, 1),
    )
    assert rules.assessment_window(baseline_on=baseline, timepoint_months=60) == (
        date(2019, 9, 1),
        date(2020, 9, 1),
    )

    def timing(on, months):
        return rules.assessment_timing_error(
            assessed_on=on, baseline_on=baseline, timepoint_months=months
        )

    assert timing(date(2015, 12, 1), 12) is None and timing(date(2016, 6, 1), 12) is None
    assert "3 months" in timing(date(2015, 11, 30), 12)
    assert "3 months" in timing(date(2016, 6, 2), 12)
    assert "before the person's baseline" in timing(date(2015, 2, 28), 12)
    assert timing(date(2019, 9, 1), 60) is None and "6 months" in timing(date(2019, 8, 31), 60)
    assert timing(date(1990, 1, 1), 0) is None
    windows = sorted(
        rules.assessment_window(baseline_on=baseline, timepoint_months=m)
        for m in rules.ASSESSMENT_WINDOW_MONTHS
    )
    assert all(a[1] < b[0] for a, b in zip(windows, windows[1:], strict=False))  # no overlap


def test_the_import_choices_are_the_models():
    assert rules.SYMPTOM_LEVELS == tuple(OutcomeAssessment.SymptomLevel.values)
    assert rules.TRIAL_ARMS == tuple(ServiceUser.TrialArm.values)


def test_the_template_and_the_dictionary_come_from_the_one_column_definition():
    assert next(csv.reader(io.StringIO(reports.template_csv()))) == list(rules.IMPORT_COLUMN_NAMES)
    table = list(csv.reader(io.StringIO(reports.dictionary_csv())))
    assert tuple(table[0]) == reports.DICTIONARY_HEADER
    assert [r[0] for r in table[1:]] == list(rules.IMPORT_COLUMN_NAMES)
    assert all(r[1] and r[2] and r[3] in ("required", "optional") and r[4] for r in table[1:])
    assert {r[0] for r in table[1:] if r[3] == "required"} == set(rules.IMPORT_REQUIRED_COLUMNS)
    # and the template is an import file the parser takes, header only
    parsed = parse_file(reports.template_csv().encode())
    assert set(parsed.columns) == set(rules.IMPORT_COLUMN_NAMES)
