from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from unportal.api import not_found

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path(
        "docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"
    ),
    path("", include("coordination.api.urls")),
    path("", include("frameworks.api.urls")),
    path("", include("reporting.coherence_api_urls")),
    # Anything else under /api/, including ids of the wrong shape.
    re_path(r"^", not_found),
]
