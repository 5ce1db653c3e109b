"""The SMART-style scopes a machine client may be granted (django-oauth-toolkit's scopes
backend, settings.OAUTH2_PROVIDER["SCOPES_BACKEND_CLASS"]).

`system/<Type>.read` for each type in the registry, and `system/*.read`. A client is offered
only the scopes of the types its account's role may read (pod.fhir.auth.types_for_role), so a
service manager's client cannot even be given system/Patient.read; asking for more fails at the
token endpoint with `invalid_scope`. A token request without `scope` gets all of them.
"""

from __future__ import annotations

from typing import Any

from oauth2_provider.scopes import BaseScopes

from pod.fhir.auth import WILDCARD, scope_for, types_for_role
from pod.fhir.models import ApiClient
from pod.fhir.registry import all_mappers


class PodScopes(BaseScopes):
    def get_all_scopes(self) -> dict[str, str]:
        scopes = {scope_for(m.type_name): f"Read {m.type_name}" for m in all_mappers()}
        scopes[WILDCARD] = "Read every type the client's role may read"
        return scopes

    def get_available_scopes(
        self, application: Any = None, request: Any = None, *args: Any, **kwargs: Any
    ) -> list[str]:
        if application is None:
            return list(self.get_all_scopes())
        client = ApiClient.objects.select_related("account").filter(application=application).first()
        if client is None or not client.account.is_active:
            return []
        types = types_for_role(client.account.role)
        return [scope_for(name) for name in types] + ([WILDCARD] if types else [])

    def get_default_scopes(
        self, application: Any = None, request: Any = None, *args: Any, **kwargs: Any
    ) -> list[str]:
        return self.get_available_scopes(application, request, *args, **kwargs)
