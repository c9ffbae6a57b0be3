"""Support admin for hubs and their room slots; the factory secret's hash is never shown."""
from django.contrib import admin

from devices.models import Device
from veahome.admin_display import ServiceBackedAdmin, count_of, related_link

from . import services

from .models import Hub, HubRoom


class HubRoomInline(admin.TabularInline):
    model = HubRoom
    fields = ("slot", "room")
    readonly_fields = ("slot", "room")
    extra = 0
    max_num = 0  # slots change through the app (POST hubs/{hubId}/rooms)
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("room")


class HubDeviceInline(admin.TabularInline):
    model = Device
    fields = ("name", "type", "category", "room", "is_active", "value", "unit", "reported_at")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("room")


@admin.register(Hub)
class HubAdmin(ServiceBackedAdmin, admin.ModelAdmin):
    list_display = ("serial_number", "name", "home_link", "status", "wifi_connected", "last_seen_at", "firmware",
                    "device_count")
    list_select_related = ("home",)
    list_filter = ("status", "wifi_connected", "firmware")
    search_fields = ("serial_number", "name", "home__name", "home__owner__email")
    search_help_text = "Serial number, hub name, home name or the owner's email."
    # factory_secret_hash is left out of every form and list on purpose.
    fields = ("serial_number", "name", "home", "status", "wifi_ssid", "wifi_connected", "mqtt_topic", "firmware",
              "last_seen_at", "paired_at", "created_at", "updated_at")
    readonly_fields = ("serial_number", "home", "status", "wifi_ssid", "wifi_connected", "mqtt_topic", "firmware",
                       "last_seen_at", "paired_at", "created_at", "updated_at")
    inlines = [HubRoomInline, HubDeviceInline]

    def update_service(hub, **changed):
        return services.hub_update(hub=hub, **changed)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_device_count=count_of(Device, "hub"))

    home_link = related_link("home", "home__name")

    @admin.display(description="devices", ordering="_device_count")
    def device_count(self, hub):
        return hub._device_count


@admin.register(HubRoom)
class HubRoomAdmin(admin.ModelAdmin):
    list_display = ("hub", "slot", "room", "home_link")
    list_select_related = ("hub", "room", "home")
    search_fields = ("hub__serial_number", "room__name", "home__name")
    fields = ("hub", "slot", "room", "home")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    home_link = related_link("home", "home__name")
