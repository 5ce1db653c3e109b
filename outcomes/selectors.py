"""Reads for outcomes' own pages: which teams and meetings a user may open, and the
outcome assessments due. The dashboards' sections are in outcomes/dashboard/."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import TypedDict

from django.core.exceptions import PermissionDenied
from django.db.models import DateTimeField, Exists, Min, OuterRef, QuerySet, Subquery
from django.http import Http404

from meetings.models import Episode, Meeting, Participant
from networks.models import ServiceUser
from outcomes import rules
from outcomes.models import LicensedMeasure, OutcomeAssessment, OutcomeImport, ScoredMeasure
from outcomes.research import AssessmentRecord, MeasureRecord
from outcomes.survival import ARMS, AssessmentFact
from pod.foundation.access import teams_for
from pod.foundation.localtime import LONDON
from pod.foundation.models import Team, User

# --- What a user may open ----------------------------------------------------------------------


def teams_visible_to(user: User) -> QuerySet[Team]:
    """The teams whose dashboards a user may see: administrators every team, service managers
    the teams they belong to, anyone else none."""
    if user.role == User.Role.ADMINISTRATOR:
        return Team.objects.select_related("trust").all()
    if user.role == User.Role.SERVICE_MANAGER:
        return Team.objects.select_related("trust").filter(memberships__user=user)
    return Team.objects.none()


def get_team_for_user(user: User, team_id: int) -> Team:
    """A team's outcome pages (fidelity profile, follow-up list): administrators any team,
    clinical staff and service managers their own teams (Http404 for another), anyone else
    PermissionDenied."""
    if user.role == User.Role.ADMINISTRATOR:
        team = Team.objects.select_related("trust").filter(pk=team_id).first()
    elif user.is_clinical or user.role == User.Role.SERVICE_MANAGER:
        team = teams_for(user).select_related("trust").filter(pk=team_id).first()
    else:
        raise PermissionDenied("Your role cannot open this page.")
    if team is None:
        raise Http404("No such team")
    return team


def get_meeting_for_rater(user: User, meeting_id: int) -> Meeting:
    """A meeting the user was present at as staff, so may rate for fidelity; Http404 for any
    other (a meeting the user cannot rate does not exist, as far as they can tell)."""
    meeting = (
        Meeting.objects.filter(
            pk=meeting_id,
            participants__kind=Participant.Kind.STAFF,
            participants__staff=user,
            participants__attended=True,
        )
        .select_related("episode__team")
        .first()
    )
    if meeting is None:
        raise Http404("No such meeting")
    return meeting


# --- The outcome import ------------------------------------------------------------------------

# Never read on a page: the file itself (up to 20 MB until imported) and the full report.
_IMPORT_HEAVY_FIELDS = ("file_content", "problems_csv")


def outcome_imports_for(user: User) -> QuerySet[OutcomeImport]:
    """The import history a user may see: the imports into the teams whose dashboards they see
    (teams_visible_to), newest first (the id breaking ties), without the files. Page it
    (pod/foundation/paging.py)."""
    return (
        OutcomeImport.objects.filter(team__in=teams_visible_to(user))
        .select_related("team", "uploaded_by", "imported_by")
        .defer(*_IMPORT_HEAVY_FIELDS, "preview")
        .order_by("-created_at", "-id")
    )


def outcome_import_openable(user: User, job: OutcomeImport) -> bool:
    """May `user` open this import's preview, problem report and "Import"? Its uploader, and
    administrators. What a preview says was worked out within its uploader's teams ("on record
    in another of your teams", names on record side by side): another manager of the team, who
    may belong to fewer teams, sees the import in the history but not its details."""
    return user.role == User.Role.ADMINISTRATOR or job.uploaded_by_id == user.pk


def get_outcome_import_for_user(
    user: User, job_id: int, *, with_report: bool = False
) -> OutcomeImport:
    """An import the user may open (outcome_import_openable) into one of their teams
    (teams_visible_to); Http404 for any other."""
    jobs = OutcomeImport.objects.filter(pk=job_id, team__in=teams_visible_to(user))
    job = (
        jobs.select_related("team", "uploaded_by", "imported_by")
        .defer(*(f for f in _IMPORT_HEAVY_FIELDS if not (with_report and f == "problems_csv")))
        .first()
    )
    if job is None or not outcome_import_openable(user, job):
        raise Http404("No such import")
    return job


# --- Follow-up of outcome assessments ----------------------------------------------------------


class FollowUpRow(TypedDict):
    """An outcome assessment due or overdue for one person at one time point."""

    id: int  # the person's
    given_name: str
    preferred_name: str
    family_name: str
    nhs_number: str
    first_referral: datetime
    timepoint_months: int
    timepoint_label: str  # rules.timepoint_label
    due_on: date
    status: str  # "due" or "overdue" (rules.assessment_status)


def first_assessment_on(team_ids: Sequence[int]) -> date | None:
    """The date of the earliest outcome assessment of the people of these teams (None: no
    assessment): where the dashboard's outcomes page starts its default period. One query."""
    first: date | None = OutcomeAssessment.objects.filter(
        service_user__team_id__in=team_ids
    ).aggregate(first=Min("assessed_on"))["first"]
    return first


