"""Serializer building blocks shared by the apps."""

from django.core.validators import EmailValidator, RegexValidator
from rest_framework import serializers
from rest_framework.fields import RegexField

from core.db.models import Status

__all__ = ["BoundedDictField", "EmailAddressField", "PatternField", "StatusChangeSerializer", "StrictBooleanField", "WebUrlField"]


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


class BoundedDictField(serializers.DictField):
    """A JSON object of at most `max_properties` keys (and at least one unless `allow_empty`); the
    schema states both bounds (core/api/schema.py)."""

    def __init__(self, *, max_properties: int, **kwargs):
        self.max_properties = max_properties
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if len(value) > self.max_properties:
            raise serializers.ValidationError(f"At most {self.max_properties} fields.")
        return value


class PatternField(RegexField):
    """A string matching `pattern`, anchored with \\A and \\Z (Python's $ also matches before a final
    newline). A mismatch names the pattern as the schema publishes it (^…$), so the client can see
    what was expected instead of "does not match the required pattern"."""

    def __init__(self, pattern: str, **kwargs):
        shown = pattern.replace(r"\A", "^").replace(r"\Z", "$")
        kwargs.setdefault("error_messages", {"invalid": f'Must match the pattern "{shown}".'})
        kwargs.setdefault("trim_whitespace", False)  # the pattern decides: " #aabbcc" is no colour
        super().__init__(pattern, **kwargs)


_CHARACTER = r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})"
# A host name or an IPv4 address: a bracketed IPv6 literal is left out, as one the pattern cannot
# check parses nowhere (urlsplit raises on "[Ab]").
_HOST = r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*)(?::[0-9]{1,5})?"
_PATH = rf"(?:/{_CHARACTER}*)*"
_QUERY = rf"(?:{_CHARACTER}|[/?])*"


class WebUrlField(PatternField):
    """An absolute web URL in RFC 3986's ASCII form, checked by a pattern the schema publishes as is,
    so that what the schema allows the hub takes and answers back as a valid `uri` (Django's
    URLValidator refuses many a URL `format: uri` allows). What the hub then requires of the host
    (public, resolvable) is the caller's rule, answered 422."""

    def __init__(self, *, schemes=("https",), **kwargs):
        kwargs.setdefault("max_length", 2048)
        kwargs.setdefault("error_messages", {"invalid": f"Must be an absolute {' or '.join(schemes)} URL."})
        super().__init__(rf"\A(?:{'|'.join(schemes)})://{_HOST}{_PATH}(?:\?{_QUERY})?(?:#{_QUERY})?\Z", **kwargs)



# An RFC 5321 addr-spec in ASCII: dot-atoms of at most 64 characters before the @, host-name labels
# and a letter TLD after.
EMAIL_PATTERN = (r"\A(?=[^@]{1,64}@)[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
                 r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}\Z")


class EmailAddressField(serializers.EmailField):
    """An e-mail address checked by one pattern the schema publishes beside `format: email`, instead
    of Django's EmailValidator, which refuses addresses the format allows ("0@0.a") and takes some
    the pattern does not: what the schema says valid, the hub takes, and nothing else."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 254)
        kwargs.setdefault("trim_whitespace", False)  # the pattern decides, as the schema's does
        super().__init__(**kwargs)
        self.validators = [validator for validator in self.validators if not isinstance(validator, EmailValidator)]
        self.validators.append(RegexValidator(EMAIL_PATTERN, EmailValidator.message))
