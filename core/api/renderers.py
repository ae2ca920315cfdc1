"""The success envelope `{"data": …, "meta"?: …}` with camelCase keys."""

from functools import lru_cache

import orjson
from djangorestframework_camel_case.settings import api_settings as camel_settings
from djangorestframework_camel_case.util import camelize_re, underscore_to_camel
from rest_framework.renderers import JSONRenderer

__all__ = ["CamelCaseRows", "EnvelopeJSONRenderer", "PlainRows", "camel_key", "camelize", "enveloped"]


def enveloped(data, meta=None) -> dict:
    """A body that is already an envelope; views and paginators use it to add `meta`."""
    body = {"data": data}
    if meta is not None:
        body["meta"] = meta
    return _Envelope(body)


class _Envelope(dict):
    pass


class CamelCaseRows(list):
    """Rows whose keys and values are already as `camelize` would leave them (core/api/rows.py)."""


class PlainRows(CamelCaseRows):
    """Rows whose values are only text, 64-bit integers, booleans, nulls and lists of those, for which
    orjson writes the bytes `json.dumps` writes (tests/api/test_list_rows.py holds them equal)."""


@lru_cache(maxsize=4096)
def camel_key(key: str) -> str:
    return camelize_re.sub(underscore_to_camel, key)


def camelize(data, ignore_fields=frozenset()):
    """djangorestframework-camel-case's key rule, with each key converted once per process.

    The library runs its regular expression on every key of every row (a tenth of a 50-row list's
    time); the keys of an API are a small, fixed set, so their camel forms are remembered.
    """
    if isinstance(data, CamelCaseRows):
        return data
    if isinstance(data, dict):
        converted = {}
        for key, value in data.items():
            new_key = camel_key(key) if isinstance(key, str) and "_" in key else key
            keep = key in ignore_fields or new_key in ignore_fields
            converted[new_key] = value if keep else camelize(value, ignore_fields)
        return converted
    if isinstance(data, list | tuple):
        # Most lists hold plain values (permission keys, scopes): no call per item for those.
        return [camelize(item, ignore_fields) if isinstance(item, dict | list | tuple) else item for item in data]
    return data


IGNORED_FIELDS = frozenset(camel_settings.JSON_UNDERSCOREIZE.get("ignore_fields") or ())


class EnvelopeJSONRenderer(JSONRenderer):
    """Wraps plain bodies in `data` and camelizes keys.

    Error bodies are already shaped; a response with `camelize = False` keeps its keys as they are
    (maps keyed by tool_action, user-defined JSON).
    """

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is not None and response.status_code == 204:
            return b""
        is_error = response is not None and getattr(response, "error_code", None)
        if not is_error and not isinstance(data, _Envelope):
            data = {"data": data}
        if isinstance(data, _Envelope) and type(data["data"]) is PlainRows and self._compact(accepted_media_type,
                                                                                            renderer_context):
            return self._render_plain_rows(data, accepted_media_type, renderer_context)
        if getattr(response, "camelize", True):
            data = camelize(data, IGNORED_FIELDS)
        return super().render(data, accepted_media_type, renderer_context)

    def _compact(self, accepted_media_type, renderer_context) -> bool:
        """Whether DRF would write compact JSON without escaping non-ASCII, as orjson does."""
        return (self.compact and not self.ensure_ascii
                and self.get_indent(accepted_media_type, renderer_context or {}) is None)

    def _render_plain_rows(self, envelope, accepted_media_type, renderer_context) -> bytes:
        """A page of PlainRows, written by orjson: 0.28M instructions for 50 users where json.dumps
        took 1.0M, a fifth of the whole request. The envelope around them (`meta`) is rendered as
        every other body."""
        shell = super().render(camelize(_Envelope({**envelope, "data": []}), IGNORED_FIELDS), accepted_media_type,
                               renderer_context)
        # DRF escapes these two after encoding, for JSON that is also valid JavaScript.
        rows = orjson.dumps(envelope["data"]).replace(b"\xe2\x80\xa8", b"\\u2028").replace(b"\xe2\x80\xa9", b"\\u2029")
        return b'{"data":' + rows + shell.removeprefix(b'{"data":[]')
