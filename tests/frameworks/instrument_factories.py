"""A small world of coordination instruments for tests: two teams, one MAPS
mission with accelerators and recommendations in the first, and one person per
role."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from coordination.models import Agency, CountryTeam, Role, User
from frameworks.models import (
    Accelerator,
    CollectiveOutcome,
    CommonService,
    FollowUpStatus,
    MapsMission,
    OperationsStrategy,
    Outcome,
    Platform,
    Recommendation,
)
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
    record_cost_avoidance,
)
from tests.coordination.factories import (
    AgencyFactory,
    CountryTeamFactory,
    MembershipFactory,
    TeamAgencyFactory,
    UserFactory,
)
from tests.frameworks.factories import IndicatorFactory, OutcomeFactory
from tests.frameworks.joint_work_factories import JointActivityFactory

PAST = datetime.date(2020, 1, 31)
FUTURE = datetime.date(2099, 12, 31)


@dataclass
class InstrumentWorld:
    team: CountryTeam
    other_team: CountryTeam
    undp: Agency
    unicef: Agency
    outcome: Outcome
    other_outcome: Outcome
    mission: MapsMission
    accelerator: Accelerator
    recommendation: Recommendation
    collective: CollectiveOutcome
    strategy: OperationsStrategy
    service: CommonService
    platform: Platform
    rc: User
    rco: User
    fp_undp: User
    fp_unicef: User
    rco_other_team: User
    administrator: User
    outsider: User


def _member(team: CountryTeam, role: str, agency: Agency | None = None) -> User:
    return MembershipFactory(country_team=team, role=role, agency=agency).user


def add_recommendations(
    world: InstrumentWorld, count: int, **overrides: Any
) -> list[Recommendation]:
    return [
        create_recommendation(
            mission=world.mission,
            code=f"X{n}",
            text=f"Recommendation {n}",
            owner_agency=overrides.get("owner_agency", world.unicef),
            due_date=overrides.get("due_date", PAST),
            accelerator=world.accelerator,
            actor=None,
        )
        for n in range(count)
    ]


def build_instrument_world() -> InstrumentWorld:
    team = CountryTeamFactory(code="SOM", name="Somalia", iso_alpha2="SO")
    other_team = CountryTeamFactory(code="NGA", name="Nigeria", iso_alpha2="NG")
    undp = AgencyFactory(code="UNDP")
    unicef = AgencyFactory(code="UNICEF")
    for t in (team, other_team):
        for agency in (undp, unicef):
            TeamAgencyFactory(country_team=t, agency=agency)
    outcome = OutcomeFactory(framework__country_team=team, code="3.1")
    IndicatorFactory(output=None, outcome=outcome, framework=outcome.framework)
    other_outcome = OutcomeFactory(framework__country_team=other_team, code="1.1")
    activity = JointActivityFactory(
        country_team=team, framework=outcome.framework, agency=undp
    )
    mission = create_maps_mission(
        country_team=team,
        code="SOM-MAPS",
        title="MAPS mission to Somalia",
        start_date=datetime.date(2019, 5, 1),
        end_date=datetime.date(2019, 5, 10),
        participating_agencies=[undp, unicef],
        national_counterparts=["Ministry of Planning"],
        actor=None,
    )
    accelerator = create_accelerator(
        mission=mission,
        code="A1",
        name="Resilience",
        outcomes=[outcome],
        activities=[activity],
        actor=None,
    )
    recommendation = create_recommendation(
        mission=mission,
        code="R1",
        text="Make social protection shock-responsive.",
        owner_agency=undp,
        due_date=PAST,
        accelerator=accelerator,
        status=FollowUpStatus.ONGOING,
        actor=None,
    )
    collective = create_collective_outcome(
        country_team=team,
        code="CO1",
        title="Reduced food insecurity",
        start_year=2021,
        end_year=2023,
        outcomes=[outcome],
        hrp_objectives=["HRP objective 1"],
        actor=None,
    )
    strategy = create_operations_strategy(
        country_team=team,
        code="SOM-BOS",
        title="Business Operations Strategy",
        start_year=2021,
        end_year=2025,
        actor=None,
    )
    service = create_common_service(
        strategy=strategy,
        service_line="premises",
        name="Common premises",
        lead_agency=undp,
        agencies=[unicef],
        actor=None,
    )
    record_cost_avoidance(
        service=service,
        year=2021,
        estimated=Decimal("1000"),
        realised=Decimal("900"),
        actor=None,
    )
    platform = create_platform(
        data=PlatformData(code="SPOTLIGHT", name="Spotlight Initiative"), actor=None
    )
    add_team_to_platform(
        platform=platform, country_team=team, activities=[activity], actor=None
    )
    return InstrumentWorld(
        team=team,
        other_team=other_team,
        undp=undp,
        unicef=unicef,
        outcome=outcome,
        other_outcome=other_outcome,
        mission=mission,
        accelerator=accelerator,
        recommendation=recommendation,
        collective=collective,
        strategy=strategy,
        service=service,
        platform=platform,
        rc=_member(team, Role.RESIDENT_COORDINATOR),
        rco=_member(team, Role.RC_OFFICE),
        fp_undp=_member(team, Role.FOCAL_POINT, undp),
        fp_unicef=_member(team, Role.FOCAL_POINT, unicef),
        rco_other_team=_member(other_team, Role.RC_OFFICE),
        administrator=UserFactory(is_superuser=True, is_staff=True),
        outsider=UserFactory(),
    )
