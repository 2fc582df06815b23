"""What: SDGs, the common chapter, Cooperation Frameworks and joint work."""

from frameworks.models.common_chapter import (
    CommitmentKind,
    CommitmentStatus,
    CommonChapterArea,
    CommonChapterCommitment,
)
from frameworks.models.framework import (
    Aggregation,
    CooperationFramework,
    Dimension,
    FrameworkStatus,
    Indicator,
    IndicatorDirection,
    IndicatorUnit,
    Outcome,
    Output,
    StrategicPriority,
)
from frameworks.models.programmes import (
    GenderMarker,
    JointProgramme,
    JointProgrammeParticipant,
    ProgrammeStatus,
)
from frameworks.models.sdg import (
    REFERENCE_LANGUAGES,
    SdgGoal,
    SdgIndicator,
    SdgTarget,
    text_in_language,
)

__all__ = [
    "REFERENCE_LANGUAGES",
    "Aggregation",
    "CommitmentKind",
    "CommitmentStatus",
    "CommonChapterArea",
    "CommonChapterCommitment",
    "CooperationFramework",
    "Dimension",
    "FrameworkStatus",
    "GenderMarker",
    "Indicator",
    "IndicatorDirection",
    "IndicatorUnit",
    "JointProgramme",
    "JointProgrammeParticipant",
    "Outcome",
    "Output",
    "ProgrammeStatus",
    "SdgGoal",
    "SdgIndicator",
    "SdgTarget",
    "StrategicPriority",
    "text_in_language",
]
