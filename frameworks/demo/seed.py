"""Demo data: country teams drawn from real cases, and one account per role.

The content is data: teams/*.yml and accounts.yml next to this module. Small
functions walk it and create everything through the same services as the portal,
with actor=None (the trusted-caller convention), so the demo exercises the real
write paths. To extend the demo, add keys to the files and a step to TEAM_STEPS.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol, TypeVar

import yaml
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import transaction

from coordination.models import Agency, CountryTeam, Role, User
from coordination.services import create_country_team, grant_membership
from frameworks.demo.instruments import seed_instruments
from frameworks.demo.joint_work import seed_joint_work, seed_measurements, seed_regions
from frameworks.demo.strategic_plans import seed_strategic_plan_links
from frameworks.models import (
    CommitmentKind,
    CommitmentStatus,
    CommonChapterArea,
    CooperationFramework,
    Outcome,
    Output,
    ProgrammeStatus,
    SdgIndicator,
    SdgTarget,
    StrategicPriority,
)
from frameworks.reference_data import is_reference_data_loaded, load_reference_data
from frameworks.services import (
    IndicatorSpec,
    create_framework,
    create_indicator,
    create_joint_programme,
    create_outcome,
    create_output,
    create_strategic_priority,
    sign_off_framework,
)
from frameworks.services.common_chapter import create_common_chapter_commitment

DEMO_DIR = Path(__file__).resolve().parent
TEAMS_DIR = DEMO_DIR / "teams"
ACCOUNTS_FILE = DEMO_DIR / "accounts.yml"

Spec = Mapping[str, Any]
_Row = TypeVar("_Row")


class DemoDataError(ValueError):
    """The demo files are malformed or refer to something that does not exist."""


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    scope: str


@dataclass(frozen=True)
class DemoResult:
    created_teams: tuple[str, ...]
    existing_teams: tuple[str, ...]
    accounts: tuple[DemoAccount, ...]
    loaded_reference_data: bool


def _find(rows: Mapping[str, _Row], code: object, what: str) -> _Row:
    # Codes such as 2.10 must be quoted in YAML, or they arrive as the number 2.1.
    if not isinstance(code, str):
        raise DemoDataError(f"The {what} code {code!r} must be a quoted string.")
    try:
        return rows[code]
    except KeyError:
        raise DemoDataError(f"Unknown {what} {code!r}.") from None


class ReferenceRows:
    """Reference rows by code, loaded once per seed."""

    def __init__(self) -> None:
        self._agencies = Agency.objects.in_bulk(field_name="code")
        self._targets = SdgTarget.objects.in_bulk(field_name="code")
        self._indicators = SdgIndicator.objects.in_bulk(field_name="code")
        self._areas = CommonChapterArea.objects.in_bulk(field_name="code")

    def agency(self, code: object) -> Agency:
        return _find(self._agencies, code, "agency")

    def sdg_targets(self, codes: Iterable[object]) -> list[SdgTarget]:
        return [_find(self._targets, code, "SDG target") for code in codes]

    def sdg_indicator(self, code: object) -> SdgIndicator:
        return _find(self._indicators, code, "SDG indicator")

    def area(self, code: object) -> CommonChapterArea:
        return _find(self._areas, code, "common-chapter area")


@dataclass
class TeamContext:
    """What the steps seeding one country team share."""

    team: CountryTeam
    ref: ReferenceRows
    agency_codes: frozenset[str]
    frameworks: dict[str, CooperationFramework] = field(default_factory=dict)
    outcomes: dict[tuple[str, str], Outcome] = field(default_factory=dict)
    outputs: dict[tuple[str, str], Output] = field(default_factory=dict)
    current_framework: str = ""

    def agency(self, code: object) -> Agency:
        """Return an agency of this team; the demo never cites an outside one."""
        if code not in self.agency_codes:
            raise DemoDataError(f"{code} is not part of the {self.team.code} team.")
        return self.ref.agency(code)

    def agencies(self, codes: Iterable[object]) -> list[Agency]:
        return [self.agency(code) for code in codes]

    def outcome(self, code: object, framework_key: str | None = None) -> Outcome:
        """Return an outcome by code, in the given or the last seeded framework."""
        key = framework_key or self.current_framework
        return _find(
            {c: o for (k, c), o in self.outcomes.items() if k == key},
            code,
            f"outcome of framework {key!r}",
        )


class TeamStep(Protocol):
    def __call__(self, *, ctx: TeamContext, spec: Spec) -> None: ...


@contextmanager
def _explaining(where: str) -> Iterator[None]:
    # Name the place in the demo files that a service refused, not just the rule.
    try:
        yield
    except ValidationError as exc:
        raise DemoDataError(f"{where}: {' '.join(exc.messages)}") from exc
    except KeyError as exc:
        raise DemoDataError(f"{where}: missing {exc.args[0]!r}.") from exc


def _read_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as stream:
        return yaml.safe_load(stream)


def read_team_specs() -> list[Spec]:
    """Return the demo country teams, one file each."""
    return [_read_yaml(path) for path in sorted(TEAMS_DIR.glob("*.yml"))]


def read_account_specs() -> list[Spec]:
    """Return the demo accounts in the order they are listed."""
    return list(_read_yaml(ACCOUNTS_FILE))


def _decimal(value: object) -> Decimal | None:
    # Through str, so that 13.1 in YAML becomes Decimal("13.1"), not a binary float.
    return None if value is None else Decimal(str(value))


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise DemoDataError(f"{value!r} should be quoted text.")
    return value.strip()


def _date(value: object) -> date:
    if not isinstance(value, date):
        raise DemoDataError(f"{value!r} should be a date (YYYY-MM-DD).")
    return value


# --- Teams and accounts ------------------------------------------------------------


def _create_team(*, spec: Spec, ref: ReferenceRows) -> CountryTeam:
    resident = [(ref.agency(code), True) for code in spec.get("agencies", ())]
    visiting = [
        (ref.agency(code), False) for code in spec.get("non_resident_agencies", ())
    ]
    return create_country_team(
        code=spec["code"],
        name=spec["name"],
        iso_alpha2=spec["iso_alpha2"],
        region=spec["region"],
        context=spec["context"],
        agencies=resident + visiting,
    )


def _seed_account(
    *,
    spec: Spec,
    teams: Mapping[str, CountryTeam],
    new_team_codes: set[str],
    ref: ReferenceRows,
    password_hash: str,
) -> User:
    username = spec["username"]
    user = User.objects.filter(username=username).first()
    created = user is None
    if user is None:
        is_superuser = bool(spec.get("is_superuser", False))
        user = User(
            username=username,
            email=f"{username}@example.org",
            first_name=spec.get("first_name", ""),
            last_name=spec.get("last_name", ""),
            language=spec.get("language", ""),
            is_board_member=bool(spec.get("is_board_member", False)),
            is_superuser=is_superuser,
            is_staff=is_superuser,
            agency=ref.agency(spec["agency"]) if spec.get("agency") else None,
            password=password_hash,
        )
        user.full_clean()
        user.save()
    for membership in spec.get("memberships", ()):
        team = _find(teams, membership["team"], "demo team")
        # An account that already existed, in a team that already existed, is left
        # alone: its roles may have been changed on purpose since the last seed.
        if created or team.code in new_team_codes:
            agency_code = membership.get("agency")
            grant_membership(
                user=user,
                country_team=team,
                role=membership["role"],
                agency=ref.agency(agency_code) if agency_code else None,
            )
    return user


def describe_account(spec: Spec) -> DemoAccount:
    """Say what a demo account may do and where, for the table printed after seeding."""
    username = spec["username"]
    if spec.get("is_superuser"):
        return DemoAccount(username, "Administrator", "whole portal")
    if spec.get("is_board_member"):
        return DemoAccount(username, "Executive Board member", "all countries")
    memberships = spec.get("memberships", ())
    try:
        roles = [str(Role(m["role"]).label) for m in memberships]
    except ValueError as exc:
        raise DemoDataError(f"Account {username}: {exc}.") from exc
    teams = ", ".join(dict.fromkeys(m["team"] for m in memberships))
    agencies = ", ".join(
        dict.fromkeys(m["agency"] for m in memberships if "agency" in m)
    )
    return DemoAccount(
        username,
        ", ".join(dict.fromkeys(roles)) or "No role",
        f"{agencies} / {teams}" if agencies else teams,
    )


# --- Team content: one step per kind of record -------------------------------------


def seed_frameworks(*, ctx: TeamContext, spec: Spec) -> None:
    """Create each framework with its priorities, outcomes, outputs and indicators.

    Frameworks are signed off in file order, so a later one closes an earlier one.
    The Resident Coordinator signs off, so the demo shows who did.
    """
    for framework_spec in spec.get("frameworks", ()):
        key = framework_spec["key"]
        with _explaining(f"{ctx.team.code} framework {key!r}"):
            framework = create_framework(
                country_team=ctx.team,
                title=_text(framework_spec["title"]),
                start_year=int(framework_spec["start_year"]),
                end_year=int(framework_spec["end_year"]),
                actor=None,
            )
        ctx.frameworks[key] = framework
        ctx.current_framework = key
        for priority_spec in framework_spec.get("priorities", ()):
            priority = create_strategic_priority(
                framework=framework,
                code=_text(priority_spec["code"]),
                title=_text(priority_spec["title"]),
                actor=None,
            )
            for outcome_spec in priority_spec.get("outcomes", ()):
                _seed_outcome(
                    ctx=ctx, framework=framework, priority=priority, spec=outcome_spec
                )
        if framework_spec.get("sign_off", True):
            sign_off_framework(framework=framework, actor=ctx.team.resident_coordinator)


def _seed_outcome(
    *,
    ctx: TeamContext,
    framework: CooperationFramework,
    priority: StrategicPriority | None,
    spec: Spec,
) -> None:
    code = _text(spec["code"])
    with _explaining(f"{ctx.team.code} outcome {code}"):
        outcome = create_outcome(
            framework=framework,
            code=code,
            statement=_text(spec["statement"]),
            actor=None,
            strategic_priority=priority,
            sdg_targets=ctx.ref.sdg_targets(spec.get("sdg_targets", ())),
            lead_agencies=ctx.agencies(spec.get("lead_agencies", ())),
            is_collective_outcome=bool(spec.get("is_collective_outcome", False)),
        )
    ctx.outcomes[(ctx.current_framework, code)] = outcome
    _seed_indicators(
        ctx=ctx,
        framework=framework,
        entries=spec.get("indicators", ()),
        outcome=outcome,
    )
    for output_spec in spec.get("outputs", ()):
        output_code = _text(output_spec["code"])
        with _explaining(f"{ctx.team.code} output {output_code}"):
            output = create_output(
                outcome=outcome,
                code=output_code,
                statement=_text(output_spec["statement"]),
                actor=None,
                contributing_agencies=ctx.agencies(output_spec.get("agencies", ())),
            )
        ctx.outputs[(ctx.current_framework, output_code)] = output
        _seed_indicators(
            ctx=ctx,
            framework=framework,
            entries=output_spec.get("indicators", ()),
            output=output,
        )


def _seed_indicators(
    *,
    ctx: TeamContext,
    framework: CooperationFramework,
    entries: Iterable[Spec],
    outcome: Outcome | None = None,
    output: Output | None = None,
) -> None:
    for spec in entries:
        with _explaining(f"{ctx.team.code} indicator {spec.get('code')}"):
            create_indicator(
                spec=indicator_spec(ctx=ctx, framework=framework, spec=spec),
                actor=None,
                outcome=outcome,
                output=output,
            )


def indicator_spec(
    *, ctx: TeamContext, framework: CooperationFramework, spec: Spec
) -> IndicatorSpec:
    """Turn an indicator entry into the service's spec.

    Keys are IndicatorSpec's fields; baseline and target years default to the year
    before the framework starts and the year it ends.
    """
    values = dict(spec)
    values["code"] = _text(values["code"])
    values["name"] = _text(values["name"])
    values.setdefault("baseline_year", framework.start_year - 1)
    values.setdefault("target_year", framework.end_year)
    for name in ("baseline_value", "target_value"):
        if name in values:
            values[name] = _decimal(values[name])
    values["disaggregations"] = tuple(values.get("disaggregations", ()))
    if "sdg_indicator" in values:
        values["sdg_indicator"] = ctx.ref.sdg_indicator(values["sdg_indicator"])
    try:
        return IndicatorSpec(**values)
    except TypeError as exc:
        raise DemoDataError(f"Indicator {values['code']}: {exc}") from exc


def seed_joint_programmes(*, ctx: TeamContext, spec: Spec) -> None:
    """Create the joint programmes with budget shares, outcomes and SDG targets."""
    for programme in spec.get("joint_programmes", ()):
        framework_key = programme.get("framework")
        with _explaining(f"{ctx.team.code} joint programme {programme.get('title')!r}"):
            create_joint_programme(
                country_team=ctx.team,
                title=_text(programme["title"]),
                fund=programme.get("fund", ""),
                convening_agency=ctx.agency(programme["convening_agency"]),
                start_date=_date(programme["start_date"]),
                end_date=_date(programme["end_date"]),
                budget_shares={
                    ctx.agency(code): _decimal(amount) or Decimal("0")
                    for code, amount in programme["budget_shares"].items()
                },
                outcomes=[
                    ctx.outcome(code, framework_key)
                    for code in programme.get("outcomes", ())
                ],
                sdg_targets=ctx.ref.sdg_targets(programme.get("sdg_targets", ())),
                gender_marker=int(programme.get("gender_marker", 0)),
                status=programme.get("status", ProgrammeStatus.ACTIVE),
                actor=None,
            )


def seed_commitments(*, ctx: TeamContext, spec: Spec) -> None:
    """Record the team's common-chapter commitments and accelerator initiatives."""
    for entry in spec.get("commitments", ()):
        with _explaining(f"{ctx.team.code} commitment {entry.get('title')!r}"):
            create_common_chapter_commitment(
                country_team=ctx.team,
                area=ctx.ref.area(entry["area"]),
                kind=entry.get("kind", CommitmentKind.COMMITMENT),
                title=_text(entry["title"]),
                description=_text(entry.get("description", "")),
                year=int(entry["year"]),
                status=entry.get("status", CommitmentStatus.PLANNED),
                agencies=ctx.agencies(entry.get("agencies", ())),
                actor=None,
            )


