"""HTML pages for people, teams and the landing page.

Pages are the interface layer over all three apps, like the API views: the home and
team pages read from frameworks and reporting selectors, while coordination's own
models, services and selectors never import a higher app.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from coordination.forms import LanguageForm
from coordination.selectors import (
    get_api_token_created,
    list_memberships_for_user,
    list_teams_for_user,
)
from coordination.services import (
    revoke_api_token,
    rotate_api_token,
    set_user_language,
)


def remember_language(response: HttpResponse, language: str) -> None:
    """Set the cookie LocaleMiddleware reads, as Django's set_language view does."""
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


class LoginView(auth_views.LoginView):
    """Sign in and switch to the language the user saved, on any browser."""

    redirect_authenticated_user = True

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_valid(form)
        language = form.get_user().language
        if language:
            remember_language(response, language)
        return response


@login_required
def team_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "coordination/team_list.html",
        {
            "teams": list_teams_for_user(user=request.user),
            "can_view_board": request.user.has_perm("coordination.view_board_summary"),
        },
    )


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    form = LanguageForm(
        initial={"language": request.user.language or translation.get_language()}
    )
    return _render_profile(request, form)


@login_required
@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    form = LanguageForm(request.POST)
    if not form.is_valid():
        return _render_profile(request, form, status=400)
    language = form.cleaned_data["language"]
    set_user_language(user=request.user, language=language)
    translation.activate(language)
    next_url = form.cleaned_data["next"]
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = reverse("coordination:profile")
    response = redirect(next_url)
    remember_language(response, language)
    messages.success(request, _("Your language is saved."))
    return response


@login_required
@require_POST
def create_api_token(request: HttpRequest) -> HttpResponse:
    # The key is shown once, in this response only: never in a message or a URL.
    token = rotate_api_token(user=request.user)
    form = LanguageForm(
        initial={"language": request.user.language or translation.get_language()}
    )
    return _render_profile(request, form, new_token=token.key)


@login_required
@require_POST
def revoke_api_token_view(request: HttpRequest) -> HttpResponse:
    if revoke_api_token(user=request.user):
        messages.success(request, _("Your API token is revoked; it no longer works."))
    return redirect("coordination:profile")


def _render_profile(
    request: HttpRequest,
    form: LanguageForm,
    status: int = 200,
    new_token: str = "",
) -> HttpResponse:
    return render(
        request,
        "coordination/profile.html",
        {
            "form": form,
            "memberships": list_memberships_for_user(user=request.user),
            "token_created": get_api_token_created(user=request.user),
            "new_token": new_token,
        },
        status=status,
    )
