"""Root URLs: the REST API under /api/, its schema and docs, the admin."""
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from homes.admin import admin_login
from veahome import health
from veahome.errors import json_bad_request, json_not_found, json_server_error

admin.site.site_header = "VeaHome support"
admin.site.site_title = "VeaHome support"
admin.site.index_title = "Customers, homes and devices"

api_patterns = [
    re_path(r"^schema/?$", SpectacularAPIView.as_view(), name="schema"),
    re_path(r"^docs/?$", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("", include("homes.api.urls")),
    path("", include("hubs.api.urls")),
    path("", include("devices.api.urls")),
    path("", include("automations.api.urls")),
    path("", include("energy.api.urls")),
    path("", include("alerts.api.urls")),
    path("", include("realtime.api.urls")),
]

urlpatterns = [
    # Ahead of the admin's own login URL: the same page, under login protection.
    path("admin/login/", admin_login),
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    path("api/", include(api_patterns)),
]

handler404 = json_not_found
handler500 = json_server_error
handler400 = json_bad_request
