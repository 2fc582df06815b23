"""Demo links from joint work to the agencies' strategic plans.

strategic_plans.yml names, per team, the outputs of their own plan that agencies
link their contributions to, and the plan outputs the RC office aligns framework
outputs with. The links go through the same services as the portal, after the
team's joint work is seeded.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from frameworks.models import Contribution, StrategicPlan, StrategicPlanOutput
from frameworks.services.strategic_plans import (
    set_contribution_plan_outputs,
    set_framework_output_plan_outputs,
)

if TYPE_CHECKING:
    from frameworks.demo.seed import Spec, TeamContext

STRATEGIC_PLANS_FILE = Path(__file__).resolve().parent / "strategic_plans.yml"


def read_plan_links(team_code: str) -> dict[str, Any]:
    """Return the demo links of a team, or nothing if it has none."""
    with STRATEGIC_PLANS_FILE.open(encoding="utf-8") as stream:
        return (yaml.safe_load(stream) or {}).get(team_code) or {}


class _PlanOutputs:
    """Plan outputs by (agency code, plan's first year, output code)."""

    def __init__(self) -> None:
        if not StrategicPlan.objects.exists():
            # Reference data loaded before the plans existed: load them now.
            from frameworks.strategic_plan_reference import load_strategic_plans

            load_strategic_plans()
        self.rows = {
            (o.plan.agency.code, o.plan.start_year, o.code): o
            for o in StrategicPlanOutput.objects.select_related("plan__agency")
        }

    def find(self, where: str, agency: str, start: object, codes: Any) -> list:
        from frameworks.demo.seed import DemoDataError

        found = []
        for code in codes:
            key = (agency, int(str(start)), code)
            if not isinstance(code, str) or key not in self.rows:
                raise DemoDataError(
                    f"{where}: no output {code!r} in the {agency} plan from {start}."
                )
            found.append(self.rows[key])
        return found


def seed_strategic_plan_links(*, ctx: TeamContext, spec: Spec) -> None:
    """Link the team's demo contributions and framework outputs to the plans."""
    from frameworks.demo.seed import DemoDataError

    links = read_plan_links(ctx.team.code)
    if not links:
        return
    outputs = _PlanOutputs()
    for entry in links.get("contributions", ()):
        where = f"{ctx.team.code} {entry['activity']} {entry['agency']}"
        by_plan: Mapping[str, Any] = entry["outputs"]
        contributions = Contribution.objects.filter(
            country_team=ctx.team,
            activity__external_ref=entry["activity"],
            agency__code=entry["agency"],
        ).order_by("year")
        if not contributions:
            raise DemoDataError(f"{where}: no such contributions in the demo.")
        wanted = {
            int(str(start)): outputs.find(where, entry["agency"], start, codes)
            for start, codes in by_plan.items()
        }
        for contribution in contributions:
            for plan_outputs in wanted.values():
                if plan_outputs[0].plan.covers(contribution.year):
                    set_contribution_plan_outputs(
                        actor=None,
                        contribution=contribution,
                        plan_outputs=plan_outputs,
                    )
                    break
    for entry in links.get("framework_outputs", ()):
        where = f"{ctx.team.code} framework output {entry['output']}"
        key = entry.get("framework", ctx.current_framework)
        output = ctx.outputs.get((key, entry["output"]))
        if output is None:
            raise DemoDataError(f"{where}: no such output in framework {key!r}.")
        plan_outputs = []
        for plan, codes in entry["plan_outputs"].items():
            agency, start = str(plan).rsplit(" ", 1)
            plan_outputs += outputs.find(where, agency, start, codes)
        set_framework_output_plan_outputs(
            actor=None, output=output, plan_outputs=plan_outputs
        )
