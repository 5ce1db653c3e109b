"""Build a believable demo service in seconds. Safe to re-run: it does nothing twice.

The demo logins (password `pod-demo-2026`) exist only here, never in migrations.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from meetings.alerts import alerts_deliver_pending
from meetings.services.episodes import episode_close, episode_open
from meetings.services.meetings import meeting_record_held, meeting_schedule
from meetings.services.prescriptions import prescription_create
from meetings.sweeps import first_meeting_sweep, prescriptions_audit
from networks.models import NetworkMember, PeerAssignment, PeerContact, ServiceUser
from networks.rules import nhs_number_check_digit
from outcomes.models import OutcomeAssessment
from pod.demo import DEMO_LOGINS, DEMO_PASSWORD
from pod.foundation.models import Team, TeamMembership, TrainingRecord, Trust, User
from pod.foundation.twofactor import demo_devices_create

TRUSTS = [
    ("North East London NHS Foundation Trust", "RAT"),
    ("Nottinghamshire Healthcare NHS Foundation Trust", "RHA"),
    ("Essex Partnership University NHS Foundation Trust", "R1L"),
    ("Kent and Medway NHS and Social Care Partnership Trust", "RXY"),
]
GIVEN = [
    "Jordan",
    "Sam",
    "Alex",
    "Jamie",
    "Taylor",
    "Robin",
    "Casey",
    "Morgan",
    "Riley",
    "Avery",
    "Kai",
    "Noor",
    "Ife",
    "Tomasz",
    "Aisha",
    "Declan",
    "Mei",
    "Olu",
    "Hana",
    "Lewis",
]
FAMILY = [
    "Rivers",
    "Khan",
    "Nowak",
    "Adeyemi",
    "Murphy",
    "Patel",
    "Evans",
    "Chen",
    "Hughes",
    "Begum",
    "Walsh",
    "Osei",
    "Kowalski",
    "Ali",
    "Brown",
    "Davies",
]
MEMBERS = [
    ("family", "mother", 1),
    ("family", "older brother", 2),
    ("partner", "partner", 1),
    ("friend", "school friend", 2),
    ("neighbour", "neighbour at no. 4", 3),
    ("carer", "grandmother (carer)", 1),
    ("peer", "friend from the hearing voices group", 2),
    ("professional", "GP", 3),
    ("friend", "flatmate", 2),
    ("family", "aunt", 3),
]


def _nhs_number(n: int) -> str:
    while True:
        first_nine = f"{n:09d}"
        check = nhs_number_check_digit(first_nine)
        if check is not None:
            return first_nine + str(check)
        n += 1


class Command(BaseCommand):
    help = "Load demo data: four trusts, teams, staff of every role, people, episodes, outcomes."

    def handle(self, *args, **options):
        if User.objects.filter(username="clinician").exists():
            self._demo_authenticators()
            self.stdout.write("Demo data already loaded; nothing to do.")
            return
        self.rng = random.Random(2015)
        self.now = timezone.now().replace(second=0, microsecond=0)
        # Hash once: one deliberate slow hash per user would take most of a minute.
        self.password_hash = make_password(DEMO_PASSWORD)
        with transaction.atomic():
            self._organisation()
            self._people_and_episodes()
            self._outcomes()
        self._demo_authenticators()
        # The sweeps raise the alerts a running service would have raised by now.
        first_meeting_sweep(now=self.now)
        prescriptions_audit(now=self.now)
        alerts_deliver_pending(now=self.now)
        self.stdout.write(self.style.SUCCESS("Demo data loaded."))

    def _demo_authenticators(self):
        """Second factor for the demo: every user gets an authenticator whose code the sign-in
        page shows while DEBUG is on (pod.foundation.twofactor). Never outside DEBUG."""
        if settings.DEBUG:
            demo_devices_create()

    # --- organisation ------------------------------------------------------------------------
    def _user(self, username, role, first, last, profession, team, *, pod_trained=False):
        user = User.objects.create(
            username=username,
            password=self.password_hash,
            first_name=first,
            last_name=last,
            email=f"{username}@demo.pod.invalid",
            role=role,
            profession=profession,
            is_staff=role == User.Role.ADMINISTRATOR,
            is_superuser=role == User.Role.ADMINISTRATOR,
        )
        TeamMembership.objects.create(user=user, team=team, joined_on=date(2015, 1, 5))
        if pod_trained:
            TrainingRecord.objects.create(
                user=user, course="POD", started_on=date(2015, 1, 12), completed_on=date(2016, 1, 8)
            )
        if role in (User.Role.PEER_WORKER, User.Role.PEER_VOLUNTEER) or pod_trained:
            TrainingRecord.objects.create(
                user=user, course="IPS", started_on=date(2015, 2, 2), completed_on=date(2015, 3, 27)
            )
        return user

    def _organisation(self):
        self.teams = []
        for name, code in TRUSTS:
            trust = Trust.objects.create(name=name, code=code)
            short = name.split(" NHS")[0].replace(" and Social Care Partnership", "")
            for kind, label in (
                ("EIP", "Early Intervention in Psychosis"),
                ("CRT", "Crisis Resolution"),
            ):
                self.teams.append(
                    Team.objects.create(trust=trust, name=f"{short} {label}", kind=kind)
                )
        self.team = self.teams[1]  # North East London Crisis Resolution: the demo logins' team
        self.demo = {
            username: self._user(
                username,
                role,
                first,
                last,
                prof,
                self.team,
                pod_trained=role in (User.Role.CLINICIAN, User.Role.PRESCRIBER),
            )
            for username, role, first, last, prof in DEMO_LOGINS
        }
        professions = ["Social worker", "Psychologist", "Occupational therapist", "Nurse"]
        self.staff = {}
        for t_index, team in enumerate(self.teams):
            staff = []
            for i in range(4):
                staff.append(
                    self._user(
                        f"staff{t_index}{i}",
                        User.Role.CLINICIAN,
                        GIVEN[(t_index + i) % 20],
                        FAMILY[(t_index * 3 + i) % 16],
                        professions[i],
                        team,
                        pod_trained=i % 2 == 0,
                    )
                )
            staff.append(
                self._user(
                    f"doctor{t_index}",
                    User.Role.PRESCRIBER,
                    "Dr Sam",
                    FAMILY[t_index % 16],
                    "Psychiatrist",
                    team,
                    pod_trained=True,
                )
            )
            self._user(
                f"peer{t_index}",
                User.Role.PEER_WORKER,
                "Jo",
                FAMILY[(t_index + 5) % 16],
                "Peer support worker",
                team,
            )
            for v in range(4):
                self._user(
                    f"volunteer{t_index}{v}",
                    User.Role.PEER_VOLUNTEER,
                    GIVEN[(v + 7) % 20],
                    FAMILY[(t_index + v + 9) % 16],
                    "Peer volunteer",
                    team,
                )
            self._user(
                f"manager{t_index}",
                User.Role.SERVICE_MANAGER,
                "Lee",
                FAMILY[t_index % 16],
                "Service manager",
                team,
            )
            self.staff[team.pk] = staff

    # --- people, networks and episodes -------------------------------------------------------
    def _person(self, index, team, arm="POD", members=3):
        person = ServiceUser.objects.create(
            nhs_number=_nhs_number(490_000_000 + index * 37),
            given_name=GIVEN[index % 20],
            family_name=FAMILY[(index * 7) % 16],
            date_of_birth=date(1975 + index % 30, 1 + index % 12, 1 + index % 27),
            phone=f"07700 900{index % 1000:03d}",
            team=team,
            trial_arm=arm,
            postcode=["E1 6AN", "NG1 5FS", "CO1 1XD", "ME14 1XX"][index % 4],
        )
        for m in range(members):
            category, relationship, closeness = MEMBERS[(index + m) % len(MEMBERS)]
            consent = m % 3 != 2
            # Every third member answered no to being contacted in half the people (issue 13:
            # a refusal is shown apart from "not yet asked"); the rest were not yet asked.
            contact = "agreed" if consent else ("refused" if index % 2 == 0 else "not_asked")
            information = (
                "agreed" if consent and m % 2 == 0 else ("refused" if consent else "not_asked")
            )
            stamped = self.now - timedelta(days=1)
            NetworkMember.objects.create(
                service_user=person,
                name=f"{GIVEN[(index + m + 3) % 20]} {person.family_name}"
                if category == "family"
                else f"{GIVEN[(index + m + 3) % 20]} {FAMILY[(m + 2) % 16]}",
                category=category,
                relationship=relationship,
                closeness=closeness,
                phone=f"07700 901{(index * 10 + m) % 1000:03d}",
                email=f"member{index}-{m}@demo.pod.invalid" if consent else "",
                contact_consent=contact,
                consent_recorded_at=stamped if contact != "not_asked" else None,
                consent_recorded_by=self.demo["clinician"] if contact != "not_asked" else None,
                information_consent=information,
                information_consent_recorded_at=stamped if information != "not_asked" else None,
                information_consent_recorded_by=(
                    self.demo["clinician"] if information != "not_asked" else None
                ),
                person_wants_invited=m != 4,
                not_invited_reason=""
                if m != 4
                else "Does not want them to know about the crisis yet",
                added_by=self.demo["clinician"],
            )
        return person

    def _hold(self, episode, staff, start):
        meeting = meeting_schedule(
            episode=episode,
            scheduled_start=start,
            scheduled_end=start + timedelta(minutes=90),
            location=self.rng.choice(["home", "home", "team_base", "community", "video"]),
            staff=staff,
            created_by=staff[0],
            now=start - timedelta(hours=2),
        )
        # Staff and the person always come (so each demo meeting is a network meeting for
        # the medication rule, meetings.medication_rules); network members mostly do.
        attended = {
            p.pk: (p.invited and self.rng.random() > 0.2) or p.kind in ("staff", "service_user")
            for p in meeting.participants.all()
        }
        return meeting_record_held(
            meeting=meeting,
            actual_start=start,
            actual_end=start + timedelta(minutes=80),
            attended=attended,
            recorded_by=staff[0],
            now=max(start + timedelta(hours=2), self.now),
        )

    def _people_and_episodes(self):
        now = self.now
        core = [self.demo["clinician"], self.staff[self.team.pk][0]]
        prescriber = self.demo["prescriber"]
        # (hours since referral, meetings held, network size) for the demo team
        stories = [
            (1, 0, 4),  # clock running, just referred
            (6, 0, 2),  # clock running, nothing arranged: `unscheduled`
            (21, 0, 5),  # about to breach
            (30, 0, 3),  # breached
            (40, 1, 6),  # first meeting held in time, 1 meeting
            (24 * 4, 2, 1),  # two meetings: prescription refused -> override below
            (24 * 10, 3, 7),  # three meetings: prescription allowed
            (24 * 20, 6, 8),
            (24 * 90, 10, 5),  # to be closed
        ]
        index = 0
        for hours, held, size in stories:
            index += 1
            person = self._person(index, self.team, members=size)
            referral = now - timedelta(hours=hours)
            episode = episode_open(
                service_user=person,
                team=self.team,
                referral_received_at=referral,
                referral_source=self.rng.choice(["gp", "family", "ae", "self"]),
                triage_category=self.rng.choice("BCC"),
                reason="Not sleeping, hearing voices; family worried.",
                core_team=core,
                created_by=core[0],
                now=referral,
            )
            start = referral + timedelta(hours=self.rng.randint(6, 20))
            for n in range(held):
                self._hold(
                    episode,
                    core + [self.rng.choice(self.staff[self.team.pk][1:])],
                    start + timedelta(days=n),
                )
            if hours == 21:
                # scheduled, but after the due time: the clock is at risk
                due = episode.first_meeting_due_at
                meeting_schedule(
                    episode=episode,
                    scheduled_start=due + timedelta(hours=3),
                    scheduled_end=due + timedelta(hours=4),
                    location="home",
                    staff=core,
                    created_by=core[0],
                    now=now,
                )
            if hours == 40:
                tomorrow = now + timedelta(days=1)
                meeting_schedule(
                    episode=episode,
                    scheduled_start=tomorrow,
                    scheduled_end=tomorrow + timedelta(hours=1),
                    location="home",
                    staff=core,
                    created_by=core[0],
                    now=now,
                )
            if held == 2:
                prescription_create(
                    episode=episode,
                    medicine="Promethazine",
                    dose="25 mg",
                    is_antipsychotic=False,
                    prescriber=prescriber,
                    prescribed_at=now - timedelta(hours=2),
                    override_reason="rapid_response",
                    override_explanation="Not slept for five nights; "
                    "exhausted and at risk of physical harm. Agreed with the person and mother.",
                    now=now,
                )
            if held >= 3:
                prescription_create(
                    episode=episode,
                    medicine="Aripiprazole",
                    dose="5 mg once daily",
                    is_antipsychotic=True,
                    prescriber=prescriber,
                    prescribed_at=start + timedelta(days=held - 1, hours=2),
                    now=now,
                )
            if hours == 24 * 90:
                episode_close(
                    episode=episode,
                    outcome="Network meetings ended by agreement; back at college.",
                    closed_at=now - timedelta(days=7),
                    now=now,
                )
            if index <= 4:
                for peer in (self.demo["peerworker"], self.demo["volunteer"]):
                    PeerAssignment.objects.create(
                        service_user=person, peer=peer, assigned_by=core[0], assigned_at=referral
                    )
                contact = PeerContact.objects.create(
                    service_user=person,
                    peer=self.demo["volunteer"],
                    with_service_user=True,
                    contact_at=now - timedelta(hours=1),
                    mode="phone",
                    duration_minutes=15,
                    purpose="network_building",
                    note="Talked about who else could come.",
                )
                contact.members.set(person.network_members.all()[:1])
        # Other teams: a handful of episodes each, so dashboards have something to compare.
        for team in self.teams:
            if team == self.team:
                continue
            staff = self.staff[team.pk]
            for _ in range(3):
                index += 1
                person = self._person(index, team, members=self.rng.randint(1, 6))
                referral = now - timedelta(
                    days=self.rng.randint(3, 60), hours=self.rng.randint(0, 23)
                )
                episode = episode_open(
                    service_user=person,
                    team=team,
                    referral_received_at=referral,
                    referral_source="gp",
                    triage_category="C",
                    reason="Crisis referral",
                    core_team=staff[:2],
                    created_by=staff[0],
                    now=referral,
                )
                first = referral + timedelta(hours=self.rng.choice([8, 15, 22, 30]))
                for n in range(self.rng.randint(1, 5)):
                    self._hold(episode, staff[:2], first + timedelta(days=n))
        self.index = index

    def _symptom_level(self, months, good):
        if months == 0:
            return self.rng.choice(["moderate", "severe"])
        return self.rng.choice(["none", "mild"] if good else ["mild", "moderate", "severe"])

    def _outcomes(self):
        for i in range(40):
            arm = "POD" if i % 2 == 0 else "TAU"
            person = self._person(
                self.index + 1 + i, self.teams[i % len(self.teams)], arm, members=2
            )
            good = self.rng.random() < (0.8 if arm == "POD" else 0.5)
            for months in (0, 12, 24):
                OutcomeAssessment.objects.create(
                    service_user=person,
                    timepoint_months=months,
                    assessed_on=date(2016, 1, 1) + timedelta(days=30 * months + i),
                    symptom_level=self._symptom_level(months, good),
                    relapse=months > 0 and self.rng.random() < (0.24 if arm == "POD" else 0.71),
                    hospital_bed_days=self.rng.randint(0, 19 if arm == "POD" else 60),
                    disability_benefit=self.rng.random() < (0.23 if arm == "POD" else 0.57),
                    neuroleptic_use=self.rng.random() < (0.35 if arm == "POD" else 1.0),
                    work_or_study=months > 0
                    and self.rng.random() < (0.74 if arm == "POD" else 0.4),
                )
