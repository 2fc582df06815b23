"""Fuzz the OpenAPI schema against a live server: no request may yield a 5xx, and
every answer must be one the schema documents, in the shape it documents.

Every operation, reads and writes alike, runs as a focal point with data in a
throwaway database, on loopback only. Examples are few and derandomised, so the
run is bounded (about 20 s) and repeatable; raise FUZZ_EXAMPLES and set FUZZ_RANDOM=1
to search harder with fresh seeds.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from coordination.services import rotate_api_token
from tests.frameworks.joint_work_factories import (
    ContributionFactory,
    IndicatorMeasurementFactory,
    JointActivityFactory,
    build_world,
)

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


@pytest.fixture
def fuzz_world(transactional_db) -> dict[str, Any]:
    """A focal point's token and ids of records they may see, some in each state."""
    world = build_world()
    activities = [
        JointActivityFactory(
            country_team=world.team,
            framework=world.framework,
            agency=world.undp,
            agencies=[world.undp, world.unicef],
            outputs=[world.output],
            sdg_targets=[world.sdg_target],
            locations=[world.region],
            status=status,
        )
        for status in ("draft", "submitted", "validated", "draft")
    ]
    contributions = [
        ContributionFactory(activity=activity, status=status)
        for activity, status in zip(
            activities, ("draft", "submitted", "validated", "returned"), strict=True
        )
    ]
    measurements = [
        IndicatorMeasurementFactory(
            indicator=world.number_indicator, agency=world.undp, status=status
        )
        for status in ("draft", "submitted", "validated")
    ]
    return {
        "user": world.fp_undp,
        "token": rotate_api_token(user=world.fp_undp).key,
        "ids": {
            "activities": [a.pk for a in activities],
            "contributions": [c.pk for c in contributions],
            "measurements": [m.pk for m in measurements],
            "frameworks": [world.framework.pk, world.other_framework.pk],
            "outcomes": [world.output.outcome_id],
            "outputs": [world.output.pk, world.other_output.pk],
            "indicators": [world.number_indicator.pk, world.outcome_indicator.pk],
        },
        "codes": {
            "teams": ["SOM", "NGA"],
            "agencies": ["UNDP", "FAO"],
            "sdg-targets": [world.sdg_target.code],
            "common-chapter-areas": [world.area.code],
        },
    }


def _aim_at_real_records(case: Any, fuzz_world: dict[str, Any]) -> None:
    """Point half the generated ids and codes at records that exist, so writes and
    workflow actions reach the services instead of stopping at a 404."""
    resource = case.operation.path.split("/")[2]
    parameters = case.path_parameters or {}
    for name, value in parameters.items():
        pool = fuzz_world["ids" if name == "id" else "codes"].get(resource)
        pick = sum(map(ord, str(value)))
        if pool and pick % 2 == 0:
            parameters[name] = pool[pick // 2 % len(pool)]


def test_api_answers_as_documented(live_server, fuzz_world, subtests):
    # The schemathesis pytest plugin's from_fixture() cannot run on pytest 9.2
    # (it rewrites Function._nodeid, which is gone), so each operation is driven
    # here with its strategies, one subtest per operation.
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/schema/?format=json")
    headers = {"Authorization": f"Token {fuzz_world['token']}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 40
    # Rotating or revoking the token would sign the rest of the run out: those
    # operations go last, and each call to them is followed by a fresh token.
    operations.sort(key=lambda op: op.path == "/api/auth/token/")

    for operation in operations:
        cases = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        )

        @given(case=cases)
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize="FUZZ_RANDOM" not in os.environ,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def answers_as_documented(case: Any) -> None:
            _aim_at_real_records(case, fuzz_world)
            case.call_and_validate(
                base_url=live_server.url, headers=headers, checks=CHECKS, timeout=10
            )
            if case.operation.path == "/api/auth/token/":
                token = rotate_api_token(user=fuzz_world["user"]).key
                headers["Authorization"] = f"Token {token}"

        with subtests.test(operation=operation.label):
            answers_as_documented()
