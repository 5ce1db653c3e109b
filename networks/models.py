"""The person and their social network: service users, network members, peer work."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import Func, Q, Value
from django.db.models.functions import Concat, Now

from networks.validators import validate_nhs_number


class Fold(Func):
    """`pod_fold(text)`: lower case, accents removed (PostgreSQL `unaccent`), apostrophes of any
    style dropped and hyphens made spaces, so "O’Brien", "O'Brien" and "obrien", or "Siobhán"
    and "Siobhan", compare equal. An IMMUTABLE SQL function created by networks' migration
    0008 (it wraps `unaccent` with its dictionary named, which is what lets an index use it)."""

    function = "pod_fold"
    output_field = models.TextField()


class ServiceUser(models.Model):
    class TrialArm(models.TextChoices):
        POD = "POD", "Peer-supported Open Dialogue"
        TAU = "TAU", "Treatment as usual"

    nhs_number = models.CharField(
        "NHS number", max_length=10, unique=True, validators=[validate_nhs_number]
    )
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    preferred_name = models.CharField(max_length=100, blank=True)
    # Unknown only for people created from imported trial data; the referral form requires it.
    date_of_birth = models.DateField(null=True, blank=True)
    phone = models.CharField(max_length=30, blank=True)
    email = models.EmailField(blank=True)
    address = models.TextField(blank=True)
    postcode = models.CharField(max_length=10, blank=True)
    team = models.ForeignKey("pod.Team", on_delete=models.PROTECT, related_name="service_users")
    trial_arm = models.CharField(max_length=3, choices=TrialArm.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The names as the person search compares them (networks.selectors.people_search), kept by
    # PostgreSQL itself and indexed for trigram similarity (pg_trgm).
    search_name = models.GeneratedField(
        expression=Fold(
            Concat(
                "given_name",
                Value(" "),
                "preferred_name",
                Value(" "),
                "family_name",
                output_field=models.TextField(),
            )
        ),
        output_field=models.TextField(),
        db_persist=True,
        editable=False,
    )

    class Meta:
        ordering = ["family_name", "given_name"]
        indexes = [
            GinIndex(
                fields=["search_name"], opclasses=["gin_trgm_ops"], name="service_user_name_trgm"
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(nhs_number__regex=r"^[0-9]{10}$"),
                name="service_user_nhs_number_10_digits",
                violation_error_message="An NHS number is 10 digits.",
            ),
            # networks.rules.nhs_number_refusal, mirrored where no form can be bypassed.
            models.CheckConstraint(
                condition=~Q(nhs_number__in=[str(d) * 10 for d in range(10)])
                & ~Q(nhs_number__startswith="999"),
                name="service_user_nhs_number_not_placeholder_or_test",
                violation_error_message="A placeholder or test-range NHS number is not a person's.",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        first = self.preferred_name or self.given_name
        return f"{first} {self.family_name}"


# What a meeting records for a member who refused to be contacted (issue 13).
REFUSED_CONTACT_REASON = "Refused to be contacted by the team"


class Consent(models.TextChoices):
    """A network member's answer to one consent question (issue 13)."""

    NOT_ASKED = "not_asked", "Not yet asked"
    AGREED = "agreed", "Agreed"
    REFUSED = "refused", "Refused"


CONSENT_VALUES = [value for value, _ in Consent.choices]


