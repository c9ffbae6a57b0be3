"""Manufacturing import: register hubs (serial, factory secret, firmware) before anyone pairs them."""
import csv
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from hubs import services


class Command(BaseCommand):
    help = (
        "Import hubs from a CSV of serial,factory_secret[,firmware] (a header row is optional). "
        "Idempotent: known serials keep their pairing; a changed secret or firmware is updated. "
        "Secrets are stored hashed only."
    )

    def add_arguments(self, parser):
        parser.add_argument("csv_path", type=Path)

    def handle(self, *args, csv_path: Path, **options):
        try:
            with csv_path.open(newline="", encoding="utf-8") as source:
                rows = list(csv.reader(source))
        except OSError as exc:
            raise CommandError(f"cannot read {csv_path}: {exc.strerror}") from exc
        if rows and [c.strip().lower() for c in rows[0][:2]] == ["serial", "factory_secret"]:
            rows = rows[1:]
        try:
            result = services.hubs_import(rows=rows)
        except services.ImportRowsError as exc:
            raise CommandError("nothing imported:\n" + "\n".join(exc.problems)) from exc
        self.stdout.write(
            f"{result['created']} created, {result['updated']} updated, {result['unchanged']} unchanged"
        )
