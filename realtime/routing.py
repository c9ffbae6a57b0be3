"""Websocket routing: the home feed at /ws and /ws/homes/{homeId}, behind the origin check."""
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.routing import URLRouter
from channels.security.websocket import OriginValidator
from django.conf import settings
from django.urls import re_path

from .consumer import HomeFeedConsumer


class NativeFriendlyOriginValidator(OriginValidator):
    """Browsers must come from an allowed origin; native apps send no Origin header at all.

    Leaving the header out gains a browser page nothing: it cannot omit it, and the socket
    still needs a token, which a cross-site page does not have.
    """

    def valid_origin(self, parsed_origin):
        if parsed_origin is None:
            return True
        return self.validate_origin(parsed_origin)


class NoSuchPath(AsyncWebsocketConsumer):
    async def connect(self):
        await self.close()


websocket_urlpatterns = [
    re_path(r"^ws/?$", HomeFeedConsumer.as_asgi()),
    re_path(r"^ws/homes/(?P<home_id>[^/]+)/?$", HomeFeedConsumer.as_asgi()),
    re_path(r"", NoSuchPath.as_asgi()),
]

websocket_application = NativeFriendlyOriginValidator(
    URLRouter(websocket_urlpatterns), settings.REALTIME_ALLOWED_ORIGINS
)
