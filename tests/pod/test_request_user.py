"""Views reach the signed-in member of staff through access.request_user, which fails closed:
a request that reaches it anonymously (a view that lost its decorator) is refused, never
treated as staff."""

import pytest
from django import forms
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory

from pod.foundation.access import request_user
from pod.foundation.forms import form_field


def test_it_returns_the_signed_in_user(clinician):
    request = RequestFactory().get("/")
    request.user = clinician
    assert request_user(request) is clinician


def test_it_refuses_an_anonymous_request():
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    with pytest.raises(PermissionDenied):
        request_user(request)


def test_form_field_refuses_a_field_of_another_kind():
    class Form(forms.Form):
        name = forms.CharField()

    form = Form()
    assert form_field(form, "name", forms.CharField) is form.fields["name"]
    with pytest.raises(TypeError, match="Form.name is a CharField, not a ChoiceField"):
        form_field(form, "name", forms.ChoiceField)
