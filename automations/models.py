"""Scenes, schedules and automations: home-owned JSON documents validated on write."""
from django.core.validators import MaxValueValidator
from django.db import models

from homes.models import Home
from homes.scoping import scoped_manager
from veahome.models import BaseModel


class Source(models.TextChoices):
    """Who started a run."""

    USER = "user", "A person"
    SCHEDULE = "schedule", "A schedule"
    AUTOMATION = "automation", "An automation"


class Scene(BaseModel):
    home = models.ForeignKey(Home, on_delete=models.CASCADE, related_name="scenes")
    name = models.CharField(max_length=255)
    icon = models.CharField(max_length=100, blank=True)
    description = models.TextField(blank=True)
    # True from an activation that reached every device until one of them reports a state
    # other than the scene's (automations.scenes).
    is_active = models.BooleanField(default=False)
    device_states = models.JSONField(default=dict, help_text='{deviceId: {"isActive": true, "value": 50}}')

    objects = scoped_manager()

    class Meta:
        ordering = ["created_at"]
        # A device's state report looks up only the active scenes of its home.
        indexes = [models.Index(fields=["home"], name="scene_active_idx", condition=models.Q(is_active=True))]

    def __str__(self):
        return self.name


class Schedule(BaseModel):
    home = models.ForeignKey(Home, on_delete=models.CASCADE, related_name="schedules")
    name = models.CharField(max_length=255)
    time = models.TimeField(help_text="Local time in the home's time zone.")
    days = models.JSONField(default=list, help_text='["monday", ...]')
    actions = models.JSONField(default=list)
    enabled = models.BooleanField(default=True)
    # How late a run may still fire after downtime; a run later than this is recorded as missed.
    grace_seconds = models.PositiveIntegerField(
        default=300, validators=[MaxValueValidator(86_400)],
        help_text="A run missed by up to this many seconds fires late; an older one is recorded as missed.")
    next_run_at = models.DateTimeField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)

    objects = scoped_manager()

    class Meta:
        ordering = ["created_at"]
        # The tick reads only what is due, by this index: never a scan of every schedule.
        indexes = [models.Index(fields=["next_run_at"], name="schedule_due_idx", condition=models.Q(enabled=True))]

    def __str__(self):
        return self.name


class Automation(BaseModel):
    home = models.ForeignKey(Home, on_delete=models.CASCADE, related_name="automations")
    name = models.CharField(max_length=255)
    trigger = models.JSONField()
    conditions = models.JSONField(default=list, blank=True)
    actions = models.JSONField(default=list)
    enabled = models.BooleanField(default=True)

    objects = scoped_manager()

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["home", "enabled"], name="automation_home_enabled_idx")]

    def __str__(self):
        return self.name


class SceneRun(BaseModel):
    """One activation of a scene: what was sent to each device, or why it was not.

    `outcomes` holds one entry per device of the scene, `{deviceId, commandId, skipped,
    message}`; a sent device's status is its command's, read when the run is shown, so it
    follows the command to confirmed, assumed, expired or failed.
    """

    home = models.ForeignKey(Home, on_delete=models.CASCADE, related_name="scene_runs")
    scene = models.ForeignKey(Scene, on_delete=models.CASCADE, related_name="runs")
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.USER)
    actor = models.ForeignKey("homes.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    outcomes = models.JSONField(default=list)

    objects = scoped_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["scene", "-created_at"], name="scene_run_scene_idx")]

    def __str__(self):
        return f"{self.scene_id} at {self.created_at:%Y-%m-%d %H:%M:%S}"


class ScheduleRun(BaseModel):
    """One due time of a schedule, fired or missed: at most one per (schedule, due time).

    `outcomes` holds one entry per action of the schedule (automations.actions).
    """

    class Status(models.TextChoices):
        ON_TIME = "on_time", "Fired on time"
        LATE = "late", "Fired late, within the grace window"
        MISSED = "missed", "Missed by more than the grace window: not fired"
        FAILED = "failed", "Failed"

    home = models.ForeignKey(Home, on_delete=models.CASCADE, related_name="schedule_runs")
    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="runs")
    due_at = models.DateTimeField()
    fired_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices)
    outcomes = models.JSONField(default=list)

    objects = scoped_manager()

    class Meta:
        ordering = ["-due_at"]
        constraints = [models.UniqueConstraint(fields=["schedule", "due_at"], name="schedule_run_once")]

    def __str__(self):
        return f"{self.schedule_id} due {self.due_at:%Y-%m-%d %H:%M:%S}"
