"""What the API says about teams and agencies, and the token it hands out."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from coordination.models import Agency, CountryTeam, TeamAgency


class AgencyOutput(serializers.ModelSerializer):
    class Meta:
        ref_name = "Agency"
        model = Agency
        fields = [
            "code",
            "name",
            "kind",
            "iati_identifier",
            "is_common_chapter_signatory",
        ]
        read_only_fields = fields


class TeamAgencyOutput(serializers.ModelSerializer):
    code = serializers.SlugRelatedField(
        source="agency", slug_field="code", read_only=True
    )

    class Meta:
        ref_name = "TeamAgency"
        model = TeamAgency
        fields = ["code", "is_resident"]
        read_only_fields = fields


class CountryTeamOutput(serializers.ModelSerializer):
    agencies = TeamAgencyOutput(source="team_agencies", many=True, read_only=True)

    class Meta:
        ref_name = "CountryTeam"
        model = CountryTeam
        fields = [
            "code",
            "name",
            "iso_alpha2",
            "region",
            "context",
            "status",
            "agencies",
        ]
        read_only_fields = fields


class TokenOutput(serializers.Serializer):
    token = serializers.CharField(
        source="key",
        help_text=_("Send as `Authorization: Token <token>`. Shown only now."),
    )
    created = serializers.DateTimeField()

    class Meta:
        ref_name = "Token"
