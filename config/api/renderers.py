"""The success envelope `{"data": …, "meta"?: …}` with camelCase keys."""

from djangorestframework_camel_case.settings import api_settings as camel_settings
from djangorestframework_camel_case.util import camelize
from rest_framework.renderers import JSONRenderer

__all__ = ["EnvelopeJSONRenderer", "enveloped"]


def enveloped(data, meta=None) -> dict:
    """A body that is already an envelope; views and paginators use it to add `meta`."""
    body = {"data": data}
    if meta is not None:
        body["meta"] = meta
    return _Envelope(body)


class _Envelope(dict):
    pass


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
        if getattr(response, "camelize", True):
            data = camelize(data, **camel_settings.JSON_UNDERSCOREIZE)
        return super().render(data, accepted_media_type, renderer_context)
