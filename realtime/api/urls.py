"""Live-feed REST endpoints."""
from django.urls import re_path

from veahome.routers import HOME

from . import views

urlpatterns = [
    re_path(rf"^{HOME}/snapshot/?$", views.SnapshotView.as_view(), name="home-snapshot"),
]
