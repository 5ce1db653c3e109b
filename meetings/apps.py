from django.apps import AppConfig

from pod.foundation import record_targets


class MeetingsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "meetings"

    def ready(self) -> None:
        # Imported here, not at the top: both load models, which cannot be imported while Django
        # is still reading the AppConfigs. `tasks` registers our Celery tasks in every process,
        # so the lower modules can send them by name (pod/foundation/task_queue.py).
        from meetings import (  # noqa: F401, PLC0415 (loads models)
            alerts,
            review_selectors,
            selectors,
            tasks,
        )
        from pod.foundation import outbox  # noqa: PLC0415 (loads models)

        # When the last email of an alert has been sent, the alert is stamped delivered.
        outbox.sent_hook_register(alerts.ALERT_EMAIL, alerts.alert_email_sent)

        # The access log (pod/foundation/middleware.py) learns which of our URLs open a person's
        # record: /episodes/<pk>/... is the episode's person, any <meeting_id> the meeting's.
        record_targets.register(
            "episode", url_kwarg="pk", namespace="meetings", person_ids=selectors.episode_person_ids
        )
        record_targets.register(
            "meeting", url_kwarg="meeting_id", person_ids=selectors.meeting_person_ids
        )
        # A manager's review page (/episodes/reviews/<review_pk>/) concerns the episode's person.
        record_targets.register(
            "review", url_kwarg="review_pk", person_ids=review_selectors.review_person_ids
        )
