"""The admin logs what it shows of people, like every other page (pod.RecordAccess).

Every ModelAdmin whose pages show a person's identifiable data (their name, NHS number, their
episode or anything named after them) derives from PersonRecordAdmin and says how to reach the
person from its model (`person_path`, a lookup such as "episode__service_user"). Its list
(including searches and the raw-id pop-up), change, delete and history pages then note the
people they show; RecordAccessMiddleware writes them after a 200 response, one row per person,
in one insert (pod.foundation.audit.note_shown). Resolving the page's rows to people costs one
query, whatever the page size.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import NestedObjects
from django.db import router
from django.http import HttpRequest, HttpResponse

from pod.foundation.audit import note_shown


class DeletionShowsPeopleMixin:
    """A delete confirmation lists every object the deletion would take with it (or that
    protects it): a team's or a staff member's can list people. Note them for the access log."""

    def get_deleted_objects(self, objs, request):
        result = super().get_deleted_objects(objs, request)  # type: ignore[misc]
        collector = NestedObjects(using=router.db_for_write(self.model))  # type: ignore[attr-defined]
        collector.collect(objs)
        related: dict[type, set] = {}
        for model, instances in collector.data.items():
            related.setdefault(model, set()).update(instances)
        for instance in collector.protected:
            related.setdefault(type(instance), set()).add(instance)
        registry = self.admin_site._registry  # type: ignore[attr-defined]
        for model, instances in related.items():
            model_admin = registry.get(model)
            if isinstance(model_admin, PersonRecordAdmin):
                note_shown(
                    request,
                    "person",
                    model_admin._people([i.pk for i in instances]),
                    "admin:delete_related",
                )
        return result


class PersonRecordAdmin(DeletionShowsPeopleMixin, admin.ModelAdmin):
    # The lookup from this model to the person's id: "pk" for ServiceUser itself.
    person_path = "service_user"

    def _people(self, object_ids: list[Any]) -> list[int]:
        ids = []
        for value in object_ids:
            try:
                ids.append(int(value))
            except (TypeError, ValueError):
                continue  # not an id: the admin answers it with a 404 or a redirect
        if not ids:
            return []
        return [
            pk
            for pk in self.model._default_manager.filter(pk__in=ids).values_list(
                self.person_path, flat=True
            )
            if pk is not None
        ]

    def _note(self, request: HttpRequest, object_ids: list[Any], what: str) -> None:
        note_shown(request, "person", self._people(object_ids), what)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", None) or {}
        if "cl" in changelist:
            self._note(request, [o.pk for o in changelist["cl"].result_list], "admin:list")
        return response

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        if object_id is not None:
            self._note(request, [object_id], "admin:change")
        return super().changeform_view(request, object_id, form_url, extra_context)

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        self._note(request, [object_id], "admin:delete")
        return super().delete_view(request, object_id, extra_context)

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        self._note(request, [object_id], "admin:history")
        return super().history_view(request, object_id, extra_context)
