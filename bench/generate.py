# ruff: noqa: S608 -- SQL here is assembled from model metadata and constants only.
"""Build the benchmark data set in PostgreSQL, fast and the same every time.

150 country teams with 10-25 of ~30 agencies and admin-1 regions; one active
Cooperation Framework each (2022-2026) with priorities, outcomes, outputs and
indicators; joint programmes; joint activities of 2-4 agencies on 1-3 outputs,
tagged with SDG targets and common-chapter areas; one contribution per agency per
year of each activity, with revisions in the workflow mixes of a real portal
(mostly validated; submitted, drafts and returned figures piling up in the
current year; some validated contributions with a revision 2 waiting); result
values and indicator measurements.

Services would take hours for a million contributions, so rows are written
straight into the tables with COPY ... FREEZE, in one transaction, into tables
truncated in that same transaction (the rows are born frozen and all-visible, as
after a VACUUM). Foreign keys are not checked row by row (replication role);
the generator makes them consistent by construction. Team sizes are skewed like
real country teams (a few very large ones), and every random choice comes from a
seeded generator, so one seed and size always give the same rows.

Usage: python -m bench.generate [--size N] [--seed S] [--regenerate]
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "unportal.settings")
django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Model  # noqa: E402

from bench import database  # noqa: E402
from coordination.models import (  # noqa: E402
    AdminRegion,
    Agency,
    AgencyKind,
    CountryTeam,
    CrisisContext,
    Region,
    TeamAgency,
    TeamStatus,
)
from frameworks.models import (  # noqa: E402
    Aggregation,
    CommitmentKind,
    CommitmentStatus,
    CommonChapterArea,
    CommonChapterCommitment,
    Contribution,
    ContributionRevision,
    CooperationFramework,
    FrameworkStatus,
    ImplementationStatus,
    Indicator,
    IndicatorDirection,
    IndicatorMeasurement,
    IndicatorUnit,
    JointActivity,
    JointProgramme,
    JointProgrammeParticipant,
    Outcome,
    Output,
    ProgrammeStatus,
    ResultValue,
    SdgIndicator,
    SdgTarget,
    StrategicPriority,
    TargetGroup,
    WorkflowStatus,
)

# Bump when the rows change, so an old data set of the same size is rebuilt.
GENERATOR_VERSION = 3
DEFAULT_SIZE = 100_000
DEFAULT_SEED = 2030
TEAM_COUNT = 150
YEARS = (2022, 2023, 2024, 2025, 2026)
CURRENT_YEAR = 2026
# Fixed, not today: the same seed must give the same timestamps on any day.
AS_OF = date(2026, 11, 15)
EPOCH = date(2021, 1, 1)
COPY_BATCH_BYTES = 16 * 1024 * 1024
NULL = r"\N"

# Reference data has 22 entities; these bring the bench to the ~30 that work in
# country teams.
EXTRA_AGENCIES = (
    ("ITU", "International Telecommunication Union", AgencyKind.SPECIALIZED_AGENCY),
    ("WMO", "World Meteorological Organization", AgencyKind.SPECIALIZED_AGENCY),
    ("UNCDF", "United Nations Capital Development Fund", AgencyKind.OTHER),
    ("UNV", "United Nations Volunteers", AgencyKind.OTHER),
    ("IAEA", "International Atomic Energy Agency", AgencyKind.OTHER),
    ("UNDRR", "UN Office for Disaster Risk Reduction", AgencyKind.SECRETARIAT),
    ("ECA", "Economic Commission for Africa", AgencyKind.SECRETARIAT),
    ("UNMAS", "United Nations Mine Action Service", AgencyKind.SECRETARIAT),
)
# How often an agency takes part in joint work, relative to the others.
AGENCY_WEIGHTS = {
    "UNDP": 10,
    "UNICEF": 9,
    "WFP": 6,
    "UNFPA": 6,
    "WHO": 6,
    "UN-Women": 5,
    "FAO": 5,
    "UNHCR": 4,
    "IOM": 3,
    "ILO": 3,
    "UNESCO": 3,
    "UNOPS": 2,
    "UNAIDS": 2,
    "UN-Habitat": 2,
    "UNEP": 2,
    "OHCHR": 2,
}
ALWAYS_PRESENT = ("UNDP", "UNICEF", "UNFPA", "WHO", "UN-Women", "WFP")
SIGNATORIES = ("UNDP", "UNFPA", "UNICEF", "UN-Women")

# Workflow mixes (weights in %) by how far back the year is: old years are
# closed, the current one is still being reported and reviewed.
#   V: validated r1; VV: r2 validated (r1 superseded); VS/VD/VR: r1 validated and
#   r2 submitted / draft / returned; S, D, R: r1 submitted / draft / returned.
KINDS = ("V", "VV", "VS", "VD", "VR", "S", "D", "R")
MIX_CLOSED = (88, 5, 2, 1, 0.5, 1.5, 1, 1)
MIX_LAST_YEAR = (74, 5, 4, 2, 1, 7, 4, 3)
MIX_CURRENT_YEAR = (45, 2, 5, 3, 1, 20, 19, 5)

FUNDING_SOURCES = (
    "Core resources",
    "Joint SDG Fund",
    "European Union",
    "Sweden (Sida)",
    "Germany (BMZ)",
    "United Kingdom (FCDO)",
    "Spotlight Initiative",
    "Peacebuilding Fund",
    "Global Fund",
    "Gavi",
    "World Bank",
    "Government cost-sharing",
    "Norway",
    "Japan",
    "Canada",
    "Central Emergency Response Fund",
)
PARTNERS = (
    "",
    "",
    "Ministry of Health",
    "Ministry of Education",
    "Ministry of Social Affairs",
    "National Statistics Office",
    "Red Crescent Society",
    "Women's rights network",
    "Local NGO consortium",
)
VERBS = (
    "Strengthen",
    "Scale up",
    "Support",
    "Expand",
    "Improve",
    "Build capacity for",
    "Pilot",
    "Integrate",
)
TOPICS = (
    "primary health care",
    "social protection",
    "school feeding",
    "climate-resilient agriculture",
    "gender-based violence response",
    "birth registration",
    "youth employment",
    "water and sanitation",
    "disaster risk reduction",
    "maternal health services",
    "disaggregated data systems",
    "local governance",
    "durable solutions for IDPs",
    "nutrition surveillance",
    "digital public services",
)
FUNDS = (
    "Joint SDG Fund",
    "Spotlight Initiative",
    "Peacebuilding Fund",
    "MPTF pass-through",
    "Humanitarian-development nexus fund",
    "",
)
REGION_WEIGHTS = {
    Region.AFRICA: 35,
    Region.ASIA_PACIFIC: 20,
    Region.LATIN_AMERICA_CARIBBEAN: 20,
    Region.ARAB_STATES: 12,
    Region.EUROPE_CENTRAL_ASIA: 13,
}


def _day_strings() -> list[str]:
    days = (AS_OF - EPOCH).days + 1
    return [(EPOCH + timedelta(days=n)).isoformat() for n in range(days)]


DAYS = _day_strings()
LAST_DAY = len(DAYS) - 1


def stamp(day: int) -> str:
    """A timestamp at 10:00 UTC, `day` days after EPOCH, never after AS_OF."""
    return DAYS[min(day, LAST_DAY)] + " 10:00:00+00"


def year_start(year: int) -> int:
    return (date(year, 1, 1) - EPOCH).days


def cents(amount: int) -> str:
    return f"{amount // 100}.{amount % 100:02d}"


def text(value: Any) -> str:
    return NULL if value is None else str(value)


# --- COPY buffers -----------------------------------------------------------------


class CopyTable:
    """Rows of one table, sent with COPY ... FREEZE whenever enough piled up."""

    def __init__(self, cursor: Any, table: str, columns: Sequence[str]) -> None:
        self.cursor = cursor
        self.table = table
        self.columns = tuple(columns)
        self.rows = 0
        self._lines: list[str] = []
        self._bytes = 0

    @classmethod
    def for_model(cls, cursor: Any, model: type[Model], fields: str) -> CopyTable:
        names = fields.replace(" at ", " created_at updated_at ").split()
        columns = [model._meta.get_field(name).column for name in names]
        return cls(cursor, model._meta.db_table, columns)

    @classmethod
    def for_link(cls, cursor: Any, model: type[Model], name: str) -> CopyTable:
        link = model._meta.get_field(name)
        return cls(
            cursor,
            link.m2m_db_table(),
            [link.m2m_column_name(), link.m2m_reverse_name()],
        )

    def add(self, *values: str) -> None:
        line = "\t".join(values) + "\n"
        self._lines.append(line)
        self._bytes += len(line)
        self.rows += 1
        if self._bytes >= COPY_BATCH_BYTES:
            self.flush()

    def flush(self) -> None:
        if not self._lines:
            return
        columns = ", ".join(connection.ops.quote_name(c) for c in self.columns)
        self.cursor.copy_expert(
            f"COPY {connection.ops.quote_name(self.table)} ({columns}) "
            "FROM STDIN WITH (FORMAT text, FREEZE true)",
            io.StringIO("".join(self._lines)),
        )
        self._lines = []
        self._bytes = 0


@dataclass
class Ids:
    """The next primary key of each table; the generator assigns them all."""

    last: dict[str, int] = field(default_factory=dict)

    def next(self, model: type[Model]) -> int:
        name = model._meta.db_table
        self.last[name] = self.last.get(name, 0) + 1
        return self.last[name]


# --- reference data ---------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    agency_ids: dict[str, int]
    agency_weights: dict[int, float]
    signatory_ids: frozenset[int]
    target_ids: list[int]
    indicators_by_target: dict[int, list[int]]
    area_ids: list[int]
    business_operations_id: int


def load_reference() -> Reference:
    call_command("load_reference_data", stdout=io.StringIO())
    existing = set(Agency.objects.values_list("code", flat=True))
    Agency.objects.bulk_create(
        Agency(code=code, name=name, kind=kind)
        for code, name, kind in EXTRA_AGENCIES
        if code not in existing
    )
    agency_ids = dict(Agency.objects.order_by("code").values_list("code", "id"))
    weights = {
        agency_id: float(AGENCY_WEIGHTS.get(code, 1))
        for code, agency_id in agency_ids.items()
    }
    indicators: dict[int, list[int]] = {}
    for target_id, indicator_id in SdgIndicator.objects.order_by("id").values_list(
        "target_id", "id"
    ):
        indicators.setdefault(target_id, []).append(indicator_id)
    areas = dict(
        CommonChapterArea.objects.order_by("position").values_list("code", "id")
    )
    return Reference(
        agency_ids=agency_ids,
        agency_weights=weights,
        signatory_ids=frozenset(agency_ids[code] for code in SIGNATORIES),
        target_ids=list(SdgTarget.objects.order_by("id").values_list("id", flat=True)),
        indicators_by_target=indicators,
        area_ids=[area_id for code, area_id in areas.items() if code != "BO"],
        business_operations_id=areas["BO"],
    )


# --- the generator ----------------------------------------------------------------


Reportable = tuple[int, bool, bool]


@dataclass
class TeamPlan:
    """What one team's framework offers the activities that follow."""

    team_id: int
    framework_id: int
    agency_ids: list[int]
    agency_weights: list[float]
    region_ids: list[int]
    programme_ids: list[int]
    outcomes: list[int] = field(default_factory=list)
    outcome_weights: list[float] = field(default_factory=list)
    outputs_by_outcome: dict[int, list[int]] = field(default_factory=dict)
    targets_by_outcome: dict[int, list[int]] = field(default_factory=dict)
    # Indicators an agency can report a result value for: (id, is_percentage,
    # is disaggregated by sex).
    result_indicators: dict[int, list[Reportable]] = field(default_factory=dict)
    output_agencies: dict[int, list[int]] = field(default_factory=dict)


