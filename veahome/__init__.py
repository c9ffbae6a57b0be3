"""VeaHome cloud: the smart-home backend (REST, websockets, hub link, time series)."""
from .celery import app as celery_app

__all__ = ("celery_app",)
