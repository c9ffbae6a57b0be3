"""Serializer fields that refer to objects of the request's home, and nothing else."""
import uuid

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


@extend_schema_field(OpenApiTypes.UUID)
class InHomeField(serializers.PrimaryKeyRelatedField):
    """A reference by id to an object of the home in the serializer context.

    An object of another home is reported exactly like one that does not exist.
    """

    default_error_messages = {
        "does_not_exist": 'No {model} with id "{pk_value}" in this home.',
        "incorrect_type": "Expected an id (UUID), got {data_type}.",
    }

    def __init__(self, model, **kwargs):
        self.model = model
        super().__init__(**kwargs)

    def get_queryset(self):
        home = self.context.get("home")
        if home is None:
            return self.model.objects.none()
        return self.model.objects.in_home(home)

    def run_validation(self, data=serializers.empty):
        # DRF reads "" as null for nullable relations; an id field takes an id or null, nothing else.
        if data == "":
            self.fail("incorrect_type", data_type="an empty string")
        return super().run_validation(data)

    def to_internal_value(self, data):
        try:
            pk = uuid.UUID(str(data)) if not isinstance(data, (dict, list, bool)) else None
        except ValueError:
            pk = None
        if pk is None:
            self.fail("incorrect_type", data_type=type(data).__name__ if not isinstance(data, str) else "a string")
        try:
            return self.get_queryset().get(pk=pk)
        except self.model.DoesNotExist:
            self.fail("does_not_exist", model=self.model._meta.verbose_name, pk_value=pk)

    def to_representation(self, value):
        return str(value.pk)
