"""Webhook subscriptions: secrets, URL rules and Standard Webhooks signatures."""

import base64
import ipaddress
import json
import secrets
import socket
from datetime import datetime
from datetime import timezone as dt_timezone
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone
from standardwebhooks import Webhook

from core.security.crypto import decrypt, encrypt
from outbox.models import WebhookSubscription

__all__ = ["associated_data", "generate_secret", "resolve_public_address", "sign", "signing_secrets", "store_secret", "validate_url"]

SECRET_BYTES = 32  # Standard Webhooks asks for 24 to 64 random bytes


class UnsafeWebhookUrl(ValueError):
    pass


def generate_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def associated_data(subscription_id) -> bytes:
    return f"webhook_subscription:{subscription_id}".encode()


def store_secret(subscription: WebhookSubscription, secret: str, *, previous: str | None = None) -> None:
    """Encrypt `secret` (and the `previous` one, during a rotation) onto the subscription, both under
    the newest key since the row has one key_version; the row's id is bound into the ciphertext."""
    aad = associated_data(subscription.pk)
    subscription.secret_encrypted, subscription.key_version = encrypt(secret.encode(), associated_data=aad)
    if previous is not None:
        subscription.previous_secret_encrypted, _ = encrypt(previous.encode(), associated_data=aad)


def signing_secrets(subscription: WebhookSubscription, *, now=None) -> list[str]:
    """The current secret, plus the previous one while its grace period lasts."""
    now = now or timezone.now()
    aad = associated_data(subscription.pk)
    found = [decrypt(subscription.secret_encrypted, key_version=subscription.key_version, associated_data=aad).decode()]
    if subscription.previous_secret_encrypted and subscription.previous_secret_expires_at and subscription.previous_secret_expires_at > now:
        found.append(decrypt(subscription.previous_secret_encrypted, key_version=subscription.key_version,
                             associated_data=aad).decode())
    return found


def sign(secrets_: list[str], *, message_id: str, timestamp: datetime, body: str) -> str:
    """The `webhook-signature` header: one `v1,<base64>` per secret, space-separated."""
    moment = timestamp.astimezone(dt_timezone.utc).replace(tzinfo=None)
    return " ".join(Webhook(secret).sign(message_id, moment, body) for secret in secrets_)


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return ip.is_global and not ip.is_multicast


def validate_url(url: str) -> None:
    """https (or http for private networks when allowed) to a host that is not private or loopback."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is no port
    except ValueError as exc:
        raise UnsafeWebhookUrl("Not a URL the hub can deliver to.") from exc
    allow_private = settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UnsafeWebhookUrl("The URL must be absolute http(s).")
    if parts.scheme == "http" and not allow_private:
        raise UnsafeWebhookUrl("Webhooks are delivered over https only.")
    if parts.username or parts.password:
        raise UnsafeWebhookUrl("Credentials in the URL are not allowed; verify the signature instead.")
    if allow_private:
        return
    try:
        literal = ipaddress.ip_address(parts.hostname)
    except ValueError:
        literal = None
    if literal is not None and not _is_public(parts.hostname):
        raise UnsafeWebhookUrl("Private, loopback and link-local addresses are not allowed.")
    if parts.hostname in ("localhost",) or parts.hostname.endswith((".localhost", ".internal", ".local")):
        raise UnsafeWebhookUrl("Private host names are not allowed.")


def resolve_public_address(url: str) -> None:
    """At delivery time: refuse a host that now resolves to a private address (DNS rebinding)."""
    if settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS:
        return
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    for info in socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP):
        if not _is_public(info[4][0]):
            raise UnsafeWebhookUrl("The host resolves to a private address.")


def event_body(event) -> str:
    """The delivered JSON: id, type, timestamp and data (the outbox payload's `data`)."""
    return json.dumps(
        {"id": str(event.pk), "type": event.type, "version": event.payload.get("version", 1),
         "timestamp": event.created_at.isoformat(),
         "tenantId": str(event.tenant_id) if event.tenant_id else None, "data": event.payload.get("data", {})},
        separators=(",", ":"),
    )
