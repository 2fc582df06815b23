from django.urls import path

from frameworks import instrument_views as views

app_name = "instruments"

team = "teams/<str:code>/instruments/"

urlpatterns = [
    path(team, views.team_instruments, name="team_instruments"),
    path(f"{team}maps/<int:pk>/", views.mission_detail, name="mission_detail"),
    path(
        f"{team}recommendations/<int:pk>/follow-up/",
        views.recommendation_follow_up,
        name="recommendation_follow_up",
    ),
    path(
        f"{team}recommendations.csv",
        views.recommendations_csv,
        name="recommendations_csv",
    ),
    path("platforms/", views.platform_list, name="platform_list"),
    path("platforms/<str:code>/", views.platform_detail, name="platform_detail"),
]
