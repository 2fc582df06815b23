from django.urls import path, re_path

from reporting import coherence_views as views

app_name = "coherence"

_FILE = r"(?P<table>[a-z-]+)\.(?P<extension>csv|xlsx)"

urlpatterns = [
    path("teams/<str:code>/coherence/", views.team_coherence, name="team"),
    path(
        "teams/<str:code>/coherence/alerts/<int:activity_a>-<int:activity_b>/decide/",
        views.decide_alert,
        name="decide_alert",
    ),
    re_path(
        rf"^teams/(?P<code>[^/]+)/coherence/{_FILE}$",
        views.team_download,
        name="team_download",
    ),
    path("board/coherence/", views.board, name="board"),
    re_path(rf"^board/coherence/{_FILE}$", views.board_download, name="board_download"),
]
