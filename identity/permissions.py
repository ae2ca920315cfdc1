"""The tool_action permission class: every route declares its action, deny by default.

Users and services: the route's `tool_action` (a key, or a {action or method: key} map) must be in the
principal's effective permissions; PUBLIC and AUTHENTICATED are the open markers (core/api/access.py).

Products (a principal of type "product", from a product credential `aza8p_…`) hold no tenant
permission (`effective_permissions` is empty for them). A product may call a route only if its view
opens itself to products with `product_access` — one value or a map keyed like `tool_action`:

    class SubjectView(TenantScopedAPIView):
        tool_action = PRODUCT                  # products only: anyone else 403 CREDENTIAL_NOT_ALLOWED
        product_access = PRODUCT_IN_TENANT     # X-Tenant-Id names the tenant, entitled to the tool

    class UsageEventsView(TenantScopedAPIView):
        tool_action = {"post": "usage.report"}          # users and API keys, as before
        product_access = {"post": PRODUCT_IN_TENANT}    # and products, in the tenant they name

    class ProductWebhooksView(...):
        tool_action = PRODUCT
        product_access = PRODUCT_PLATFORM      # no X-Tenant-Id; request.user.tenant is the platform tenant

Anywhere else a product gets 403 FORBIDDEN_ACTION. For a product the declaration replaces the
tool_action check: the route itself keeps a product to its own tool (`request.user.tool`), e.g. the
actions it may report or ask about. Once allowed, `request.user.tenant` is the tenant it acts in
(identity/authentication.product_tenant), so tenant-scoped views work unchanged.
"""

from rest_framework.exceptions import MethodNotAllowed, NotAuthenticated
from rest_framework.permissions import BasePermission

from core.api.access import AUTHENTICATED, PRODUCT, PUBLIC
from core.api.exceptions import CredentialNotAllowed, ForbiddenAction
from identity.authentication import product_tenant
from identity.authorization import effective_permissions

__all__ = ["ToolActionPermission", "UndeclaredToolAction", "product_access", "required_action"]


class UndeclaredToolAction(ForbiddenAction):
    message = "This route declares no tool_action and is refused."


def _for_request(declared, view, request):
    """A per-view declaration, or the entry of a per-action map for this request (KeyError if none)."""
    if isinstance(declared, dict):
        return declared[getattr(view, "action", None) or request.method.lower()]
    return declared


def required_action(view, request):
    """The key, PUBLIC, AUTHENTICATED or PRODUCT this request needs; None when the route declares nothing.

    `tool_action` is a string for the whole view, or a map keyed by viewset action name
    (`list`, `create`, `status`…) or, for plain views, by lower-case HTTP method.
    """
    try:
        return _for_request(getattr(view, "tool_action", None), view, request)
    except KeyError:
        if request.method == "OPTIONS":
            return AUTHENTICATED
        raise MethodNotAllowed(request.method) from None


def product_access(view, request) -> str | None:
    """How a product may call this request's route (PRODUCT_IN_TENANT or PRODUCT_PLATFORM), or None."""
    try:
        return _for_request(getattr(view, "product_access", None), view, request)
    except KeyError:
        return None


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
        if principal.product_credential is not None:
            scope = product_access(view, request)
            if scope is None:
                raise ForbiddenAction("A product credential may not call this route.")
            principal.tenant = product_tenant(principal, request, scope)
        elif action == PRODUCT:
            raise CredentialNotAllowed("Only a product credential (aza8p_…) may call this route.")
        elif action != AUTHENTICATED and action not in effective_permissions(principal):
            raise ForbiddenAction(details={"toolAction": action})
        if action not in (AUTHENTICATED, PRODUCT):
            # On the Django request, where the usage counter and the idempotency store find it.
            request._request.tool_action = action
        return True