# Each team's content, in order. Later steps may use what earlier ones recorded in
# the context (frameworks, outcomes and outputs by code).
TEAM_STEPS: tuple[TeamStep, ...] = (
    seed_frameworks,
    seed_joint_programmes,
    seed_commitments,
    seed_regions,
    seed_joint_work,
    seed_measurements,
    seed_instruments,
    seed_strategic_plan_links,
)


@transaction.atomic
def seed_demo() -> DemoResult:
    """Create the demo teams and accounts that do not exist yet.

    Teams and accounts already present are left unchanged, so running it again
    changes nothing. Loads the reference data first if it is missing.
    """
    loaded_reference_data = not is_reference_data_loaded()
    if loaded_reference_data:
        load_reference_data()
    ref = ReferenceRows()
    team_specs = read_team_specs()
    account_specs = read_account_specs()

    teams: dict[str, CountryTeam] = {}
    new_specs: list[Spec] = []
    for spec in team_specs:
        team = CountryTeam.objects.filter(code=spec["code"]).first()
        if team is None:
            with _explaining(f"team {spec['code']}"):
                team = _create_team(spec=spec, ref=ref)
            new_specs.append(spec)
        teams[team.code] = team
    new_team_codes = {spec["code"] for spec in new_specs}

    # One hash for all demo accounts: they share a published password anyway, and
    # password hashing is slow on purpose.
    password_hash = make_password(settings.DEMO_PASSWORD)
    for spec in account_specs:
        with _explaining(f"account {spec.get('username')!r}"):
            _seed_account(
                spec=spec,
                teams=teams,
                new_team_codes=new_team_codes,
                ref=ref,
                password_hash=password_hash,
            )

    for spec in new_specs:
        team = teams[spec["code"]]
        ctx = TeamContext(
            team=team,
            ref=ref,
            agency_codes=frozenset(
                [*spec.get("agencies", ()), *spec.get("non_resident_agencies", ())]
            ),
        )
        for step in TEAM_STEPS:
            step(ctx=ctx, spec=spec)

    return DemoResult(
        created_teams=tuple(str(teams[spec["code"]]) for spec in new_specs),
        existing_teams=tuple(
            str(team) for code, team in teams.items() if code not in new_team_codes
        ),
        accounts=tuple(describe_account(spec) for spec in account_specs),
        loaded_reference_data=loaded_reference_data,
    )
