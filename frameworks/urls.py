from django.urls import path

from frameworks import views

app_name = "frameworks"

team = "teams/<str:code>/"

urlpatterns = [
    path(
        f"{team}frameworks/<int:pk>/",
        views.framework_detail,
        name="framework_detail",
    ),
    path(
        f"{team}frameworks/<int:pk>/sign-off/",
        views.framework_sign_off,
        name="framework_sign_off",
    ),
    path(f"{team}programmes/", views.programme_list, name="programme_list"),
    path(
        f"{team}programmes/<int:pk>/",
        views.programme_detail,
        name="programme_detail",
    ),
    path("sdg/", views.sdg_list, name="sdg_list"),
    # Joint activities and their workflow.
    path(f"{team}activities/", views.activity_list, name="activity_list"),
    path(f"{team}activities/new/", views.activity_create, name="activity_create"),
    path(f"{team}activities/new/check/", views.activity_check, name="activity_check"),
    path(f"{team}activities/<int:pk>/", views.activity_detail, name="activity_detail"),
    path(f"{team}activities/<int:pk>/edit/", views.activity_edit, name="activity_edit"),
    path(
        f"{team}activities/<int:pk>/edit/check/",
        views.activity_check,
        name="activity_edit_check",
    ),
    path(
        f"{team}activities/<int:pk>/submit/",
        views.activity_submit,
        name="activity_submit",
    ),
    path(
        f"{team}activities/<int:pk>/validate/",
        views.activity_validate,
        name="activity_validate",
    ),
    path(
        f"{team}activities/<int:pk>/return/",
        views.activity_return,
        name="activity_return",
    ),
    path(
        f"{team}activities/<int:pk>/delete/",
        views.activity_delete,
        name="activity_delete",
    ),
    # Each agency's contribution to an activity.
    path(
        f"{team}activities/<int:pk>/contributions/new/",
        views.contribution_create,
        name="contribution_create",
    ),
    path(
        f"{team}contributions/<int:pk>/edit/",
        views.contribution_edit,
        name="contribution_edit",
    ),
    path(
        f"{team}contributions/<int:pk>/submit/",
        views.contribution_submit,
        name="contribution_submit",
    ),
    path(
        f"{team}contributions/<int:pk>/validate/",
        views.contribution_validate,
        name="contribution_validate",
    ),
    path(
        f"{team}contributions/<int:pk>/return/",
        views.contribution_return,
        name="contribution_return",
    ),
    path(
        f"{team}contributions/<int:pk>/delete/",
        views.contribution_delete,
        name="contribution_delete",
    ),
    # Indicators and their measurements.
    path(
        f"{team}indicators/<int:pk>/",
        views.indicator_detail,
        name="indicator_detail",
    ),
    path(
        f"{team}indicators/<int:pk>/measurements/new/",
        views.measurement_create,
        name="measurement_create",
    ),
    path(
        f"{team}measurements/<int:pk>/edit/",
        views.measurement_edit,
        name="measurement_edit",
    ),
    path(
        f"{team}measurements/<int:pk>/submit/",
        views.measurement_submit,
        name="measurement_submit",
    ),
    path(
        f"{team}measurements/<int:pk>/validate/",
        views.measurement_validate,
        name="measurement_validate",
    ),
    path(
        f"{team}measurements/<int:pk>/return/",
        views.measurement_return,
        name="measurement_return",
    ),
    path(
        f"{team}measurements/<int:pk>/delete/",
        views.measurement_delete,
        name="measurement_delete",
    ),
    path("my-work/", views.my_work, name="my_work"),
    path("my-work/count/", views.my_work_count, name="my_work_count"),
]
