from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "outcomes"

    def ready(self) -> None:
        # `tasks` registers our Celery tasks in every process, so the import's jobs can send
        # them by name (pod/foundation/task_queue.py). Here, not at the top: it loads models.
        from outcomes import tasks  # noqa: F401, PLC0415 (loads models)
