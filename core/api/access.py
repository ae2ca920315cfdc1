"""How a view says who may call it: an explicit marker for open routes, else a tool_action.

Every view under /v1 must declare `tool_action`: a key (or a {method: key} map) checked against the
caller's effective permissions, or PUBLIC (no credential) or AUTHENTICATED (any principal, no
action). A view that declares nothing is refused by default and fails the route-walking test.
"""

__all__ = ["AUTHENTICATED", "PUBLIC"]

PUBLIC = "public"
AUTHENTICATED = "authenticated"
