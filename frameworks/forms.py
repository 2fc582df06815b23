"""Forms of the joint-work pages.

They turn posted text into the services' inputs (ActivityData, FiguresData,
MeasurementData) and catch plain input mistakes early; the services stay the judges
of what may be saved, and their ValidationErrors land on the same fields.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from coordination.models import AdminRegion, Agency
from frameworks.models import (
    MAX_SDG_TARGETS,
    CommonChapterArea,
    Dimension,
    GenderMarker,
    HumanRightsMarker,
    ImplementationStatus,
    IndicatorUnit,
    JointProgramme,
    Output,
    SdgTarget,
    StrategicPlanOutput,
    TargetGroup,
    WorkflowStatus,
)
from frameworks.selectors import ACTIVITY_SORTS, ActivityFilters
from frameworks.services import ActivityData, FiguresData, MeasurementData, ResultData

if TYPE_CHECKING:
    from django.forms import BoundField

    from frameworks.models import (
        Contribution,
        CooperationFramework,
        Indicator,
        IndicatorMeasurement,
        JointActivity,
    )

# The categories offered per dimension, the same keys the demo data uses. Location
# is the team's admin-1 regions by name; categories already stored (from an
# import, say) are kept and shown as well, so an edit never drops a figure.
DISAGGREGATION_CATEGORIES: dict[str, list[tuple[str, Any]]] = {
    Dimension.SEX: [("female", _("Female")), ("male", _("Male"))],
    Dimension.AGE: [
        ("0-17", _("0 to 17 years")),
        ("18-59", _("18 to 59 years")),
        ("60+", _("60 years and over")),
    ],
    Dimension.DISABILITY: [
        ("with disability", _("With a disability")),
        ("without disability", _("Without a disability")),
    ],
    Dimension.WEALTH: [
        ("Q1", _("Poorest fifth (Q1)")),
        ("Q2", _("Second fifth (Q2)")),
        ("Q3", _("Middle fifth (Q3)")),
        ("Q4", _("Fourth fifth (Q4)")),
        ("Q5", _("Richest fifth (Q5)")),
    ],
}

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class GroupedCheckboxSelectMultiple(forms.CheckboxSelectMultiple):
    """Checkboxes in titled groups (outputs under their outcome)."""

    template_name = "frameworks/includes/grouped_checkboxes.html"


def apply_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError on the fields it names, else above the form."""
    if hasattr(error, "error_dict"):
        for name, messages in error.message_dict.items():
            form.add_error(name if name in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)


def _decimal_field(label: Any, **kwargs: Any) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=False,
        max_digits=20,
        decimal_places=4,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
        **kwargs,
    )


def _money_field(label: Any) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        min_value=0,
        max_digits=16,
        decimal_places=2,
        initial=Decimal("0"),
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )


# --- the activity list's filters ------------------------------------------------


class ActivityFilterForm(forms.Form):
    """GET parameters of the activity list. Unknown or malformed values are dropped,
    so an old bookmark still opens."""

    q = forms.CharField(required=False, max_length=200)
    framework = forms.IntegerField(required=False, min_value=1)
    outcome = forms.IntegerField(required=False, min_value=1)
    output = forms.IntegerField(required=False, min_value=1)
    agency = forms.IntegerField(required=False, min_value=1)
    status = forms.ChoiceField(
        required=False, choices=[("", ""), *WorkflowStatus.choices]
    )
    year = forms.IntegerField(required=False, min_value=1990, max_value=2100)
    sdg_goal = forms.IntegerField(required=False, min_value=1, max_value=17)
    area = forms.IntegerField(required=False, min_value=1)
    sort = forms.ChoiceField(
        required=False, choices=[(key, key) for key in ACTIVITY_SORTS]
    )

    def to_filters(self) -> ActivityFilters:
        self.is_valid()
        values = {
            name: value
            for name, value in self.cleaned_data.items()
            if value not in (None, "")
        }
        if "q" in values:
            values["q"] = values["q"].strip()
        return ActivityFilters(**values)


# --- joint activities -------------------------------------------------------------


