"""Hub suites run against a real Mosquitto with the dynamic-security plugin (tests/mqtt_broker.py)."""
import pytest

from tests.mqtt_broker import broker, dynsec_broker  # noqa: F401  (fixtures)


@pytest.fixture(autouse=True)
def _relaxed_provision_throttle(settings):
    # Suites provision many times from one address; the throttle has its own test.
    settings.HUB_PROVISION_THROTTLE_RATE = "100000/min"
