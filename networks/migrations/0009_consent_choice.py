"""Each network-member consent becomes an answer: not yet asked, agreed or refused (issue 13).

The booleans could not tell "asked and said no" from "not yet asked". Mapping, for contact and
information alike:

- True → "agreed", keeping its recorded date and who;
- False with a recorded date and who → "refused": the only way the old services stamped a False
  was an answer of no (consent withdrawn, or recorded as not given), so it was asked;
- False with no stamp → "not yet asked" (the old default).

Reversing maps "agreed" → True and anything else → False, keeping the stamps.
"""

from django.db import migrations, models
from django.db.models import Q

NOT_ASKED, AGREED, REFUSED = "not_asked", "agreed", "refused"
KINDS = (
    ("consent_to_contact", "contact_consent", "consent_recorded_at", "consent_recorded_by"),
    (
        "consent_to_information",
        "information_consent",
        "information_consent_recorded_at",
        "information_consent_recorded_by",
    ),
)


def booleans_to_answers(apps, schema_editor):
    member = apps.get_model("networks", "NetworkMember")
    for old, new, at, by in KINDS:
        member.objects.filter(**{old: True}).update(**{new: AGREED})
        stamped = Q(**{f"{at}__isnull": False, f"{by}__isnull": False})
        member.objects.filter(Q(**{old: False}) & stamped).update(**{new: REFUSED})
        member.objects.filter(Q(**{old: False}) & ~stamped).update(**{new: NOT_ASKED})
    # The updates queue deferred trigger events (the audit chain, foreign keys); fire them now
    # so the ALTER TABLEs below may run in this same transaction.
    schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def answers_to_booleans(apps, schema_editor):
    member = apps.get_model("networks", "NetworkMember")
    for old, new, _at, _by in KINDS:
        member.objects.filter(**{new: AGREED}).update(**{old: True})
        member.objects.exclude(**{new: AGREED}).update(**{old: False})
    schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


CHOICES = [(NOT_ASKED, "Not yet asked"), (AGREED, "Agreed"), (REFUSED, "Refused")]


class Migration(migrations.Migration):
    dependencies = [("networks", "0008_person_search_and_identity")]

    operations = [
        migrations.AddField(
            model_name="networkmember",
            name="contact_consent",
            field=models.CharField(
                "consent to be contacted",
                choices=CHOICES,
                db_default=NOT_ASKED,
                default=NOT_ASKED,
                max_length=10,
            ),
        ),
        migrations.AddField(
            model_name="networkmember",
            name="information_consent",
            field=models.CharField(
                "consent to receive information",
                choices=CHOICES,
                db_default=NOT_ASKED,
                default=NOT_ASKED,
                help_text="May be given information about the person's care "
                "(e.g. a copy of the care plan or a meeting summary)",
                max_length=10,
            ),
        ),
        migrations.RunPython(booleans_to_answers, answers_to_booleans),
        migrations.RemoveConstraint(model_name="networkmember", name="member_consent_is_attributed"),
        migrations.RemoveConstraint(
            model_name="networkmember", name="member_information_consent_is_attributed"
        ),
        migrations.RemoveField(model_name="networkmember", name="consent_to_contact"),
        migrations.RemoveField(model_name="networkmember", name="consent_to_information"),
        migrations.AddConstraint(
            model_name="networkmember",
            constraint=models.CheckConstraint(
                condition=Q(contact_consent__in=[NOT_ASKED, AGREED, REFUSED])
                & Q(information_consent__in=[NOT_ASKED, AGREED, REFUSED]),
                name="member_consent_is_an_answer",
                violation_error_message="A consent is not yet asked, agreed or refused.",
            ),
        ),
        migrations.AddConstraint(
            model_name="networkmember",
            constraint=models.CheckConstraint(
                condition=Q(contact_consent=NOT_ASKED)
                | Q(consent_recorded_at__isnull=False, consent_recorded_by__isnull=False),
                name="member_contact_consent_is_attributed",
                violation_error_message="Consent must be recorded with its date and who took it.",
            ),
        ),
        migrations.AddConstraint(
            model_name="networkmember",
            constraint=models.CheckConstraint(
                condition=Q(information_consent=NOT_ASKED)
                | Q(
                    information_consent_recorded_at__isnull=False,
                    information_consent_recorded_by__isnull=False,
                ),
                name="member_information_consent_is_attributed",
                violation_error_message="Consent to receive information must be recorded with "
                "its date and who took it.",
            ),
        ),
    ]
