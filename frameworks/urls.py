from django.urls import path

from frameworks import views

app_name = "frameworks"

urlpatterns = [
    path(
        "teams/<str:code>/frameworks/<int:pk>/",
        views.framework_detail,
        name="framework_detail",
    ),
    path("teams/<str:code>/programmes/", views.programme_list, name="programme_list"),
    path(
        "teams/<str:code>/programmes/<int:pk>/",
        views.programme_detail,
        name="programme_detail",
    ),
    path("sdg/", views.sdg_list, name="sdg_list"),
]
