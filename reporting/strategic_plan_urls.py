"""Agency strategic plans: the board's view under /board/strategic-plans/, the
plans themselves, and each team's alignment of its framework with them."""

from django.urls import path, re_path

from reporting import strategic_plan_views as views

app_name = "strategic_plans"

urlpatterns = [
    path("", views.board, name="board"),
    re_path(
        r"^(?P<pk>[0-9]{1,18})/(?P<table>[a-z-]+)\.(?P<extension>csv|xlsx)$",
        views.board_download,
        name="download",
    ),
    path("plans/", views.plan_list, name="plan_list"),
    path("plans/<int:pk>/", views.plan_detail, name="plan_detail"),
    path("teams/<str:code>/", views.team_alignment, name="team_alignment"),
    path(
        "teams/<str:code>/outputs/<int:pk>/",
        views.output_alignment,
        name="output_alignment",
    ),
]
