"""A home with a hub and its sensors, and reports put through the listener's ingest in this
process (what `mqtt_listen` does with a batch); the broker and feed fixtures of the ingest suite
for the end-to-end cases."""
import datetime
import json
import socket

import pytest

from hubs.ingest import messages, services as ingest
from hubs.mqtt import topics
from tests import factories as f
from tests.energy.conftest import store  # noqa: F401  (the energy suites' time-series store)
from tests.ingest.conftest import feed, listener, mosquitto, mqtt, sim_hub  # noqa: F401

UTC = datetime.UTC


@pytest.fixture
def place(home):
    room = f.RoomFactory(home=home, name="Kitchen")
    hub = f.HubFactory(home=home, name="Kitchen hub")
    return {
        "home": home, "hub": hub,
        "leak": f.DeviceFactory(room=room, hub=hub, name="Sink sensor", type="sensor", category="Sensor"),
        "smoke": f.DeviceFactory(room=room, hub=hub, name="Smoke detector", type="sensor", category="Sensor"),
    }


def telemetry(device, fields: dict, *, at: datetime.datetime | None = None) -> messages.Raw:
    body = {**fields, "ts": (at or datetime.datetime.now(UTC)).isoformat()}
    return messages.Raw(mid=1, qos=1, retain=False, topic=topics.device_report(str(device.hub_id), str(device.pk),
                                                                               "telemetry"),
                        payload=json.dumps(body).encode(), received_at=datetime.datetime.now(UTC))


def hub_status(hub, status: str, *, at: datetime.datetime | None = None) -> messages.Raw:
    body = {"status": status, "ts": (at or datetime.datetime.now(UTC)).isoformat()}
    return messages.Raw(mid=1, qos=1, retain=False, topic=topics.hub_status(str(hub.pk)),
                        payload=json.dumps(body).encode(), received_at=datetime.datetime.now(UTC))


def ingest_batch(raws: list[messages.Raw]):
    """One listener batch: parse each, ingest them in one transaction."""
    return ingest.ingest([messages.parse(raw) for raw in raws])


class Mailbox:
    """A real SMTP server on loopback (aiosmtpd) that keeps what it is sent."""

    def __init__(self):
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        from email import message_from_bytes

        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def mailbox(settings):
    from aiosmtpd.controller import Controller

    box = Mailbox()
    with socket.socket() as probe:  # a free port (aiosmtpd checks the port it was given)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    yield box
    controller.stop()


class Receiver:
    """A real HTTP server on loopback standing in for a push relay: keeps each request, answers
    with `status` (a list: one per request, the last repeating)."""

    def __init__(self):
        import http.server
        import threading

        self.requests: list[dict] = []
        self.statuses = [200]
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": dict(self.headers), "body": body})
                status = receiver.statuses[min(len(receiver.requests), len(receiver.statuses)) - 1]
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/push"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.server.shutdown()
