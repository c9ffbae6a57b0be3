"""Scenes, schedules and automations: home-owned JSON documents validated on write."""
from django.db import models

from homes.models import Home
from homes.scoping import scoped_manager
from veahome.models import BaseModel


class Scene(BaseModel):
    home = models.ForeignKey(Home, on_delete=models.CASCADE, related_name="scenes")
    name = models.CharField(max_length=255)
    icon = models.CharField(max_length=100, blank=True)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=False)
    device_states = models.JSONField(default=dict, help_text='{deviceId: {"isActive": true, "value": 50}}')

    objects = scoped_manager()

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return self.name


class Schedule(BaseModel):
    home = models.ForeignKey(Home, on_delete=models.CASCADE, related_name="schedules")
    name = models.CharField(max_length=255)
    time = models.TimeField(help_text="Local time in the home's time zone.")
    days = models.JSONField(default=list, help_text='["monday", ...]')
    actions = models.JSONField(default=list)
    enabled = models.BooleanField(default=True)
    next_run_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_run_at = models.DateTimeField(null=True, blank=True)

    objects = scoped_manager()

    class Meta:
        ordering = ["created_at"]

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
