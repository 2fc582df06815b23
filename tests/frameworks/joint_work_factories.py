"""Factories and a ready-made country team for joint-work tests.

The factories write rows directly, so a test can put a record in any workflow state
(or in a state the services would refuse, to test the quality checks). `build_world`
sets up two country teams with their people, and the `*_data` helpers give service
inputs that pass every check, to be varied one field at a time.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import factory
from django.utils import timezone

from coordination.models import AdminRegion, Agency, CountryTeam, Role, User
from frameworks.models import (
    CommonChapterArea,
    Contribution,
    ContributionRevision,
    CooperationFramework,
    Indicator,
    IndicatorMeasurement,
    JointActivity,
    JointProgramme,
    Output,
    ResultValue,
    SdgTarget,
    WorkflowEvent,
    WorkflowStatus,
)
from frameworks.services import ActivityData, FiguresData, MeasurementData, ResultData
from tests.coordination.factories import (
    AgencyFactory,
    CountryTeamFactory,
    MembershipFactory,
    TeamAgencyFactory,
    UserFactory,
)
from tests.frameworks.factories import (
    CommonChapterAreaFactory,
    FrameworkFactory,
    IndicatorFactory,
    JointProgrammeFactory,
    OutcomeFactory,
    OutputFactory,
    SdgTargetFactory,
)

_EVER_VALIDATED = (WorkflowStatus.VALIDATED, WorkflowStatus.SUPERSEDED)


class AdminRegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AdminRegion
        django_get_or_create = ("country_team", "code")

    country_team = factory.SubFactory(CountryTeamFactory)
    code = factory.Sequence(lambda n: f"R{n}")
    name = factory.LazyAttribute(lambda r: f"Region {r.code}")


class JointActivityFactory(factory.django.DjangoModelFactory):
    """An activity led by `agency` with one partner, one output, one SDG target."""

    class Meta:
        model = JointActivity
        skip_postgeneration_save = True

    country_team = factory.SubFactory(CountryTeamFactory)
    framework = factory.SubFactory(
        FrameworkFactory, country_team=factory.SelfAttribute("..country_team")
    )
    agency = factory.SubFactory(AgencyFactory)
    title = factory.Sequence(lambda n: f"Joint activity {n}")
    start_date = factory.LazyAttribute(
        lambda a: datetime.date(a.framework.start_year, 3, 1)
    )
    end_date = factory.LazyAttribute(
        lambda a: datetime.date(a.framework.start_year + 1, 6, 30)
    )
    gender_marker = 2
    human_rights_marker = 1
    target_groups = factory.LazyFunction(lambda: ["women_girls"])
    status = WorkflowStatus.DRAFT
    validated_at = factory.LazyAttribute(
        lambda a: timezone.now() if a.status in _EVER_VALIDATED else None
    )

    @factory.post_generation
    def agencies(self, create: bool, extracted: list[Agency] | None, **_: Any) -> None:
        if not create:
            return
        agencies = (
            extracted if extracted is not None else [self.agency, AgencyFactory()]
        )
        for agency in agencies:
            TeamAgencyFactory(country_team=self.country_team, agency=agency)
        self.agencies.set(agencies)

    @factory.post_generation
    def outputs(self, create: bool, extracted: list[Output] | None, **_: Any) -> None:
        if not create:
            return
        if extracted is None:
            extracted = [OutputFactory(outcome__framework=self.framework)]
        self.outputs.set(extracted)

    @factory.post_generation
    def sdg_targets(
        self, create: bool, extracted: list[SdgTarget] | None, **_: Any
    ) -> None:
        if create:
            self.sdg_targets.set(
                extracted if extracted is not None else [SdgTargetFactory()]
            )

    @factory.post_generation
    def locations(
        self, create: bool, extracted: list[AdminRegion] | None, **_: Any
    ) -> None:
        if create:
            self.locations.set(
                extracted
                if extracted is not None
                else [AdminRegionFactory(country_team=self.country_team)]
            )


class ContributionRevisionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContributionRevision

    contribution = None
    number = 1
    status = WorkflowStatus.DRAFT
    required = Decimal("1000")
    available = Decimal("800")
    spent = Decimal("500")
    funding_source = "Joint SDG Fund"


class ContributionFactory(factory.django.DjangoModelFactory):
    """A contribution with revision 1 in `status` (validated: also in force)."""

    class Meta:
        model = Contribution

    activity = factory.SubFactory(JointActivityFactory)
    country_team = factory.SelfAttribute("activity.country_team")
    agency = factory.SelfAttribute("activity.agency")
    year = factory.LazyAttribute(lambda c: c.activity.start_date.year)
    status = WorkflowStatus.DRAFT
    required = Decimal("1000")
    available = Decimal("800")
    spent = Decimal("500")
    funding_source = "Joint SDG Fund"

    @classmethod
    def _create(cls, model_class: type[Contribution], *args: Any, **kwargs: Any):
        figures = {
            name: kwargs.pop(name)
            for name in ("status", "required", "available", "spent", "funding_source")
        }
        contribution = super()._create(model_class, *args, **kwargs)
        revision = ContributionRevisionFactory(contribution=contribution, **figures)
        contribution.current_revision = revision
        if revision.status == WorkflowStatus.VALIDATED:
            contribution.validated_revision = revision
        contribution.save(update_fields=["current_revision", "validated_revision"])
        return contribution


class ResultValueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ResultValue

    revision = None
    indicator = factory.SubFactory(IndicatorFactory)
    value = Decimal("100")


class IndicatorMeasurementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IndicatorMeasurement

    indicator = factory.SubFactory(IndicatorFactory)
    country_team = factory.LazyAttribute(lambda m: m.indicator.framework.country_team)
    agency = None
    year = factory.LazyAttribute(lambda m: m.indicator.framework.start_year)
    value = Decimal("10")
    source = "Household survey"
    status = WorkflowStatus.DRAFT
    validated_at = factory.LazyAttribute(
        lambda m: timezone.now() if m.status in _EVER_VALIDATED else None
    )


# --- a country team ready for joint work ----------------------------------------


@dataclass
class JointWorkWorld:
    """Somalia (SOM) with an active framework around today, and Nigeria (NGA).

    UNDP, UNICEF and WFP are in both teams; FAO in neither. Output 1 (contributed
    by UNDP and UNICEF) carries a number indicator broken down by sex, a percentage
    and a yes/no indicator; output 2 (WFP) one number indicator.
    """

    team: CountryTeam
    other_team: CountryTeam
    framework: CooperationFramework
    other_framework: CooperationFramework
    undp: Agency
    unicef: Agency
    wfp: Agency
    fao: Agency
    output: Output
    output_wfp: Output
    other_output: Output
    number_indicator: Indicator
    percentage_indicator: Indicator
    yes_no_indicator: Indicator
    wfp_indicator: Indicator
    outcome_indicator: Indicator
    sdg_target: SdgTarget
    sdg_target_2: SdgTarget
    area: CommonChapterArea
    region: AdminRegion
    other_region: AdminRegion
    programme: JointProgramme
    other_programme: JointProgramme
    rc: User
    rco: User
    fp_undp: User
    fp_undp_2: User
    fp_unicef: User
    fp_wfp: User
    fp_undp_other_team: User
    rc_other_team: User
    rco_other_team: User
    board_member: User
    administrator: User
    outsider: User

    @property
    def year(self) -> int:
        """A year inside both the framework and the default activity dates."""
        return self.framework.start_year


def _member(team: CountryTeam, role: str, agency: Agency | None = None) -> User:
    return MembershipFactory(country_team=team, role=role, agency=agency).user


def build_world() -> JointWorkWorld:
    """Create two country teams with frameworks, reference data and people."""
    this_year = timezone.localdate().year
    team = CountryTeamFactory(code="SOM", name="Somalia", iso_alpha2="SO")
    other_team = CountryTeamFactory(code="NGA", name="Nigeria", iso_alpha2="NG")
    undp = AgencyFactory(code="UNDP")
    unicef = AgencyFactory(code="UNICEF")
    wfp = AgencyFactory(code="WFP")
    fao = AgencyFactory(code="FAO")
    for agency in (undp, unicef, wfp):
        TeamAgencyFactory(country_team=team, agency=agency)
        TeamAgencyFactory(country_team=other_team, agency=agency)
    framework = FrameworkFactory(
        country_team=team, start_year=this_year - 2, end_year=this_year + 2
    )
    other_framework = FrameworkFactory(
        country_team=other_team, start_year=this_year - 2, end_year=this_year + 2
    )
    outcome = OutcomeFactory(framework=framework)
    output = OutputFactory(outcome=outcome)
    output.contributing_agencies.set([undp, unicef])
    output_wfp = OutputFactory(outcome=outcome)
    output_wfp.contributing_agencies.set([wfp])
    other_output = OutputFactory(outcome=OutcomeFactory(framework=other_framework))
    return JointWorkWorld(
        team=team,
        other_team=other_team,
        framework=framework,
        other_framework=other_framework,
        undp=undp,
        unicef=unicef,
        wfp=wfp,
        fao=fao,
        output=output,
        output_wfp=output_wfp,
        other_output=other_output,
        number_indicator=IndicatorFactory(
            output=output, code="CHILDREN-VACC", disaggregations=["sex"]
        ),
        percentage_indicator=IndicatorFactory(
            output=output, code="SCHOOL-PCT", unit="percentage"
        ),
        yes_no_indicator=IndicatorFactory(
            output=output,
            code="POLICY-ADOPTED",
            unit="yes_no",
            baseline_value=Decimal("0"),
            target_value=Decimal("1"),
        ),
        wfp_indicator=IndicatorFactory(output=output_wfp, code="MEALS"),
        outcome_indicator=IndicatorFactory(
            output=None,
            outcome=outcome,
            framework=framework,
            code="STUNTING",
            disaggregations=["sex", "location"],
        ),
        sdg_target=SdgTargetFactory(code="5.2"),
        sdg_target_2=SdgTargetFactory(code="3.1"),
        area=CommonChapterAreaFactory(position=4, code="CC4", name="Gender equality"),
        region=AdminRegionFactory(country_team=team, code="SO-BN", name="Banaadir"),
        other_region=AdminRegionFactory(
            country_team=other_team, code="NG-LA", name="Lagos"
        ),
        programme=JointProgrammeFactory(country_team=team, convening_agency=undp),
        other_programme=JointProgrammeFactory(
            country_team=other_team, convening_agency=undp
        ),
        rc=_member(team, Role.RESIDENT_COORDINATOR),
        rco=_member(team, Role.RC_OFFICE),
        fp_undp=_member(team, Role.FOCAL_POINT, undp),
        fp_undp_2=_member(team, Role.FOCAL_POINT, undp),
        fp_unicef=_member(team, Role.FOCAL_POINT, unicef),
        fp_wfp=_member(team, Role.FOCAL_POINT, wfp),
        fp_undp_other_team=_member(other_team, Role.FOCAL_POINT, undp),
        rc_other_team=_member(other_team, Role.RESIDENT_COORDINATOR),
        rco_other_team=_member(other_team, Role.RC_OFFICE),
        board_member=UserFactory(is_board_member=True),
        administrator=UserFactory(is_superuser=True, is_staff=True),
        outsider=UserFactory(),
    )


def activity_data(world: JointWorkWorld, **overrides: Any) -> ActivityData:
    """Input for a UNDP-led activity with UNICEF that passes every check."""
    values: dict[str, Any] = {
        "title": "Ending violence against women and girls in Banaadir",
        "description": "Joint prevention and response services.",
        "agency": world.undp,
        "agencies": [world.undp, world.unicef],
        "outputs": [world.output],
        "start_date": datetime.date(world.framework.start_year, 3, 1),
        "end_date": datetime.date(world.framework.start_year + 1, 6, 30),
        "joint_programme": world.programme,
        "sdg_targets": [world.sdg_target],
        "common_chapter_areas": [world.area],
        "gender_marker": 3,
        "human_rights_marker": 2,
        "target_groups": ["women_girls", "youth"],
        "locations": [world.region],
        "implementation_status": "ongoing",
    }
    values.update(overrides)
    return ActivityData(**values)


def figures_data(world: JointWorkWorld, **overrides: Any) -> FiguresData:
    """Input for one year's figures, with a sex breakdown that adds up."""
    values: dict[str, Any] = {
        "required": Decimal("100000"),
        "available": Decimal("80000"),
        "spent": Decimal("50000"),
        "funding_source": "Spotlight Initiative",
        "implementing_partners": "Ministry of Women and Human Rights Development",
        "reach": 1200,
        "results": [
            ResultData(
                indicator=world.number_indicator,
                value=Decimal("100"),
                disaggregation={"sex": {"female": 60, "male": 40}},
            ),
            ResultData(
                indicator=world.percentage_indicator,
                numerator=Decimal("45"),
                denominator=Decimal("60"),
            ),
        ],
    }
    values.update(overrides)
    return FiguresData(**values)


def measurement_data(world: JointWorkWorld, **overrides: Any) -> MeasurementData:
    """Input for a yearly value of the number indicator with its sex breakdown."""
    values: dict[str, Any] = {
        "year": world.year,
        "value": Decimal("250"),
        "disaggregation": {"sex": {"female": 130, "male": 120}},
        "source": "Ministry of Health immunisation registry",
    }
    values.update(overrides)
    return MeasurementData(**values)


def count_rows() -> dict[str, int]:
    """Row counts of every table a joint-work service writes to."""
    return {
        model.__name__: model.objects.count()
        for model in (
            JointActivity,
            Contribution,
            ContributionRevision,
            ResultValue,
            IndicatorMeasurement,
            WorkflowEvent,
        )
    }
