"""Every error the SDK raises is a HubError; each carries the code the hub itself uses for it, so a
product's own error body can say the same thing the hub would."""

__all__ = ["HubError", "InvalidToken", "InvalidWebhook", "TokenExpired", "TokenRevoked",
           "WrongAudience"]


class HubError(Exception):
    code = "HUB_ERROR"
    status = 500


class InvalidToken(HubError):
    """Not a token the hub signed: malformed, unknown key, bad signature, wrong issuer, missing claims."""

    code = "INVALID_TOKEN"
    status = 401


class TokenExpired(InvalidToken):
    code = "TOKEN_EXPIRED"


class TokenRevoked(InvalidToken):
    """The token's session ended (logout, password change, suspension): the hub said so by an event
    or in a decision snapshot."""

    code = "TOKEN_REVOKED"


class WrongAudience(InvalidToken):
    """A valid hub token, but not meant for this product: its tenant is not entitled to the tool."""

    code = "WRONG_AUDIENCE"


class InvalidWebhook(HubError):
    """A delivery whose signature, timestamp or body does not check out."""

    code = "INVALID_WEBHOOK"
    status = 400

