"""Support admin for scenes, schedules and automations, with times in the home's own zone."""
import zoneinfo

from django.contrib import admin

from veahome.admin_display import ServiceBackedAdmin, related_link

from . import services

from .models import Automation, Scene, Schedule


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
    list_display = ("name", "home_link", "trigger_type", "action_total", "enabled", "created_at")
    list_filter = ("enabled",)
    readonly_fields = ("home", "trigger", "conditions", "actions", "created_at", "updated_at")

    def update_service(automation, **changed):
        return services.automation_update(automation=automation, **changed)

    @admin.display(description="trigger")
    def trigger_type(self, automation):
        return (automation.trigger or {}).get("type", "-")

    @admin.display(description="actions")
    def action_total(self, automation):
        return len(automation.actions or [])
