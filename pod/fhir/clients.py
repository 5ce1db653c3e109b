"""Registering machine clients (ApiClient): the account, the OAuth application, the link."""

from __future__ import annotations

import uuid

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import get_application_model

from pod.fhir.models import ApiClient
from pod.foundation.models import Team, TeamMembership, User

# A machine client acts as staff of these roles; never as a peer (the API serves peers nothing)
# and never as a prescriber (the API does not prescribe).
CLIENT_ROLES = (User.Role.CLINICIAN, User.Role.SERVICE_MANAGER, User.Role.ADMINISTRATOR)


@transaction.atomic
def api_client_create(
    *, name: str, role: str, teams: list[Team], description: str = ""
) -> tuple[ApiClient, str]:
    """Create a client acting with `role` in `teams`; (client, plain secret). ValidationError
    for a role a client may not have, or no team."""
    if role not in CLIENT_ROLES:
        raise ValidationError(f"A machine client cannot act as {role}.")
    if not teams:
        raise ValidationError("A machine client must belong to at least one team.")
    application_model = get_application_model()
    username = f"api-client-{slugify(name)[:100] or 'client'}-{uuid.uuid4().hex[:8]}"
    account = User(username=username, first_name=name[:150], last_name="(API client)", role=role)
    account.set_unusable_password()
    account.full_clean()
    account.save()
    TeamMembership.objects.bulk_create(TeamMembership(user=account, team=t) for t in teams)
    secret = generate_client_secret()
    application = application_model(
        name=name[:255],
        user=account,
        client_type=application_model.CLIENT_CONFIDENTIAL,
        authorization_grant_type=application_model.GRANT_CLIENT_CREDENTIALS,
        client_secret=secret,
    )
    application.full_clean()
    application.save()
    client = ApiClient(application=application, account=account, description=description)
    client.full_clean()
    client.save()
    return client, secret
