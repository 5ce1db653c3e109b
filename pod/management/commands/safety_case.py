"""`manage.py safety_case`: render and judge the DCB0129 safety case (pod/safety_case/cli.py).

The same as `python -m pod.safety_case`, which needs no Django settings (CI uses that form).
"""

from django.core.management.base import BaseCommand, CommandError

from pod.safety_case.cli import add_arguments, safety_case_run


class Command(BaseCommand):
    help = (
        "Render the safety case from safety/hazards.toml and the last test run into "
        "test-artifacts/safety/; fail when a control is not proven by passing tests."
    )

    def add_arguments(self, parser):
        add_arguments(parser)

    def handle(self, *args, hazard_log, results, template, out, **options):
        status = safety_case_run(
            hazard_log=hazard_log, results=results, template=template, out=out, stdout=self.stdout
        )
        if status:
            raise CommandError(
                {1: "the safety case fails", 2: "not judged", 3: "cannot read its inputs"}[status],
                returncode=status,
            )
