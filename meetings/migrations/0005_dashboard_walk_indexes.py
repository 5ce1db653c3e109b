"""Indexes that let the dashboards walk one team's episodes instead of a whole year of rows.

Raw SQL so that the models' state is unchanged (the indexes serve only the dashboard queries in
outcomes/dashboard/; see benchmarks/dashboards/RESULTS.md).
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("meetings", "0004_dashboard_indexes")]

    operations = [
        # Fidelity profile (outcomes.dashboard.outcome_figures.fidelity_profile): ratings of the
        # team's meetings in the period, whatever the meeting's status; the existing (episode,
        # actual_start) index covers held meetings only.
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS meeting_episode_start "
            "ON meetings_meeting (episode_id, actual_start) INCLUDE (id)",
            "DROP INDEX IF EXISTS meeting_episode_start",
        ),
        # Medication rule (outcomes.dashboard.clinical_rules.medication_rule): the team's
        # prescriptions in the period, by episode.
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS prescription_episode_prescribed "
            "ON meetings_prescription (episode_id, prescribed_at)",
            "DROP INDEX IF EXISTS prescription_episode_prescribed",
        ),
    ]
