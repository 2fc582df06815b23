from django.urls import path
from rest_framework.routers import SimpleRouter

from coordination.api import views

router = SimpleRouter()
router.register("teams", views.CountryTeamViewSet, basename="team")
router.register("agencies", views.AgencyViewSet, basename="agency")

urlpatterns = [
    path("auth/token/", views.ApiTokenView.as_view(), name="api-token"),
    *router.urls,
]
