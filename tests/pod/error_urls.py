"""A URLconf with a view that fails, for the 500 page's test (tests/pod/test_error_pages.py)."""

from django.urls import include, path


def boom(request):
    raise RuntimeError("a deliberate failure")


urlpatterns = [path("boom/", boom), path("", include("pod.urls"))]
