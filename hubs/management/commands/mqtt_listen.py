"""`manage.py mqtt_listen`: ingest hub reports from the broker until SIGTERM/SIGINT."""
import logging
import signal

from django.core.management.base import BaseCommand

from hubs.ingest.listener import Listener
from veahome.startup import refuse_insecure_settings

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Consume hub reports (state, telemetry, learned, status) from the MQTT broker."

    def add_arguments(self, parser):
        parser.add_argument("--client-id", help="stable MQTT client id (default MQTT_LISTENER_ID or veahome-listen-<host>)")
        parser.add_argument("--shared-group", help="shared-subscription group; '' subscribes plainly")
        parser.add_argument("--batch-size", type=int, help="reports per transaction at most")
        parser.add_argument("--batch-ms", type=int, help="how long a batch waits to fill")

    def handle(self, *args, **options):
        refuse_insecure_settings()
        listener = Listener(client_id=options["client_id"], shared_group=options["shared_group"],
                            batch_size=options["batch_size"], batch_ms=options["batch_ms"])

        def stop(signum, frame):
            logger.info("signal %s: finishing the current batch and disconnecting", signum)
            listener.stop()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        _connect_task_broker()
        logger.info("listening as %s on %s:%s", listener.client_id, listener.params["host"], listener.params["port"])
        listener.run()


def _connect_task_broker() -> None:
    """Ready the Celery client now (its tasks registered, its broker connection open): batches
    hand work to workers (automation runs) after they commit, and the first hand-off should
    not wait tens of ms for that. A broker that is down now is retried by the hand-off itself."""
    from veahome.celery import app

    app.finalize(auto=True)
    app.backend  # noqa: B018  (loaded on first use otherwise)
    try:
        with app.producer_pool.acquire(block=True, timeout=5) as producer:
            producer.connection.ensure_connection(max_retries=1)
    except Exception as error:
        logger.warning("task broker not connected yet: %s", error)
