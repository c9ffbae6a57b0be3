"""Alerts: one per cause while it lasts (the dedupe key), with who took each step and when;
per-home detection rules; causes waiting out their delay before they raise."""
from django.conf import settings
from django.db import models
from django.db.models import Q

from homes.models import Home
from homes.scoping import scoped_manager
from veahome.models import BaseModel


class Severity(models.TextChoices):
    INFO = "info", "Info"
    WARNING = "warning", "Warning"
    CRITICAL = "critical", "Critical"


class Source(models.TextChoices):
    DEVICE = "device", "Device"
    HUB = "hub", "Hub"
    ENERGY = "energy", "Energy budget"
    AUTOMATION = "automation", "Automation"
    AUDIO = "audio", "Audio"
    SYSTEM = "system", "System"


class Alert(BaseModel):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        ESCALATED = "escalated", "Escalated"
        CLOSED = "closed", "Closed"

    class Resolution(models.TextChoices):
        RESOLVED = "resolved", "The cause cleared"
        CLOSED = "closed", "Closed by a person"

    home = models.ForeignKey(Home, on_delete=models.CASCADE, related_name="alerts")
    source = models.CharField(max_length=16, choices=Source.choices)
    # The device, hub, budget... the alert is about (none for the system).
    source_id = models.UUIDField(null=True, blank=True)
    kind = models.CharField(max_length=32)
    severity = models.CharField(max_length=16, choices=Severity.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    # source:source_id:kind: at most one alert per key is not closed (alert_open_once).
    dedupe_key = models.CharField(max_length=128)
    title = models.CharField(max_length=255)
    # What was seen, last time: {"field": "leak", "value": 1.0, ...}.
    data = models.JSONField(default=dict, blank=True)
    occurrences = models.PositiveIntegerField(default=1)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="+")
    escalated_at = models.DateTimeField(null=True, blank=True)
    escalated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    resolution = models.CharField(max_length=16, choices=Resolution.choices, blank=True, default="")
    # Why it closed: the person's note, or what cleared the cause.
    close_note = models.TextField(blank=True, default="")

    objects = scoped_manager()

    class Meta:
        ordering = ["-last_seen_at"]
        constraints = [models.UniqueConstraint(fields=["home", "dedupe_key"], condition=~Q(status="closed"),
                                               name="alert_open_once")]
        indexes = [models.Index(fields=["home", "status", "-last_seen_at"], name="alert_home_status_idx")]

    def __str__(self):
        return f"{self.kind} ({self.status})"

    @property
    def resolution_or_none(self) -> str | None:
        return self.resolution or None


class AlertRule(BaseModel):
    """A home's own settings for one alert kind; a kind without a row uses its defaults
    (alerts.kinds)."""

    home = models.ForeignKey(Home, on_delete=models.CASCADE, related_name="alert_rules")
    kind = models.CharField(max_length=32)
    enabled = models.BooleanField(default=True)
    severity = models.CharField(max_length=16, choices=Severity.choices)
    delay_seconds = models.PositiveIntegerField(default=0)
    params = models.JSONField(default=dict, blank=True)

    objects = scoped_manager()

    class Meta:
        ordering = ["kind"]
        constraints = [models.UniqueConstraint(fields=["home", "kind"], name="alert_rule_once")]

    def __str__(self):
        return self.kind


class PendingAlert(models.Model):
    """A cause seen but not yet raised: it must last `delay` first (a hub offline for 5
    minutes). The alerts tick raises it when due; the cause clearing first deletes it."""

    home = models.ForeignKey(Home, on_delete=models.CASCADE, related_name="+")
    dedupe_key = models.CharField(max_length=128)
    due_at = models.DateTimeField(db_index=True)
    # What alerts.services.alerts_raise takes: source, source_id, kind, severity, title, data, seen.
    signal = models.JSONField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["home", "dedupe_key"], name="pending_alert_once")]
