"""Every write to frameworks data, one module per concern."""

from frameworks.services.framework import (
    IndicatorSpec,
    create_framework,
    create_indicator,
    create_joint_programme,
    create_outcome,
    create_output,
    create_strategic_priority,
    sign_off_framework,
)

__all__ = [
    "IndicatorSpec",
    "create_framework",
    "create_indicator",
    "create_joint_programme",
    "create_outcome",
    "create_output",
    "create_strategic_priority",
    "sign_off_framework",
]
