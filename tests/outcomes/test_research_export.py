"""The research export: pseudonymised, stable, complete, logged, and for managers only."""

import csv
import io
import re
from datetime import date
from decimal import Decimal

import pytest
from django.test import override_settings
from django.urls import reverse

from outcomes import research
from outcomes.models import LicensedMeasure, OutcomeAssessment, ScoredMeasure
from pod.foundation.audit_models import RecordAccess
from tests import factories as f

URL = reverse("outcomes:research_export")
KEY = "test-research-key-0123456789abcdef0123456789"
keyed = override_settings(POD_RESEARCH_ID_KEY=KEY)


def _assess(person, months, on, **kw):
    return OutcomeAssessment.objects.create(
        service_user=person,
        timepoint_months=months,
        assessed_on=on,
        **{
            "symptom_level": "mild",
            "relapse": False,
            "hospital_bed_days": 3,
            "disability_benefit": False,
            "neuroleptic_use": True,
            "work_or_study": False,
            **kw,
        },
    )


@pytest.fixture
def people(team, other_team):
    ada = f.make_service_user(
        team,
        trial_arm="POD",
        given_name="Adaeze",
        family_name="Okonkwo-Lindqvist",
        preferred_name="Ada",
        date_of_birth=date(1987, 11, 23),
        postcode="NE1 4XF",
    )
    _assess(ada, 0, date(2024, 3, 1))
    _assess(ada, 12, date(2025, 3, 3), relapse=True, relapse_on=date(2024, 10, 8))
    ScoredMeasure.objects.create(
        service_user=ada,
        instrument="PHQ9",
        completed_on=date(2024, 2, 20),  # 10 days before the baseline assessment
        item_scores=[1, 2, 0, 1, 3, 0, 1, 2, 0],
        total=10,
        band="moderate",
    )
    ScoredMeasure.objects.create(
        service_user=ada,
        instrument="DIALOG",
        completed_on=date(2025, 3, 10),
        item_scores=[4, 5, 3, 6, 2, 7, 4, 5, 6, 5, 6],
        life_domains_mean=Decimal("4.50"),
        treatment_mean=Decimal("5.67"),
    )
    ScoredMeasure.objects.create(  # too far from any assessment: not in the file
        service_user=ada,
        instrument="GAD7",
        completed_on=date(2024, 7, 1),
        item_scores=[0] * 7,
        total=0,
        band="minimal",
    )
    LicensedMeasure.objects.create(
        service_user=ada, name="WEMWBS", completed_on=date(2025, 3, 1), score=Decimal("44")
    )
    bo = f.make_service_user(team, trial_arm="TAU", given_name="Bo", family_name="Quillfeather")
    _assess(bo, 12, date(2025, 1, 5))  # no baseline
    outside = f.make_service_user(team, given_name="Cy")  # not in the trial
    _assess(outside, 0, date(2024, 3, 1))
    stranger = f.make_service_user(other_team, trial_arm="POD", given_name="Dee")
    _assess(stranger, 0, date(2024, 3, 1))
    return ada, bo, outside, stranger


def _download(client, **choice):
    response = client.post(URL, choice)
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("text/csv")
    return response.content.decode()


def _rows(text):
    return list(csv.DictReader(io.StringIO(text)))


@keyed
@pytest.mark.hazard("HAZ-06.C11")
def test_the_file_carries_no_nhs_number_name_date_of_birth_or_date(client, manager, people):
    client.force_login(manager)
    text = _download(client)
    for person in people:
        assert person.nhs_number not in text
        for name in (person.given_name, person.family_name, person.preferred_name):
            if name:
                assert name not in text
    assert "NE1 4XF" not in text
    for birth in ("1987-11-23", "23/11/1987", "1987", "23-11-1987"):
        assert birth not in text
    assert not re.search(r"\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{2,4}", text)  # no date at all
    assert str(people[0].pk) not in {r["study_id"] for r in _rows(text)}


