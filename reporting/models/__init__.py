"""Reporting models: derived rollups and the report files built from them.

Each module holds one concern; this package re-exports them so that
`from reporting.models import FundingRollup` keeps working.
"""

from reporting.models import coherence  # noqa: F401 (registers its tables)
from reporting.models.report_files import ReportFile, ReportKind, ReportStatus
from reporting.models.rollups import (
    Basis,
    FundingFigures,
    FundingRollup,
    IndicatorProgress,
    OutcomeFundingRollup,
    ProgressStatus,
    RollupRequest,
    RollupState,
    TagFundingRollup,
    TagKind,
    TeamFundingRollup,
    TeamSnapshot,
)

__all__ = [
    "Basis",
    "FundingFigures",
    "FundingRollup",
    "IndicatorProgress",
    "OutcomeFundingRollup",
    "ProgressStatus",
    "ReportFile",
    "ReportKind",
    "ReportStatus",
    "RollupRequest",
    "RollupState",
    "TagFundingRollup",
    "TagKind",
    "TeamFundingRollup",
    "TeamSnapshot",
]
