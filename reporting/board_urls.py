"""The executive board's pages, under /board/.

/board/coherence/ and /board/strategic-plans/ belong to their own url modules;
nothing here may match them.
"""

from django.urls import path, re_path

from reporting import board_views as views

app_name = "board"

_FILE = r"(?P<table>[a-z-]+)\.(?P<extension>csv|xlsx)"

urlpatterns = [
    path("", views.summary, name="summary"),
    path("map/", views.world_map, name="map"),
    path("common-chapter/", views.common_chapter, name="common_chapter"),
    path("teams/<str:code>/", views.team, name="team"),
    re_path(
        rf"^(?P<page>summary|map|common-chapter)/{_FILE}$",
        views.download,
        name="download",
    ),
    re_path(
        rf"^teams/(?P<code>[A-Z]{{3}})/{_FILE}$",
        views.team_download,
        name="team_download",
    ),
]
