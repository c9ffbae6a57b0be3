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
    class Mode(models.TextChoices):
        SINGLE = "single", "A new trigger while it runs is dropped"
        RESTART = "restart", "A new trigger stops the running run and starts again"
        QUEUED = "queued", "A new trigger waits for the running run (up to max_runs waiting)"
        PARALLEL = "parallel", "Runs side by side (up to max_runs at once)"

    home = models.ForeignKey(Home, on_delete=models.CASCADE, related_name="automations")
    name = models.CharField(max_length=255)
    trigger = models.JSONField()
    conditions = models.JSONField(default=list, blank=True)
    actions = models.JSONField(default=list)
    enabled = models.BooleanField(default=True)
    mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.SINGLE)
    max_runs = models.PositiveSmallIntegerField(default=10, validators=[MaxValueValidator(100)])
    # Why the engine turned it off (the loop guard); cleared when someone enables it again.
    disabled_reason = models.CharField(max_length=255, blank=True, default="")

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
    # Found by schedule through schedule_run_once (schedule first): no second index to keep up.
    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="runs", db_index=False)
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


class AutomationTrigger(models.Model):
    """The trigger index: what each enabled automation listens to, kept by the automations
    service on every save. A device's state change looks up `(kind, key)` here, never the
    automations themselves; time and sun triggers are found by `next_at`, like schedules."""

    automation = models.OneToOneField(Automation, on_delete=models.CASCADE, primary_key=True,
                                      related_name="trigger_index")
    home = models.ForeignKey(Home, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16)
    # The device, hub or scene id it listens to; blank for time and sun.
    key = models.CharField(max_length=64, blank=True, default="")
    next_at = models.DateTimeField(null=True, blank=True)
    # A sensor trigger's last reading of its field: a threshold fires when it is crossed.
    last_value = models.FloatField(null=True, blank=True)
    # The automation's updated_at when this row was filed: the compiled trigger's version, so
    # matching reads no document (and joins nothing) unless that version is not compiled yet.
    version = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["kind", "key"], name="automation_trigger_key_idx"),
            models.Index(fields=["next_at"], name="automation_trigger_due_idx", condition=models.Q(next_at__isnull=False)),
        ]


class AutomationTimer(models.Model):
    """A trigger with `for` that matched and is holding: it fires at `due_at` unless the state
    changes back first (then the row is deleted). Durable: a restart loses no timer."""

    automation = models.OneToOneField(Automation, on_delete=models.CASCADE, primary_key=True, related_name="timer")
    home = models.ForeignKey(Home, on_delete=models.CASCADE, related_name="+")
    due_at = models.DateTimeField(db_index=True)
    trigger = models.JSONField(help_text="The trigger event that started it.")
    created_at = models.DateTimeField(auto_now_add=True)


class AutomationRun(BaseModel):
    """One run of an automation and its trace.

    `trigger_key` makes a trigger event start at most one run (a redelivered task, a tick and
    a worker both seeing it). `trace` records what the trigger saw, each condition's result
    and the value it read, and each action's outcome with timings. A run that waits (a delay,
    a wait for a state) keeps its place in `step` and its wake-up time in `resume_at`.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Triggered, not started yet"
        QUEUED = "queued", "Waiting for an earlier run (mode queued)"
        RUNNING = "running", "Running"
        WAITING = "waiting", "Waiting (a delay or a state)"
        SUCCEEDED = "succeeded", "Finished"
        CONDITIONS_FAILED = "conditions_failed", "Stopped: a condition was false"
        DROPPED = "dropped", "Not run: the mode did not allow another run"
        CANCELLED = "cancelled", "Stopped by a newer run (mode restart)"
        STOPPED = "stopped", "Stopped: the automation was disabled"
        FAILED = "failed", "Failed"

    ACTIVE = (Status.QUEUED, Status.RUNNING, Status.WAITING)
    FINISHED = (Status.SUCCEEDED, Status.CONDITIONS_FAILED, Status.DROPPED, Status.CANCELLED, Status.STOPPED,
                Status.FAILED)

    home = models.ForeignKey(Home, on_delete=models.CASCADE, related_name="automation_runs")
    automation = models.ForeignKey(Automation, on_delete=models.CASCADE, related_name="runs")
    trigger_key = models.CharField(max_length=128)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    trigger = models.JSONField(default=dict)
    trace = models.JSONField(default=dict)
    skip_conditions = models.BooleanField(default=False)
    step = models.PositiveSmallIntegerField(default=0)
    resume_at = models.DateTimeField(null=True, blank=True)
    # A wait-for-state action: the device it waits on (found by state changes) and the check.
    wait_device_id = models.UUIDField(null=True, blank=True)
    wait = models.JSONField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    actor = models.ForeignKey("homes.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    objects = scoped_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["automation", "trigger_key"], name="automation_run_once")]
        indexes = [
            models.Index(fields=["automation", "-created_at"], name="automation_run_idx"),
            models.Index(fields=["resume_at"], name="automation_run_resume_idx",
                         condition=models.Q(status="waiting")),
            models.Index(fields=["wait_device_id"], name="automation_run_wait_idx",
                         condition=models.Q(status="waiting", wait_device_id__isnull=False)),
            models.Index(fields=["created_at"], name="automation_run_pending_idx",
                         condition=models.Q(status="pending")),
        ]

    def __str__(self):
        return f"{self.automation_id} {self.status}"
