"""`manage.py db_app_role`: create (or refresh) the application's least-privilege database role.

Run it as the database owner after every `migrate` in production; `migrate` runs it by itself
in development (DEBUG on). Then run the web app and the workers with a DATABASE_URL that logs in
as this role. See pod/foundation/db_role.py for exactly what the role may do.
"""

from __future__ import annotations

import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from pod.foundation.db_role import app_role_ensure, app_role_problems


class Command(BaseCommand):
    help = "Create or refresh the least-privilege database role the application runs as."

    def add_arguments(self, parser):
        parser.add_argument(
            "--role", default=settings.POD_APP_DB_ROLE, help="role name (POD_APP_DB_ROLE)"
        )
        parser.add_argument(
            "--password-env",
            metavar="VARIABLE",
            help="set the role's password from this environment variable",
        )

    def handle(self, *args, role: str, password_env: str | None, **options):
        password = None
        if password_env:
            password = os.environ.get(password_env)
            if not password:
                raise CommandError(f"{password_env} is not set or empty.")
        app_role_ensure(role, password=password)
        problems = app_role_problems(role)
        if problems:
            raise CommandError("The role can do more than it should:\n" + "\n".join(problems))
        self.stdout.write(
            self.style.SUCCESS(
                f"{role}: reads and writes the application's rows; reads the audit, appends to "
                "the access log; owns nothing, cannot truncate, alter or disable triggers."
            )
        )
