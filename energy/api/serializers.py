"""Serializers for energy queries, tariffs, budgets and device ingestion."""
import datetime
import re
from decimal import Decimal

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from energy import pricing
from energy.history import INTERVALS
from energy.models import Budget, Tariff
from energy.periods import PERIODS
from veahome.api import ModelSerializer, StrictCharField, StrictDecimalField

MAX_RANGE = datetime.timedelta(days=3660)
MIN_YEAR, MAX_YEAR = 1971, 2200
FIELD_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")


@extend_schema_field(OpenApiTypes.STR)
class LocalDateTimeField(serializers.Field):
    """A date (local midnight) or a datetime; without an offset it is read in the home's zone."""

    default_error_messages = {"invalid": "Expected an ISO 8601 date or date-time."}

    def to_internal_value(self, data):
        tz = self.context["home"].tz
        text = str(data).strip()
        try:
            if len(text) == 10:
                value = datetime.datetime.combine(datetime.date.fromisoformat(text), datetime.time())
            else:
                value = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            self.fail("invalid")
        except OverflowError:
            self.fail("invalid")
        if not MIN_YEAR <= value.year <= MAX_YEAR:
            raise serializers.ValidationError(f"Years {MIN_YEAR} to {MAX_YEAR} only.")
        if timezone.is_naive(value):
            value = value.replace(tzinfo=tz)
        return value.astimezone(datetime.timezone.utc)

    def to_representation(self, value):
        return value.isoformat()


def _check_range(attrs):
    start, end = attrs.get("from"), attrs.get("to")
    if (start is None) != (end is None):
        raise serializers.ValidationError({"to" if end is None else "from": ["Give both from and to."]})
    if start is not None:
        if end <= start:
            raise serializers.ValidationError({"to": ["Must be after from."]})
        if end - start > MAX_RANGE:
            raise serializers.ValidationError({"to": ["The range may span at most ten years."]})
    return attrs


class EnergyQuerySerializer(serializers.Serializer):
    period = serializers.ChoiceField(choices=PERIODS, default="month")
    date = serializers.DateField(required=False, help_text="A day inside the period (default: today, locally).")

    def validate_date(self, value):
        if not MIN_YEAR <= value.year <= MAX_YEAR:
            raise serializers.ValidationError(f"Years {MIN_YEAR} to {MAX_YEAR} only.")
        return value

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = LocalDateTimeField(required=False)
        fields["to"] = LocalDateTimeField(required=False)
        return fields

    def validate(self, attrs):
        return _check_range(attrs)


class HistoryQuerySerializer(serializers.Serializer):
    interval = serializers.ChoiceField(choices=["auto", "raw", *INTERVALS], default="auto")
    fields = serializers.CharField(required=False, max_length=2000, help_text="Comma-separated field names.")

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = LocalDateTimeField(required=False)
        fields["to"] = LocalDateTimeField(required=False)
        return fields

    def validate_fields(self, value):
        names = [n.strip() for n in value.split(",") if n.strip()]
        if not names:
            raise serializers.ValidationError("Name at least one field.")
        return names

    def validate(self, attrs):
        now = timezone.now()
        if "from" not in attrs and "to" not in attrs:
            attrs["to"], attrs["from"] = now, now - datetime.timedelta(hours=24)
        return _check_range(attrs)


class TariffPeriodSerializer(serializers.Serializer):
    start = StrictCharField(max_length=5)
    end = StrictCharField(max_length=5)
    price_per_kwh = StrictDecimalField(max_digits=8, decimal_places=5, min_value=Decimal(0))

    def to_internal_value(self, data):
        # Nested paths are reported verbatim (veahome/errors.py): name the fields as the client does.
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if not isinstance(exc.detail, dict):
                raise
            raise serializers.ValidationError(
                {"pricePerKwh" if key == "price_per_kwh" else key: value for key, value in exc.detail.items()}
            ) from None

    def validate_start(self, value):
        return self._hour(value)

    def validate_end(self, value):
        return self._hour(value)

    def _hour(self, value):
        try:
            return f"{pricing.parse_hour(value):02d}:00"
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None

    def validate(self, attrs):
        # A PATCH of the tariff makes DRF treat nested fields as optional too; a period is
        # always given whole.
        # Named as the client spells them (nested paths are reported verbatim: veahome/errors.py).
        missing = {key: ["This field is required."] for name, key in
                   (("start", "start"), ("end", "end"), ("price_per_kwh", "pricePerKwh")) if name not in attrs}
        if missing:
            raise serializers.ValidationError(missing)
        if attrs["start"] == attrs["end"]:
            raise serializers.ValidationError({"end": ["Must differ from start."]})
        return attrs


