"""Support admin for energy settings: tariffs, budgets and devices' ingestion tokens (read-only)."""
from django.contrib import admin

from veahome.admin_display import ReadOnlyAdmin, related_link

from .models import Budget, IngestionToken, Tariff


@admin.register(Tariff)
class TariffAdmin(ReadOnlyAdmin):
    list_display = ("home_link", "valid_from", "kind", "price_per_kwh", "currency")
    list_select_related = ("home",)
    list_filter = ("kind", "currency")
    search_fields = ("home__name", "home__owner__email")
    ordering = ("home__name", "-valid_from")
    fields = ("home_link", "valid_from", "kind", "currency", "price_per_kwh", "periods", "created_at")

    home_link = related_link("home", "home__name")


@admin.register(Budget)
class BudgetAdmin(ReadOnlyAdmin):
    list_display = ("home_link", "kind", "amount", "notified_month")
    list_select_related = ("home",)
    list_filter = ("kind",)
    search_fields = ("home__name", "home__owner__email")

    home_link = related_link("home", "home__name")


@admin.register(IngestionToken)
class IngestionTokenAdmin(ReadOnlyAdmin):
    """Which devices post readings over HTTP and when they last did; the secret is only a hash."""

    list_display = ("device_link", "prefix", "last_used_at", "created_at")
    list_select_related = ("device",)
    search_fields = ("device__name", "prefix", "device__home__owner__email")
    fields = ("device_link", "prefix", "last_used_at", "created_at")  # never the hash

    device_link = related_link("device", "device__name")
