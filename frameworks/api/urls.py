from rest_framework.routers import SimpleRouter

from frameworks.api import instruments, strategic_plans, views

router = SimpleRouter()
router.register("sdg-goals", views.SdgGoalViewSet, basename="sdg-goal")
router.register("sdg-targets", views.SdgTargetViewSet, basename="sdg-target")
router.register(
    "common-chapter-areas",
    views.CommonChapterAreaViewSet,
    basename="common-chapter-area",
)
router.register("frameworks", views.FrameworkViewSet, basename="framework")
router.register("outcomes", views.OutcomeViewSet, basename="outcome")
router.register("outputs", views.OutputViewSet, basename="output")
router.register("indicators", views.IndicatorViewSet, basename="indicator")
router.register("activities", views.JointActivityViewSet, basename="activity")
router.register("contributions", views.ContributionViewSet, basename="contribution")
router.register("measurements", views.MeasurementViewSet, basename="measurement")
# Coordination instruments.
router.register(
    "maps-missions", instruments.MapsMissionViewSet, basename="maps-mission"
)
router.register(
    "recommendations", instruments.RecommendationViewSet, basename="recommendation"
)
router.register(
    "zero-hunger-reviews",
    instruments.ZeroHungerReviewViewSet,
    basename="zero-hunger-review",
)
router.register("platforms", instruments.PlatformViewSet, basename="platform")
router.register(
    "collective-outcomes",
    instruments.CollectiveOutcomeViewSet,
    basename="collective-outcome",
)
router.register(
    "operations-strategies",
    instruments.OperationsStrategyViewSet,
    basename="operations-strategy",
)

strategic_plans.register(router)
urlpatterns = router.urls
