from dataclasses import dataclass, field

__all__ = ["Principal"]


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a verified access token speaks for. `session_id` is the token's `sid` (user tokens);
    `claims` holds every claim as the hub signed it."""

    tenant_id: str
    user_id: str
    session_id: str | None
    claims: dict = field(repr=False, compare=False, hash=False)

    # Django REST framework's permission classes read these of request.user.
    is_authenticated = True
    is_anonymous = False

    @property
    def type(self) -> str:
        return self.claims.get("type", "user")
