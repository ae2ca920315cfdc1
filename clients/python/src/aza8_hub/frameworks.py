"""FastAPI and Django REST framework glue. Neither is a dependency of the SDK: each is imported only
when its helper is first called."""

from .errors import InvalidToken, TokenRevoked
from .principal import Principal

__all__ = ["bearer", "drf_authentication", "drf_permission", "fastapi_dependency"]

WWW_AUTHENTICATE = {"WWW-Authenticate": "Bearer"}
MISSING = {"code": "UNAUTHORIZED", "message": "Send the hub's access token as 'Authorization: Bearer <token>'."}


def bearer(header: str | None) -> str | None:
    scheme, _, token = (header or "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _forbidden(tool_action: str) -> dict:
    return {"code": "FORBIDDEN_ACTION", "message": f"This needs the {tool_action!r} permission."}


def _refused(exc: InvalidToken) -> dict:
    return {"code": exc.code, "message": str(exc)}


def fastapi_dependency(hub, tool_action: str):
    from fastapi import HTTPException, Request

    # A plain function, so FastAPI runs it in its thread pool: a cache miss waits on the hub.
    def require(request: Request) -> Principal:
        token = bearer(request.headers.get("authorization"))
        if token is None:
            raise HTTPException(401, detail=MISSING, headers=WWW_AUTHENTICATE)
        try:
            principal, allowed = hub.authorize(token, tool_action)
        except InvalidToken as exc:
            raise HTTPException(401, detail=_refused(exc), headers=WWW_AUTHENTICATE) from exc
        if not allowed:
            raise HTTPException(403, detail=_forbidden(tool_action))
        request.state.principal = principal
        return principal

    require.__name__ = f"require_{tool_action.replace('.', '_')}"
    return require


def drf_authentication(hub):
    from rest_framework.authentication import BaseAuthentication
    from rest_framework.exceptions import AuthenticationFailed

    class HubAuthentication(BaseAuthentication):
        """`request.user` and `request.auth` are the verified Principal; no header: anonymous."""

        def authenticate(self, request):
            token = bearer(request.META.get("HTTP_AUTHORIZATION"))
            if token is None:
                return None
            try:
                principal = hub.verify(token)
            except InvalidToken as exc:
                raise AuthenticationFailed(_refused(exc)) from exc
            return principal, principal

        def authenticate_header(self, request):
            return "Bearer"

    return HubAuthentication


def drf_permission(hub, tool_action: str):
    from rest_framework.exceptions import AuthenticationFailed
    from rest_framework.permissions import BasePermission

    class HubPermission(BasePermission):
        message = _forbidden(tool_action)

        def has_permission(self, request, view):
            principal = request.auth
            if not isinstance(principal, Principal):
                return False  # DRF answers 401 when an authenticator could have identified the caller
            allowed = hub.can(principal, tool_action)
            if not allowed and principal.session_id in hub.sessions:
                raise AuthenticationFailed(_refused(TokenRevoked("The token's session has ended")))
            return allowed

    HubPermission.__name__ = f"Require_{tool_action.replace('.', '_')}"
    return HubPermission
