import datetime
from decimal import Decimal

import factory

from frameworks.models import (
    CommonChapterArea,
    CooperationFramework,
    Indicator,
    JointProgramme,
    JointProgrammeParticipant,
    Outcome,
    Output,
    SdgGoal,
    SdgTarget,
)
from tests.coordination.factories import AgencyFactory, CountryTeamFactory


class SdgGoalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SdgGoal
        django_get_or_create = ("number",)

    number = 1
    titles = factory.LazyAttribute(lambda g: {"en": f"Goal {g.number}"})
    short_titles = factory.LazyAttribute(lambda g: {"en": f"Goal {g.number}"})


class SdgTargetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SdgTarget
        django_get_or_create = ("code",)

    goal = factory.SubFactory(SdgGoalFactory)
    code = factory.Sequence(lambda n: f"1.{n + 1}")
    sort_key = factory.Sequence(lambda n: n)
    titles = factory.LazyAttribute(lambda t: {"en": f"Target {t.code}"})


class CommonChapterAreaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CommonChapterArea
        django_get_or_create = ("code",)

    position = factory.Sequence(lambda n: n + 1)
    code = factory.LazyAttribute(lambda a: f"CC{a.position}")
    name = factory.LazyAttribute(lambda a: f"Area {a.position}")


class FrameworkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CooperationFramework

    country_team = factory.SubFactory(CountryTeamFactory)
    title = factory.LazyAttribute(
        lambda f: f"{f.country_team.name} Cooperation Framework"
    )
    start_year = 2021
    end_year = 2025
    status = "active"


class OutcomeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Outcome

    framework = factory.SubFactory(FrameworkFactory)
    code = factory.Sequence(lambda n: f"OC{n}")
    statement = factory.Faker("sentence")


class OutputFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Output

    outcome = factory.SubFactory(OutcomeFactory)
    framework = factory.SelfAttribute("outcome.framework")
    code = factory.Sequence(lambda n: f"OP{n}")
    statement = factory.Faker("sentence")


class IndicatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Indicator

    output = factory.SubFactory(OutputFactory)
    outcome = None
    framework = factory.SelfAttribute("output.framework")
    code = factory.Sequence(lambda n: f"IND{n}")
    name = factory.Faker("sentence")
    baseline_value = Decimal("10")
    baseline_year = 2020
    target_value = Decimal("50")
    target_year = 2025


class JointProgrammeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = JointProgramme

    country_team = factory.SubFactory(CountryTeamFactory)
    title = factory.Sequence(lambda n: f"Joint programme {n}")
    fund = "Joint SDG Fund"
    convening_agency = factory.SubFactory(AgencyFactory)
    start_date = datetime.date(2022, 1, 1)
    end_date = datetime.date(2024, 12, 31)
    status = "active"


class ParticipantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = JointProgrammeParticipant

    programme = factory.SubFactory(JointProgrammeFactory)
    agency = factory.SubFactory(AgencyFactory)
    budget_share = Decimal("100000")
