"""CountryTeamScopedViewSet keeps every list inside the caller's teams, whatever a
subclass does."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from rest_framework import mixins
from rest_framework.test import APIRequestFactory, force_authenticate

from frameworks.api.serializers import IndicatorOutput, OutputOutput
from frameworks.models import Indicator, Output
from unportal.api import CountryTeamScopedViewSet

pytestmark = pytest.mark.django_db


def test_a_subclass_cannot_override_get_queryset():
    with pytest.raises(TypeError, match="scope_queryset"):

        class Leaky(CountryTeamScopedViewSet):
            def get_queryset(self):
                return Output.objects.all()


def _list(view_class, user):
    request = APIRequestFactory().get("/")
    force_authenticate(request, user)
    return view_class.as_view({"get": "list"})(request)


def test_the_scope_applies_even_when_scope_queryset_widens(world):
    class Widening(mixins.ListModelMixin, CountryTeamScopedViewSet):
        queryset = Output.objects.none()
        serializer_class = OutputOutput
        team_path = "framework__country_team"

        def scope_queryset(self, queryset):
            return Output.objects.select_related("framework__country_team", "outcome")

    codes = {row["id"] for row in _list(Widening, world.fp_undp).data["results"]}
    assert codes == {world.output.pk, world.output_wfp.pk}
    assert world.other_output.pk not in codes


def test_a_model_without_visible_to_needs_a_team_path(world):
    class Unscoped(mixins.ListModelMixin, CountryTeamScopedViewSet):
        queryset = Indicator.objects.all()
        serializer_class = IndicatorOutput

    with pytest.raises(ImproperlyConfigured, match="team_path"):
        _list(Unscoped, world.fp_undp)


def test_unknown_api_paths_answer_json_404(world, client_as):
    client = client_as(world.rco)
    for path in ("/api/nothing/", "/api/teams/som/", "/api/teams"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}


def test_paths_with_control_characters_answer_json_404(world, client_as):
    response = client_as(world.rco).get("/api/outputs/%C2%B3%0A/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
