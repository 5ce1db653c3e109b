"""Every model page of the admin opens, searches and filters for an administrator."""

import pytest
from django.contrib import admin
from django.urls import reverse


@pytest.fixture
def admin_client_verified(client, admin_user):
    client.force_login(admin_user)
    return client


def test_every_registered_model_lists_and_searches_without_error(admin_client_verified, episode):
    for model, model_admin in admin.site._registry.items():
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        assert admin_client_verified.get(url).status_code == 200, url
        if model_admin.search_fields:
            assert admin_client_verified.get(url, {"q": "Rivers"}).status_code == 200, url