def _grouped(items: Iterable[Any], group: Any, label: Any) -> list[tuple[str, list]]:
    groups: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for item in items:
        groups[group(item)].append((item.pk, label(item)))
    return list(groups.items())


class ActivityForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=300)
    description = forms.CharField(
        label=_("Description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    agency = forms.ModelChoiceField(
        label=_("Lead agency"),
        queryset=Agency.objects.none(),
        help_text=_("The lead agency owns the record: its focal points edit it."),
    )
    agencies = forms.ModelMultipleChoiceField(
        label=_("Agencies involved"),
        queryset=Agency.objects.none(),
        widget=forms.CheckboxSelectMultiple(attrs={"class": "choice-grid"}),
        help_text=_("Two or more agencies of the team, the lead agency among them."),
    )
    outputs = forms.ModelMultipleChoiceField(
        label=_("Framework outputs"),
        queryset=Output.objects.none(),
        widget=GroupedCheckboxSelectMultiple,
        help_text=_("The outputs this activity contributes to, by outcome."),
    )
    joint_programme = forms.ModelChoiceField(
        label=_("Joint programme"),
        queryset=JointProgramme.objects.none(),
        required=False,
        empty_label=_("Not part of a joint programme"),
    )
    start_date = forms.DateField(label=_("Start date"), widget=DATE_WIDGET)
    end_date = forms.DateField(label=_("End date"), widget=DATE_WIDGET)
    implementation_status = forms.ChoiceField(
        label=_("Implementation status"),
        choices=ImplementationStatus.choices,
        initial=ImplementationStatus.PLANNED,
    )
    sdg_targets = forms.ModelMultipleChoiceField(
        label=_("SDG targets"),
        queryset=SdgTarget.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 10}),
    )
    common_chapter_areas = forms.ModelMultipleChoiceField(
        label=_("Common-chapter areas"),
        queryset=CommonChapterArea.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple(
            attrs={"class": "choice-grid choice-grid--wide"}
        ),
    )
    gender_marker = forms.TypedChoiceField(
        label=_("Gender equality marker"),
        choices=[("", _("Not set yet")), *GenderMarker.choices],
        coerce=int,
        empty_value=None,
        required=False,
        help_text=_("Needed before you submit."),
    )
    human_rights_marker = forms.TypedChoiceField(
        label=_("Human rights marker"),
        choices=[("", _("Not set yet")), *HumanRightsMarker.choices],
        coerce=int,
        empty_value=None,
        required=False,
    )
    target_groups = forms.MultipleChoiceField(
        label=_("Leave No One Behind target groups"),
        choices=TargetGroup.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "choice-grid"}),
    )
    locations = forms.ModelMultipleChoiceField(
        label=_("Locations"),
        queryset=AdminRegion.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "choice-grid"}),
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        team: Any,
        framework: CooperationFramework,
        lead_agencies: Any,
        regions: Sequence[AdminRegion],
        activity: JointActivity | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.activity = activity
        self.regions = regions
        fields = self.fields
        fields["agency"].queryset = lead_agencies
        if activity is not None:
            # Shown for reference; the lead agency owns the record for good.
            fields["agency"].queryset = Agency.objects.filter(pk=activity.agency_id)
            fields["agency"].disabled = True
            fields["agency"].help_text = _("The lead agency cannot be changed.")
        fields["agencies"].queryset = Agency.objects.filter(
            team_agencies__country_team=team
        ).order_by("code")
        outputs = Output.objects.filter(framework=framework).select_related("outcome")
        fields["outputs"].queryset = outputs
        fields["outputs"].choices = _grouped(
            outputs.order_by("outcome__code", "code"),
            lambda o: f"{o.outcome.code} {o.outcome.statement}",
            lambda o: f"{o.code} {o.statement}",
        )
        fields["joint_programme"].queryset = JointProgramme.objects.filter(
            country_team=team
        ).order_by("title")
        targets = SdgTarget.objects.select_related("goal")
        fields["sdg_targets"].queryset = targets
        fields["sdg_targets"].help_text = gettext(
            "At least one before you submit, at most %(max)d. Hold Ctrl (⌘ on a "
            "Mac) to pick several."
        ) % {"max": MAX_SDG_TARGETS}
        fields["sdg_targets"].choices = _grouped(
            targets.order_by("sort_key"),
            lambda t: f"SDG {t.goal.number}: {t.goal.short_title}",
            lambda t: f"{t.code} {_shorten(t.title, 110)}",
        )
        fields["common_chapter_areas"].queryset = CommonChapterArea.objects.order_by(
            "position"
        )
        fields["locations"].queryset = AdminRegion.objects.filter(country_team=team)
        fields["locations"].choices = [(r.pk, r.name) for r in regions]

    @staticmethod
    def initial_for(activity: JointActivity) -> dict[str, Any]:
        """The form's values for an activity from `get_activity_for_team`."""
        return {
            "title": activity.title,
            "description": activity.description,
            "agency": activity.agency_id,
            "agencies": [a.pk for a in activity.agencies.all()],
            "outputs": [o.pk for o in activity.outputs.all()],
            "joint_programme": activity.joint_programme_id,
            "start_date": activity.start_date,
            "end_date": activity.end_date,
            "implementation_status": activity.implementation_status,
            "sdg_targets": [t.pk for t in activity.sdg_targets.all()],
            "common_chapter_areas": [a.pk for a in activity.common_chapter_areas.all()],
            "gender_marker": activity.gender_marker,
            "human_rights_marker": activity.human_rights_marker,
            "target_groups": list(activity.target_groups),
            "locations": [r.pk for r in activity.locations.all()],
            "version": activity.version,
        }

    def clean_title(self) -> str:
        title = self.cleaned_data["title"].strip()
        if not title:
            raise ValidationError(_("Give the activity a title."))
        return title

    def clean_sdg_targets(self) -> Any:
        targets = self.cleaned_data["sdg_targets"]
        if len(targets) > MAX_SDG_TARGETS:
            raise ValidationError(
                _("Tag at most %(max)d SDG targets (%(n)d picked).")
                % {"max": MAX_SDG_TARGETS, "n": len(targets)}
            )
        return targets

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", _("The end date is before the start date."))
        lead, agencies = data.get("agency"), data.get("agencies")
        if agencies is not None and "agencies" not in self.errors:
            if len(agencies) < 2:
                self.add_error(
                    "agencies", _("A joint activity involves two or more agencies.")
                )
            elif lead is not None and lead not in agencies:
                self.add_error(
                    "agencies",
                    _("Tick the lead agency (%(code)s) as well.") % {"code": lead.code},
                )
        return data

    def to_data(self) -> ActivityData:
        data = self.cleaned_data
        return ActivityData(
            title=data["title"],
            description=data["description"],
            agency=data["agency"],
            agencies=list(data["agencies"]),
            outputs=list(data["outputs"]),
            start_date=data["start_date"],
            end_date=data["end_date"],
            joint_programme=data["joint_programme"],
            sdg_targets=list(data["sdg_targets"]),
            common_chapter_areas=list(data["common_chapter_areas"]),
            gender_marker=data["gender_marker"],
            human_rights_marker=data["human_rights_marker"],
            target_groups=list(data["target_groups"]),
            locations=list(data["locations"]),
            implementation_status=data["implementation_status"],
            # An imported activity keeps its reference, so re-importing updates it.
            external_ref=self.activity.external_ref if self.activity else "",
        )


