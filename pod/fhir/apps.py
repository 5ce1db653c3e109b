from django.apps import AppConfig


class FhirConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "pod.fhir"
    label = "fhir"
    verbose_name = "FHIR API"

    def ready(self) -> None:
        # Every process (web, worker, beat) registers the export task by name, so the web
        # process can hand it over through pod.foundation.task_queue.
        from pod.fhir import resources, tasks  # noqa: F401, PLC0415 (loads models)
