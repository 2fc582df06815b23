from django.urls import path

from reporting import views

app_name = "reporting"

urlpatterns = [
    path("", views.home, name="home"),
    path("teams/<str:code>/", views.team_detail, name="team_detail"),
]
