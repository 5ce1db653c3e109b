"""Register a machine client of the FHIR API and print its credentials once.

    manage.py fhir_client_create --name "Trust EPR" --role clinician --team 3 --team 4

Creates the client's account (role, teams; no usable password, so it can never sign in to the
pages), an OAuth 2.0 confidential application with the client-credentials grant, and the
ApiClient joining them. The secret is shown only here: POD keeps only its hash.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from pod.fhir.clients import api_client_create
from pod.foundation.models import Team, User


class Command(BaseCommand):
    help = "Register a FHIR API machine client (OAuth 2.0 client credentials) for some teams."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--name", required=True)
        parser.add_argument(
            "--role",
            required=True,
            choices=[User.Role.CLINICIAN, User.Role.SERVICE_MANAGER, User.Role.ADMINISTRATOR],
        )
        parser.add_argument("--team", type=int, action="append", default=[], dest="teams")
        parser.add_argument("--description", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        teams = list(Team.objects.filter(pk__in=options["teams"]))
        if len(teams) != len(set(options["teams"])):
            raise CommandError("Unknown team id.")
        client, secret = api_client_create(
            name=options["name"],
            role=options["role"],
            teams=teams,
            description=options["description"],
        )
        self.stdout.write(f"client_id: {client.application.client_id}")
        self.stdout.write(f"client_secret: {secret}")
        self.stdout.write("Keep the secret now: POD stores only its hash.")
