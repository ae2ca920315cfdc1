"""Serializer building blocks shared by the apps."""

from rest_framework import serializers

from core.api.strictness import unknown_fields

__all__ = ["StrictBooleanField", "StrictSerializer"]


class StrictSerializer(serializers.Serializer):
    """Refuses keys it does not declare, for documents whose schema is closed (e.g. config limits)."""

    def to_internal_value(self, data):
        unknown = unknown_fields(self, data)
        if unknown:
            raise serializers.ValidationError({key: ["Unknown key."] for key in unknown})
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """JSON true or false only: no "yes", "1" or "on" smuggled in as booleans."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data
