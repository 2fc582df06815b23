from django.conf import settings
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("unportal.api_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("coordination.urls")),
    path("", include("frameworks.urls")),
    path("", include("frameworks.import_urls")),
    path("", include("frameworks.instrument_urls", namespace="instruments")),
    path("", include("reporting.urls")),
    path("", include("reporting.iati_urls")),
    path("", include("reporting.coherence_urls", namespace="coherence")),
    path("board/", include("reporting.board_urls")),
    path("board/strategic-plans/", include("reporting.strategic_plan_urls")),
    path("", include("reporting.report_urls")),
    path("", include("reporting.open_data_urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
