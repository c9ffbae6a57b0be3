"""WSGI entry point (management tools only; the stack serves ASGI)."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "veahome.settings")
application = get_wsgi_application()