class NetworkMember(models.Model):
    Consent = Consent

    class Category(models.TextChoices):
        FAMILY = "family", "Family"
        PARTNER = "partner", "Partner"
        FRIEND = "friend", "Friend"
        CARER = "carer", "Carer"
        NEIGHBOUR = "neighbour", "Neighbour"
        PEER = "peer", "Peer"
        PROFESSIONAL = "professional", "Professional"
        OTHER = "other", "Other"

    class Closeness(models.IntegerChoices):
        CLOSEST = 1, "Very close"
        CLOSE = 2, "Close"
        DISTANT = 3, "Less close"

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed (awaiting the person's consent)"
        ACTIVE = "active", "Active"
        ENDED = "ended", "Ended"

    service_user = models.ForeignKey(
        ServiceUser, on_delete=models.CASCADE, related_name="network_members"
    )
    name = models.CharField(max_length=200)
    category = models.CharField(max_length=20, choices=Category.choices)
    relationship = models.CharField(
        max_length=100, help_text="In the person's words: 'older sister', 'neighbour at no. 4'"
    )
    closeness = models.PositiveSmallIntegerField(choices=Closeness.choices, default=Closeness.CLOSE)
    phone = models.CharField(max_length=30, blank=True)
    email = models.EmailField(blank=True)
    address = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    # Each consent is an answer: not yet asked, agreed or refused (issue 13: "asked and said no"
    # is not "not yet asked"). Agreed and refused both carry when and who recorded them; the
    # database refuses either without (member_*_consent_is_attributed below).
    # Consent to be contacted by the team (and to receive invitations): only "agreed" allows it.
    contact_consent = models.CharField(
        "consent to be contacted",
        max_length=10,
        choices=Consent.choices,
        default=Consent.NOT_ASKED,
        db_default=Consent.NOT_ASKED,
    )
    consent_recorded_at = models.DateTimeField(null=True, blank=True)
    consent_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Consent to be given information about the person's care (a copy of the care plan, a meeting
    # summary). Separate from consent to contact: someone may agree to be invited yet not to be
    # told about the care, or the other way round. db_default keeps raw-SQL inserts valid.
    information_consent = models.CharField(
        "consent to receive information",
        max_length=10,
        choices=Consent.choices,
        default=Consent.NOT_ASKED,
        db_default=Consent.NOT_ASKED,
        help_text="May be given information about the person's care "
        "(e.g. a copy of the care plan or a meeting summary)",
    )
    information_consent_recorded_at = models.DateTimeField(null=True, blank=True)
    information_consent_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The person decides who is invited to meetings; a "no" is kept with its reason.
    person_wants_invited = models.BooleanField(default=True)
    not_invited_reason = models.TextField(blank=True)
    added_at = models.DateTimeField(auto_now_add=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    # When a member proposed by a peer joined the network (the person's consent was recorded).
    # NULL for members added directly, who joined when added. The network map's dated snapshots
    # (networks.network_map) depend on this: a proposal is not part of the network.
    joined_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["closeness", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(contact_consent__in=CONSENT_VALUES)
                & Q(information_consent__in=CONSENT_VALUES),
                name="member_consent_is_an_answer",
                violation_error_message="A consent is not yet asked, agreed or refused.",
            ),
            models.CheckConstraint(
                condition=Q(contact_consent=Consent.NOT_ASKED)
                | Q(consent_recorded_at__isnull=False, consent_recorded_by__isnull=False),
                name="member_contact_consent_is_attributed",
                violation_error_message="Consent must be recorded with its date and who took it.",
            ),
            models.CheckConstraint(
                condition=Q(information_consent=Consent.NOT_ASKED)
                | Q(
                    information_consent_recorded_at__isnull=False,
                    information_consent_recorded_by__isnull=False,
                ),
                name="member_information_consent_is_attributed",
                violation_error_message="Consent to receive information must be recorded with "
                "its date and who took it.",
            ),
            models.CheckConstraint(
                condition=Q(person_wants_invited=True) | ~Q(not_invited_reason=""),
                name="member_not_invited_has_reason",
                violation_error_message="Say why the person does not want them invited.",
            ),
            models.CheckConstraint(
                condition=Q(status="ended", ended_at__isnull=False)
                | (~Q(status="ended") & Q(ended_at__isnull=True)),
                name="member_ended_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.relationship})"

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def may_be_contacted(self) -> bool:
        """True only when the member agreed to be contacted and invited (not asked or refused:
        no invitation, no message)."""
        return self.contact_consent == Consent.AGREED

    @property
    def may_be_invited(self) -> bool:
        """False when the member is not to be invited to meetings: the person does not want
        them there, or they refused to be contacted (issue 13). Not yet asked may be invited
        (recorded, though no message is sent: `may_be_contacted`)."""
        return self.person_wants_invited and self.contact_consent != Consent.REFUSED

    @property
    def not_invited_because(self) -> str:
        """What a meeting records for a member who is not to be invited (`may_be_invited`
        False): the person's words, or REFUSED_CONTACT_REASON; at most 300 characters."""
        if not self.person_wants_invited:
            return self.not_invited_reason[:300]
        return REFUSED_CONTACT_REASON

    @property
    def may_be_informed(self) -> bool:
        """True only when the member agreed to receive information about the person's care."""
        return self.information_consent == Consent.AGREED


class PeerAssignment(models.Model):
    """A peer worker or volunteer assigned to a person by a clinician of the team."""

    service_user = models.ForeignKey(
        ServiceUser, on_delete=models.CASCADE, related_name="peer_assignments"
    )
    peer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="peer_assignments"
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    assigned_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["service_user", "peer"],
                condition=Q(ended_at__isnull=True),
                name="peer_assignment_one_open",
            )
        ]

    def __str__(self) -> str:
        return f"{self.peer} with {self.service_user}"


class PeerContact(models.Model):
    class Mode(models.TextChoices):
        PHONE = "phone", "Phone"
        VISIT = "visit", "Visit"
        TEXT = "text", "Text message"
        EMAIL = "email", "Email"
        VIDEO = "video", "Video"
        MEETING = "meeting", "In a network meeting"

    class Purpose(models.TextChoices):
        SUPPORT = "support", "Support"
        NETWORK_BUILDING = "network_building", "Network building"
        MEETING_INVITATION = "meeting_invitation", "Meeting invitation"
        PRACTICAL_HELP = "practical_help", "Practical help"

    service_user = models.ForeignKey(
        ServiceUser, on_delete=models.CASCADE, related_name="peer_contacts"
    )
    peer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="peer_contacts"
    )
    with_service_user = models.BooleanField("with the person themselves", default=False)
    members = models.ManyToManyField(NetworkMember, blank=True, related_name="peer_contacts")
    contact_at = models.DateTimeField()
    mode = models.CharField(max_length=10, choices=Mode.choices)
    duration_minutes = models.PositiveIntegerField()
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-contact_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=1) & Q(duration_minutes__lte=24 * 60),
                name="peer_contact_duration_range",
                violation_error_message="A contact lasts between 1 minute and 24 hours.",
            )
        ]
        indexes = [
            models.Index(fields=["service_user", "contact_at"]),
            # Dashboards (peer contacts per week) select contacts by period.
            models.Index(fields=["contact_at"], name="peer_contact_at"),
        ]

    def __str__(self) -> str:
        return f"{self.get_mode_display()} by {self.peer} on {self.contact_at:%d %b %Y}"


