"""Every list endpoint runs a fixed number of queries, however many rows it shows.

Clients sign in with force_authenticate, so no query goes to sessions or tokens.
"""

from __future__ import annotations

import pytest

from tests.coordination.factories import AgencyFactory, TeamAgencyFactory
from tests.frameworks.factories import (
    CommonChapterAreaFactory,
    IndicatorFactory,
    OutcomeFactory,
    OutputFactory,
    SdgGoalFactory,
    SdgTargetFactory,
)
from tests.frameworks.joint_work_factories import (
    ContributionFactory,
    IndicatorMeasurementFactory,
    JointActivityFactory,
    ResultValueFactory,
)

pytestmark = pytest.mark.django_db


def _teams(world, rows):
    from tests.coordination.factories import CountryTeamFactory, MembershipFactory

    for _ in range(rows):
        team = CountryTeamFactory()
        TeamAgencyFactory(country_team=team, agency=AgencyFactory())
        MembershipFactory(country_team=team, user=world.administrator, role="rco")


def _agencies(world, rows):
    AgencyFactory.create_batch(rows)


def _goals(world, rows):
    for number in range(2, rows + 2):
        SdgTargetFactory(goal=SdgGoalFactory(number=number))


def _targets(world, rows):
    SdgTargetFactory.create_batch(rows)


def _areas(world, rows):
    CommonChapterAreaFactory.create_batch(rows)


def _frameworks(world, rows):
    from tests.frameworks.factories import FrameworkFactory

    for year in range(rows):
        framework = FrameworkFactory(
            country_team=world.team, status="closed", start_year=2000 + year
        )
        OutputFactory(outcome__framework=framework)


def _outcomes(world, rows):
    for _ in range(rows):
        outcome = OutcomeFactory(framework=world.framework)
        outcome.sdg_targets.set([world.sdg_target])
        outcome.lead_agencies.set([world.undp])


def _outputs(world, rows):
    for _ in range(rows):
        output = OutputFactory(outcome__framework=world.framework)
        output.contributing_agencies.set([world.undp, world.unicef])


def _indicators(world, rows):
    IndicatorFactory.create_batch(rows, output=world.output)


def _activities(world, rows):
    JointActivityFactory.create_batch(
        rows,
        country_team=world.team,
        framework=world.framework,
        agency=world.undp,
        agencies=[world.undp, world.unicef],
        outputs=[world.output],
        sdg_targets=[world.sdg_target],
        locations=[world.region],
    )


def _contributions(world, rows):
    for _ in range(rows):
        contribution = ContributionFactory(
            activity__country_team=world.team,
            activity__framework=world.framework,
            activity__agency=world.undp,
            activity__outputs=[world.output],
            status="validated",
        )
        ResultValueFactory(
            revision=contribution.current_revision, indicator=world.number_indicator
        )


def _measurements(world, rows):
    IndicatorMeasurementFactory.create_batch(
        rows, indicator=world.number_indicator, agency=world.undp
    )


# (path, how to add rows, queries: count + page + one per prefetched relation)
LISTS = [
    ("/api/teams/", _teams, 3),
    ("/api/agencies/", _agencies, 2),
    ("/api/sdg-goals/", _goals, 3),
    ("/api/sdg-targets/", _targets, 2),
    ("/api/common-chapter-areas/", _areas, 2),
    ("/api/frameworks/", _frameworks, 2),
    ("/api/outcomes/", _outcomes, 4),
    ("/api/outputs/", _outputs, 3),
    ("/api/indicators/", _indicators, 2),
    ("/api/activities/", _activities, 7),
    ("/api/contributions/", _contributions, 4),
    ("/api/measurements/", _measurements, 2),
]


@pytest.mark.parametrize("rows", [1, 10])
@pytest.mark.parametrize(
    ("path", "add_rows", "queries"), LISTS, ids=[path for path, *_ in LISTS]
)
def test_list_queries_do_not_grow(
    world, client_as, django_assert_num_queries, path, add_rows, queries, rows
):
    add_rows(world, rows)
    client = client_as(world.administrator)
    with django_assert_num_queries(queries):
        response = client.get(path)
    assert response.status_code == 200
    assert response.json()["count"] >= rows


@pytest.mark.parametrize("rows", [1, 10])
def test_scoped_list_queries_do_not_grow_for_a_focal_point(
    world, client_as, django_assert_num_queries, rows
):
    _contributions(world, rows)
    with django_assert_num_queries(4):
        response = client_as(world.fp_undp).get("/api/contributions/?status=validated")
    assert response.json()["count"] == rows
