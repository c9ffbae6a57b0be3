"""Support admin for devices and device groups, with links to each device's home, room and hub."""
from django.contrib import admin

from veahome.admin_display import ReadOnlyAdmin, ServiceBackedAdmin, count_of, related_link

from . import services

from .models import Command, Device, DeviceGroup, DeviceGroupMember, LearnSession


@admin.register(Device)
class DeviceAdmin(ServiceBackedAdmin, admin.ModelAdmin):
    list_display = ("name", "type", "category", "home_link", "room_link", "hub_link", "is_active", "reading",
                    "reported_at")
    list_select_related = ("home", "room", "hub")
    list_filter = ("type", "category", "is_active")
    search_fields = ("name", "home__name", "home__owner__email", "hub__serial_number")
    search_help_text = "Device name, home name, the owner's email or the hub's serial number."
    fieldsets = (
        (None, {"fields": ("name", "type", "category", "home_link", "room_link", "hub_link")}),
        ("State", {"fields": ("is_active", "value", "unit", "state", "reported_at")}),
        ("IR/RF signals", {"classes": ("collapse",), "fields": ("signal_mappings",)}),
        ("Dates", {"fields": ("created_at", "updated_at")}),
    )
    # Home, room and hub are tied together by composite keys; moving a device is the app's job.
    readonly_fields = ("type", "category", "home_link", "room_link", "hub_link", "state", "signal_mappings",
                       "reported_at", "created_at", "updated_at")

    def update_service(device, **changed):
        return services.device_update(device=device, **changed)

    home_link = related_link("home", "home__name")
    room_link = related_link("room", "room__name")
    hub_link = related_link("hub", "hub__serial_number", label="serial_number")

    @admin.display(description="value")
    def reading(self, device):
        if device.value is None:
            return "-"
        return f"{device.value.normalize():f} {device.unit}".strip()


class DeviceGroupMemberInline(admin.TabularInline):
    model = DeviceGroupMember
    fields = ("device",)
    readonly_fields = ("device",)
    extra = 0
    max_num = 0  # membership changes go through the app (PUT device-groups/{groupId})
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("device")


@admin.register(DeviceGroup)
class DeviceGroupAdmin(ServiceBackedAdmin, admin.ModelAdmin):
    list_display = ("name", "home_link", "device_count", "created_at")
    list_select_related = ("home",)
    search_fields = ("name", "home__name", "home__owner__email")
    readonly_fields = ("home", "created_at", "updated_at")
    inlines = [DeviceGroupMemberInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_device_count=count_of(DeviceGroupMember, "group"))

    def update_service(group, **changed):
        return services.group_update(group=group, **changed)

    home_link = related_link("home", "home__name")

    @admin.display(description="devices", ordering="_device_count")
    def device_count(self, group):
        return group._device_count


@admin.register(Command)
class CommandAdmin(ReadOnlyAdmin):
    """Every control request and how it ended: "my light didn't turn on" starts here."""

    list_display = ("created_at", "device_link", "home_link", "status", "desired_state", "sent_at", "finished_at")
    list_select_related = ("device", "home")
    list_filter = ("status",)
    search_fields = ("device__name", "home__name", "home__owner__email", "hub__serial_number")
    search_help_text = "Device name, home name, the owner's email or the hub's serial number."
    date_hierarchy = "created_at"
    fields = ("device_link", "home_link", "hub", "actor", "status", "desired_state", "payload", "reported_state",
              "sent_at", "finished_at", "created_at", "updated_at")

    device_link = related_link("device", "device__name")
    home_link = related_link("home", "home__name")


@admin.register(LearnSession)
class LearnSessionAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "device_link", "action", "status", "expires_at", "finished_at")
    list_select_related = ("device",)
    list_filter = ("status",)
    search_fields = ("device__name", "home__owner__email", "hub__serial_number", "action")
    fields = ("device_link", "home", "hub", "actor", "action", "status", "expires_at", "finished_at", "created_at")

    device_link = related_link("device", "device__name")
