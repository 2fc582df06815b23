from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings

from frameworks.demo import DemoAccount, DemoDataError, seed_demo
from frameworks.reference_data import ReferenceDataError

PORTAL_URL = "http://127.0.0.1:8000/"
QUIET_EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"


class Command(BaseCommand):
    help = (
        "Create demo country teams (Somalia, Dominican Republic, Afghanistan, "
        "Nigeria) with their frameworks, joint programmes and common-chapter "
        "commitments, and one demo account per role. Safe to run again: what exists "
        "is left unchanged."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            # The demo walks records through the workflow; nobody should be e-mailed.
            with override_settings(EMAIL_BACKEND=QUIET_EMAIL_BACKEND):
                result = seed_demo()
        except (DemoDataError, ReferenceDataError) as exc:
            raise CommandError(str(exc)) from exc
        if result.loaded_reference_data:
            self.stdout.write("Loaded the reference data first.")
        for team in result.created_teams:
            self.stdout.write(self.style.SUCCESS(f"Created demo team {team}."))
        if result.existing_teams:
            self.stdout.write(
                "Already present, left unchanged: "
                + ", ".join(result.existing_teams)
                + "."
            )
        self.stdout.write("")
        self.stdout.write(self._account_table(result.accounts))
        self.stdout.write("")
        self.stdout.write(f"Password for every demo account: {settings.DEMO_PASSWORD}")
        self.stdout.write(f"Sign in at {PORTAL_URL}")

    @staticmethod
    def _account_table(accounts: tuple[DemoAccount, ...]) -> str:
        rows = [("username", "role", "team / agency")] + [
            (a.username, a.role, a.scope) for a in accounts
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(2)]
        lines = [
            f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]}".rstrip()
            for row in rows
        ]
        lines.insert(1, "-" * max(len(line) for line in lines))
        return "\n".join(lines)
