"""The OpenAPI schema says what the hub answers: each operation's tool_action (`x-tool-action`), its
success body in the envelope the renderer really writes, and the errors it can answer with.

- A 2xx JSON body is `{"data": …}` (lists: the Paginated… components, `{data, meta}`), except an
  operation marked `x-bare-body` (a downloaded document).
- Every error is the one envelope of core/api/exceptions.py, `Error` in the schema. Which statuses an
  operation documents follows from what the plumbing can answer for it: 400 (validation, a bad
  `Host`), 500 and 503 everywhere; 401, 403 and 429 wherever a credential or a rate limit is
  checked; 404 on a path with an id; 409 on writes; 413 and 415 where a body is read; 412 on a
  conditional PATCH; 422 on a POST that honours Idempotency-Key. A view names any other status it
  can answer, and why, in `schema_errors` by action or method (e.g. 409 on a download not ready yet,
  422 UNPROCESSABLE where a rule across fields or about the hub's state refuses a valid body).
- Request bodies are closed (`additionalProperties: false`): core/api/strictness.py refuses a field
  an operation does not take. A PATCH body is partial unless its serializer says `whole_in_patch`
  (a status change needs its status and reason).
"""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import PolymorphicProxySerializer
from rest_framework import serializers

from core.api.idempotency import IdempotencyMixin

__all__ = ["ERROR_SCHEMA", "HubAutoSchema"]

ERROR_SCHEMA = {
    "type": "object",
    "description": 'Every error: {"error": {"code", "message", "details"?, "requestId"}} (docs/rbac.md).',
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "requestId"],
            "properties": {
                "code": {"type": "string", "description": "Stable and machine-readable: VALIDATION_ERROR, "
                                                          "UNAUTHORIZED, FORBIDDEN_ACTION, NOT_FOUND, …"},
                "message": {"type": "string", "description": "For people; may change."},
                "details": {"description": "What was wrong, by field where there are fields."},
                "requestId": {"type": "string", "nullable": True},
            },
        }
    },
}

_DESCRIPTIONS = {
    "400": "The request is invalid (VALIDATION_ERROR and the codes of spec §7).",
    "401": "No valid credential.",
    "403": "The credential may not do this, or its tenant or account is suspended.",
    "404": "Not found in the caller's tenant.",
    "409": "Conflicts with the current state, or a duplicate.",
    "412": "If-Match does not match the resource's ETag.",
    "413": "The body is too large.",
    "415": "The body is not JSON.",
    "422": "The Idempotency-Key was used with another request (IDEMPOTENCY_KEY_REUSED).",
    "429": "Rate limited; see Retry-After.",
    "500": "An internal error.",
    "503": "A dependency is unavailable.",
}
# Refused by gunicorn before the hub runs, with its own HTML page (docs/decisions.md).
_SERVER_REFUSALS = {
    "414": "The request line is over 4,094 bytes: refused by the web server, as HTML, before the hub runs.",
    "431": "A header is over 8,190 bytes: refused by the web server, as HTML, before the hub runs.",
}
# Text DRF's CharField takes as blank: what str.strip() removes (Python's isspace), as one class that
# reads the same in Python and ECMAScript regexes (`\s` does not: \x1c-\x1f are space to Python only,
# \ufeff to ECMAScript only).
_PYTHON_SPACE = "".join(f"\\u{ord(c):04x}" for c in map(chr, range(0x3001)) if c.isspace())
NOT_BLANK = f"[^{_PYTHON_SPACE}]"
_NOT_BLANK_MARK = "_hub_not_blank"  # from _map_serializer_field to _insert_field_validators
_WRITES = ("post", "put", "patch", "delete")