def assessments_follow_up(team: Team, *, today: date) -> list[FollowUpRow]:
    """People of a team with an outcome assessment due or overdue, at each of
    rules.OUTCOME_TIMEPOINTS from the London date of their first referral: overdue first, then
    by due date. One query; the status rule is rules.assessment_status."""
    done = {
        f"done_{months}": Exists(
            OutcomeAssessment.objects.filter(service_user=OuterRef("pk"), timepoint_months=months)
        )
        for months in rules.OUTCOME_TIMEPOINTS
    }
    first = (
        Episode.objects.filter(service_user=OuterRef("pk"))
        .order_by("referral_received_at")
        .values("referral_received_at")[:1]
    )
    people = (
        ServiceUser.objects.filter(team=team)
        .annotate(first_referral=Subquery(first, output_field=DateTimeField()), **done)
        .filter(first_referral__isnull=False)
        .values(
            "id",
            "given_name",
            "preferred_name",
            "family_name",
            "nhs_number",
            "first_referral",
            *done,
        )
        .order_by("family_name", "given_name", "id")
    )
    rows = []
    for person in people:
        referral_on = person["first_referral"].astimezone(LONDON).date()
        for months in rules.OUTCOME_TIMEPOINTS:
            due_on = rules.assessment_due_on(referral_on=referral_on, timepoint_months=months)
            status = rules.assessment_status(
                due_on=due_on, today=today, done=person[f"done_{months}"]
            )
            if status in ("due", "overdue"):
                rows.append(
                    FollowUpRow(
                        id=person["id"],
                        given_name=person["given_name"],
                        preferred_name=person["preferred_name"],
                        family_name=person["family_name"],
                        nhs_number=person["nhs_number"],
                        first_referral=person["first_referral"],
                        timepoint_months=months,
                        timepoint_label=rules.timepoint_label(months),
                        due_on=due_on,
                        status=status,
                    )
                )
    # Stable: ties keep the query's order (name, then id), so paging never shows a row twice.
    rows.sort(key=lambda r: (r["status"] != "overdue", r["due_on"]))
    return rows


# --- Time to relapse -----------------------------------------------------------------------------


def relapse_facts(team_ids: Sequence[int]) -> list[AssessmentFact]:
    """Every outcome assessment of the teams' people who are in a trial arm, as time to relapse
    needs it (outcomes.survival.relapse_times): no names, no NHS numbers. One query."""
    found = (
        OutcomeAssessment.objects.filter(
            service_user__team_id__in=team_ids, service_user__trial_arm__in=ARMS
        )
        .values_list(
            "service_user_id",
            "service_user__trial_arm",
            "timepoint_months",
            "assessed_on",
            "relapse",
            "relapse_on",
        )
        .order_by("service_user_id", "timepoint_months")
    )
    return [AssessmentFact(*row) for row in found]


# --- The research export -------------------------------------------------------------------------


def research_records(
    team_ids: Sequence[int],
) -> tuple[list[AssessmentRecord], list[MeasureRecord]]:
    """The outcome assessments of the teams' people who are in a trial arm, and those people's
    scored and licensed measures, as outcomes.research exports them: no names, NHS numbers,
    dates of birth or free text are read. Three queries."""
    people = {"service_user__team_id__in": team_ids, "service_user__trial_arm__in": ARMS}
    assessments = [
        AssessmentRecord(*row)
        for row in OutcomeAssessment.objects.filter(**people)
        .values_list(
            "service_user_id",
            "service_user__team__trust__code",
            "service_user__team__name",
            "service_user__trial_arm",
            "timepoint_months",
            "assessed_on",
            "symptom_level",
            "relapse",
            "relapse_on",
            "hospital_bed_days",
            "disability_benefit",
            "neuroleptic_use",
            "work_or_study",
        )
        .order_by("service_user_id", "timepoint_months")
    ]
    scored = [
        MeasureRecord(
            person_id=row[0],
            name=row[1],
            completed_on=row[2],
            items=tuple(row[3]),
            total=row[4],
            band=row[5],
            life_domains_mean=row[6],
            treatment_mean=row[7],
        )
        for row in ScoredMeasure.objects.filter(**people).values_list(
            "service_user_id",
            "instrument",
            "completed_on",
            "item_scores",
            "total",
            "band",
            "life_domains_mean",
            "treatment_mean",
        )
    ]
    licensed = [
        MeasureRecord(person_id=row[0], name=row[1], completed_on=row[2], score=row[3])
        for row in LicensedMeasure.objects.filter(**people).values_list(
            "service_user_id", "name", "completed_on", "score"
        )
    ]
    return assessments, scored + licensed
