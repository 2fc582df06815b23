"""What every API endpoint shares: authentication, team scoping, errors, versions.

Lists are scoped in the queryset by `CountryTeamScopedViewSet`, which subclasses
cannot bypass: an object of a team the caller has no part in is a 404, never a 403.
Services raise Django's PermissionDenied and ValidationError and the joint-work
QualityError and ConflictError; `exception_handler` turns them into 403, 400 and 412
responses with bodies the schema describes.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from typing import TYPE_CHECKING, Any, ClassVar

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ImproperlyConfigured
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django_filters import rest_framework as filters
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema_field
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.filters import OrderingFilter, SearchFilter
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import JSONParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from coordination.authentication import HashedTokenAuthentication
from coordination.models import CountryTeam
from frameworks.services import ConflictError, QualityError

if TYPE_CHECKING:
    from django.db.models import Model, QuerySet
    from rest_framework.request import Request
    from rest_framework.views import APIView

# Ids in URLs and filters stay within a 64-bit integer, so an absurd id is a 404 or
# a 400 rather than a database overflow.
ID_PATTERN = r"[0-9]{1,18}"
MAX_ID = 10**18 - 1


# --- errors -----------------------------------------------------------------------


def _django_error_detail(exc: DjangoValidationError) -> dict[str, list[str]]:
    general = api_settings.NON_FIELD_ERRORS_KEY
    if not hasattr(exc, "error_dict"):
        return {general: exc.messages}
    return {
        general if name == NON_FIELD_ERRORS else name: messages
        for name, messages in exc.message_dict.items()
    }


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, taught the exceptions our services raise."""
    if isinstance(exc, QualityError):
        return Response(
            {
                "detail": _("The record has data-quality errors; fix them first."),
                "issues": [asdict(issue) for issue in exc.issues],
            },
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, ConflictError):
        return Response(
            {
                "detail": str(exc),
                "current_version": exc.current_version,
                "changes": exc.changes,
            },
            status=status.HTTP_412_PRECONDITION_FAILED,
        )
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(_django_error_detail(exc))
    elif isinstance(exc, exceptions.ValidationError) and isinstance(exc.detail, list):
        # Every 400 body is an object, as the schema says.
        exc.detail = {api_settings.NON_FIELD_ERRORS_KEY: exc.detail}
    elif isinstance(exc, DjangoPermissionDenied):
        # Keep the service's reason; DRF's own conversion drops it.
        exc = exceptions.PermissionDenied(str(exc) or None)
    return drf_exception_handler(exc, context)


class ErrorOutput(serializers.Serializer):
    detail = serializers.CharField()

    class Meta:
        ref_name = "Error"


class IssueOutput(serializers.Serializer):
    level = serializers.ChoiceField(choices=["error", "warning"])
    field = serializers.CharField()
    message = serializers.CharField()

    class Meta:
        ref_name = "Issue"


class QualityErrorOutput(serializers.Serializer):
    detail = serializers.CharField()
    issues = IssueOutput(many=True)

    class Meta:
        ref_name = "QualityError"


class ConflictOutput(serializers.Serializer):
    detail = serializers.CharField()
    current_version = serializers.IntegerField()
    changes = serializers.DictField(
        child=serializers.ListField(child=serializers.JSONField(), min_length=2),
        help_text=gettext_lazy(
            "Per field, [value now stored, value you sent]; empty for workflow "
            "actions and deletes."
        ),
    )

    class Meta:
        ref_name = "Conflict"


VALIDATION_ERROR = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description=gettext_lazy(
        "Invalid input: an object mapping each field (or non_field_errors) to its "
        "messages. Nothing was written."
    ),
)
QUALITY_ERROR = OpenApiResponse(
    QualityErrorOutput,
    description=gettext_lazy(
        "Refused by the data-quality checks: every issue, blocking or not."
    ),
)


# --- optimistic concurrency -------------------------------------------------------

_ENTITY_TAG = re.compile(r'\s*("?)([0-9]{1,10})\1\s*')

IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description=gettext_lazy(
        'Optional. The ETag of the record as you last read it, e.g. "3". When '
        "given and the record has changed since, nothing is written and the "
        "answer is 412 with the current version (and, for edits, the changes)."
    ),
)
ETAG = OpenApiParameter(
    "ETag",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=[200, 201],
    description=gettext_lazy("The record's version, to send back in If-Match."),
)


def etag_for(instance: Any) -> str:
    return f'"{instance.version}"'


def _if_match_versions(request: Request) -> set[int] | None:
    """Versions named by If-Match; None when the header is absent or `*`."""
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    versions = set()
    for tag in header.split(","):
        # Weak tags never match: If-Match uses the strong comparison.
        match = _ENTITY_TAG.fullmatch(tag)
        if match:
            versions.add(int(match[2]))
    return versions


def expected_version(request: Request, instance: Any) -> int | None:
    """The version to hand an update service, so it can report the changes.

    When If-Match names the current version, that version goes on to be checked
    again under the service's row lock; when it does not, a version the record
    cannot have, so the service answers with a ConflictError and its changes.
    """
    versions = _if_match_versions(request)
    if versions is None:
        return None
    if instance.version in versions:
        return instance.version
    return min(versions, default=0)


def check_if_match(request: Request, instance: Any) -> None:
    """Refuse a workflow action or delete whose If-Match names another version."""
    versions = _if_match_versions(request)
    if versions is not None and instance.version not in versions:
        raise ConflictError(current_version=instance.version, changes={})


# --- schema -----------------------------------------------------------------------


class UnportalAutoSchema(AutoSchema):
    """Documents the error answers every endpoint can give, and If-Match/ETag."""

    def _view_action(self) -> str | None:
        return getattr(self.view, "action", None)

    def _is_versioned(self) -> bool:
        return bool(getattr(self.view, "versioned", False))

    def get_override_parameters(self) -> list[Any]:
        parameters = super().get_override_parameters()
        if not self._is_versioned():
            return parameters
        action = self._view_action()
        if self.method in ("PUT", "PATCH", "DELETE", "POST") and action != "create":
            parameters = [*parameters, IF_MATCH]
        if self.method != "DELETE" and not self._is_list_view():
            parameters = [*parameters, ETAG]
        return parameters

    def _error_responses(self) -> dict[str, Any]:
        errors: dict[str, Any] = {
            "401": OpenApiResponse(ErrorOutput, description=_("Not signed in."))
        }
        not_found = OpenApiResponse(
            ErrorOutput,
            description=_("No such record among those you may see (or no such page)."),
        )
        forbidden = OpenApiResponse(
            ErrorOutput,
            description=_(
                "Signed in, but not allowed to do this (or, signed in by session, "
                "without the CSRF token)."
            ),
        )
        action = self._view_action()
        has_object = "{" in self.path
        if self.method == "GET":
            if self._is_list_view():
                errors["400"] = OpenApiResponse(
                    OpenApiTypes.OBJECT, description=_("A filter value is invalid.")
                )
            errors["404"] = not_found
            return errors
        errors["403"] = forbidden
        if action in ("create", "update", "partial_update"):
            errors["400"] = VALIDATION_ERROR
        if has_object:
            errors["404"] = not_found
        if has_object and self._is_versioned():
            errors["412"] = OpenApiResponse(
                ConflictOutput,
                description=_("If-Match names a version other than the current one."),
            )
        return errors

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses = operation.setdefault("responses", {})
        errors = self._error_responses()
        if "requestBody" in operation:
            errors["415"] = OpenApiResponse(
                ErrorOutput, description=_("The body is not JSON.")
            )
        for code, response in errors.items():
            if code not in responses:
                responses[code] = self._get_response_for_code(response, code)
        return operation


# --- filters --------------------------------------------------------------------


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(filters.NumberFilter):
    """A whole number (an id, a year, a goal) within the bounds given."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class CodeFilter(filters.CharFilter):
    """A short code (team, agency, area), compared without regard to case."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("lookup_expr", "iexact")
        kwargs.setdefault("max_length", 20)
        super().__init__(*args, **kwargs)


class UnportalSearchFilter(SearchFilter):
    """DRF's search, with its errors named after the parameter."""

    def get_search_terms(self, request: Request) -> list[str]:
        try:
            return super().get_search_terms(request)
        except exceptions.ValidationError as exc:
            raise exceptions.ValidationError({self.search_param: exc.detail}) from exc


