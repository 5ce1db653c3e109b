"""Print the current sign-in code of a demo user (DEBUG only): `manage.py demo_otp clinician`."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from pod.foundation.models import User
from pod.foundation.twofactor import demo_code, demo_devices_create


class Command(BaseCommand):
    help = "Print a demo user's current authenticator code. Refuses unless DEBUG is on."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username: str, **options):
        if not settings.DEBUG:
            raise CommandError("demo_otp works only with DEBUG on (demo mode).")
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user called {username!r}.")
        demo_devices_create([user])
        self.stdout.write(demo_code(username))
