"""E-mails about the workflow, sent only after the change has committed."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction
from django.utils.translation import gettext as _

from coordination.models import COORDINATOR_ROLES, Membership, Role

if TYPE_CHECKING:
    from frameworks.models import Contribution, IndicatorMeasurement, JointActivity


def _describe(
    activity: JointActivity | None,
    contribution: Contribution | None,
    measurement: IndicatorMeasurement | None,
) -> tuple[int, int | None, str]:
    """Return (team id, owning agency id, human label) of the record."""
    if activity is not None:
        return (
            activity.country_team_id,
            activity.agency_id,
            _("Joint activity “%(title)s”") % {"title": activity.title},
        )
    if contribution is not None:
        return (
            contribution.country_team_id,
            contribution.agency_id,
            _("%(agency)s contribution %(year)d to “%(title)s”")
            % {
                "agency": contribution.agency.code,
                "year": contribution.year,
                "title": contribution.activity.title,
            },
        )
    assert measurement is not None  # noqa: S101 - one subject is always given
    return (
        measurement.country_team_id,
        measurement.agency_id,
        _("Measurement of %(code)s for %(year)d")
        % {"code": measurement.indicator.code, "year": measurement.year},
    )


def _emails(
    team_id: int, *, roles: tuple[str, ...], agency_id: int | None
) -> list[str]:
    # A deactivated account holds no roles, so it gets no workflow mail either.
    memberships = Membership.objects.filter(
        country_team_id=team_id, role__in=roles, user__is_active=True
    )
    if agency_id is not None:
        memberships = memberships.filter(agency_id=agency_id)
    return sorted(
        set(memberships.exclude(user__email="").values_list("user__email", flat=True))
    )


def _send_after_commit(subject: str, body: str, recipients: list[str]) -> None:
    # One message per person, so nobody sees who else was told.
    messages = tuple(
        (subject, body, settings.DEFAULT_FROM_EMAIL, [recipient])
        for recipient in recipients
    )
    if messages:
        transaction.on_commit(partial(send_mass_mail, messages, fail_silently=True))


def notify_submitted(
    *,
    activity: JointActivity | None = None,
    contribution: Contribution | None = None,
    measurement: IndicatorMeasurement | None = None,
) -> None:
    """Tell the team's RC office that something awaits validation."""
    team_id, _agency, label = _describe(activity, contribution, measurement)
    recipients = _emails(team_id, roles=COORDINATOR_ROLES, agency_id=None)
    _send_after_commit(
        _("[unportal] Submitted for validation: %(label)s") % {"label": label},
        _("%(label)s was submitted and awaits validation in your inbox.")
        % {"label": label},
        recipients,
    )


def notify_returned(
    *,
    comment: str,
    activity: JointActivity | None = None,
    contribution: Contribution | None = None,
    measurement: IndicatorMeasurement | None = None,
) -> None:
    """Tell the owning agency's focal points that a record came back."""
    team_id, agency_id, label = _describe(activity, contribution, measurement)
    if agency_id is None:
        recipients = _emails(team_id, roles=COORDINATOR_ROLES, agency_id=None)
    else:
        recipients = _emails(team_id, roles=(Role.FOCAL_POINT,), agency_id=agency_id)
    _send_after_commit(
        _("[unportal] Returned: %(label)s") % {"label": label},
        _("%(label)s was returned by the RC office:\n\n%(comment)s")
        % {"label": label, "comment": comment},
        recipients,
    )
