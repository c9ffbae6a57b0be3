"""Scenes, schedules and automations send through the hub link: the same broker, listener,
simulated hubs and feed as the ingest suite."""
from tests.ingest.conftest import feed, listener, mosquitto, mqtt, sim_hub  # noqa: F401
