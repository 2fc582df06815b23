import pytest

from reporting.services import refresh_team_snapshot
from tests.frameworks.factories import OutputFactory, ParticipantFactory

pytestmark = pytest.mark.django_db


def test_refresh_team_snapshot_counts_active_framework(team):
    output = OutputFactory(outcome__framework__country_team=team)
    ParticipantFactory(programme__country_team=team)
    snapshot = refresh_team_snapshot(team_id=team.pk)
    assert (snapshot.outcome_count, snapshot.output_count) == (1, 1)
    assert snapshot.programme_count == 1
    assert output.framework.country_team == team