class IdentityConfirmation(models.Model):
    """A clinician's "same person" on a referral whose NHS number was on record under another
    name or date of birth. What was entered is kept here, beside the record it was matched to;
    the record itself is changed only by a correction (DetailsCorrection)."""

    service_user = models.ForeignKey(
        ServiceUser, on_delete=models.CASCADE, related_name="identity_confirmations"
    )
    entered_given_name = models.CharField(max_length=100, blank=True)
    entered_family_name = models.CharField(max_length=100, blank=True)
    entered_date_of_birth = models.DateField(null=True, blank=True)
    # The record's details at the moment of the confirmation, as they were shown side by side.
    recorded_given_name = models.CharField(max_length=100)
    recorded_family_name = models.CharField(max_length=100)
    recorded_date_of_birth = models.DateField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_at = models.DateTimeField(db_default=Now())

    class Meta:
        ordering = ["-confirmed_at"]

    def __str__(self) -> str:
        return f"Identity confirmed for person {self.service_user_id}"


class DetailsCorrection(models.Model):
    """A correction of a person's identifying details, with the reason (the change itself is in
    the audit too; this keeps the reason beside it). `changes` is {field: [before, after]}."""

    service_user = models.ForeignKey(
        ServiceUser, on_delete=models.CASCADE, related_name="details_corrections"
    )
    changes = models.JSONField()
    reason = models.TextField()
    corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    corrected_at = models.DateTimeField(db_default=Now())

    class Meta:
        ordering = ["-corrected_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(reason=""),
                name="details_correction_has_reason",
                violation_error_message="Say why the details are corrected.",
            )
        ]

    def __str__(self) -> str:
        return f"Details corrected for person {self.service_user_id}"
