"""`manage.py simulate_hubs`: N hubs with M devices each, reporting live until SIGTERM/SIGINT."""
import logging
import signal
import threading

from django.core.management.base import BaseCommand

from hubs.models import Hub
from hubs.simulator import fleet
from hubs.simulator.hub import run_hubs

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Run simulated hubs: state and telemetry reports, answers to control and learn requests."

    def add_arguments(self, parser):
        parser.add_argument("--hubs", type=int, default=2, help="simulated hubs (serials SIM-0001...)")
        parser.add_argument("--devices", type=int, default=6, help="devices per simulated hub")
        parser.add_argument("--rate", type=float, default=1.0, help="reports per second per hub")
        parser.add_argument("--answer-rate", type=float, default=0.95,
                            help="share of control/learn requests a hub answers (the rest it ignores)")
        parser.add_argument("--owner", default="demo@veahome.local",
                            help="e-mail of the user whose 'Simulated home' holds the hubs (created if missing)")
        parser.add_argument("--all-paired", action="store_true",
                            help="also simulate every other paired hub in the database (e.g. the demo home's)")
        parser.add_argument("--url", help="broker URL the hubs connect to (default MQTT_PUBLIC_URL or MQTT_URL)")
        parser.add_argument("--duration", type=float, default=0, help="stop after this many seconds (0 = run until stopped)")

    def handle(self, *args, **options):
        hubs = fleet.ensure_demo_hubs(owner_email=options["owner"], hubs=options["hubs"], devices=options["devices"])
        if options["all_paired"]:
            hubs += list(Hub.objects.filter(home__isnull=False).exclude(pk__in=[h.pk for h in hubs]))
        simulated = fleet.build(hubs, answer_rate=options["answer_rate"], url=options["url"])
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *a: stop.set())
        signal.signal(signal.SIGINT, lambda *a: stop.set())
        if options["duration"]:
            threading.Timer(options["duration"], stop.set).start()
        logger.info("simulating %d hubs (%d devices) at %.2f reports/s each",
                    len(simulated), sum(len(h.devices) for h in simulated), options["rate"])
        run_hubs(simulated, rate=options["rate"], stop=stop)
        logger.info("simulator stopped: %d messages sent", sum(h.sent for h in simulated))
