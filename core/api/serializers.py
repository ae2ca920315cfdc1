"""Serializer building blocks shared by the apps."""

from rest_framework import serializers
from rest_framework.fields import RegexField

from core.db.models import Status

__all__ = ["StatusChangeSerializer", "StrictBooleanField", "WebUrlField"]


class StrictBooleanField(serializers.BooleanField):
    """JSON true or false only: no "yes", "1" or "on" smuggled in as booleans."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class StatusChangeSerializer(serializers.Serializer):
    """PATCH …/status: the whole change, never partial, and always with its reason. Whoever lifts a
    suspension later needs to know why it was made, and whoever reads the trail why it was lifted."""

    whole_in_patch = True  # core/api/schema.py
    status = serializers.ChoiceField(choices=Status.choices)
    reason = serializers.CharField(max_length=500, help_text="Why; kept in the audit trail.")


class WebUrlField(RegexField):
    """An absolute web URL, checked by a pattern the schema publishes as is, so that what the schema
    allows the hub takes (Django's URLValidator refuses many a URL `format: uri` allows). What the hub
    then requires of the host (public, resolvable) is the caller's rule, answered 422."""

    def __init__(self, *, schemes=("https",), **kwargs):
        pattern = rf"\A(?:{'|'.join(schemes)})://[^\s/?#@]+(?:[/?#]\S*)?\Z"
        kwargs.setdefault("max_length", 2048)
        kwargs.setdefault("error_messages", {"invalid": f"Must be an absolute {' or '.join(schemes)} URL."})
        super().__init__(pattern, **kwargs)
