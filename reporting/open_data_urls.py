from django.urls import path

from reporting import open_data_views

app_name = "open_data"

urlpatterns = [
    path("open-data/", open_data_views.index, name="index"),
    path(
        "open-data/<str:code>/<int:year>/",
        open_data_views.annual_report,
        name="annual_report",
    ),
    path(
        "open-data/<str:code>/<int:year>/<slug:table>.<slug:extension>",
        open_data_views.table_download,
        name="table",
    ),
    path(
        "open-data/<str:code>/iati.xml",
        open_data_views.iati_download,
        name="iati",
    ),
    path(
        "open-data/<str:code>/reports/<int:pk>.pdf",
        open_data_views.report_download,
        name="report",
    ),
]
