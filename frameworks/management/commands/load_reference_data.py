from typing import Any

from django.core.management.base import BaseCommand, CommandError

from frameworks.reference_data import ReferenceDataError, load_reference_data


class Command(BaseCommand):
    help = (
        "Load the SDG goals, targets and indicators in the six UN languages, the UN "
        "agencies, the common-chapter areas and the agencies' strategic plans. Safe "
        "to run again."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            counts = load_reference_data()
        except ReferenceDataError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"Reference data: {counts}."))
