from rest_framework.routers import SimpleRouter

from frameworks.api import views

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

urlpatterns = router.urls
