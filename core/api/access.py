"""How a view says who may call it: an explicit marker for open routes, else a tool_action.

Every view under /v1 must declare `tool_action`: a key (or a {method: key} map) checked against the
caller's effective permissions, or PUBLIC (no credential) or AUTHENTICATED (any principal, no
action). A view that declares nothing is refused by default and fails the route-walking test.

Product credentials (`aza8p_…`) are refused everywhere but on views that open themselves to them
with `product_access` (one of the values below, or a map keyed like `tool_action`); for them that
declaration replaces the tool_action check (identity/permissions.py). A route only products may call
declares `tool_action = PRODUCT`.
"""

__all__ = ["AUTHENTICATED", "PRODUCT", "PRODUCT_IN_TENANT", "PRODUCT_PLATFORM", "PUBLIC"]

PUBLIC = "public"
AUTHENTICATED = "authenticated"
# tool_action: a product credential only; any other principal gets 403 CREDENTIAL_NOT_ALLOWED.
PRODUCT = "product"
# product_access: the product acts in the tenant X-Tenant-Id names, which must be entitled to its tool.
PRODUCT_IN_TENANT = "tenant"
# product_access: the product acts for itself, in no client tenant (request.user.tenant is the platform tenant).
PRODUCT_PLATFORM = "platform"
