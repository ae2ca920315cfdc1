"""Catch-all for unknown /v1 paths: the JSON envelope, whatever DEBUG says."""

from django.http import Http404

from config.api.exceptions import json_error_response

__all__ = ["api_not_found"]


def api_not_found(request, *args, **kwargs):
    return json_error_response(Http404())
