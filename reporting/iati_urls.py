from django.urls import path

from reporting import iati_views

app_name = "iati"

urlpatterns = [
    path(
        "teams/<str:code>/iati.xml",
        iati_views.team_iati_download,
        name="team_activities",
    ),
]
