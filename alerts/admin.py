"""Support admin for alerts: the list across homes, and the steps (acknowledge, escalate,
close with a note) taken through the same service as the app's, so the home's feed hears of
them and an illegal step is refused the same way."""
from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from veahome.admin_display import related_link
from veahome.errors import ApplicationError

from . import services
from .models import Alert, AlertRule, Contact, Notification

STEP_CHOICES = [("", "—"), ("acknowledge", "Acknowledge"), ("escalate", "Escalate"), ("close", "Close")]


def open_alerts_link(home) -> str:
    """The home page's line: its open alerts, linked to the list."""
    if not home.pk:
        return "-"
    count = Alert.objects.filter(home=home).exclude(status=Alert.Status.CLOSED).count()
    url = reverse("admin:alerts_alert_changelist") + f"?home__id__exact={home.pk}&status__exact=open"
    return format_html('<a href="{}">{} open</a>', url, count)


class AlertStepForm(forms.ModelForm):
    step = forms.ChoiceField(choices=STEP_CHOICES, required=False, help_text="Take a step on this alert.")
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=2000,
                           help_text="Kept with a close.")

    class Meta:
        model = Alert
        fields = []


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    form = AlertStepForm
    list_display = ("title", "kind", "severity", "status", "home_link", "occurrences", "last_seen_at")
    list_filter = ("status", "severity", "kind", "source")
    list_select_related = ("home",)
    search_fields = ("title", "kind", "home__name", "home__owner__email")
    search_help_text = "Title, kind, home name or the owner's email."
    readonly_fields = ("home", "source", "source_id", "kind", "severity", "status", "title", "data", "occurrences",
                       "first_seen_at", "last_seen_at", "acknowledged_at", "acknowledged_by", "escalated_at",
                       "escalated_by", "closed_at", "closed_by", "resolution", "close_note")
    fieldsets = (
        (None, {"fields": ("title", "home", "kind", "severity", "status", "source", "source_id", "data")}),
        ("Seen", {"fields": ("occurrences", "first_seen_at", "last_seen_at")}),
        ("Steps", {"fields": ("acknowledged_at", "acknowledged_by", "escalated_at", "escalated_by", "closed_at",
                              "closed_by", "resolution", "close_note")}),
        ("Take a step", {"fields": ("step", "note")}),
    )
    actions = ["acknowledge", "escalate", "close"]
    home_link = related_link("home", "home__name")

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        step = form.cleaned_data.get("step")
        if not step:
            return
        try:
            services.alert_step(alert=obj, step=step, actor=request.user, note=form.cleaned_data.get("note", ""))
        except ApplicationError as error:
            self.message_user(request, error.message, messages.ERROR)

    def _steps(self, request, queryset, step: str):
        done, refused = 0, []
        for alert in queryset:
            try:
                services.alert_step(alert=alert, step=step, actor=request.user)
                done += 1
            except ApplicationError as error:
                refused.append(f"{alert.title}: {error.message}")
        if done:
            self.message_user(request, f"{done} alert(s): {step} done.", messages.SUCCESS)
        for line in refused:
            self.message_user(request, line, messages.WARNING)

    @admin.action(description="Acknowledge the selected alerts")
    def acknowledge(self, request, queryset):
        self._steps(request, queryset, "acknowledge")

    @admin.action(description="Escalate the selected alerts")
    def escalate(self, request, queryset):
        self._steps(request, queryset, "escalate")

    @admin.action(description="Close the selected alerts")
    def close(self, request, queryset):
        self._steps(request, queryset, "close")


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    """A home's own detection settings (changed by its admins in the app; shown here)."""

    list_display = ("kind", "home_link", "enabled", "severity", "delay_seconds", "params")
    list_filter = ("kind", "enabled")
    search_fields = ("home__name", "home__owner__email")
    readonly_fields = ("home", "kind", "enabled", "severity", "delay_seconds", "params", "created_at", "updated_at")
    home_link = related_link("home", "home__name")

    def has_add_permission(self, request):
        return False


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    """Whom a home's alerts are told to (kept by the home's admins in the app; shown here)."""

    list_display = ("name", "home_link", "tier", "email", "enabled")
    list_filter = ("tier", "enabled")
    search_fields = ("name", "email", "home__name", "home__owner__email")
    readonly_fields = ("home", "name", "email", "phone", "push_url", "tier", "enabled", "created_at", "updated_at")
    exclude = ("push_token",)
    home_link = related_link("home", "home__name")

    def has_add_permission(self, request):
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """Every delivery of every alert: to whom, over what, at which escalation step, how it went."""

    list_display = ("alert", "channel", "recipient", "step", "status", "attempts", "sent_at", "created_at")
    list_filter = ("status", "channel", "step")
    search_fields = ("recipient", "alert__title", "alert__home__name")
    list_select_related = ("alert",)
    readonly_fields = ("alert", "home", "contact", "channel", "step", "recipient", "status", "attempts", "error",
                       "next_attempt_at", "sent_at", "created_at", "updated_at")

    def has_add_permission(self, request):
        return False
