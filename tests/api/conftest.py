"""Fixtures for API tests: the joint-work world, clients signed in as each role,
and JSON bodies that pass every check."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from frameworks.models import JointActivity
from tests.frameworks.joint_work_factories import JointWorkWorld, build_world

# Every kind of caller the permission matrix covers, by JointWorkWorld attribute.
ROLES = [
    "rc",
    "rco",
    "fp_undp",
    "fp_unicef",
    "fp_undp_other_team",
    "board_member",
    "administrator",
    "outsider",
    "anonymous",
]


@pytest.fixture
def world(db) -> JointWorkWorld:
    return build_world()


@pytest.fixture
def client_as() -> Callable[[Any], APIClient]:
    """An API client signed in as the user (anonymous for None)."""

    def sign_in(user: Any) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return sign_in


def user_of(world: JointWorkWorld, role: str) -> Any:
    return None if role == "anonymous" else getattr(world, role)


def activity_body(world: JointWorkWorld, **overrides: Any) -> dict[str, Any]:
    """A UNDP-led activity with UNICEF in Somalia that passes every check."""
    body = {
        "country_team": world.team.code,
        "title": "Ending violence against women and girls in Banaadir",
        "description": "Joint prevention and response services.",
        "agency": "UNDP",
        "agencies": ["UNDP", "UNICEF"],
        "outputs": [world.output.pk],
        "start_date": f"{world.framework.start_year}-03-01",
        "end_date": f"{world.framework.start_year + 1}-06-30",
        "joint_programme": world.programme.pk,
        "sdg_targets": [world.sdg_target.code],
        "common_chapter_areas": [world.area.code],
        "gender_marker": 3,
        "human_rights_marker": 2,
        "target_groups": ["women_girls", "youth"],
        "locations": [world.region.code],
        "implementation_status": "ongoing",
    }
    body.update(overrides)
    return body


def figures_body(world: JointWorkWorld, **overrides: Any) -> dict[str, Any]:
    """One year's figures with a sex breakdown that adds up."""
    body = {
        "required": "100000.00",
        "available": "80000.00",
        "spent": "50000.00",
        "funding_source": "Spotlight Initiative",
        "implementing_partners": "Ministry of Women and Human Rights Development",
        "reach": 1200,
        "results": [
            {
                "indicator": world.number_indicator.code,
                "value": "100",
                "disaggregation": {"sex": {"female": 60, "male": 40}},
            },
            {
                "indicator": world.percentage_indicator.code,
                "numerator": "45",
                "denominator": "60",
            },
        ],
    }
    body.update(overrides)
    return body


def contribution_body(
    world: JointWorkWorld, activity: JointActivity, **overrides: Any
) -> dict[str, Any]:
    body = {
        "activity": activity.pk,
        "agency": "UNDP",
        "year": world.year,
        **figures_body(world),
    }
    body.update(overrides)
    return body


def measurement_body(world: JointWorkWorld, **overrides: Any) -> dict[str, Any]:
    """UNDP's yearly value of the number indicator, with its sex breakdown."""
    body = {
        "indicator": world.number_indicator.pk,
        "agency": "UNDP",
        "year": world.year,
        "value": "250",
        "disaggregation": {"sex": {"female": 130, "male": 120}},
        "source": "Ministry of Health immunisation registry",
    }
    body.update(overrides)
    return body
