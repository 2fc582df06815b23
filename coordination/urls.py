from django.urls import include, path

from coordination import views

# The pages are namespaced, but the auth views keep Django's top-level names
# (login, logout, password_change, ...) because those views reverse them unqualified.
pages = [
    path("teams/", views.team_list, name="team_list"),
    path("me/", views.profile, name="profile"),
    path("me/language/", views.set_language, name="set_language"),
    path("me/api-token/", views.create_api_token, name="create_api_token"),
    path("me/api-token/revoke/", views.revoke_api_token_view, name="revoke_api_token"),
]

urlpatterns = [
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include((pages, "coordination"))),
    # settings.LOGIN_REDIRECT_URL names the landing page without a namespace.
]
