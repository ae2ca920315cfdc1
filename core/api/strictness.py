"""What a request body may hold beyond what DRF checks: no field the operation does not take, and
every value of the JSON type its field declares in the schema.

DRF coerces: `"reason": 0` becomes the string "0", `"count": "5"` the integer 5, `"flag": "true"` a
boolean. The schema promises `string`, `integer`, `boolean`; a client that sends another type has a
bug it should hear about (issue 25: "schema-violating requests accepted"), so the type is checked on
the raw JSON before DRF converts it.
"""

from rest_framework import serializers

__all__ = ["type_errors", "unknown_fields"]

# Field class → the JSON types its schema names. Subclasses inherit (EmailField is a CharField);
# the first match wins, so the more specific classes come first.
_JSON_TYPES = (
    (serializers.BooleanField, (bool,)),
    (serializers.ChoiceField, (str,)),
    (serializers.CharField, (str,)),
    (serializers.UUIDField, (str,)),
    (serializers.DateTimeField, (str,)),
    (serializers.DateField, (str,)),
    (serializers.IntegerField, (int,)),
    (serializers.FloatField, (int, float)),
    (serializers.DecimalField, (int, float, str)),
)
_NAMES = {bool: "a boolean", str: "a string", int: "an integer", float: "a number"}


def unknown_fields(serializer, data) -> dict:
    """{key: ["Unknown field."]} for each key of the body (as parsed: underscored) that names no
    writable field of `serializer`, in nested objects and arrays of objects too, shaped as DRF shapes
    nested errors: no level of a body drops what it does not take."""
    if not isinstance(data, dict):
        return {}
    writable = {name: field for name, field in serializer.fields.items() if not field.read_only}
    problems = {key: ["Unknown field."] for key in sorted(data) if key not in writable}
    for name, value in data.items():
        if name in writable and (nested := _unknown_within(writable[name], value)):
            problems[name] = nested
    return problems


def _unknown_within(field, value):
    if isinstance(field, serializers.ListSerializer) and isinstance(value, list):
        return {index: found for index, item in enumerate(value) if (found := unknown_fields(field.child, item))}
    if isinstance(field, serializers.Serializer):
        return unknown_fields(field, value)
    return None


def _expected(field):
    for field_class, types in _JSON_TYPES:
        if isinstance(field, field_class):
            return types
    return None


def _problem(field, value):
    """Type problems of `value` for `field`, shaped as DRF shapes its own (a list of messages, or
    them by key or index), or None."""
    if value is None:
        return None  # DRF itself answers for allow_null
    if isinstance(field, serializers.ListSerializer | serializers.ListField):
        if not isinstance(value, list):
            return ["Must be an array."]
        child = field.child
        problems = {index: problem for index, item in enumerate(value) if (problem := _problem(child, item))}
        return problems or None
    if isinstance(field, serializers.DictField):
        if not isinstance(value, dict):
            return ["Must be an object."]
        problems = {key: problem for key, item in value.items() if (problem := _problem(field.child, item))}
        return problems or None
    if isinstance(field, serializers.Serializer):
        return type_errors(field, value) or None if isinstance(value, dict) else ["Must be an object."]
    types = _expected(field)
    # bool is an int to Python, never to JSON Schema.
    if types is None or (isinstance(value, types) and not (isinstance(value, bool) and bool not in types)):
        return None
    return [f"Must be {' or '.join(_NAMES[kind] for kind in types if kind in _NAMES)}."]


def type_errors(serializer, data) -> dict:
    """{field: problem} for every value of `data` whose JSON type its field does not take."""
    if not isinstance(data, dict):
        return {}
    fields = serializer.fields
    return {name: problem for name, value in data.items()
            if name in fields and not fields[name].read_only and (problem := _problem(fields[name], value))}
