"""`homes/{homeId}/snapshot`: the state to load before subscribing to the feed."""
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from homes.api.mixins import HomeScopedMixin
from realtime.selectors import home_snapshot

from .serializers import SnapshotSerializer


class SnapshotView(HomeScopedMixin, APIView):
    @extend_schema(responses=SnapshotSerializer)
    def get(self, request, *args, **kwargs):
        snapshot = home_snapshot(self.home)
        return Response(SnapshotSerializer(snapshot, context={"request": request, "membership": self.membership}).data)
