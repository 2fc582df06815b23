"""Write a country team's IATI 2.03 activity file, to a file or to stdout."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from coordination.models import CountryTeam
from reporting.iati import (
    InvalidIatiFileError,
    NothingToExportError,
    export_team_iati,
)


class Command(BaseCommand):
    help = (
        "Export a country team's joint programmes and joint activities as IATI 2.03 "
        "activity XML (validated figures only), checked against the IATI schema."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--team", metavar="CODE", required=True, help="the team's code, e.g. SOM"
        )
        parser.add_argument(
            "--output", metavar="PATH", help="file to write; stdout when left out"
        )

    def handle(
        self, *args: Any, team: str, output: str | None = None, **options: Any
    ) -> None:
        country_team = CountryTeam.objects.filter(code=team.strip().upper()).first()
        if country_team is None:
            raise CommandError(f"No country team with the code {team!r}.")
        try:
            xml = export_team_iati(team=country_team)
        except NothingToExportError as exc:
            raise CommandError(str(exc)) from exc
        except InvalidIatiFileError as exc:
            raise CommandError(
                "The IATI file does not validate against the schema:\n"
                + "\n".join(exc.errors)
            ) from exc
        if output is None:
            # The file declares UTF-8, so it goes out as UTF-8 whatever the locale.
            self.stdout.write(xml.decode("utf-8"), ending="")
            return
        Path(output).write_bytes(xml)
        self.stderr.write(f"Wrote {country_team.code}'s IATI file to {output}.")
