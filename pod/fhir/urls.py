"""The FHIR API's URLs, under /fhir/ (pod/urls.py). Ids only in paths: an NHS number is
searched by POST <Type>/_search so that it never has to be in a URL."""

from django.urls import path, re_path, register_converter
from oauth2_provider.views import TokenView

from pod.fhir import bulk_views, docs_views, views


class ResourceTypeConverter:
    regex = "[A-Z][A-Za-z]{1,39}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class ResourceIdConverter:
    regex = r"[A-Za-z0-9\-\.]{1,64}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(ResourceTypeConverter, "fhirtype")
register_converter(ResourceIdConverter, "fhirid")

app_name = "fhir"
urlpatterns = [
    path("metadata", views.metadata, name="metadata"),
    path(
        ".well-known/smart-configuration",
        views.smart_configuration,
        name="smart_configuration",
    ),
    path("auth/token", TokenView.as_view(), name="token"),
    path("openapi.json", docs_views.openapi_json, name="openapi_json"),
    path("openapi/", docs_views.openapi_page, name="openapi"),
    path("$export", bulk_views.export_system, name="export_system"),
    path("Patient/$export", bulk_views.export_patients, name="export_patients"),
    path("Group/<fhirid:group_id>/$export", bulk_views.export_group, name="export_group"),
    path("bulk-status/<uuid:job_id>", bulk_views.export_status, name="export_status"),
    path("bulk-files/<uuid:job_id>/<str:output_file>", bulk_views.export_file, name="export_file"),
    path("<fhirtype:resource_type>/_search", views.search_post, name="search_post"),
    path("<fhirtype:resource_type>/<fhirid:resource_id>", views.read, name="read"),
    path("<fhirtype:resource_type>", views.search_type, name="search"),
    re_path(r"^(?P<rest>.*)$", views.not_found, name="not_found"),
]