@keyed
@pytest.mark.hazard("HAZ-11.C10")
def test_one_row_per_person_and_time_point_with_days_from_baseline(client, manager, people):
    ada, bo, _outside, _stranger = people
    client.force_login(manager)
    rows = _rows(_download(client))
    ada_id = research.study_id(ada.pk, key=KEY)
    assert sorted((r["study_id"] == ada_id, r["timepoint_months"]) for r in rows) == [
        (False, "12"),  # Bo's 12-month assessment
        (True, "0"),
        (True, "12"),
    ]
    baseline, year = sorted(
        (r for r in rows if r["study_id"] == ada_id), key=lambda r: int(r["timepoint_months"])
    )
    assert (baseline["trial_arm"], baseline["assessment_day"], baseline["baseline_recorded"]) == (
        "POD",
        "0",
        "1",
    )
    # 1 March 2024 to 3 March 2025 is 367 days (2024 is a leap year); the relapse on 8 October
    # 2024 is day 221.
    assert (year["assessment_day"], year["relapse"], year["relapse_date_known"]) == (
        "367",
        "1",
        "1",
    )
    assert year["relapse_day"] == "221"
    assert (baseline["phq9_day"], baseline["phq9_total"], baseline["phq9_band"]) == (
        "-10",
        "10",
        "moderate",
    )
    assert [baseline[f"phq9_item_{i}"] for i in range(1, 10)] == [
        "1",
        "2",
        "0",
        "1",
        "3",
        "0",
        "1",
        "2",
        "0",
    ]
    assert (year["dialog_day"], year["dialog_life_domains_mean"], year["dialog_item_11"]) == (
        "374",
        "4.50",
        "6",
    )
    assert (year["wemwbs_day"], year["wemwbs_score"]) == ("365", "44.00")
    assert baseline["gad7_day"] == "" and year["gad7_total"] == ""  # not within 30 days
    assert (year["neuroleptic_use"], year["hospital_bed_days"]) == ("1", "3")
    bo_row = next(r for r in rows if r["study_id"] != ada_id)
    assert (bo_row["baseline_recorded"], bo_row["assessment_day"], bo_row["trial_arm"]) == (
        "0",
        "",
        "TAU",
    )


@keyed
@pytest.mark.hazard("HAZ-11.C10")
def test_study_ids_are_stable_across_exports_and_depend_on_the_key(client, manager, people):
    client.force_login(manager)
    first = {r["study_id"] for r in _rows(_download(client))}
    again = {r["study_id"] for r in _rows(_download(client))}
    assert first == again and len(first) == 2
    assert all(re.fullmatch(r"P[0-9A-F]{16}", i) for i in first)
    with override_settings(POD_RESEARCH_ID_KEY="another-research-key-0123456789abcdef0123"):
        assert {r["study_id"] for r in _rows(_download(client))}.isdisjoint(first)


@keyed
def test_a_team_or_a_trust_can_be_chosen_but_not_another_managers(
    client, manager, team, other_team, people
):
    client.force_login(manager)
    assert len(_rows(_download(client, team=team.pk))) == 3
    assert len(_rows(_download(client, trust=team.trust_id))) == 3
    assert client.post(URL, {"team": other_team.pk}).status_code == 403
    assert client.post(URL, {"trust": other_team.trust_id}).status_code == 403


@keyed
@pytest.mark.hazard("HAZ-06.C11")
def test_every_export_is_logged_per_person_without_personal_data(client, manager, people):
    ada, bo, outside, stranger = people
    client.force_login(manager)
    _download(client)
    logged = RecordAccess.objects.filter(what="research_export")
    assert sorted(logged.values_list("service_user_id", flat=True)) == sorted([ada.pk, bo.pk])
    assert {(a.user_id, a.view_name) for a in logged} == {(manager.pk, "outcomes:research_export")}


@keyed
@pytest.mark.parametrize(
    "who", ["clinician", "prescriber", "peer_worker", "admin_user", "outsider"]
)
def test_only_service_managers_may_export(client, request, who, people):
    client.force_login(request.getfixturevalue(who))
    assert client.post(URL).status_code == 403
    assert client.get(reverse("outcomes:research_dictionary")).status_code == 403
    assert not RecordAccess.objects.filter(what="research_export").exists()


def test_without_a_key_the_export_is_refused_and_says_why(client, manager, people):
    client.force_login(manager)
    page = client.get(URL)
    assert page.status_code == 200 and b"POD_RESEARCH_ID_KEY" in page.content
    refused = client.post(URL)
    assert refused.status_code == 503 and not refused["Content-Type"].startswith("text/csv")
    assert not RecordAccess.objects.filter(what="research_export").exists()


def test_the_dictionary_describes_every_column_of_the_file(client, manager):
    client.force_login(manager)
    response = client.get(reverse("outcomes:research_dictionary"))
    dictionary = list(csv.reader(io.StringIO(response.content.decode())))
    assert dictionary[0] == list(research.DICTIONARY_HEADERS)
    header = research.to_csv([]).strip().split(",")
    assert [row[0] for row in dictionary[1:]] == header
    assert all(row[4] for row in dictionary[1:])  # every column described
    assert "phq9_item_9" in header and "reqol20_score" in header and "dialog_item_11" in header
