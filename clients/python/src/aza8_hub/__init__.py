"""Aza8 Hub SDK for products (docs/products.md)."""

from .errors import HubError, InvalidToken, InvalidWebhook, TokenExpired, TokenRevoked, WrongAudience
from .hub import Hub
from .principal import Principal
from .webhooks import Event

__all__ = ["Event", "Hub", "HubError", "InvalidToken", "InvalidWebhook", "Principal",
           "TokenExpired", "TokenRevoked", "WrongAudience"]
