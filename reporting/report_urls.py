from django.urls import path

from reporting import report_views

app_name = "reports"

urlpatterns = [
    path(
        "teams/<str:code>/reports/",
        report_views.team_reports,
        name="team_reports",
    ),
    path(
        "teams/<str:code>/reports/request/",
        report_views.team_report_request,
        name="team_report_request",
    ),
    path(
        "teams/<str:code>/reports/annual/<int:year>/",
        report_views.annual_report,
        name="annual_report",
    ),
    path(
        "teams/<str:code>/reports/annual/<int:year>/<slug:table>.<slug:extension>",
        report_views.annual_table_download,
        name="annual_table",
    ),
    path(
        "teams/<str:code>/reports/<int:pk>/progress/",
        report_views.report_progress,
        name="progress",
    ),
    path(
        "teams/<str:code>/reports/<int:pk>/download/",
        report_views.report_download,
        name="download",
    ),
    path(
        "reports/board-summaries/",
        report_views.board_summaries,
        name="board_summaries",
    ),
    path(
        "reports/board-summaries/request/",
        report_views.board_summary_request,
        name="board_summary_request",
    ),
    path(
        "reports/board-summaries/<int:pk>/progress/",
        report_views.board_progress,
        name="board_progress",
    ),
    path(
        "reports/board-summaries/<int:pk>/download/",
        report_views.board_download,
        name="board_download",
    ),
]
