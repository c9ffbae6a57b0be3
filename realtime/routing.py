"""Websocket routing: the home feed at /ws and /ws/homes/{homeId}, behind the origin check."""
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.routing import URLRouter
from django.urls import re_path

from .consumer import HomeFeedConsumer
from .origin import OriginCheck


class NoSuchPath(AsyncWebsocketConsumer):
    async def connect(self):
        await self.close()


websocket_urlpatterns = [
    re_path(r"^ws/?$", HomeFeedConsumer.as_asgi()),
    re_path(r"^ws/homes/(?P<home_id>[^/]+)/?$", HomeFeedConsumer.as_asgi()),
    re_path(r"", NoSuchPath.as_asgi()),
]

websocket_application = OriginCheck(URLRouter(websocket_urlpatterns))