@dataclass
class Counts:
    activities: int = 0
    contributions: int = 0
    revisions: int = 0
    by_kind: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))


class Generator:
    """Writes every team's rows; call `run` once inside a transaction."""

    def __init__(self, cursor: Any, reference: Reference, size: int, seed: int):
        self.ref = reference
        self.size = size
        self.seed = seed
        self.ids = Ids()
        self.counts = Counts()
        copy = CopyTable.for_model
        link = CopyTable.for_link
        # Field names in the order `add` gets the values; "at" stands for the
        # created_at and updated_at pair.
        self.tables = {
            "team": copy(
                cursor,
                CountryTeam,
                "id at code name iso_alpha2 region context status",
            ),
            "team_agency": copy(cursor, TeamAgency, "country_team agency is_resident"),
            "region": copy(cursor, AdminRegion, "id country_team code name"),
            "framework": copy(
                cursor,
                CooperationFramework,
                "id at country_team title start_year end_year status signed_off_at",
            ),
            "priority": copy(cursor, StrategicPriority, "id at framework code title"),
            "outcome": copy(
                cursor,
                Outcome,
                "id at framework strategic_priority code statement "
                "is_collective_outcome",
            ),
            "outcome_targets": link(cursor, Outcome, "sdg_targets"),
            "outcome_leads": link(cursor, Outcome, "lead_agencies"),
            "output": copy(cursor, Output, "id at framework outcome code statement"),
            "output_agencies": link(cursor, Output, "contributing_agencies"),
            "indicator": copy(
                cursor,
                Indicator,
                "id at framework outcome output code name unit direction "
                "baseline_value baseline_year target_value target_year "
                "across_periods across_agencies sdg_indicator disaggregations "
                "data_source",
            ),
            "programme": copy(
                cursor,
                JointProgramme,
                "id at country_team title fund convening_agency start_date "
                "end_date gender_marker status",
            ),
            "participant": copy(
                cursor, JointProgrammeParticipant, "programme agency budget_share"
            ),
            "programme_outcomes": link(cursor, JointProgramme, "outcomes"),
            "programme_targets": link(cursor, JointProgramme, "sdg_targets"),
            "commitment": copy(
                cursor,
                CommonChapterCommitment,
                "id at country_team area kind title description year status",
            ),
            "commitment_agencies": link(cursor, CommonChapterCommitment, "agencies"),
            "activity": copy(
                cursor,
                JointActivity,
                "id at country_team framework joint_programme title description "
                "agency gender_marker human_rights_marker target_groups "
                "start_date end_date implementation_status status version "
                "revision external_ref validated_at",
            ),
            "activity_outputs": link(cursor, JointActivity, "outputs"),
            "activity_agencies": link(cursor, JointActivity, "agencies"),
            "activity_targets": link(cursor, JointActivity, "sdg_targets"),
            "activity_areas": link(cursor, JointActivity, "common_chapter_areas"),
            "activity_locations": link(cursor, JointActivity, "locations"),
            "contribution": copy(
                cursor,
                Contribution,
                "id at country_team activity agency year current_revision "
                "validated_revision external_ref version",
            ),
            "revision": copy(
                cursor,
                ContributionRevision,
                "id at contribution number status required available spent "
                "funding_source implementing_partners reach submitted_at "
                "reviewed_at return_comment",
            ),
            "result": copy(
                cursor,
                ResultValue,
                "revision indicator value numerator denominator disaggregation",
            ),
            "measurement": copy(
                cursor,
                IndicatorMeasurement,
                "id at country_team indicator agency year period_label value "
                "numerator denominator text_value disaggregation source status "
                "return_comment validated_at version",
            ),
        }

    # --- sizes -------------------------------------------------------------------

    def team_quotas(self, rng: random.Random) -> list[int]:
        """Contributions per team: log-normal shares, summing exactly to size."""
        weights = [rng.lognormvariate(0, 0.7) for _ in range(TEAM_COUNT)]
        total = sum(weights)
        exact = [self.size * w / total for w in weights]
        quotas = [math.floor(x) for x in exact]
        by_remainder = sorted(
            range(TEAM_COUNT), key=lambda i: exact[i] - quotas[i], reverse=True
        )
        for i in by_remainder[: self.size - sum(quotas)]:
            quotas[i] += 1
        return quotas

    def run(self) -> Counts:
        master = random.Random(self.seed)
        quotas = self.team_quotas(master)
        codes = sorted(master.sample(range(26**3), TEAM_COUNT))
        for index, (code_number, quota) in enumerate(zip(codes, quotas, strict=True)):
            rng = random.Random(f"{self.seed}:{index}")
            plan = self.team(rng, code_number)
            self.framework(rng, plan)
            self.programmes(rng, plan)
            self.commitments(rng, plan)
            self.activities(rng, plan, quota)
        for table in self.tables.values():
            table.flush()
        return self.counts

    # --- teams and frameworks ----------------------------------------------------

    def team(self, rng: random.Random, code_number: int) -> TeamPlan:
        letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        code = (
            letters[code_number // 676]
            + letters[code_number // 26 % 26]
            + letters[code_number % 26]
        )
        team_id = self.ids.next(CountryTeam)
        region = rng.choices(list(REGION_WEIGHTS), list(REGION_WEIGHTS.values()))[0]
        context = rng.choices(
            [
                CrisisContext.DEVELOPMENT,
                CrisisContext.HUMANITARIAN,
                CrisisContext.PROTRACTED_CRISIS,
            ],
            [70, 15, 15],
        )[0]
        created = stamp(rng.randrange(0, 300))
        self.tables["team"].add(
            str(team_id),
            created,
            created,
            code,
            f"Country {code}",
            code[:2],
            region,
            context,
            TeamStatus.ACTIVE,
        )
        ref = self.ref
        always = [ref.agency_ids[c] for c in ALWAYS_PRESENT]
        others = [a for a in ref.agency_ids.values() if a not in always]
        agencies = always + rng.sample(others, rng.randint(4, 19))
        for agency_id in agencies:
            self.tables["team_agency"].add(
                str(team_id), str(agency_id), "t" if rng.random() < 0.8 else "f"
            )
        regions = []
        for n in range(1, rng.randint(6, 30) + 1):
            region_id = self.ids.next(AdminRegion)
            regions.append(region_id)
            self.tables["region"].add(
                str(region_id), str(team_id), f"{code}-{n:02d}", f"Province {n}"
            )
        framework_id = self.ids.next(CooperationFramework)
        self.tables["framework"].add(
            str(framework_id),
            created,
            stamp(year_start(YEARS[0]) - 20),
            str(team_id),
            f"Cooperation Framework {code} {YEARS[0]}-{YEARS[-1]}",
            str(YEARS[0]),
            str(YEARS[-1]),
            FrameworkStatus.ACTIVE,
            stamp(year_start(YEARS[0]) - 20),
        )
        return TeamPlan(
            team_id=team_id,
            framework_id=framework_id,
            agency_ids=agencies,
            agency_weights=[ref.agency_weights[a] for a in agencies],
            region_ids=regions,
            programme_ids=[],
        )

    def framework(self, rng: random.Random, plan: TeamPlan) -> None:
        t = self.tables
        created = stamp(year_start(YEARS[0]) - 60)
        framework = str(plan.framework_id)
        priorities = []
        for p in range(1, rng.randint(3, 5) + 1):
            priority_id = self.ids.next(StrategicPriority)
            priorities.append(priority_id)
            t["priority"].add(
                str(priority_id),
                created,
                created,
                framework,
                f"SP{p}",
                f"Strategic priority {p}",
            )
        output_number = 0
        indicator_number = 0
        for o in range(1, rng.randint(4, 8) + 1):
            outcome_id = self.ids.next(Outcome)
            plan.outcomes.append(outcome_id)
            plan.outcome_weights.append(rng.uniform(0.5, 2.0))
            t["outcome"].add(
                str(outcome_id),
                created,
                created,
                framework,
                str(rng.choice(priorities)),
                f"OC{o}",
                f"By {YEARS[-1]}, people benefit from better {rng.choice(TOPICS)}.",
                "t" if rng.random() < 0.1 else "f",
            )
            targets = rng.sample(self.ref.target_ids, rng.randint(2, 5))
            plan.targets_by_outcome[outcome_id] = targets
            for target_id in targets:
                t["outcome_targets"].add(str(outcome_id), str(target_id))
            for agency_id in rng.sample(plan.agency_ids[:6], rng.randint(1, 2)):
                t["outcome_leads"].add(str(outcome_id), str(agency_id))
            for _ in range(rng.randint(1, 2)):
                indicator_number += 1
                self.indicator(
                    rng, plan, indicator_number, outcome_id=outcome_id, output_id=None
                )
            outputs = []
            for _ in range(rng.randint(2, 5)):
                output_number += 1
                output_id = self.ids.next(Output)
                outputs.append(output_id)
                t["output"].add(
                    str(output_id),
                    created,
                    created,
                    framework,
                    str(outcome_id),
                    f"OP{o}.{output_number}",
                    f"Institutions deliver {rng.choice(TOPICS)}.",
                )
                contributing = rng.sample(plan.agency_ids, rng.randint(2, 5))
                plan.output_agencies[output_id] = contributing
                for agency_id in contributing:
                    t["output_agencies"].add(str(output_id), str(agency_id))
                plan.result_indicators[output_id] = []
                for _ in range(rng.randint(1, 3)):
                    indicator_number += 1
                    self.indicator(
                        rng,
                        plan,
                        indicator_number,
                        outcome_id=None,
                        output_id=output_id,
                        targets=targets,
                    )
            plan.outputs_by_outcome[outcome_id] = outputs

    def indicator(
        self,
        rng: random.Random,
        plan: TeamPlan,
        number: int,
        *,
        outcome_id: int | None,
        output_id: int | None,
        targets: Sequence[int] = (),
    ) -> None:
        indicator_id = self.ids.next(Indicator)
        unit = rng.choices(
            [
                IndicatorUnit.NUMBER,
                IndicatorUnit.PERCENTAGE,
                IndicatorUnit.YES_NO,
                IndicatorUnit.QUALITATIVE,
            ],
            [65, 25, 5, 5],
        )[0]
        descending = rng.random() < 0.15
        baseline: float | None
        target: float | None
        if unit == IndicatorUnit.PERCENTAGE:
            baseline = round(rng.uniform(10, 60), 1)
            target = (
                round(baseline * rng.uniform(0.3, 0.8), 1)
                if descending
                else round(min(100.0, baseline * rng.uniform(1.2, 1.6)), 1)
            )
        elif unit == IndicatorUnit.NUMBER:
            baseline = float(rng.randint(100, 10_000))
            target = (
                round(baseline * rng.uniform(0.3, 0.8))
                if descending
                else round(baseline * rng.uniform(1.2, 3.0))
            )
        elif unit == IndicatorUnit.YES_NO:
            baseline, target = 0.0, 1.0
        else:
            baseline = target = None
        across_periods = rng.choices(
            [Aggregation.SUM, Aggregation.LATEST, Aggregation.MAX, Aggregation.AVERAGE],
            [50, 30, 10, 10],
        )[0]
        across_agencies = rng.choices(
            [Aggregation.SUM, Aggregation.MAX, Aggregation.AVERAGE, Aggregation.LATEST],
            [70, 10, 10, 10],
        )[0]
        by_sex = rng.random() < 0.3
        sdg_indicator = None
        if targets and rng.random() < 0.5:
            sdg_indicator = rng.choice(
                self.ref.indicators_by_target.get(rng.choice(targets)) or [None]
            )
        created = stamp(year_start(YEARS[0]) - 60)
        self.tables["indicator"].add(
            str(indicator_id),
            created,
            created,
            str(plan.framework_id),
            text(outcome_id),
            text(output_id),
            f"IND{number}",
            f"Indicator {number}: {rng.choice(TOPICS)}",
            unit,
            IndicatorDirection.DESCENDING
            if descending
            else IndicatorDirection.ASCENDING,
            text(baseline),
            str(YEARS[0] - 1) if baseline is not None else NULL,
            text(target),
            str(YEARS[-1]) if target is not None else NULL,
            across_periods,
            across_agencies,
            text(sdg_indicator),
            '["sex"]' if by_sex else "[]",
            "National statistics office" if rng.random() < 0.5 else "Agency records",
        )
        is_percentage = unit == IndicatorUnit.PERCENTAGE
        if output_id is not None and unit in (
            IndicatorUnit.NUMBER,
            IndicatorUnit.PERCENTAGE,
        ):
            plan.result_indicators[output_id].append(
                (indicator_id, is_percentage, by_sex)
            )
        self.measurements(rng, plan, indicator_id, unit, baseline, target, output_id)

    def measurements(
        self,
        rng: random.Random,
        plan: TeamPlan,
        indicator_id: int,
        unit: str,
        baseline: float | None,
        target: float | None,
        output_id: int | None,
    ) -> None:
        quarterly = rng.random() < 0.1
        periods = ("Q1", "Q2", "Q3", "Q4") if quarterly else ("",)
        for year in YEARS:
            reporters: list[int | None] = []
            if rng.random() < 0.7:
                reporters.append(None)
            if output_id is not None and rng.random() < 0.3:
                reporters.append(rng.choice(plan.output_agencies[output_id]))
            share = (year - YEARS[0] + 1) / len(YEARS)
            for agency_id in reporters:
                for q, period in enumerate(periods):
                    day = year_start(year) + 90 * (q + 1) + rng.randrange(0, 60)
                    if day > LAST_DAY:
                        continue
                    status = self._measurement_status(rng, year)
                    value = numerator = denominator = None
                    text_value = ""
                    if unit == IndicatorUnit.PERCENTAGE:
                        denominator = rng.randint(100, 5000)
                        progress = (baseline or 0) + (
                            (target or 0) - (baseline or 0)
                        ) * (share * rng.uniform(0.6, 1.2))
                        numerator = round(
                            denominator * max(0.0, min(progress, 100)) / 100
                        )
                    elif unit == IndicatorUnit.NUMBER:
                        value = round(
                            (baseline or 0)
                            + ((target or 0) - (baseline or 0))
                            * share
                            * rng.uniform(0.6, 1.2)
                        )
                    elif unit == IndicatorUnit.YES_NO:
                        value = 1 if rng.random() < share else 0
                    else:
                        text_value = "Progress reported in the annual results report"
                    validated = status == WorkflowStatus.VALIDATED
                    self.tables["measurement"].add(
                        str(self.ids.next(IndicatorMeasurement)),
                        stamp(day),
                        stamp(day + (20 if validated else 5)),
                        str(plan.team_id),
                        str(indicator_id),
                        text(agency_id),
                        str(year),
                        period,
                        text(value),
                        text(numerator),
                        text(denominator),
                        text_value,
                        "{}",
                        "Survey" if agency_id is None else "Agency records",
                        status,
                        "",
                        stamp(day + 20) if validated else NULL,
                        "3" if validated else "1",
                    )

    @staticmethod
    def _measurement_status(rng: random.Random, year: int) -> str:
        draw = rng.random()
        recent = year == CURRENT_YEAR
        if draw < (0.5 if recent else 0.9):
            return WorkflowStatus.VALIDATED
        if draw < (0.8 if recent else 0.96):
            return WorkflowStatus.SUBMITTED
        return WorkflowStatus.DRAFT

    def programmes(self, rng: random.Random, plan: TeamPlan) -> None:
        t = self.tables
        for p in range(1, rng.randint(2, 8) + 1):
            programme_id = self.ids.next(JointProgramme)
            plan.programme_ids.append(programme_id)
            first = rng.choice(YEARS[:3])
            participants = rng.sample(plan.agency_ids, rng.randint(2, 5))
            created = stamp(year_start(first) - 30)
            t["programme"].add(
                str(programme_id),
                created,
                created,
                str(plan.team_id),
                f"Joint programme {p}: {rng.choice(TOPICS)}",
                rng.choice(FUNDS),
                str(participants[0]),
                f"{first}-01-01",
                f"{min(first + rng.randint(1, 4), YEARS[-1])}-12-31",
                str(rng.randint(0, 3)),
                ProgrammeStatus.ACTIVE
                if rng.random() < 0.8
                else ProgrammeStatus.COMPLETED,
            )
            for agency_id in participants:
                t["participant"].add(
                    str(programme_id),
                    str(agency_id),
                    cents(rng.randint(100_000, 5_000_000) * 100),
                )
            for outcome_id in rng.sample(plan.outcomes, min(len(plan.outcomes), 2)):
                t["programme_outcomes"].add(str(programme_id), str(outcome_id))
            for target_id in rng.sample(self.ref.target_ids, rng.randint(1, 3)):
                t["programme_targets"].add(str(programme_id), str(target_id))

    def commitments(self, rng: random.Random, plan: TeamPlan) -> None:
        t = self.tables
        areas = [*self.ref.area_ids, self.ref.business_operations_id]
        signatories = sorted(self.ref.signatory_ids)
        for n in range(1, rng.randint(4, 10) + 1):
            commitment_id = self.ids.next(CommonChapterCommitment)
            year = rng.choice(YEARS)
            created = stamp(year_start(year) + 30)
            t["commitment"].add(
                str(commitment_id),
                created,
                created,
                str(plan.team_id),
                str(rng.choice(areas)),
                CommitmentKind.ACCELERATOR
                if rng.random() < 0.3
                else CommitmentKind.COMMITMENT,
                f"Common-chapter commitment {n}",
                "",
                str(year),
                rng.choice(list(CommitmentStatus)),
            )
            for agency_id in rng.sample(signatories, rng.randint(1, 4)):
                t["commitment_agencies"].add(str(commitment_id), str(agency_id))

    # --- joint work --------------------------------------------------------------

    def activities(self, rng: random.Random, plan: TeamPlan, quota: int) -> None:
        left = quota
        while left > 0:
            left -= self.activity(rng, plan, left)

    def activity(self, rng: random.Random, plan: TeamPlan, left: int) -> int:
        """Write one activity and up to `left` contributions; return how many."""
        t = self.tables
        activity_id = self.ids.next(JointActivity)
        self.counts.activities += 1
        outcome = rng.choices(plan.outcomes, plan.outcome_weights)[0]
        candidates = plan.outputs_by_outcome[outcome]
        outputs = rng.sample(candidates, min(len(candidates), rng.choice((1, 1, 2, 3))))
        if rng.random() < 0.15:
            other = rng.choice(plan.outcomes)
            extra = rng.choice(plan.outputs_by_outcome[other])
            if extra not in outputs:
                outputs.append(extra)
        agency_count = rng.choices((2, 3, 4), (50, 35, 15))[0]
        agencies: list[int] = []
        while len(agencies) < agency_count:
            agency = rng.choices(plan.agency_ids, plan.agency_weights)[0]
            if agency not in agencies:
                agencies.append(agency)
        span = rng.choices((1, 2, 3, 4, 5), (15, 20, 30, 15, 20))[0]
        first = rng.randint(0, len(YEARS) - span)
        years = YEARS[first : first + span]
        kind = self._kind(rng, years[0])
        activity_status = {
            "S": WorkflowStatus.SUBMITTED,
            "D": WorkflowStatus.DRAFT,
            "R": WorkflowStatus.RETURNED,
        }.get(kind, WorkflowStatus.VALIDATED)
        created_day = year_start(years[0]) - rng.randint(10, 60)
        last_day = min(LAST_DAY, year_start(years[-1]) + 300)
        if years[-1] < CURRENT_YEAR:
            implementation = rng.choices(
                [ImplementationStatus.COMPLETED, ImplementationStatus.SUSPENDED],
                [95, 5],
            )[0]
        else:
            implementation = rng.choices(
                [ImplementationStatus.ONGOING, ImplementationStatus.PLANNED],
                [85, 15],
            )[0]
        programme = (
            rng.choice(plan.programme_ids)
            if plan.programme_ids and rng.random() < 0.3
            else None
        )
        groups = rng.sample(list(TargetGroup), rng.randint(0, 3))
        t["activity"].add(
            str(activity_id),
            stamp(created_day),
            stamp(last_day),
            str(plan.team_id),
            str(plan.framework_id),
            text(programme),
            f"{rng.choice(VERBS)} {rng.choice(TOPICS)}",
            "",
            str(agencies[0]),
            # Submission requires the gender marker; only drafts may lack it.
            text(
                rng.choice((0, 1, 2, 2, 3))
                if activity_status != WorkflowStatus.DRAFT
                else rng.choice((None, 0, 1, 2))
            ),
            text(rng.choice((None, 0, 1, 2))),
            json.dumps([str(g) for g in groups]),
            f"{years[0]}-0{rng.randint(1, 6)}-01",
            f"{years[-1]}-{rng.choice(('10-31', '11-30', '12-31'))}"
            if years[-1] < CURRENT_YEAR
            else f"{years[-1]}-12-31",
            implementation,
            activity_status,
            "3" if activity_status == WorkflowStatus.VALIDATED else "1",
            "1",
            "",
            stamp(created_day + 40)
            if activity_status == WorkflowStatus.VALIDATED
            else NULL,
        )
        activity = str(activity_id)
        for output_id in outputs:
            t["activity_outputs"].add(activity, str(output_id))
        for agency_id in agencies:
            t["activity_agencies"].add(activity, str(agency_id))
        pool = plan.targets_by_outcome[outcome]
        for target_id in rng.sample(pool, min(len(pool), rng.randint(1, 3))):
            t["activity_targets"].add(activity, str(target_id))
        with_signatory = any(a in self.ref.signatory_ids for a in agencies)
        if rng.random() < (0.6 if with_signatory else 0.1):
            for area_id in rng.sample(self.ref.area_ids, rng.randint(1, 2)):
                t["activity_areas"].add(activity, str(area_id))
        for region_id in rng.sample(plan.region_ids, rng.randint(1, 3)):
            t["activity_locations"].add(activity, str(region_id))
        indicators = [i for o in outputs for i in plan.result_indicators[o]]
        written = 0
        for agency_id in agencies:
            budget = rng.lognormvariate(11.5, 1.0)
            reported = (
                rng.sample(indicators, min(len(indicators), rng.choice((1, 1, 2))))
                if indicators and rng.random() < 0.35
                else []
            )
            for year in years:
                if written == left:
                    return written
                kind = kind if written == 0 else self._kind(rng, year)
                self.contribution(
                    rng, plan, activity_id, agency_id, year, budget, kind, reported
                )
                written += 1
        return written

    @staticmethod
    def _kind(rng: random.Random, year: int) -> str:
        if year == CURRENT_YEAR:
            mix = MIX_CURRENT_YEAR
        elif year == CURRENT_YEAR - 1:
            mix = MIX_LAST_YEAR
        else:
            mix = MIX_CLOSED
        return rng.choices(KINDS, mix)[0]

    def contribution(
        self,
        rng: random.Random,
        plan: TeamPlan,
        activity_id: int,
        agency_id: int,
        year: int,
        budget: float,
        kind: str,
        reported: Sequence[Reportable],
    ) -> None:
        self.counts.contributions += 1
        self.counts.by_kind[kind] += 1
        contribution_id = self.ids.next(Contribution)
        # r1's life: created, submitted, reviewed; r2's: created, submitted, reviewed.
        day = year_start(year) + rng.randrange(0, 200)
        steps = [day]
        for gap in (rng.randint(5, 60), rng.randint(1, 30), rng.randint(30, 200)):
            steps.append(steps[-1] + gap)
        steps += [steps[-1] + rng.randint(5, 40), steps[-1] + rng.randint(45, 80)]
        required = int(budget * rng.uniform(0.8, 1.2) * 100)
        share = (year - YEARS[0]) / len(YEARS)
        available = int(required * rng.uniform(0.9 - share * 0.5, 1.05))
        spent_share = (
            rng.uniform(0.0, 0.7) if year == CURRENT_YEAR else rng.uniform(0.6, 1.0)
        )
        spent = int(available * spent_share)
        first_status, second_status = {
            "V": (WorkflowStatus.VALIDATED, None),
            "VV": (WorkflowStatus.SUPERSEDED, WorkflowStatus.VALIDATED),
            "VS": (WorkflowStatus.VALIDATED, WorkflowStatus.SUBMITTED),
            "VD": (WorkflowStatus.VALIDATED, WorkflowStatus.DRAFT),
            "VR": (WorkflowStatus.VALIDATED, WorkflowStatus.RETURNED),
            "S": (WorkflowStatus.SUBMITTED, None),
            "D": (WorkflowStatus.DRAFT, None),
            "R": (WorkflowStatus.RETURNED, None),
        }[kind]
        source = rng.choice(FUNDING_SOURCES)
        partners = rng.choice(PARTNERS)
        reach = text(rng.randint(50, 50_000) if rng.random() < 0.6 else None)
        first_id = self.revision(
            rng,
            contribution_id,
            1,
            first_status,
            (required, available, spent),
            steps[:3],
            source,
            partners,
            reach,
            reported,
        )
        current_id, validated_id = first_id, None
        if first_status in (WorkflowStatus.VALIDATED, WorkflowStatus.SUPERSEDED):
            validated_id = first_id
        last_step = {
            WorkflowStatus.DRAFT: 0,
            WorkflowStatus.SUBMITTED: 1,
        }.get(first_status, 2)
        version = 1 + last_step
        if second_status is not None:
            change = rng.uniform(0.85, 1.3)
            figures = (
                int(required * change),
                int(available * change),
                int(spent * change),
            )
            current_id = self.revision(
                rng,
                contribution_id,
                2,
                second_status,
                figures,
                steps[3:],
                source,
                partners,
                reach,
                reported,
            )
            if second_status == WorkflowStatus.VALIDATED:
                validated_id = current_id
            last_step = 3 + {
                WorkflowStatus.DRAFT: 0,
                WorkflowStatus.SUBMITTED: 1,
            }.get(second_status, 2)
            version = 2 + last_step
        self.tables["contribution"].add(
            str(contribution_id),
            stamp(steps[0]),
            stamp(steps[last_step]),
            str(plan.team_id),
            str(activity_id),
            str(agency_id),
            str(year),
            str(current_id),
            text(validated_id),
            "",
            str(version),
        )

    def revision(
        self,
        rng: random.Random,
        contribution_id: int,
        number: int,
        status: str,
        figures: tuple[int, int, int],
        days: Sequence[int],
        source: str,
        partners: str,
        reach: str,
        reported: Sequence[Reportable],
    ) -> int:
        self.counts.revisions += 1
        revision_id = self.ids.next(ContributionRevision)
        submitted = status != WorkflowStatus.DRAFT
        reviewed = submitted and status != WorkflowStatus.SUBMITTED
        required, available, spent = figures
        self.tables["revision"].add(
            str(revision_id),
            stamp(days[0]),
            stamp(days[2] if reviewed else days[1] if submitted else days[0]),
            str(contribution_id),
            str(number),
            status,
            cents(required),
            cents(available),
            cents(spent),
            source,
            partners,
            reach,
            stamp(days[1]) if submitted else NULL,
            stamp(days[2]) if reviewed else NULL,
            "Please check the figures against the agency's own system."
            if status == WorkflowStatus.RETURNED
            else "",
        )
        result = self.tables["result"]
        for indicator_id, is_percentage, by_sex in reported:
            if is_percentage:
                denominator = rng.randint(50, 2000)
                numerator = int(denominator * rng.uniform(0.2, 0.9))
                result.add(
                    str(revision_id),
                    str(indicator_id),
                    NULL,
                    str(numerator),
                    str(denominator),
                    "{}",
                )
            else:
                value = rng.randint(10, 5000)
                breakdown = "{}"
                # The breakdown must add up to the value (a quality check).
                if by_sex and rng.random() < 0.8:
                    female = value * rng.randint(40, 60) // 100
                    breakdown = json.dumps(
                        {"sex": {"female": female, "male": value - female}}
                    )
                result.add(
                    str(revision_id),
                    str(indicator_id),
                    str(value),
                    NULL,
                    NULL,
                    breakdown,
                )
        return revision_id


# --- the whole load ---------------------------------------------------------------


def _loaded_tables(generator: Generator) -> list[str]:
    return [table.table for table in generator.tables.values()]


def _reset_sequences(cursor: Any, tables: Sequence[str]) -> None:
    for table in tables:
        quoted = connection.ops.quote_name(table)
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence(%s, 'id'), "
            f"(SELECT COALESCE(max(id), 0) + 1 FROM {quoted}), false)",
            [table],
        )


def _is_superuser(cursor: Any) -> bool:
    cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    row = cursor.fetchone()
    return bool(row and row[0])


@dataclass(frozen=True)
class Generated:
    counts: Counts
    rows: dict[str, int]
    seconds: float
    phases: dict[str, float]


def generate(*, size: int, seed: int) -> Generated:
    """Fill a freshly migrated bench database; the caller created and migrated it."""
    started = time.perf_counter()
    phases: dict[str, float] = {}
    reference = load_reference()
    phases["reference data"] = time.perf_counter() - started
    with transaction.atomic(), connection.cursor() as cursor:
        mark = time.perf_counter()
        cursor.execute("SET LOCAL synchronous_commit = off")
        if _is_superuser(cursor):
            # Foreign keys are consistent by construction; checking 5 million of
            # them one by one at commit would double the load time.
            cursor.execute("SET LOCAL session_replication_role = replica")
        generator = Generator(cursor, reference, size, seed)
        tables = _loaded_tables(generator)
        quoted = ", ".join(connection.ops.quote_name(t) for t in tables)
        # COPY FREEZE needs the table truncated in this transaction; the tables
        # are empty anyway (the database was just created).
        cursor.execute(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE")
        counts = generator.run()
        phases["generate and COPY"] = time.perf_counter() - mark
        mark = time.perf_counter()
        _reset_sequences(cursor, tables)
        rows = {t.table: t.rows for t in generator.tables.values()}
    phases["commit"] = time.perf_counter() - mark
    mark = time.perf_counter()
    with connection.cursor() as cursor:
        # Fresh statistics, as autovacuum would have them on a live database.
        cursor.execute(f"ANALYZE {quoted}")
    phases["analyze"] = time.perf_counter() - mark
    return Generated(
        counts=counts,
        rows=rows,
        seconds=time.perf_counter() - started,
        phases=phases,
    )


def prepare(
    *, size: int, seed: int, regenerate: bool, out: Any = sys.stdout
) -> database.Dataset:
    """Make sure the bench database holds the data set of this size and seed.

    Reuses the data set when the marker says it matches (a previous run's
    incremental changes stay: a few dozen revisions among hundreds of
    thousands); otherwise drops the database and generates it again.
    """
    database.ensure_database()
    found = database.read_dataset() if not regenerate else None
    schema = database.schema_fingerprint()
    wanted = (size, seed, GENERATOR_VERSION, schema)
    if found and (found.size, found.seed, found.generator, found.schema) == wanted:
        call_command("migrate", verbosity=0, interactive=False)
        print(
            f"Reusing the data set of {found.size:,} contributions (seed "
            f"{found.seed}) generated {found.generated_at} in {found.generate_s:.1f} s;"
            " pass --regenerate to build it again.",
            file=out,
        )
        return found
    if found:
        print(
            f"The database holds {found.size:,} contributions (seed {found.seed}, "
            f"generator {found.generator}, migrations {found.schema or '?'}); "
            f"wanted {size:,} (seed {seed}, generator {GENERATOR_VERSION}, "
            f"migrations {schema}).",
            file=out,
        )
    started = time.perf_counter()
    database.drop_database()
    database.ensure_database()
    call_command("migrate", verbosity=0, interactive=False)
    migrated = time.perf_counter() - started
    print(
        f"Generating {size:,} contributions (seed {seed}) in {database.describe()} ...",
        file=out,
        flush=True,
    )
    result = generate(size=size, seed=seed)
    total = migrated + result.seconds
    dataset = database.Dataset(
        size=size,
        seed=seed,
        generator=GENERATOR_VERSION,
        schema=schema,
        generate_s=round(total, 2),
        generated_at="now",
    )
    with connection.cursor() as cursor:
        database.write_dataset(cursor, dataset)
    phases = {"create and migrate": migrated, **result.phases}
    print(
        f"Generated in {total:.1f} s ("
        + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in phases.items())
        + ").",
        file=out,
    )
    counts = result.counts
    print(
        f"  {TEAM_COUNT} teams, {counts.activities:,} activities, "
        f"{counts.contributions:,} contributions, {counts.revisions:,} revisions, "
        f"{result.rows[ResultValue._meta.db_table]:,} result values, "
        f"{result.rows[IndicatorMeasurement._meta.db_table]:,} measurements.",
        file=out,
    )
    mix = ", ".join(
        f"{kind} {100 * n / max(counts.contributions, 1):.1f}%"
        for kind, n in counts.by_kind.items()
    )
    print(f"  Workflow mix: {mix}.", file=out)
    return database.read_dataset() or dataset


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=DEFAULT_SIZE)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--regenerate", action="store_true")
    args = parser.parse_args(argv)
    prepare(size=args.size, seed=args.seed, regenerate=args.regenerate)


if __name__ == "__main__":
    main()
