from usage.services import buffer

__all__ = ["UsageMiddleware"]


class UsageMiddleware:
    """Counts one use of the route's tool_action for the tenant, once the request was authorized."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        action = getattr(request, "tool_action", None)
        principal = getattr(request, "principal", None)
        if action and principal is not None:
            buffer.count(principal.tenant.pk, action)
        return response
