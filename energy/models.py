"""Tariffs, budgets and ingestion tokens; readings and rollups live in raw SQL tables (see migrations)."""
from django.db import models

from devices.models import Device
from homes.models import Home
from homes.scoping import scoped_manager
from veahome.models import BaseModel


class Tariff(BaseModel):
    """A home's price of energy from `valid_from` (a local date) until the next tariff starts.

    Editing means adding a tariff with a later `valid_from`: costs before it keep the old price.
    """

    class Kind(models.TextChoices):
        FLAT = "flat", "Flat"
        TIME_OF_USE = "tou", "Time of use"

    home = models.ForeignKey(Home, on_delete=models.CASCADE, related_name="tariffs")
    valid_from = models.DateField()
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.FLAT)
    currency = models.CharField(max_length=3, default="EUR")
    price_per_kwh = models.DecimalField(max_digits=8, decimal_places=5, help_text="Flat price, and the price outside every period.")
    periods = models.JSONField(
        default=list, blank=True,
        help_text='Time of use: [{"start": "HH:00", "end": "HH:00", "price_per_kwh": "0.10"}] in local time.',
    )

    objects = scoped_manager()

    class Meta:
        ordering = ["valid_from"]
        constraints = [models.UniqueConstraint(fields=["home", "valid_from"], name="tariff_home_valid_from_unique")]

    def __str__(self):
        return f"{self.home} from {self.valid_from}"


class Budget(BaseModel):
    """A home's monthly energy budget, in kWh or in money (the tariff's currency)."""

    class Kind(models.TextChoices):
        KWH = "kwh", "kWh"
        COST = "cost", "Cost"

    home = models.OneToOneField(Home, on_delete=models.CASCADE, related_name="energy_budget")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.KWH)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    # The last month (first local day) for which a crossing was announced; the alerts
    # feature reads and sets it so a crossing is reported once per month.
    notified_month = models.DateField(null=True, blank=True)

    objects = scoped_manager()

    def __str__(self):
        return f"{self.home}: {self.amount} {self.kind}/month"


class IngestionToken(BaseModel):
    """Credential of a device that posts its own readings over HTTP; only a hash is kept."""

    device = models.OneToOneField(Device, on_delete=models.CASCADE, related_name="ingestion_token")
    prefix = models.CharField(max_length=12, unique=True, help_text="Public part, used to find the token.")
    secret_hash = models.CharField(max_length=128)
    last_used_at = models.DateTimeField(null=True, blank=True)

    objects = scoped_manager(home_path="device__home")

    def __str__(self):
        return f"{self.prefix}… ({self.device})"
