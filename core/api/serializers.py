"""Serializer building blocks shared by the apps."""

from rest_framework import serializers

__all__ = ["StrictBooleanField", "StrictSerializer"]


class StrictSerializer(serializers.Serializer):
    """Refuses keys it does not declare, for documents whose schema is closed (e.g. config limits)."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({key: ["Unknown key."] for key in unknown})
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """JSON true or false only: no "yes", "1" or "on" smuggled in as booleans."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data