class HubAutoSchema(AutoSchema):
    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        declared = getattr(self.view, "tool_action", None)
        if isinstance(declared, dict):
            declared = declared.get(getattr(self.view, "action", None) or self.method.lower())
        if declared:
            operation["x-tool-action"] = declared
        if not operation.get("x-bare-body"):
            for status, response in operation["responses"].items():
                if status.startswith("2"):
                    _envelope(response)
        error = ResolvedComponent(name="Error", type=ResolvedComponent.SCHEMA, object="Error", schema=ERROR_SCHEMA)
        registry.register_on_missing(error)
        declared_errors = getattr(self.view, "schema_errors", {}).get(
            getattr(self.view, "action", None) or self.method.lower(), {})
        for status in sorted({*self._error_statuses(path, method.lower(), operation), *declared_errors}):
            description = " ".join(filter(None, [declared_errors.get(status), _DESCRIPTIONS[status]]))
            operation["responses"].setdefault(status, {
                "description": description, "content": {"application/json": {"schema": error.ref}},
            })
        for status, description in _SERVER_REFUSALS.items():
            operation["responses"][status] = {"description": description,
                                              "content": {"text/html": {"schema": {"type": "string"}}}}
        return operation

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        if direction == "request":  # closed: core/api/strictness.py refuses what a body does not take
            schema.setdefault("additionalProperties", False)
        return schema

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        trimmed = isinstance(field, serializers.CharField) and field.trim_whitespace and not field.allow_blank
        if direction == "request" and trimmed and schema.get("type") == "string":
            schema[_NOT_BLANK_MARK] = True  # DRF trims, then refuses "": said once validators had their say
        if isinstance(field, serializers.ListSerializer):  # bounds of a list of objects DRF checks, stated
            if field.min_length is not None or not field.allow_empty:
                schema["minItems"] = max(field.min_length or 0, 0 if field.allow_empty else 1)
            if field.max_length is not None:
                schema["maxItems"] = field.max_length
        if isinstance(field, serializers.DictField):  # bounds of a JSON object DRF checks, stated
            if not field.allow_empty:
                schema["minProperties"] = 1
            if getattr(field, "max_properties", None) is not None:
                schema["maxProperties"] = field.max_properties
        return schema

    def _insert_field_validators(self, field, schema):
        super()._insert_field_validators(field, schema)  # a field's own pattern (RegexValidator) first
        if schema.pop(_NOT_BLANK_MARK, False) and "pattern" not in schema:
            schema["pattern"] = NOT_BLANK

    def _get_request_for_media_type(self, serializer, direction="request"):
        if self.method == "PATCH" and getattr(serializer, "whole_in_patch", False):
            self.method = "PUT"  # documented as DRF validates it: not partial
            try:
                return super()._get_request_for_media_type(serializer, direction)
            finally:
                self.method = "PATCH"
        schema, required = super()._get_request_for_media_type(serializer, direction)
        # One of several bodies (oneOf, which names no property itself): each is a body, none is optional.
        return schema, required or isinstance(serializer, PolymorphicProxySerializer)

    # Only GETs filter and paginate: a write that answers several rows (a grant) answers them all, in
    # {data}, and takes no list parameters.
    def _get_paginator(self):
        return super()._get_paginator() if self.method == "GET" else None

    def get_filter_backends(self):
        return super().get_filter_backends() if self.method == "GET" else []

    def _error_statuses(self, path: str, method: str, operation: dict) -> list[str]:
        statuses = ["400", "500", "503"]
        probe = not self.view.authentication_classes and not self.view.throttle_classes
        if not probe:
            statuses += ["401", "403", "429"]
        if "{" in path:
            statuses.append("404")
        if method in _WRITES:
            statuses.append("409")
        if "requestBody" in operation:
            statuses += ["413", "415"]
        if method == "patch" and "{" in path:
            statuses.append("412")
        if method == "post" and isinstance(self.view, IdempotencyMixin):
            statuses.append("422")
        return sorted(statuses)


def _envelope(response: dict) -> None:
    media = response.get("content", {}).get("application/json")
    if not media or "schema" not in media:
        return
    schema = media["schema"]
    if schema.get("$ref", "").startswith("#/components/schemas/Paginated"):
        return  # already {data, meta}
    media["schema"] = {"type": "object", "required": ["data"], "properties": {"data": schema}}

