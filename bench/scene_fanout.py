"""Benchmark: activating a 20-device scene through the REST API until all 20 commands reach the hub.

Usage: python bench/scene_fanout.py [--devices 20] [--runs 200]

One home with a hub and `devices` lights, a scene over all of them, and an MQTT client
subscribed to the hub's command topics on the real broker (MQTT_URL), as the hub would be.
Each run is `PUT /api/homes/{homeId}/scenes/{sceneId}/activate` through Django's test client
(the whole request path: auth, scoping, the service, the commit, the publisher; no socket),
timed from the call to the last of the scene's commands arriving at the subscriber. Prints
p50/p95/p99/max in ms for the response and for "all commands at the hub". Goal: p99 <= 100 ms.
"""
import argparse
import os
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "veahome.settings")

from bench.benchdb import use_bench_database  # noqa: E402


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--devices", type=int, default=20)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()

    os.environ.setdefault("SECRET_KEY", uuid.uuid4().hex * 2)
    use_bench_database()
    import django

    django.setup()
    import json

    import paho.mqtt.client as mqtt
    from django.conf import settings
    from rest_framework.test import APIClient

    from automations.models import Scene
    from devices.models import Device
    from homes import services as home_services
    from homes.models import Room, User
    from hubs.models import Hub
    from hubs.mqtt import publisher, topics

    settings.ALLOWED_HOSTS = ["*"]
    settings.MQTT_TOPIC_PREFIX = f"fanout-{uuid.uuid4().hex[:6]}"
    publisher.reset()
    user, _ = User.objects.get_or_create(email="scene-bench@veahome.local")
    home = home_services.home_create(owner=user, name=f"scene-bench {uuid.uuid4().hex[:6]}")
    room = Room.objects.create(home=home, name="Room")
    hub = Hub.objects.create(home=home, serial_number=f"SB{uuid.uuid4().hex[:10]}", name="Hub", status="online")
    devices = Device.objects.bulk_create([Device(home=home, room=room, hub=hub, name=f"Lamp {n}", type="light",
                                                 category="Zigbee") for n in range(args.devices)])
    scene = Scene.objects.create(home=home, name="All", device_states={str(d.pk): {"isActive": True, "value": 50}
                                                                       for d in devices})
    client = APIClient()
    client.force_authenticate(user)

    arrived = []
    lock = threading.Condition()
    subscribed = threading.Event()
    sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-hub-{uuid.uuid4().hex[:6]}")
    params = publisher.broker_params()

    def on_connect(c, userdata, flags, reason, properties):
        c.subscribe([(t, 1) for t in topics.hub_commands(str(hub.pk))])

    def on_subscribe(*a):
        subscribed.set()

    def on_message(c, userdata, message):
        with lock:
            arrived.append((time.perf_counter(), json.loads(message.payload).get("commandId")))
            lock.notify_all()

    sub.on_connect, sub.on_subscribe, sub.on_message = on_connect, on_subscribe, on_message
    sub.connect(params["host"], params["port"])
    sub.loop_start()
    assert subscribed.wait(10), "subscriber did not subscribe"

    url = f"/api/homes/{home.pk}/scenes/{scene.pk}/activate"
    response_ms, delivered_ms = [], []
    print(f"load average at start: {os.getloadavg()}")
    for n in range(args.runs + 10):
        with lock:
            arrived.clear()
        started = time.perf_counter()
        response = client.put(url, {}, format="json")
        answered = time.perf_counter()
        assert response.status_code == 200, response.content
        wanted = {o["commandId"] for o in response.json()["outcomes"]}
        with lock:
            assert lock.wait_for(lambda: wanted <= {c for _, c in arrived}, timeout=10), "commands missing"
            last = max(t for t, c in arrived if c in wanted)
        if n >= 10:  # warm-up
            response_ms.append((answered - started) * 1000)
            delivered_ms.append((last - started) * 1000)
    sub.loop_stop()
    print(f"load average at end: {os.getloadavg()}")
    print()
    print("| devices | runs | response p50 / p99 (ms) | all commands at the hub p50 / p95 / p99 / max (ms) |")
    print("| --- | --- | --- | --- |")
    print(f"| {args.devices} | {args.runs} | {percentile(response_ms, 50):.1f} / {percentile(response_ms, 99):.1f} | "
          f"{percentile(delivered_ms, 50):.1f} / {percentile(delivered_ms, 95):.1f} / "
          f"{percentile(delivered_ms, 99):.1f} / {max(delivered_ms):.1f} |")


if __name__ == "__main__":
    main()
