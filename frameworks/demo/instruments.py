"""Demo coordination instruments: the real cases the portal was designed around.

instruments/<TEAM>.yml holds a team's MAPS missions, Zero Hunger reviews,
collective outcomes, Business Operations Strategies and the platforms it takes part
in; instruments/platforms.yml the global platforms, which are got or created by
code because they outlive any one team's seeding.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from frameworks.models import JointActivity, JointProgramme, Platform
from frameworks.services import (
    PlatformData,
    add_team_to_platform,
    create_accelerator,
    create_collective_outcome,
    create_common_service,
    create_maps_mission,
    create_operations_strategy,
    create_platform,
    create_recommendation,
    create_zero_hunger_review,
    record_cost_avoidance,
    record_mutual_recognition,
)

if TYPE_CHECKING:
    from frameworks.demo.seed import Spec, TeamContext

INSTRUMENTS_DIR = Path(__file__).resolve().parent / "instruments"
PLATFORMS_FILE = INSTRUMENTS_DIR / "platforms.yml"


def _read(path: Path) -> Any:
    if not path.exists():
        return None
    with path.open(encoding="utf-8") as stream:
        return yaml.safe_load(stream)


def read_instruments(team_code: str) -> dict[str, Any]:
    """Return the demo instruments of a team, or nothing if it has none."""
    return _read(INSTRUMENTS_DIR / f"{team_code}.yml") or {}


def get_or_create_platform(code: str) -> Platform:
    """Return the platform with this code, creating it from platforms.yml."""
    from frameworks.demo.seed import DemoDataError, ReferenceRows

    platform = Platform.objects.filter(code=code).first()
    if platform is not None:
        return platform
    specs = {entry["code"]: entry for entry in _read(PLATFORMS_FILE) or ()}
    if code not in specs:
        raise DemoDataError(f"Unknown platform {code!r}.")
    entry = specs[code]
    ref = ReferenceRows()
    funding = entry.get("initial_funding")
    return create_platform(
        data=PlatformData(
            code=code,
            name=entry["name"],
            kind=entry.get("kind", "platform"),
            description=str(entry.get("description", "")).strip(),
            launched_year=entry.get("launched_year"),
            country_count=entry.get("country_count"),
            member_count=entry.get("member_count"),
            initial_funding=Decimal(str(funding)) if funding is not None else None,
            funding_currency=entry.get("funding_currency", ""),
            member_agencies=[ref.agency(a) for a in entry.get("member_agencies", ())],
        ),
        actor=None,
    )


def _activities(ctx: TeamContext, refs: list[str]) -> list[JointActivity]:
    from frameworks.demo.seed import DemoDataError

    found = {
        a.external_ref: a
        for a in JointActivity.objects.filter(
            country_team=ctx.team, external_ref__in=refs
        )
    }
    missing = [ref for ref in refs if ref not in found]
    if missing:
        raise DemoDataError(f"{ctx.team.code}: unknown joint activities {missing}.")
    return [found[ref] for ref in refs]


def _programmes(ctx: TeamContext, titles: list[str]) -> list[JointProgramme]:
    from frameworks.demo.seed import DemoDataError

    found = {
        p.title: p
        for p in JointProgramme.objects.filter(country_team=ctx.team, title__in=titles)
    }
    missing = [title for title in titles if title not in found]
    if missing:
        raise DemoDataError(f"{ctx.team.code}: unknown joint programmes {missing}.")
    return [found[title] for title in titles]


def _seed_missions(ctx: TeamContext, entries: list[dict[str, Any]]) -> None:
    for entry in entries:
        mission = create_maps_mission(
            country_team=ctx.team,
            code=entry["code"],
            title=entry["title"],
            start_date=entry["start_date"],
            end_date=entry["end_date"],
            participating_agencies=[
                ctx.ref.agency(code) for code in entry.get("participating_agencies", ())
            ],
            national_counterparts=entry.get("national_counterparts", ()),
            roadmap=str(entry.get("roadmap", "")).strip(),
            actor=None,
        )
        accelerators = {}
        for item in entry.get("accelerators", ()):
            accelerators[item["code"]] = create_accelerator(
                mission=mission,
                code=item["code"],
                name=item["name"],
                description=item.get("description", ""),
                outcomes=[ctx.outcome(code) for code in item.get("outcomes", ())],
                activities=_activities(ctx, item.get("activities", [])),
                actor=None,
            )
        for item in entry.get("recommendations", ()):
            create_recommendation(
                mission=mission,
                code=item["code"],
                text=item["text"],
                owner_agency=ctx.agency(item["owner_agency"]),
                due_date=item["due_date"],
                accelerator=accelerators.get(item.get("accelerator")),
                status=item.get("status", "planned"),
                actor=None,
            )


def _seed_reviews(ctx: TeamContext, entries: list[dict[str, Any]]) -> None:
    for entry in entries:
        create_zero_hunger_review(
            country_team=ctx.team,
            code=entry["code"],
            title=entry["title"],
            lead_convener=entry["lead_convener"],
            start_date=entry["start_date"],
            end_date=entry["end_date"],
            co_funding_agencies=ctx.agencies(entry.get("co_funding_agencies", ())),
            follow_up_mechanism=str(entry.get("follow_up_mechanism", "")).strip(),
            priority_actions=[
                (action["text"], ctx.agencies(action.get("agencies", ())))
                for action in entry.get("priority_actions", ())
            ],
            actor=None,
        )


def _seed_collective_outcomes(ctx: TeamContext, entries: list[dict[str, Any]]) -> None:
    for entry in entries:
        create_collective_outcome(
            country_team=ctx.team,
            code=entry["code"],
            title=entry["title"],
            statement=entry.get("statement", ""),
            start_year=int(entry["start_year"]),
            end_year=int(entry["end_year"]),
            outcomes=[ctx.outcome(code) for code in entry.get("outcomes", ())],
            hrp_objectives=entry.get("hrp_objectives", ()),
            actor=None,
        )


def _seed_operations(ctx: TeamContext, entries: list[dict[str, Any]]) -> None:
    for entry in entries:
        strategy = create_operations_strategy(
            country_team=ctx.team,
            code=entry["code"],
            title=entry["title"],
            start_year=int(entry["start_year"]),
            end_year=int(entry["end_year"]),
            actor=None,
        )
        for item in entry.get("services", ()):
            service = create_common_service(
                strategy=strategy,
                service_line=item["service_line"],
                name=item["name"],
                lead_agency=ctx.agency(item["lead_agency"]),
                agencies=ctx.agencies(item.get("agencies", ())),
                actor=None,
            )
            for year, figures in item.get("cost_avoidance", {}).items():
                realised = figures.get("realised")
                record_cost_avoidance(
                    service=service,
                    year=int(year),
                    estimated=Decimal(str(figures["estimated"])),
                    realised=Decimal(str(realised)) if realised is not None else None,
                    actor=None,
                )
        for item in entry.get("mutual_recognition", ()):
            record_mutual_recognition(
                strategy=strategy,
                agency=ctx.agency(item["agency"]),
                adopted_on=item["adopted_on"],
                scope=item.get("scope", ""),
                actor=None,
            )


def _seed_platforms(ctx: TeamContext, entries: list[dict[str, Any]]) -> None:
    for entry in entries:
        add_team_to_platform(
            platform=get_or_create_platform(entry["code"]),
            country_team=ctx.team,
            joint_programmes=_programmes(ctx, entry.get("programmes", [])),
            activities=_activities(ctx, entry.get("activities", [])),
            actor=None,
        )


def seed_instruments(*, ctx: TeamContext, spec: Spec) -> None:
    """Record a team's coordination instruments and its part in global platforms."""
    from frameworks.demo.seed import _explaining

    data = read_instruments(ctx.team.code)
    with _explaining(f"{ctx.team.code} instruments"):
        _seed_missions(ctx, data.get("maps_missions", []))
        _seed_reviews(ctx, data.get("zero_hunger_reviews", []))
        _seed_collective_outcomes(ctx, data.get("collective_outcomes", []))
        _seed_operations(ctx, data.get("operations_strategies", []))
        _seed_platforms(ctx, data.get("platforms", []))
