"""What a board page shows, read from its query string.

Every board page takes the same GET parameters, so a view can be bookmarked,
shared and downloaded with exactly the same filters:

- `year=2024`, or `year_from=2022&year_to=2024` for a range of years;
- `region` (a `coordination.models.Region` value), `agency` (an agency code),
  `area` (a common-chapter area code, e.g. CC4) and `goal` (an SDG goal, 1-17);
- `measure`: what the world map colours country teams by.

Unknown parameters are ignored; a known one with a bad value is refused with a
message that names it (the page answers 400, never 500).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from coordination.models import Agency, CountryTeam, Region
from frameworks.models import CommonChapterArea, SdgGoal

MIN_YEAR, MAX_YEAR = 2000, 2100
MAX_YEARS = 30


def measure_choices() -> dict[str, str]:
    """What the world map can colour teams by (and the order it offers them)."""
    return {
        "gap": _("Funding gap (USD)"),
        "required": _("Required (USD)"),
        "available": _("Available (USD)"),
        "spent": _("Spent (USD)"),
        # xgettext:no-python-format
        "funded": _("Funded (% of required)"),
        "joint_programme_share": _("Spent through joint programmes (%)"),
        "on_track_share": _("Indicators on track (%)"),
    }


DEFAULT_MEASURE = "gap"


@dataclass(frozen=True)
class FilterOptions:
    """The choices a board filter form offers; loaded once per request."""

    years: list[int]
    agencies: list[Agency]
    areas: list[CommonChapterArea]
    goals: list[SdgGoal]

    @property
    def default_year(self) -> int:
        """The last full year with figures: the current year is still being
        reported, so its figures would understate every team."""
        this_year = timezone.localdate().year
        past = [year for year in self.years if year < this_year]
        if past:
            return max(past)
        return max(self.years, default=this_year)


@dataclass(frozen=True)
class BoardFilters:
    """The filters of one board view; plain values, so selectors, pages,
    downloads and reports can share them."""

    year_from: int
    year_to: int
    region: str = ""
    agency: Agency | None = None
    area: CommonChapterArea | None = None
    goal: SdgGoal | None = None
    team: CountryTeam | None = None
    measure: str = DEFAULT_MEASURE

    @classmethod
    def for_year(cls, year: int, **values: Any) -> BoardFilters:
        return cls(year_from=year, year_to=year, **values)

    @property
    def years(self) -> range:
        return range(self.year_from, self.year_to + 1)

    @property
    def is_range(self) -> bool:
        return self.year_from != self.year_to

    @property
    def period_label(self) -> str:
        if self.is_range:
            return f"{self.year_from}\u2013{self.year_to}"
        return str(self.year_to)

    @property
    def has_tag(self) -> bool:
        """Figures are narrowed to money tagged to an area or an SDG goal."""
        return self.area is not None or self.goal is not None

    @property
    def region_label(self) -> str:
        return str(Region(self.region).label) if self.region else ""

    def with_(self, **changes: Any) -> BoardFilters:
        return replace(self, **changes)

    def params(self, **overrides: Any) -> dict[str, Any]:
        """The GET parameters that reopen this view (team pages carry the team
        in their path, so it is not one of them)."""
        values: dict[str, Any] = {}
        if self.is_range:
            values.update(year_from=self.year_from, year_to=self.year_to)
        else:
            values["year"] = self.year_to
        values.update(
            region=self.region,
            agency=self.agency.code if self.agency else "",
            area=self.area.code if self.area else "",
            goal=self.goal.number if self.goal else "",
            measure=self.measure if self.measure != DEFAULT_MEASURE else "",
        )
        values.update(overrides)
        return {key: value for key, value in values.items() if value not in ("", None)}

    def query(self, **overrides: Any) -> str:
        return urlencode(self.params(**overrides))

    def describe(self) -> list[tuple[str, str]]:
        """The filters in words, for a download's "About" sheet."""
        return [
            (_("Years") if self.is_range else _("Year"), self.period_label),
            (_("Figures"), _("Validated figures only")),
            *self.narrowing(),
        ]

    def narrowing(self) -> list[tuple[str, str]]:
        """The filters that narrow the figures down, in words."""
        rows = []
        if self.team:
            rows.append((_("Country team"), f"{self.team.name} ({self.team.code})"))
        if self.region:
            rows.append((_("Region"), self.region_label))
        if self.agency:
            rows.append((_("Agency"), f"{self.agency.code} \u2014 {self.agency.name}"))
        if self.area:
            rows.append((_("Common-chapter area"), f"{self.area.code} {self.area}"))
        if self.goal:
            rows.append((_("SDG goal"), f"{self.goal.number} {self.goal.short_title}"))
        return rows


