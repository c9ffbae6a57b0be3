"""ASGI entry point: HTTP (REST, admin, docs) and websockets in one application."""
import gc
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "veahome.settings")
django.setup(set_prefix=False)

from veahome.startup import refuse_insecure_settings  # noqa: E402

refuse_insecure_settings()

from veahome.handlers import OneHopASGIHandler  # noqa: E402

django_asgi_app = OneHopASGIHandler()

from channels.routing import ProtocolTypeRouter  # noqa: E402

from realtime.routing import websocket_application  # noqa: E402

# Everything loaded so far lives as long as the process: keep it out of the collector's
# scans, which otherwise walk every module, model and URL pattern on each full collection.
gc.freeze()

application = ProtocolTypeRouter({"http": django_asgi_app, "websocket": websocket_application})