# --- views ------------------------------------------------------------------------


@csrf_exempt
def not_found(request: HttpRequest) -> JsonResponse:
    """Answer unknown API paths (or ids of the wrong shape) in JSON, not HTML."""
    return JsonResponse({"detail": _("Not found.")}, status=404)


class UnportalPagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200


class HasObjectRule(IsAuthenticated):
    """Ask the registered rule for the view's action, e.g. change_contribution."""

    def has_object_permission(self, request: Request, view: APIView, obj: Any) -> bool:
        rule = getattr(view, "object_rules", {}).get(getattr(view, "action", None))
        return rule is None or request.user.has_perm(rule, obj)


class ApiViewMixin:
    """Settings every API view shares, whatever the project-wide defaults say."""

    # Token first: DRF answers 401 (not 403) only when the first authenticator
    # names a WWW-Authenticate scheme, and session auth names none.
    authentication_classes: ClassVar[list[type]] = [
        HashedTokenAuthentication,
        SessionAuthentication,
    ]
    permission_classes: ClassVar[list[type]] = [HasObjectRule]
    # JSON only: the interactive documentation is /api/docs/, and form-encoded
    # bodies cannot carry the nested results and breakdowns.
    parser_classes: ClassVar[list[type]] = [JSONParser]
    renderer_classes: ClassVar[list[type]] = [JSONRenderer]
    pagination_class = UnportalPagination
    filter_backends: ClassVar[list[type]] = [
        filters.DjangoFilterBackend,
        UnportalSearchFilter,
        OrderingFilter,
    ]
    schema = UnportalAutoSchema()

    def get_exception_handler(self) -> Any:
        return exception_handler


class ReferenceDataViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    """Read-only reference data (agencies, SDGs): the same for every signed-in user."""


class CountryTeamScopedViewSet(ApiViewMixin, viewsets.GenericViewSet):
    """Base for everything that belongs to a country team.

    `get_queryset()` narrows whatever `scope_queryset()` returns to the teams the
    user may see, last, so nothing a subclass does can widen it. Models whose
    QuerySet has no `visible_to()` name the path to their team in `team_path`.
    Annotate with distinct counts or subqueries: the visibility filter may join.
    """

    team_path: ClassVar[str | None] = None
    object_rules: ClassVar[dict[str, str]] = {}
    versioned: ClassVar[bool] = False
    lookup_value_regex = ID_PATTERN

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "get_queryset" in cls.__dict__:
            raise TypeError(
                f"{cls.__name__} overrides get_queryset(), which would lose the "
                "country-team scope; extend scope_queryset() instead."
            )

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        """Narrow, select_related, prefetch and annotate; never widen."""
        return queryset

    def get_queryset(self) -> QuerySet[Any]:
        if self.queryset is None:
            raise ImproperlyConfigured(f"{type(self).__name__} needs a queryset.")
        user = self.request.user
        queryset = self.scope_queryset(self.queryset.all())
        if hasattr(queryset, "visible_to"):
            return queryset.visible_to(user)
        if self.team_path is None:
            raise ImproperlyConfigured(
                f"{queryset.model.__name__} has no visible_to(); set "
                f"{type(self).__name__}.team_path."
            )
        return queryset.filter(
            **{f"{self.team_path}__in": CountryTeam.objects.visible_to(user)}
        )

    def respond(
        self,
        instance: Model,
        status_code: int = status.HTTP_200_OK,
        *,
        reload: bool = True,
        extra: dict[str, Any] | None = None,
    ) -> Response:
        """Answer with the record as the list shows it, and its ETag.

        After a write the record is read again through the scoped queryset, so the
        answer is loaded the same way (and the serializer never queries).
        """
        if reload:
            instance = self.get_queryset().get(pk=instance.pk)
        data = self.get_serializer_class()(
            instance, context=self.get_serializer_context()
        ).data
        if extra:
            data = {**data, **extra}
        headers = {"ETag": etag_for(instance)} if self.versioned else {}
        return Response(data, status=status_code, headers=headers)