class BoardFilterForm(forms.Form):
    """Reads and checks the board's GET parameters; `filters()` turns a valid
    form into `BoardFilters`."""

    year = forms.IntegerField(
        label=gettext_lazy("Year"),
        required=False,
        min_value=MIN_YEAR,
        max_value=MAX_YEAR,
    )
    year_from = forms.IntegerField(
        label=gettext_lazy("From"),
        required=False,
        min_value=MIN_YEAR,
        max_value=MAX_YEAR,
    )
    year_to = forms.IntegerField(
        label=gettext_lazy("To"),
        required=False,
        min_value=MIN_YEAR,
        max_value=MAX_YEAR,
    )
    region = forms.ChoiceField(
        label=gettext_lazy("Region"),
        required=False,
        choices=[("", gettext_lazy("All regions")), *Region.choices],
        error_messages={
            "invalid_choice": gettext_lazy("There is no region “%(value)s”.")
        },
    )
    agency = forms.ChoiceField(
        label=gettext_lazy("Agency"),
        required=False,
        error_messages={
            "invalid_choice": gettext_lazy(
                "There is no agency with the code “%(value)s”."
            )
        },
    )
    area = forms.ChoiceField(
        label=gettext_lazy("Common-chapter area"),
        required=False,
        error_messages={
            "invalid_choice": gettext_lazy(
                "There is no common-chapter area with the code “%(value)s”."
            )
        },
    )
    goal = forms.ChoiceField(
        label=gettext_lazy("SDG goal"),
        required=False,
        error_messages={
            "invalid_choice": gettext_lazy(
                "“%(value)s” is not an SDG goal: choose a number from 1 to 17."
            )
        },
    )
    measure = forms.ChoiceField(
        label=gettext_lazy("Colour the map by"),
        required=False,
        error_messages={
            "invalid_choice": gettext_lazy("The map cannot show “%(value)s”.")
        },
    )

    def __init__(self, data: Any, *, options: FilterOptions) -> None:
        super().__init__(data)
        self.options = options
        self.fields["agency"].choices = [
            ("", _("All agencies")),
            *((agency.code, agency.code) for agency in options.agencies),
        ]
        self.fields["area"].choices = [
            ("", _("All areas")),
            *((area.code, f"{area.code} {area}") for area in options.areas),
        ]
        self.fields["goal"].choices = [
            ("", _("All goals")),
            *(
                (str(goal.number), f"{goal.number} {goal.short_title}")
                for goal in options.goals
            ),
        ]
        self.fields["measure"].choices = list(measure_choices().items())

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        year, first, last = (
            data.get(name) for name in ("year", "year_from", "year_to")
        )
        if year is not None and (first is not None or last is not None):
            raise forms.ValidationError(
                _("Give either a year or a range of years (from, to), not both."),
                code="year_and_range",
            )
        if first is not None and last is not None:
            if first > last:
                raise forms.ValidationError(
                    _("The range of years starts after it ends: %(first)s to %(last)s.")
                    % {"first": first, "last": last},
                    code="range_reversed",
                )
            if last - first + 1 > MAX_YEARS:
                raise forms.ValidationError(
                    _("Choose at most %(n)s years at a time.") % {"n": MAX_YEARS},
                    code="range_too_long",
                )
        if data.get("area") and data.get("goal"):
            raise forms.ValidationError(
                _(
                    "Filter by a common-chapter area or by an SDG goal, not both: "
                    "the figures are kept per area and per goal, not per pair."
                ),
                code="area_and_goal",
            )
        return data

    @property
    def messages(self) -> list[str]:
        """Every error, each saying which parameter it is about."""
        messages = [str(error) for error in self.non_field_errors()]
        for name, errors in self.errors.items():
            if name == forms.forms.NON_FIELD_ERRORS:
                continue
            label = self.fields[name].label
            messages.extend(
                _("%(field)s (%(parameter)s): %(error)s")
                % {"field": label, "parameter": name, "error": error}
                for error in errors
            )
        return messages

    def filters(self, *, team: CountryTeam | None = None) -> BoardFilters:
        """The filters of a valid form; years default to the options' default."""
        data = self.cleaned_data
        first = data.get("year_from") or data.get("year")
        last = data.get("year_to") or data.get("year")
        if first is None and last is None:
            first = last = self.options.default_year
        first = first if first is not None else last
        last = last if last is not None else first
        by_code = {agency.code: agency for agency in self.options.agencies}
        areas = {area.code: area for area in self.options.areas}
        goals = {str(goal.number): goal for goal in self.options.goals}
        return BoardFilters(
            year_from=first,
            year_to=last,
            region=data.get("region") or "",
            agency=by_code.get(data.get("agency") or ""),
            area=areas.get(data.get("area") or ""),
            goal=goals.get(data.get("goal") or ""),
            team=team,
            measure=data.get("measure") or DEFAULT_MEASURE,
        )
