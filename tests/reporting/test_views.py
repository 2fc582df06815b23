"""The home page's attention list and the team page's links to joint work."""

import pytest
from django.urls import reverse

from tests.frameworks.joint_work_factories import (
    ContributionFactory,
    IndicatorMeasurementFactory,
    JointActivityFactory,
    build_world,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_world()


def _activity(world, **kwargs):
    values = {
        "country_team": world.team,
        "framework": world.framework,
        "agency": world.undp,
        "agencies": [world.undp, world.unicef],
        "outputs": [world.output],
    }
    return JointActivityFactory(**values | kwargs)


def test_home_tells_coordinators_how_many_submissions_await_them(client, world):
    activity = _activity(world, status="submitted")
    ContributionFactory(activity=activity, status="submitted")
    IndicatorMeasurementFactory(indicator=world.number_indicator, status="submitted")
    JointActivityFactory(
        country_team=world.other_team,
        framework=world.other_framework,
        status="submitted",
    )
    client.force_login(world.rco)
    response = client.get(reverse("reporting:home"))
    html = response.content.decode()
    assert "3 submissions await your validation." in html
    assert reverse("frameworks:my_work") in html
    first = response.context["home"].attention[0]
    assert first.is_action
    assert first.team == world.team


def test_home_leaves_out_validation_when_nothing_is_submitted(client, world):
    _activity(world, status="draft")
    client.force_login(world.rc)
    html = client.get(reverse("reporting:home")).content.decode()
    assert "await your validation" not in html


def test_home_tells_focal_points_what_was_returned(client, world):
    activity = _activity(world, status="returned")
    ContributionFactory(activity=activity, status="returned")
    ContributionFactory(
        activity=activity, agency=world.unicef, status="returned", year=world.year + 1
    )
    client.force_login(world.fp_undp)
    html = client.get(reverse("reporting:home")).content.decode()
    assert "What needs your attention" in html
    assert "2 UNDP records were returned to you with a comment." in html
    client.force_login(world.fp_unicef)
    html = client.get(reverse("reporting:home")).content.decode()
    assert "1 UNICEF record was returned to you with a comment." in html
    client.force_login(world.fp_wfp)
    html = client.get(reverse("reporting:home")).content.decode()
    assert "Nothing needs your attention right now." in html


def test_home_links_focal_points_to_their_activities(client, world):
    client.force_login(world.fp_undp)
    html = client.get(reverse("reporting:home")).content.decode()
    assert reverse("frameworks:activity_create", kwargs={"code": "SOM"}) in html
    assert f"/teams/SOM/activities/?agency={world.undp.pk}" in html


def test_team_page_links_joint_work(client, world):
    team_url = reverse("reporting:team_detail", kwargs={"code": "SOM"})
    activities = reverse("frameworks:activity_list", kwargs={"code": "SOM"})
    create = reverse("frameworks:activity_create", kwargs={"code": "SOM"})
    client.force_login(world.fp_undp)
    html = client.get(team_url).content.decode()
    assert activities in html
    assert create in html
    assert "/teams/SOM/import/" in html
    client.force_login(world.rco)
    html = client.get(team_url).content.decode()
    assert activities in html
    assert create not in html
    assert "/teams/SOM/import/" not in html
