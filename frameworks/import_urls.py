from django.urls import path

from frameworks import import_views

app_name = "imports"

urlpatterns = [
    path("teams/<str:code>/import/", import_views.import_start, name="start"),
    path(
        "teams/<str:code>/import/template.<str:file_format>",
        import_views.import_template,
        name="template",
    ),
    path("teams/<str:code>/import/codes.csv", import_views.import_codes, name="codes"),
    path(
        "teams/<str:code>/import/<int:pk>/", import_views.import_detail, name="detail"
    ),
    path(
        "teams/<str:code>/import/<int:pk>/progress/",
        import_views.import_progress,
        name="progress",
    ),
    path(
        "teams/<str:code>/import/<int:pk>/write/",
        import_views.import_write,
        name="write",
    ),
]
