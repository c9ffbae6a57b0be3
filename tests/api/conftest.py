"""The API suites send many bodies to the unauthenticated endpoints from one address; their throttles have tests of their own."""
import pytest


@pytest.fixture(autouse=True)
def _relaxed_body_throttles(settings):
    settings.HUB_PROVISION_THROTTLE_RATE = "100000/min"
    settings.ENERGY_INGEST_THROTTLE_RATE = "100000/min"
    settings.HUB_PAIR_THROTTLE_RATE = "100000/min"
