from rest_framework.routers import SimpleRouter

from reporting import coherence_api

router = SimpleRouter()
router.register(
    "coherence-scorecards",
    coherence_api.ScorecardViewSet,
    basename="coherence-scorecard",
)
router.register(
    "overlap-alerts", coherence_api.OverlapAlertViewSet, basename="overlap-alert"
)

urlpatterns = router.urls
