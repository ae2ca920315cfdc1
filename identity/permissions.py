"""The tool_action permission class: every route declares its action, deny by default."""

from rest_framework.exceptions import MethodNotAllowed, NotAuthenticated
from rest_framework.permissions import BasePermission

from core.api.access import AUTHENTICATED, PUBLIC
from core.api.exceptions import ForbiddenAction
from identity.authorization import effective_permissions

__all__ = ["ToolActionPermission", "UndeclaredToolAction", "required_action"]


class UndeclaredToolAction(ForbiddenAction):
    message = "This route declares no tool_action and is refused."


def required_action(view, request):
    """The key, PUBLIC or AUTHENTICATED this request needs; None when the route declares nothing.

    `tool_action` is a string for the whole view, or a map keyed by viewset action name
    (`list`, `create`, `status`…) or, for plain views, by lower-case HTTP method.
    """
    declared = getattr(view, "tool_action", None)
    if isinstance(declared, dict):
        name = getattr(view, "action", None) or request.method.lower()
        if name not in declared:
            if request.method == "OPTIONS":
                return AUTHENTICATED
            raise MethodNotAllowed(request.method)
        return declared[name]
    return declared


class ToolActionPermission(BasePermission):
    def has_permission(self, request, view):
        action = required_action(view, request)
        if action == PUBLIC:
            return True
        if action is None:
            raise UndeclaredToolAction()
        principal = request.user
        if principal is None or not getattr(principal, "is_authenticated", False):
            raise NotAuthenticated()
        if action == AUTHENTICATED:
            return True
        if action not in effective_permissions(principal):
            raise ForbiddenAction(details={"toolAction": action})
        # On the Django request, where the usage counter and the idempotency store find it.
        request._request.tool_action = action
        return True
