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
    # How many times the escalation timer escalated it (each time to the next tier).
    escalation_level = models.PositiveSmallIntegerField(default=0)

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


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    PUSH = "push", "Push (signed webhook, FCM-shaped)"
    IN_APP = "in_app", "In the app (the live feed)"


class Contact(BaseModel):
    """Someone to tell about a home's alerts, in a tier: tier 1 first, the next tiers when a
    critical alert goes unacknowledged (NotificationPolicy.escalate_after_minutes)."""

    home = models.ForeignKey(Home, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=120)
    email = models.EmailField(blank=True, default="")
    phone = models.CharField(max_length=20, blank=True, default="")
    # Where push notifications are POSTed (a signed webhook, FCM's message shape), and the
    # device token they name.
    push_url = models.URLField(max_length=500, blank=True, default="")
    push_token = models.CharField(max_length=500, blank=True, default="")
    tier = models.PositiveSmallIntegerField(default=1)
    enabled = models.BooleanField(default=True)

    objects = scoped_manager()

    class Meta:
        ordering = ["tier", "created_at"]

    def __str__(self):
        return self.name


def default_routes() -> dict:
    return {
        Severity.CRITICAL: {"tiers": [1], "channels": [Channel.EMAIL, Channel.PUSH, Channel.IN_APP]},
        Severity.WARNING: {"tiers": [1], "channels": [Channel.EMAIL, Channel.IN_APP]},
        Severity.INFO: {"tiers": [1], "channels": [Channel.IN_APP]},
    }


class NotificationPolicy(BaseModel):
    """A home's notification policy: which tiers and channels each severity goes to, quiet
    hours in the home's zone (what is not critical waits for them to end), and escalation."""

    home = models.OneToOneField(Home, on_delete=models.CASCADE, related_name="notification_policy")
    routes = models.JSONField(default=default_routes)
    quiet_start = models.TimeField(null=True, blank=True)
    quiet_end = models.TimeField(null=True, blank=True)
    # A critical alert not acknowledged this long is escalated and sent to the next tier; 0: never.
    escalate_after_minutes = models.PositiveSmallIntegerField(default=10)

    objects = scoped_manager()

    def __str__(self):
        return f"policy of {self.home_id}"


class Notification(BaseModel):
    """One delivery of an alert: to a contact over a channel at an escalation step. At most
    one per (alert, contact, channel, step), whatever retries and redeliveries happen."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be sent (or retried at next_attempt_at)"
        HELD = "held", "Held by quiet hours until next_attempt_at"
        SENDING = "sending", "Being sent"
        SENT = "sent", "Accepted by the mail server or the webhook"
        FAILED = "failed", "Given up after its attempts"
        UNCONFIRMED = "unconfirmed", "Interrupted while sending: maybe delivered, never sent twice"

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="notifications")
    home = models.ForeignKey(Home, on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    step = models.PositiveSmallIntegerField(default=0)
    # Whom it went to, as it was then (the contact may change or go): an email, a webhook's host.
    recipient = models.CharField(max_length=255, blank=True, default="")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True, default="")
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = scoped_manager()

    class Meta:
        ordering = ["created_at"]
        constraints = [models.UniqueConstraint(fields=["alert", "contact", "channel", "step"], nulls_distinct=False,
                                               name="notification_once")]
        indexes = [models.Index(fields=["next_attempt_at"], name="notification_due_idx",
                                condition=Q(status__in=["pending", "held"]))]

    def __str__(self):
        return f"{self.channel} for {self.alert_id} (step {self.step})"
