from django.urls import path, re_path

from reporting import views

app_name = "reporting"

urlpatterns = [
    path("", views.home, name="home"),
    path("teams/<str:code>/", views.team_detail, name="team_detail"),
    path("teams/<str:code>/dashboard/", views.dashboard, name="dashboard"),
    path(
        "teams/<str:code>/dashboard/rebuild/",
        views.dashboard_rebuild,
        name="dashboard_rebuild",
    ),
    path(
        "teams/<str:code>/dashboard/rebuild/progress/",
        views.dashboard_rebuild_progress,
        name="dashboard_rebuild_progress",
    ),
    re_path(
        r"^teams/(?P<code>[^/]+)/dashboard/(?P<table>[a-z-]+)\.(?P<extension>csv|xlsx)$",
        views.dashboard_download,
        name="dashboard_download",
    ),
]
