"""Support admin for scenes, schedules and automations, with times in the home's own zone."""
import zoneinfo

from django.contrib import admin

from django.urls import reverse
from django.utils.html import format_html, format_html_join

from veahome.admin_display import ReadOnlyAdmin, ServiceBackedAdmin, related_link

from . import services
from .models import Automation, AutomationRun, Scene, SceneRun, Schedule, ScheduleRun


def runs_links(home) -> str:
    """Links to a home's scene, schedule and automation runs (the home's page shows them)."""
    if not home.pk:
        return "-"
    rows = [(reverse(f"admin:automations_{model._meta.model_name}_changelist") + f"?home__id__exact={home.pk}",
             model.objects.filter(home=home).count(), label)
            for model, label in ((SceneRun, "scene runs"), (ScheduleRun, "schedule runs"),
                                 (AutomationRun, "automation runs"))]
    return format_html_join(" · ", '<a href="{}">{} {}</a>', rows)


class HomeOwnedAdmin(ServiceBackedAdmin, admin.ModelAdmin):
    list_select_related = ("home",)
    search_fields = ("name", "home__name", "home__owner__email")
    # Documents are validated against the home by the API's registries; here they are shown, not edited.
    readonly_fields = ("home", "created_at", "updated_at")

    home_link = related_link("home", "home__name")


@admin.register(Scene)
class SceneAdmin(HomeOwnedAdmin):
    list_display = ("name", "home_link", "device_total", "is_active", "created_at")
    list_filter = ("is_active",)
    readonly_fields = ("home", "device_states", "is_active", "created_at", "updated_at")

    def update_service(scene, **changed):
        return services.scene_update(scene=scene, **changed)

    @admin.display(description="devices")
    def device_total(self, scene):
        return len(scene.device_states or {})


@admin.register(Schedule)
class ScheduleAdmin(HomeOwnedAdmin):
    list_display = ("name", "home_link", "time", "day_list", "enabled", "next_run_local", "last_run_at")
    list_filter = ("enabled",)
    readonly_fields = ("home", "days", "actions", "next_run_local", "next_run_at", "last_run_at", "created_at",
                       "updated_at")

    def update_service(schedule, **changed):
        return services.schedule_update(schedule=schedule, **changed)

    @admin.display(description="days")
    def day_list(self, schedule):
        return ", ".join(d[:3] for d in schedule.days or [])

    @admin.display(description="next run (home time)", ordering="next_run_at")
    def next_run_local(self, schedule):
        if schedule.next_run_at is None:
            return "-"
        local = schedule.next_run_at.astimezone(zoneinfo.ZoneInfo(schedule.home.timezone))
        return f"{local:%a %Y-%m-%d %H:%M} {schedule.home.timezone}"


@admin.register(Automation)
class AutomationAdmin(HomeOwnedAdmin):
    list_display = ("name", "home_link", "trigger_type", "action_total", "mode", "enabled", "created_at")
    list_filter = ("enabled", "mode")
    readonly_fields = ("home", "trigger", "conditions", "actions", "mode", "max_runs", "disabled_reason",
                       "created_at", "updated_at")

    def update_service(automation, **changed):
        return services.automation_update(automation=automation, **changed)

    @admin.display(description="trigger")
    def trigger_type(self, automation):
        return (automation.trigger or {}).get("type", "-")

    @admin.display(description="actions")
    def action_total(self, automation):
        return len(automation.actions or [])


class RunAdmin(ReadOnlyAdmin):
    """A run as it happened: support reads it from the home's page, nobody edits it."""

    list_select_related = ("home",)
    search_fields = ("home__name", "home__owner__email")
    list_filter = ("created_at",)
    home_link = related_link("home", "home__name")

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.concrete_fields]


@admin.register(SceneRun)
class SceneRunAdmin(RunAdmin):
    list_display = ("created_at", "scene_link", "home_link", "source", "sent", "skipped")
    list_select_related = ("home", "scene")
    list_filter = ("source", "created_at")
    scene_link = related_link("scene", "scene__name", "name")

    @admin.display(description="sent")
    def sent(self, run):
        return sum(1 for o in run.outcomes if not o.get("skipped"))

    @admin.display(description="skipped")
    def skipped(self, run):
        return ", ".join(f"{o['skipped']}" for o in run.outcomes if o.get("skipped")) or "-"


@admin.register(ScheduleRun)
class ScheduleRunAdmin(RunAdmin):
    list_display = ("due_local", "schedule_link", "home_link", "status", "fired_at")
    list_select_related = ("home", "schedule")
    list_filter = ("status", "due_at")
    schedule_link = related_link("schedule", "schedule__name", "name")

    @admin.display(description="due (home time)", ordering="due_at")
    def due_local(self, run):
        local = run.due_at.astimezone(zoneinfo.ZoneInfo(run.home.timezone))
        return f"{local:%a %Y-%m-%d %H:%M:%S} {run.home.timezone}"


@admin.register(AutomationRun)
class AutomationRunAdmin(RunAdmin):
    list_display = ("created_at", "automation_link", "home_link", "trigger_kind", "status", "finished_at")
    list_select_related = ("home", "automation")
    list_filter = ("status", "created_at")
    automation_link = related_link("automation", "automation__name", "name")
    list_display = list_display + ("note",)

    @admin.display(description="trigger")
    def trigger_kind(self, run):
        return (run.trigger or {}).get("kind", "-")

    @admin.display(description="note")
    def note(self, run):
        return format_html("{}", (run.trace or {}).get("note", "")) or "-"