class TariffSerializer(ModelSerializer):
    periods = TariffPeriodSerializer(many=True, required=False)
    price_per_kwh = StrictDecimalField(max_digits=8, decimal_places=5, min_value=Decimal(0))

    class Meta:
        model = Tariff
        fields = ["id", "valid_from", "kind", "currency", "price_per_kwh", "periods", "created_at"]
        read_only_fields = ["id", "created_at"]

    def validate_currency(self, value):
        if not re.fullmatch(r"[A-Z]{3}", value):
            raise serializers.ValidationError("An ISO 4217 code such as EUR.")
        return value

    def validate(self, attrs):
        kind = attrs.get("kind", getattr(self.instance, "kind", Tariff.Kind.FLAT))
        periods = attrs.get("periods", getattr(self.instance, "periods", []))
        if kind == Tariff.Kind.TIME_OF_USE and not periods:
            raise serializers.ValidationError({"periods": ["A time-of-use tariff needs at least one period."]})
        if kind == Tariff.Kind.FLAT and attrs.get("periods"):
            raise serializers.ValidationError({"periods": ["A flat tariff has no periods."]})
        if "periods" in attrs:
            attrs["periods"] = [
                {"start": p["start"], "end": p["end"], "price_per_kwh": str(p["price_per_kwh"])} for p in attrs["periods"]
            ]
        return attrs


class BudgetSerializer(ModelSerializer):
    kind = serializers.ChoiceField(choices=Budget.Kind.choices, default=Budget.Kind.KWH)
    amount = StrictDecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"))

    class Meta:
        model = Budget
        fields = ["kind", "amount"]


class IngestionTokenSerializer(serializers.Serializer):
    """A freshly issued device ingestion token (shown once)."""

    device_id = serializers.UUIDField(read_only=True)
    token = serializers.CharField(read_only=True)


class ReadingSerializer(serializers.Serializer):
    """One reading: `ts` (optional, default now) and numeric or boolean fields beside it."""

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError({"nonFieldErrors": ["Expected an object."]})
        now = timezone.now()
        ts = now
        errors, fields = {}, {}
        for key, value in data.items():
            if key == "ts":
                try:
                    ts = datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
                    if timezone.is_naive(ts):
                        raise ValueError
                except ValueError:
                    errors["ts"] = ["Expected an ISO 8601 date-time with an offset."]
                    continue
                if ts > now + datetime.timedelta(minutes=5) or ts < now - datetime.timedelta(days=30):
                    errors["ts"] = ["Must be within the last 30 days and not in the future."]
            elif not FIELD_NAME.match(str(key)):
                errors[str(key)] = ["Field names are letters, digits and _ (at most 64)."]
            elif isinstance(value, bool):
                fields[key] = value
            elif isinstance(value, (int, float)) and abs(value) < 1e15:
                fields[key] = float(value)
            else:
                errors[str(key)] = ["Expected a number or a boolean."]
        if not fields and not errors:
            errors["nonFieldErrors"] = ["A reading needs at least one field."]
        if errors:
            raise serializers.ValidationError(errors)
        return {"ts": ts, "fields": fields}


class DeviceDataSerializer(serializers.Serializer):
    """Either one reading (the seed's shape) or {"readings": [...]} with up to 1000."""

    def to_internal_value(self, data):
        if isinstance(data, dict) and "readings" in data:
            readings = data["readings"]
            if not isinstance(readings, list) or not 1 <= len(readings) <= 1000:
                raise serializers.ValidationError({"readings": ["Expected a list of 1 to 1000 readings."]})
            serializer = ReadingSerializer(many=True, data=readings)
            serializer.is_valid(raise_exception=True)
            return {"readings": serializer.validated_data}
        return {"readings": [ReadingSerializer().to_internal_value(data)]}
