"""Demo data for a fresh portal: see seed.py and the YAML files beside it."""

from frameworks.demo.seed import (
    TEAM_STEPS,
    DemoAccount,
    DemoDataError,
    DemoResult,
    TeamContext,
    seed_demo,
)

__all__ = [
    "TEAM_STEPS",
    "DemoAccount",
    "DemoDataError",
    "DemoResult",
    "TeamContext",
    "seed_demo",
]
