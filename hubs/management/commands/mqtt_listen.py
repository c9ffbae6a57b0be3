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
        logger.info("listening as %s on %s:%s", listener.client_id, listener.params["host"], listener.params["port"])
        listener.run()
