"""The MQTT listener: a persistent QoS 1 session whose messages are batched off the network
thread, applied in one transaction per batch and acknowledged only after that commits.

paho's network thread does nothing but queue messages; the calling thread (`run`) takes
up to MQTT_INGEST_BATCH_SIZE of them or whatever arrived within MQTT_INGEST_BATCH_MS,
hands them to services.ingest, and then sends the PUBACKs. A crash before the commit
leaves the messages unacknowledged, so the broker redelivers them to the next session;
ingest is idempotent, so a redelivery changes nothing.
"""
import datetime
import logging
import queue
import socket
import threading
import time
from collections import Counter

import paho.mqtt.client as mqtt
from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from hubs.mqtt import topics
from hubs.mqtt.publisher import broker_params
from veahome import health
from veahome.logsafe import untrusted

from . import messages, services

logger = logging.getLogger(__name__)

STATS_EVERY_SECONDS = 30


def default_client_id() -> str:
    return settings.MQTT_LISTENER_ID or f"veahome-listen-{socket.gethostname()}-{settings.MQTT_TOPIC_PREFIX or 'all'}"


class Listener:
    def __init__(self, *, url: str | None = None, client_id: str | None = None, shared_group: str | None = None,
                 batch_size: int | None = None, batch_ms: int | None = None, on_batch=None):
        self.params = broker_params(url)
        self.client_id = client_id or default_client_id()
        self.shared_group = settings.MQTT_SHARED_GROUP if shared_group is None else shared_group
        self.batch_size = batch_size or settings.MQTT_INGEST_BATCH_SIZE
        self.batch_seconds = (batch_ms if batch_ms is not None else settings.MQTT_INGEST_BATCH_MS) / 1000
        self.on_batch = on_batch  # observer hook (benchmarks): called with the batch's Raw list after commit
        self.queue: "queue.Queue[messages.Raw]" = queue.Queue()
        self.stats: Counter = Counter()
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self._stop = threading.Event()
        self._generation = 0
        self._client = self._make_client()

    # -- network thread --

    def _make_client(self) -> mqtt.Client:
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=mqtt.MQTTv5)
        # PUBACK goes out only after the batch's commit (see _ack).
        client.manual_ack_set(True)
        if self.params["username"]:
            client.username_pw_set(self.params["username"], self.params["password"])
        if self.params["tls"]:
            client.tls_set()
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        # A full batch stays unacknowledged while it commits, so the broker must be allowed
        # to have more than one batch in flight towards us.
        client.max_inflight_messages_set(self.batch_size * 2)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        return client

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            logger.error("broker refused the listener: %s", reason_code)
            return
        self._generation += 1
        logger.info("listener %s connected (session %s)", self.client_id,
                    "resumed" if flags.session_present else "new")
        # Subscribe on every connect: a broker that lost the session (no persistence,
        # expiry) must not leave the listener deaf.
        client.subscribe([(topic, mqtt.SubscribeOptions(qos=1))
                          for topic in topics.listener_subscriptions(self.shared_group)])
        self.connected.set()

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties):
        failed = [rc for rc in reason_codes if rc.is_failure]
        if failed:
            logger.error("subscriptions refused: %s", failed)
        else:
            self.subscribed.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties):
        self.connected.clear()
        self.subscribed.clear()
        if not self._stop.is_set():
            logger.warning("listener disconnected (%s); reconnecting", reason_code)

    def _on_message(self, client, userdata, message):
        self.queue.put(messages.Raw(
            mid=message.mid, qos=message.qos, topic=message.topic, payload=message.payload,
            retain=bool(message.retain), received_at=datetime.datetime.now(datetime.timezone.utc),
            generation=self._generation, received_mono=time.monotonic(), dup=bool(message.dup),
        ))

    # -- the ingest thread --

    def start(self) -> None:
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = settings.MQTT_SESSION_EXPIRY_SECONDS
        properties.ReceiveMaximum = min(65535, self.batch_size * 2)
        self._client.connect_async(self.params["host"], self.params["port"], keepalive=30,
                                   clean_start=False, properties=properties)
        self._client.loop_start()

    def stop(self) -> None:
        """Ask `run` to finish the batch in hand and return (safe from a signal handler)."""
        self._stop.set()

    def run(self) -> None:
        """Ingest until stop(); then acknowledge what committed and disconnect cleanly."""
        self.start()
        last_stats = time.monotonic() - STATS_EVERY_SECONDS  # report once right away
        try:
            while not self._stop.is_set():
                batch = self._next_batch()
                if batch:
                    self._process(batch)
                if time.monotonic() - last_stats >= STATS_EVERY_SECONDS:
                    self.log_stats()
                    last_stats = time.monotonic()
        finally:
            self._client.disconnect()
            self._client.loop_stop()
            self.log_stats()
            close_old_connections()

    def _next_batch(self) -> list[messages.Raw]:
        try:
            batch = [self.queue.get(timeout=0.2)]
        except queue.Empty:
            return []
        deadline = time.monotonic() + self.batch_seconds
        while len(batch) < self.batch_size:
            remaining = deadline - time.monotonic()
            try:
                batch.append(self.queue.get_nowait() if remaining <= 0 else self.queue.get(timeout=remaining))
            except queue.Empty:
                break
        return batch

    def _process(self, batch: list[messages.Raw]) -> None:
        self.stats["received"] += len(batch)
        reports = []
        for raw in batch:
            try:
                reports.append(messages.parse(raw))
            except messages.Rejected as exc:
                logger.warning("skipped message on %s: %s", untrusted(raw.topic), exc)
                self.stats[f"rejected.{exc.reason}"] += 1
        if not self._apply(reports):
            return  # stopping while the database is away: the broker keeps them for next time
        self._ack(batch)
        self.stats["batches"] += 1
        if self.on_batch:
            self.on_batch(batch)

    def _apply(self, reports: list[messages.Report]) -> bool:
        delay = 0.5
        while True:
            try:
                self._count(services.ingest(reports))
                return True
            except (OperationalError, InterfaceError) as exc:
                # The database is unreachable: keep the batch unacknowledged and retry.
                logger.error("ingest batch failed (%s); retrying in %.1fs", exc, delay)
                close_old_connections()
                if self._stop.wait(delay):
                    return False
                delay = min(delay * 2, 10)
            except Exception:
                logger.exception("ingest batch of %d failed; applying one by one", len(reports))
                close_old_connections()
                self._apply_singly(reports)
                return True

    def _apply_singly(self, reports: list[messages.Report]) -> None:
        for report in reports:
            try:
                self._count(services.ingest([report]))
            except Exception:
                # One bad report must not stop the stream: log it, count it, move on.
                logger.exception("skipped %s report on %s after an error", report.kind, untrusted(report.raw.topic))
                self.stats["rejected.error"] += 1
                close_old_connections()

    def _count(self, outcome: services.Outcome) -> None:
        self.stats["applied"] += outcome.applied
        self.stats["duplicates"] += outcome.duplicates
        for reason, count in outcome.rejected.items():
            self.stats[f"rejected.{reason}"] += count

    def _ack(self, batch: list[messages.Raw]) -> None:
        # A packet id from an earlier connection may name another message now; those are
        # redelivered by the broker anyway, so they are left alone.
        current = self._generation
        for raw in batch:
            if raw.qos and raw.generation == current:
                self._client.ack(raw.mid, raw.qos)

    def log_stats(self) -> None:
        logger.info("listener stats: %s queue=%d", dict(sorted(self.stats.items())), self.queue.qsize())
        try:
            health.report_listener(self.client_id, self.stats, queued=self.queue.qsize(),
                                   ttl=STATS_EVERY_SECONDS * 3)
        except Exception as exc:  # the counters are for operators; ingest goes on without Redis
            logger.warning("listener stats not written to Redis: %s", exc)
