"""Support admin for customers, homes, memberships and rooms: a customer's home in two clicks."""
import zoneinfo

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import BaseUserCreationForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from automations.models import Automation, Scene
from devices.models import Device
from hubs.models import Hub
from veahome.admin_display import ReadOnlyAdmin, ServiceBackedAdmin, admin_link, count_of, related_link

from . import services, sessions
from .login_protection import LoginAttempt
from .models import Home, Invitation, Membership, RefreshSession, Room, User
from .selectors import invitations_open


class ProtectedAdminAuthenticationForm(AdminAuthenticationForm):
    """The admin's login form under the API login's protection (homes.login_protection): a locked
    client is refused before the password is checked, every refused login counts as a failure."""

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "login_locked": "Too many failed logins for this account: try again in %(minutes)d minutes.",
    }

    def clean(self):
        email, password = self.cleaned_data.get("username"), self.cleaned_data.get("password")
        if not email or not password:
            return super().clean()
        attempt = LoginAttempt.of(self.request, email)
        wait = attempt.retry_after()
        if wait:
            raise ValidationError(self.error_messages["login_locked"], code="login_locked",
                                  params={"minutes": max(1, -(-wait // 60))})
        try:
            cleaned = super().clean()
        except ValidationError:
            attempt.failed()
            raise
        attempt.succeeded()
        self.request.login_attempt = attempt
        return cleaned


admin.site.login_form = ProtectedAdminAuthenticationForm


def admin_login(request, extra_context=None):
    """The admin's login page; a successful login gives the browser its device marker."""
    response = admin.site.login(request, extra_context)
    attempt = getattr(request, "login_attempt", None)
    if attempt is not None:
        attempt.remember(response)
    return response


class UserCreationForm(BaseUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "name")


class MembershipOfUserInline(admin.TabularInline):
    model = Membership
    fk_name = "user"
    fields = ("home", "role", "created_at")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    verbose_name_plural = "homes"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("home")


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    """Customers and staff. The password hash is never shown; only superusers may set a password.

    Django's own save writes every column here, from the row this same request loaded: only a
    login (`last_login`) writes a user concurrently, and the MQTT listener never does.
    """

    add_form = UserCreationForm
    ordering = ("email",)
    list_display = ("email", "name", "plan", "home_count", "is_staff", "is_active", "created_at")
    list_filter = ("plan", "is_staff", "is_active", "groups")
    search_fields = ("email", "name")
    readonly_fields = ("created_at", "updated_at", "last_login")
    fieldsets = (
        (None, {"fields": ("email", "name", "plan", "is_active")}),
        ("Staff", {"fields": ("is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "created_at", "updated_at")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "name", "password1", "password2")}),)
    filter_horizontal = ("groups", "user_permissions")
    inlines = [MembershipOfUserInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_home_count=count_of(Membership, "user"))

    @admin.display(description="homes", ordering="_home_count")
    def home_count(self, user):
        return user._home_count

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        if not request.user.is_superuser:
            # Staff may correct a customer's details, never hand out staff rights.
            fields = (*fields, "is_staff", "is_superuser", "groups", "user_permissions")
        return fields

    def user_change_password(self, request, id, form_url=""):
        if not request.user.is_superuser:
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)


class MembershipInline(admin.TabularInline):
    model = Membership
    fields = ("user", "user_name", "role", "created_at")
    readonly_fields = fields
    extra = 0
    max_num = 0  # members are invited from the app, which checks roles
    can_delete = False
    verbose_name_plural = "members"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")

    @admin.display(description="name")
    def user_name(self, membership):
        return membership.user.name if membership.user_id else "-"


class PendingInvitationInline(admin.TabularInline):
    """Who has been invited and not answered yet; invitations are sent and revoked from the app."""

    model = Invitation
    fields = ("email", "role", "invited_by", "created_at", "expires_at")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    verbose_name_plural = "pending invitations"

    def get_queryset(self, request):
        return invitations_open().select_related("invited_by")


class RoomInline(admin.TabularInline):
    model = Room
    fields = ("name", "temperature", "humidity", "device_count")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_device_count=count_of(Device, "room"))

    @admin.display(description="devices")
    def device_count(self, room):
        return getattr(room, "_device_count", "-")


class HubInline(admin.TabularInline):
    model = Hub
    fields = ("serial_number", "name", "status", "wifi_connected", "last_seen_at", "firmware")
    readonly_fields = fields
    extra = 0
    max_num = 0  # hubs join a home by pairing, not from here
    can_delete = False
    show_change_link = True


class DeviceInline(admin.TabularInline):
    model = Device
    fields = ("name", "type", "category", "room", "hub", "is_active", "value", "unit", "reported_at")
    readonly_fields = fields
    extra = 0
    max_num = 0  # devices are added from the app, through their hub
    can_delete = False
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("room", "hub")


@admin.register(Home)
class HomeAdmin(ServiceBackedAdmin, admin.ModelAdmin):
    list_display = ("name", "owner_link", "timezone", "member_count", "room_count", "hub_count", "device_count",
                    "created_at")
    list_select_related = ("owner",)
    list_filter = ("timezone", "created_at")
    search_fields = ("name", "owner__email", "memberships__user__email", "hubs__serial_number", "devices__name")
    search_help_text = "Home name, a member's email, a hub serial number or a device name."
    # Ownership and layout change through the app; a support agent corrects names and time zones.
    readonly_fields = ("owner", "layout", "local_time", "counts", "runs", "alerts", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("name", "owner", "timezone", "local_time", "address", "latitude", "longitude")}),
        ("At a glance", {"fields": ("counts", "runs", "alerts")}),
        ("Layout", {"classes": ("collapse",), "fields": ("layout", "model3d_url")}),
        ("Dates", {"fields": ("created_at", "updated_at")}),
    )
    inlines = [MembershipInline, PendingInvitationInline, RoomInline, HubInline, DeviceInline]

    def save_model(self, request, obj, form, change):
        if not change:
            return super().save_model(request, obj, form, change)
        changed = {k: v for k, v in self.changed_fields(form).items() if k in services.HOME_EDITABLE}
        # home_update moves the schedules when the time zone changed.
        services.home_update(home=self.stored(obj), actor=request.user, **changed)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            _member_count=count_of(Membership, "home"),
            _room_count=count_of(Room, "home"),
            _hub_count=count_of(Hub, "home"),
            _device_count=count_of(Device, "home"),
        )

    @admin.display(description="owner", ordering="owner__email")
    def owner_link(self, home):
        return admin_link(home.owner, home.owner.email)

    @admin.display(description="members", ordering="_member_count")
    def member_count(self, home):
        return home._member_count

    @admin.display(description="rooms", ordering="_room_count")
    def room_count(self, home):
        return home._room_count

    @admin.display(description="hubs", ordering="_hub_count")
    def hub_count(self, home):
        return home._hub_count

    @admin.display(description="devices", ordering="_device_count")
    def device_count(self, home):
        return home._device_count

    @admin.display(description="local time now")
    def local_time(self, home):
        if not home.pk:
            return "-"
        return timezone.now().astimezone(zoneinfo.ZoneInfo(home.timezone)).strftime("%Y-%m-%d %H:%M (%Z)")

    @admin.display(description="what ran")
    def runs(self, home):
        from automations.admin import runs_links

        return runs_links(home)

    @admin.display(description="alerts")
    def alerts(self, home):
        from alerts.admin import open_alerts_link

        return open_alerts_link(home)

    @admin.display(description="scenes and automations")
    def counts(self, home):
        if not home.pk:
            return "-"
        return f"{Scene.objects.in_home(home).count()} scenes, {Automation.objects.in_home(home).count()} automations"


@admin.register(Membership)
class MembershipAdmin(ServiceBackedAdmin, admin.ModelAdmin):
    list_display = ("user", "home_link", "role", "created_at")
    list_select_related = ("user", "home")
    list_filter = ("role",)
    search_fields = ("user__email", "user__name", "home__name")
    autocomplete_fields = ("user", "home")
    readonly_fields = ("user", "home", "role", "created_at")

    home_link = related_link("home", "home__name")


class RoomDeviceInline(DeviceInline):
    fields = ("name", "type", "category", "hub", "is_active", "value", "unit", "reported_at")
    readonly_fields = fields


@admin.register(Room)
class RoomAdmin(ServiceBackedAdmin, admin.ModelAdmin):
    list_display = ("name", "home_link", "temperature", "humidity", "device_count", "created_at")
    list_select_related = ("home",)
    search_fields = ("name", "home__name", "home__owner__email")
    readonly_fields = ("home", "created_at", "updated_at")
    inlines = [RoomDeviceInline]

    def update_service(room, **changed):
        return services.room_update(room=room, **changed)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_device_count=count_of(Device, "room"))

    home_link = related_link("home", "home__name")

    @admin.display(description="devices", ordering="_device_count")
    def device_count(self, room):
        return room._device_count


@admin.register(RefreshSession)
class RefreshSessionAdmin(ReadOnlyAdmin):
    """Signed-in apps of a customer. Only token ids are stored, never tokens; "log out" ends
    the selected sessions through homes.sessions as the app's own logout would."""

    list_display = ("user", "created_at", "last_used_at", "rotations", "expires_at", "revoked_at", "revoked_reason")
    list_filter = ("revoked_reason",)
    search_fields = ("user__email",)
    list_select_related = ("user",)
    fields = ("user", "created_at", "last_used_at", "rotations", "expires_at", "revoked_at", "revoked_reason")
    readonly_fields = fields
    actions = ["log_out"]

    @admin.action(description="Log out the selected sessions")
    def log_out(self, request, queryset):
        ended = sessions.sessions_revoke(queryset, reason=RefreshSession.Reason.LOGOUT)
        self.message_user(request, f"{ended} session(s) logged out.")
