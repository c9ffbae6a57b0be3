"""Query-string filters for alert lists (camelCase like the rest of the contract)."""
from django_filters import rest_framework as filters

from alerts.models import Alert, Severity
from veahome.api import FilterSet


class AlertFilter(FilterSet):
    homeId = filters.UUIDFilter(field_name="home_id")
    status = filters.ChoiceFilter(choices=Alert.Status.choices)
    severity = filters.ChoiceFilter(choices=Severity.choices)
    kind = filters.CharFilter(field_name="kind", max_length=32)

    class Meta:
        model = Alert
        fields = []


class HomeAlertFilter(AlertFilter):
    class Meta(AlertFilter.Meta):
        exclude = ["home"]

    homeId = None
