"""Routers for the app's contract: every path works with or without a trailing slash."""
from rest_framework.routers import SimpleRouter


class OptionalSlashRouter(SimpleRouter):
    def __init__(self):
        super().__init__()
        self.trailing_slash = "/?"


HOME = r"homes/(?P<home_id>[^/]+)"