def _shorten(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


# --- reported values with their breakdowns ------------------------------------------


@dataclass(frozen=True)
class BreakdownCell:
    category: str
    label: str
    field: BoundField


@dataclass(frozen=True)
class BreakdownInputs:
    dimension: str
    label: str
    cells: list[BreakdownCell]


@dataclass(frozen=True)
class ValueInputs:
    """The inputs of one reported value: the value itself and its breakdowns."""

    indicator: Indicator
    fields: list[BoundField]
    breakdowns: list[BreakdownInputs]
    missing_dimensions: list[str]


@dataclass(frozen=True)
class _BreakdownSpec:
    dimension: str
    categories: list[tuple[str, Any, str]]  # (category, label, field name)


class BreakdownFieldsMixin(forms.Form):
    """Adds per-category number inputs for the dimensions an indicator defines."""

    regions: Sequence[AdminRegion] = ()

    def _categories(self, dimension: str, stored: dict[str, Any]) -> list[tuple]:
        if dimension == Dimension.LOCATION:
            offered = [(r.name, r.name) for r in self.regions]
        else:
            offered = list(DISAGGREGATION_CATEGORIES.get(dimension, []))
        known = {key for key, _label in offered}
        return offered + [(key, key) for key in stored if key not in known]

    def _add_breakdown_fields(
        self, prefix: str, indicator: Indicator, stored: dict[str, dict[str, Any]]
    ) -> list[_BreakdownSpec]:
        specs = []
        for dimension in indicator.disaggregations or []:
            existing = (stored or {}).get(dimension, {})
            categories = []
            for index, (key, label) in enumerate(self._categories(dimension, existing)):
                name = f"{prefix}{dimension}_{index}"
                self.fields[name] = _decimal_field(label, min_value=0)
                if key in existing:
                    self.initial[name] = existing[key]
                categories.append((key, label, name))
            specs.append(_BreakdownSpec(dimension=dimension, categories=categories))
        return specs

    def _breakdown_inputs(
        self, indicator: Indicator, specs: list[_BreakdownSpec], fields: list[str]
    ) -> ValueInputs:
        labels = dict(Dimension.choices)
        return ValueInputs(
            indicator=indicator,
            fields=[self[name] for name in fields],
            breakdowns=[
                BreakdownInputs(
                    dimension=spec.dimension,
                    label=labels.get(spec.dimension, spec.dimension),
                    cells=[
                        BreakdownCell(category=key, label=label, field=self[name])
                        for key, label, name in spec.categories
                    ],
                )
                for spec in specs
                if spec.categories
            ],
            missing_dimensions=[
                labels.get(spec.dimension, spec.dimension)
                for spec in specs
                if not spec.categories
            ],
        )

    def _breakdown_values(
        self, specs: list[_BreakdownSpec]
    ) -> dict[str, dict[str, Decimal]]:
        breakdown: dict[str, dict[str, Decimal]] = {}
        for spec in specs:
            parts = {
                key: self.cleaned_data[name]
                for key, _label, name in spec.categories
                if self.cleaned_data.get(name) is not None
            }
            if parts:
                breakdown[spec.dimension] = parts
        return breakdown


def _value_fields(
    form: forms.Form, prefix: str, indicator: Indicator, *, allow_text: bool
) -> list[str]:
    """Add the inputs of one value in the indicator's unit; return their names."""
    unit = indicator.unit
    if unit == IndicatorUnit.PERCENTAGE:
        form.fields[f"{prefix}numerator"] = _decimal_field(_("Numerator"), min_value=0)
        form.fields[f"{prefix}denominator"] = _decimal_field(
            _("Denominator"), min_value=0
        )
        return [f"{prefix}numerator", f"{prefix}denominator"]
    if unit == IndicatorUnit.YES_NO:
        form.fields[f"{prefix}value"] = forms.TypedChoiceField(
            label=_("Answer"),
            choices=[("", "—"), ("1", _("Yes")), ("0", _("No"))],
            coerce=Decimal,
            empty_value=None,
            required=False,
        )
        return [f"{prefix}value"]
    if unit == IndicatorUnit.QUALITATIVE and allow_text:
        form.fields[f"{prefix}text_value"] = forms.CharField(
            label=_("Qualitative value"),
            required=False,
            widget=forms.Textarea(attrs={"rows": 3}),
        )
        return [f"{prefix}text_value"]
    form.fields[f"{prefix}value"] = _decimal_field(_("Value"))
    return [f"{prefix}value"]


def _check_denominator(form: forms.Form, prefix: str) -> None:
    name = f"{prefix}denominator"
    value = form.cleaned_data.get(name)
    if value is not None and value <= 0:
        form.add_error(name, _("The denominator must be above zero."))


# --- contributions ----------------------------------------------------------------


@dataclass(frozen=True)
class _ResultSpec:
    indicator: Indicator
    prefix: str
    value_fields: list[str]
    breakdowns: list[_BreakdownSpec]


class ContributionForm(BreakdownFieldsMixin):
    agency = forms.ModelChoiceField(
        label=_("Agency"), queryset=Agency.objects.none(), empty_label=None
    )
    year = forms.TypedChoiceField(label=_("Year"), coerce=int)
    required = _money_field(_("Required (USD)"))
    available = _money_field(_("Available (USD)"))
    spent = _money_field(_("Spent (USD)"))
    funding_source = forms.CharField(
        label=_("Funding source"),
        max_length=200,
        required=False,
        help_text=_("The contributing partner or fund, e.g. Joint SDG Fund."),
    )
    implementing_partners = forms.CharField(
        label=_("Implementing partners"), max_length=500, required=False
    )
    reach = forms.IntegerField(label=_("People reached"), min_value=0, required=False)
    plan_outputs = forms.ModelMultipleChoiceField(
        label=_("Strategic-plan outputs this work delivers"),
        queryset=StrategicPlanOutput.objects.none(),
        required=False,
        widget=GroupedCheckboxSelectMultiple,
        help_text=_(
            "Outputs of your agency's strategic plan for the contribution's year, "
            "as your executive board asked agencies to report."
        ),
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        activity: JointActivity,
        indicators: Sequence[Indicator],
        regions: Sequence[AdminRegion],
        agencies: Any = None,
        contribution: Contribution | None = None,
        plan_outputs: Sequence[StrategicPlanOutput] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.activity = activity
        self.contribution = contribution
        self.regions = regions
        if plan_outputs:
            # Only the choices offered; the service judges agency and year.
            self.fields["plan_outputs"].queryset = StrategicPlanOutput.objects.filter(
                pk__in=[o.pk for o in plan_outputs]
            ).select_related("plan__agency")
            self.fields["plan_outputs"].choices = _grouped(
                plan_outputs,
                lambda o: (
                    f"{o.plan.title} · {o.outcome.code} {o.outcome.title}"
                    if o.outcome
                    else o.plan.title
                ),
                lambda o: f"{o.code} {o.title}",
            )
        else:
            del self.fields["plan_outputs"]
        if contribution is None:
            self.fields["agency"].queryset = agencies
            self.fields["year"].choices = [
                (year, year) for year in activity.framework.years
            ]
            self.fields["year"].initial = activity.start_date.year
        else:
            del self.fields["agency"]
            del self.fields["year"]
        stored = {}
        if contribution is not None and contribution.current_revision is not None:
            stored = {
                r.indicator_id: r for r in contribution.current_revision.results.all()
            }
        self.skipped_indicators = [
            i for i in indicators if i.unit == IndicatorUnit.QUALITATIVE
        ]
        self._specs = []
        for indicator in indicators:
            if indicator.unit == IndicatorUnit.QUALITATIVE:
                continue
            prefix = f"r{indicator.pk}_"
            value_fields = _value_fields(self, prefix, indicator, allow_text=False)
            result = stored.get(indicator.pk)
            if result is not None:
                for name in ("value", "numerator", "denominator"):
                    if f"{prefix}{name}" in self.fields:
                        self.initial[f"{prefix}{name}"] = _plain(getattr(result, name))
            breakdowns = self._add_breakdown_fields(
                f"{prefix}d_", indicator, result.disaggregation if result else {}
            )
            self._specs.append(_ResultSpec(indicator, prefix, value_fields, breakdowns))

    @staticmethod
    def initial_for(contribution: Contribution) -> dict[str, Any]:
        revision = contribution.current_revision
        return {
            "required": revision.required,
            "available": revision.available,
            "spent": revision.spent,
            "funding_source": revision.funding_source,
            "implementing_partners": revision.implementing_partners,
            "reach": revision.reach,
            "version": contribution.version,
        }

    @property
    def result_inputs(self) -> list[ValueInputs]:
        return [
            self._breakdown_inputs(spec.indicator, spec.breakdowns, spec.value_fields)
            for spec in self._specs
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for spec in self._specs:
            _check_denominator(self, spec.prefix)
        return data

    def results(self) -> list[ResultData]:
        results = []
        for spec in self._specs:
            values = {
                name.removeprefix(spec.prefix): self.cleaned_data.get(name)
                for name in spec.value_fields
            }
            breakdown = self._breakdown_values(spec.breakdowns)
            if all(v is None for v in values.values()) and not breakdown:
                continue
            results.append(
                ResultData(indicator=spec.indicator, disaggregation=breakdown, **values)
            )
        return results

    def to_figures(self) -> FiguresData:
        data = self.cleaned_data
        return FiguresData(
            required=data["required"],
            available=data["available"],
            spent=data["spent"],
            funding_source=data["funding_source"].strip(),
            implementing_partners=data["implementing_partners"].strip(),
            reach=data["reach"],
            results=self.results(),
        )


def _plain(value: Decimal | None) -> Decimal | None:
    """Stored values carry four decimals; show 100, not 100.0000."""
    if value is None:
        return None
    if value == value.to_integral():
        return value.quantize(Decimal(1))
    return value.normalize()


# --- indicator measurements --------------------------------------------------------


class MeasurementForm(BreakdownFieldsMixin):
    agency = forms.ModelChoiceField(label=_("Agency"), queryset=Agency.objects.none())
    year = forms.IntegerField(label=_("Year"), min_value=1990, max_value=2100)
    period_label = forms.CharField(
        label=_("Period"),
        max_length=30,
        required=False,
        help_text=_("e.g. Q2 or H1; leave empty for the whole year."),
    )
    source = forms.CharField(
        label=_("Data source"),
        max_length=300,
        required=False,
        help_text=_("Where the value comes from, e.g. a survey or a registry."),
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        indicator: Indicator,
        regions: Sequence[AdminRegion],
        agencies: Any = None,
        team_wide: bool = False,
        measurement: IndicatorMeasurement | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.indicator = indicator
        self.regions = regions
        if measurement is None:
            field = self.fields["agency"]
            field.queryset = agencies
            field.required = not team_wide
            field.empty_label = _("Team-wide (RC office)") if team_wide else None
            if team_wide:
                field.help_text = _(
                    "Leave team-wide for a value the RC office records for the "
                    "whole team."
                )
            framework = indicator.framework
            self.fields["year"].initial = min(
                max(timezone.localdate().year, framework.start_year),
                framework.end_year,
            )
        else:
            del self.fields["agency"]
        self._value_fields = _value_fields(self, "", indicator, allow_text=True)
        stored = {}
        if measurement is not None:
            stored = measurement.disaggregation
            for name in self._value_fields:
                value = getattr(measurement, name)
                self.initial[name] = value if name == "text_value" else _plain(value)
        self._breakdowns = self._add_breakdown_fields("d_", indicator, stored)

    @staticmethod
    def initial_for(measurement: IndicatorMeasurement) -> dict[str, Any]:
        return {
            "year": measurement.year,
            "period_label": measurement.period_label,
            "source": measurement.source,
            "version": measurement.version,
        }

    @property
    def value_inputs(self) -> ValueInputs:
        return self._breakdown_inputs(
            self.indicator, self._breakdowns, self._value_fields
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        _check_denominator(self, "")
        return data

    def to_data(self) -> MeasurementData:
        data = self.cleaned_data
        values = {name: data.get(name) for name in self._value_fields}
        if "text_value" in values:
            values["text_value"] = (values["text_value"] or "").strip()
        return MeasurementData(
            year=data["year"],
            period_label=data["period_label"].strip(),
            source=data["source"].strip(),
            disaggregation=self._breakdown_values(self._breakdowns),
            **values,
        )


# --- workflow ------------------------------------------------------------------------


class ReturnForm(forms.Form):
    comment = forms.CharField(
        label=_("What needs to change"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The focal points see this comment with the returned record."),
    )

    def clean_comment(self) -> str:
        comment = self.cleaned_data["comment"].strip()
        if not comment:
            raise ValidationError(_("Say what needs to change."))
        return comment
