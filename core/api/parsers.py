"""Request bodies: JSON, camelCase keys underscored, refused whole when PostgreSQL could not store them.

Three kinds of JSON are valid but reached the database and came back as a 500: nesting deep enough to
exhaust the decoder's recursion, a lone UTF-16 surrogate written as an escape (`"\\ud800"`: no UTF-8
encoding exists for it), and the NUL character (`"\\u0000"`: neither text nor jsonb columns hold it).
Each is now a 400 VALIDATION_ERROR before any view runs (docs/decisions.md, "Strict input").
"""

import json

from django.conf import settings
from djangorestframework_camel_case.parser import CamelCaseJSONParser
from djangorestframework_camel_case.util import underscoreize
from rest_framework.exceptions import ParseError

__all__ = ["MAX_JSON_DEPTH", "HubJSONParser"]

# Objects and arrays inside one another; the deepest document the hub stores (a tenant's config
# limits) is three levels.
MAX_JSON_DEPTH = 32


def _refusal(value, depth: int = 1) -> str | None:
    """Why `value` cannot be stored, or None. Depth first, so a deep document is refused before the
    walk would recurse far."""
    if isinstance(value, dict | list):
        if depth > MAX_JSON_DEPTH:
            return f"JSON nested deeper than {MAX_JSON_DEPTH} levels."
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            reason = (_refusal(key, depth) if isinstance(key, str) else None) or _refusal(item, depth + 1)
            if reason:
                return reason
        return None
    if isinstance(value, str):
        if "\x00" in value:
            return "Strings may not contain the NUL character (\\u0000)."
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "Strings must be valid Unicode (a lone surrogate escape such as \\ud800 is not)."
    return None


class HubJSONParser(CamelCaseJSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            data = json.loads(stream.read().decode(encoding))
        except ValueError as exc:  # malformed JSON, or bytes that are not `encoding`
            raise ParseError(f"JSON parse error - {exc}") from exc
        except RecursionError as exc:
            raise ParseError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels.") from exc
        reason = _refusal(data)
        if reason:
            raise ParseError(reason)
        return underscoreize(data, **self.json_underscoreize)
