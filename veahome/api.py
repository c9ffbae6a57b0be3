"""Shared API building blocks: strict pagination, filters (and their backend), JSON field types and size limits."""
import json

from django import forms
from django.conf import settings
from django.core.paginator import Paginator
from django.db import models
from django_filters import rest_framework as filters
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination


class CountSavingPaginator(Paginator):
    """Reads the first page before counting: when it is not full, its length is the count.

    Most homes' lists fit one page, so most list requests save a query; a full first page
    is read once, and counted only when the response needs the count.
    """

    def page(self, number):
        if str(number) == "1" and "count" not in self.__dict__ and not self.orphans:
            rows = list(self.object_list[: self.per_page])
            if len(rows) < self.per_page:
                self.__dict__["count"] = len(rows)  # fills the cached_property
            return self._get_page(rows, 1, self)
        return super().page(number)


class Pagination(PageNumberPagination):
    """`page` and `pageSize` must be positive integers when given: a typo is a 400, not a silent default."""

    django_paginator_class = CountSavingPaginator
    page_size_query_param = "pageSize"
    max_page_size = 500

    def _positive_int(self, request, name: str, maximum: int | None = None) -> int | None:
        if name not in request.query_params:
            return None
        raw = request.query_params.getlist(name)
        if len(raw) != 1 or not raw[0].isascii() or not raw[0].isdigit() or int(raw[0]) < 1:
            raise ValidationError({name: ["Must be one positive integer."]})
        value = int(raw[0])
        if maximum is not None and value > maximum:
            raise ValidationError({name: [f"Must be at most {maximum}."]})
        return value

    def get_page_size(self, request):
        return self._positive_int(request, self.page_size_query_param, self.max_page_size) or self.page_size

    def paginate_queryset(self, queryset, request, view=None):
        self._positive_int(request, self.page_query_param)
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"]["maximum"] = self.max_page_size
        return parameters


class StrictBooleanFormField(forms.NullBooleanField):
    """Unlike NullBooleanField (and its select widget), an unknown word is an error, not "no filter"."""

    def to_python(self, value):
        if value in (None, ""):
            return None
        if value in (True, "true", "True", "1"):
            return True
        if value in (False, "false", "False", "0"):
            return False
        raise forms.ValidationError("Must be true or false.", code="invalid")

    def validate(self, value):
        return None


class BooleanFilter(filters.BooleanFilter):
    field_class = StrictBooleanFormField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", forms.TextInput)
        super().__init__(*args, **kwargs)


class FilterSet(filters.FilterSet):
    """A filter given with an empty or repeated value is a 400 naming it, never silently ignored."""

    def is_valid(self):
        valid = super().is_valid()
        for name in self.filters:
            if name not in self.data:
                continue
            values = self.data.getlist(name) if hasattr(self.data, "getlist") else [self.data[name]]
            if len(values) != 1 or values[0] == "":
                self.form.add_error(name, "Give exactly one non-empty value.")
                valid = False
        return valid


class StrictCharField(serializers.CharField):
    """JSON numbers and booleans are not text: refuse them instead of coercing."""

    default_error_messages = {"invalid": "Not a valid string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        # The documented maxLength holds for what is sent, not only for what is left after trimming.
        if self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictIntegerField(serializers.IntegerField):
    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictDecimalField(serializers.DecimalField):
    """Decimals travel as JSON numbers (COERCE_DECIMAL_TO_STRING is off); text is refused."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictEmailField(serializers.EmailField):
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictUUIDField(serializers.UUIDField):
    """DRF reads a JSON number (and so `true`) as a UUID's integer value; an id is text."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


class StrictURLField(serializers.URLField):
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


# Free text is bounded everywhere alike (docs/api.md "Limits"): a name is a label on a phone
# screen, longer text is a note. The model serializer applies these to every text column.
NAME_MAX_LENGTH = 100
TEXT_MAX_LENGTH = 1000


def check_document_size(value) -> None:
    """A client's JSON document may take at most JSON_DOCUMENT_MAX_BYTES (stored, and sent in every list)."""
    limit = settings.JSON_DOCUMENT_MAX_BYTES
    encoded = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8", "surrogatepass")
    if len(encoded) > limit:
        raise ValidationError(f"Must take at most {limit} bytes as JSON ({len(encoded)} given).")


# The project's model serializer: model fields map to the strict JSON types above, and text
# columns get the limits above (a column's own max_length when it is shorter). (No
# docstring: drf-spectacular would print it as the description of every component.)
class ModelSerializer(serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
        models.BooleanField: StrictBooleanField,
        models.IntegerField: StrictIntegerField,
        models.PositiveIntegerField: StrictIntegerField,
        models.PositiveSmallIntegerField: StrictIntegerField,
        models.SmallIntegerField: StrictIntegerField,
        models.EmailField: StrictEmailField,
        models.DecimalField: StrictDecimalField,
        models.URLField: StrictURLField,
    }

    def build_standard_field(self, field_name, model_field):
        field_class, field_kwargs = super().build_standard_field(field_name, model_field)
        if issubclass(field_class, StrictCharField) and not field_kwargs.get("read_only"):
            cap = NAME_MAX_LENGTH if field_name == "name" else TEXT_MAX_LENGTH
            field_kwargs["max_length"] = min(field_kwargs.get("max_length") or cap, cap)
        return field_class, field_kwargs


class StrictFloatField(serializers.FloatField):
    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            self.fail("invalid")
        return super().to_internal_value(data)


class FilterBackend(DjangoFilterBackend):
    """django-filter, skipped when the request has no query parameters at all.

    Building and validating a filterset form costs about a millisecond per request, and
    the app's usual list call has no parameters.
    """

    def filter_queryset(self, request, queryset, view):
        if not request.query_params:
            return queryset
        return super().filter_queryset(request, queryset, view)


def no_store(response):
    """Answers carrying secrets (tokens, broker passwords) must not be kept by any cache
    between the server and the client."""
    response["Cache-Control"] = "no-store"
    return response
