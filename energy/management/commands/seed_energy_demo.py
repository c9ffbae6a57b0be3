"""Fill a home's energy history with months of realistic readings, rollups, a tariff and a budget."""
import datetime
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from devices.models import Device
from energy import rollups
from energy.demo import device_points
from energy.models import Budget, Tariff
from energy.timeseries import get_backend
from homes.models import Home

UTC = datetime.timezone.utc
DEMO_EMAIL = "demo@veahome.local"
BATCH = 20_000


class Command(BaseCommand):
    help = "Generate energy history for the demo home (or --home ID). Idempotent: a home that has history is left alone."

    def add_arguments(self, parser):
        parser.add_argument("--home", help="Home id (default: the first home of demo@veahome.local).")
        parser.add_argument("--days", type=int, default=90, help="Days of history up to now (default 90).")
        parser.add_argument("--step", type=int, default=5, help="Minutes between readings (default 5).")
        parser.add_argument("--replace", action="store_true", help="Regenerate even if the home has history.")

    def handle(self, *args, **options):
        home = self._home(options["home"])
        tz = home.tz
        now = datetime.datetime.now(UTC).replace(second=0, microsecond=0)
        start = datetime.datetime.combine(now.astimezone(tz).date() - datetime.timedelta(days=options["days"]),
                                          datetime.time(), tzinfo=tz).astimezone(UTC)
        if self._has_history(home, start) and not options["replace"]:
            self.stdout.write(f"{home.name}: energy history already present, nothing to do (use --replace).")
            return
        devices = list(Device.objects.in_home(home).order_by("created_at"))
        if not devices:
            self.stdout.write(f"{home.name}: no devices, nothing to generate.")
            return
        began = time.perf_counter()
        self._clear(home, start)
        backend = get_backend()
        step = datetime.timedelta(minutes=options["step"])
        written = 0
        for device in devices:
            batch = []
            for point in device_points(device, tz, start, now, step):
                batch.append(point)
                if len(batch) >= BATCH:
                    written += backend.write_points(batch)
                    batch = []
            written += backend.write_points(batch)
        if backend.name == "postgres":
            with connection.cursor() as cursor:
                # Fresh partitions have no statistics yet; without them the rollup plans badly.
                cursor.execute("ANALYZE energy_reading")
        with transaction.atomic():
            rollups.rebuild(home_id=str(home.pk), tz=tz, start=start, end=now.replace(minute=0) + datetime.timedelta(hours=1))
        self._tariff_and_budget(home, start)
        self.stdout.write(
            f"{home.name}: {written} readings for {len(devices)} devices over {options['days']} days "
            f"in {time.perf_counter() - began:.1f} s ({backend.name})."
        )

    def _home(self, home_id):
        if home_id:
            home = Home.objects.filter(pk=home_id).first()
        else:
            home = Home.objects.filter(memberships__user__email=DEMO_EMAIL).order_by("created_at").first()
        if home is None:
            raise CommandError(f"No such home ({home_id or 'demo user ' + DEMO_EMAIL}); run seed_demo first or pass --home.")
        return home

    def _has_history(self, home, start) -> bool:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM energy_rollup WHERE home_id = %s AND size = '1d' AND bucket <= %s LIMIT 1",
                [home.pk, start + datetime.timedelta(days=1)],
            )
            return cursor.fetchone() is not None

    def _clear(self, home, start) -> None:
        backend = get_backend()
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM energy_rollup WHERE home_id = %s AND bucket >= %s", [home.pk, start])
            if backend.name == "postgres":
                cursor.execute("DELETE FROM energy_reading WHERE home_id = %s AND ts >= %s", [home.pk, start])
        if backend.name == "influxdb":
            backend.delete_home(str(home.pk), start)

    def _tariff_and_budget(self, home, start) -> None:
        if not Tariff.objects.in_home(home).exists():
            Tariff.objects.create(
                home=home, valid_from=start.astimezone(home.tz).date(), kind=Tariff.Kind.TIME_OF_USE,
                currency="EUR", price_per_kwh="0.24",
                periods=[{"start": "00:00", "end": "08:00", "price_per_kwh": "0.11"},
                         {"start": "18:00", "end": "22:00", "price_per_kwh": "0.32"}],
            )
        Budget.objects.get_or_create(home=home, defaults={"kind": Budget.Kind.KWH, "amount": "250"})
