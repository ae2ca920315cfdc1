"""Product credentials: `aza8p_<prefix>_<secret>`, a product backend's credential for its catalog tool.

Platform-level, not a tenant's: staff issue one to a tool (the platform API under
/v1/catalog/tools/{toolKey}/credentials, or the admin), and with it the product acts in every tenant
entitled to that tool, the tenant named per request by `X-Tenant-Id` (identity/authentication.py),
and only on the routes that open themselves to products (identity/permissions.py). Kept like API
keys (identity/api_keys.py): the prefix and an HMAC of the secret under a versioned pepper; the
secret is shown once, at issue and at rotation. Every write is audited in the platform tenant's trail.
"""

import re
from typing import NamedTuple

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from audit.services import SYSTEM, Actor, record
from catalog.models import Tool
from core.api.exceptions import Conflict, DuplicateResource, TenantNotFound, Unprocessable
from core.cache.versions import CATALOG_VERSION_KEY, tenant_version_key
from identity import api_keys
from identity.models import ProductCredential, ProductCredentialStatus
from tenancy.selectors import entitled_actions, platform_tenant

__all__ = [
    "CREDENTIAL_PATTERN",
    "IssuedCredential",
    "entitlement_cache_keys",
    "is_entitled",
    "issue_product_credential",
    "looks_like_product_credential",
    "revoke_product_credential",
    "rotate_product_credential",
    "split_credential",
    "verify_secret",
]

KIND = "aza8p"
CREDENTIAL_PATTERN = re.compile(r"^aza8p_([A-Za-z0-9]{12})_([A-Za-z0-9_-]{43})$")


class IssuedCredential(NamedTuple):
    """The credential's row and its full text, which exists only here: shown once, kept nowhere."""

    credential: ProductCredential
    secret: str


def looks_like_product_credential(text: str) -> bool:
    return text.startswith(f"{KIND}_")


def split_credential(text: str) -> tuple[str, str] | None:
    return api_keys.split_key(text, CREDENTIAL_PATTERN)


def verify_secret(credential: ProductCredential, secret: str) -> bool:
    return api_keys.secret_matches(secret, pepper_version=credential.pepper_version, expected=credential.key_hash)


def _platform_trail():
    tenant = platform_tenant()
    if tenant is None:
        raise TenantNotFound("The platform tenant does not exist yet: run `manage.py seed`.", status_code=404)
    return tenant


def _new_secret(credential: ProductCredential) -> str:
    generated = api_keys.generate_key(KIND)
    credential.prefix, credential.key_hash = generated.prefix, generated.digest
    credential.pepper_version = generated.pepper_version
    return generated.full_key


@transaction.atomic
def issue_product_credential(*, tool: Tool, name: str, actor: Actor = SYSTEM) -> IssuedCredential:
    if tool.is_core:
        # The hub's own tool is held by every tenant: its credential would reach them all.
        raise Unprocessable("The hub's own tool takes no product credential.", details={"toolKey": [tool.key]})
    active = ProductCredential.objects.filter(tool=tool, name=name, status=ProductCredentialStatus.ACTIVE)
    if active.exists():
        raise DuplicateResource("This tool already has an active credential with this name.")
    credential = ProductCredential(tool=tool, name=name)
    secret = _new_secret(credential)
    credential.save()
    record(tenant=_platform_trail(), action="product_credentials.create", entity_type="product_credential",
           entity_id=credential.pk, actor=actor, metadata={"tool": tool.key, "name": name, "prefix": credential.prefix})
    return IssuedCredential(credential, secret)


@transaction.atomic
def rotate_product_credential(*, credential: ProductCredential, actor: Actor = SYSTEM) -> IssuedCredential:
    """A new secret (and prefix) for the same credential; the old one stops working at once."""
    credential = ProductCredential.objects.select_for_update().select_related("tool").get(pk=credential.pk)
    if credential.status == ProductCredentialStatus.REVOKED:
        raise Conflict("A revoked credential cannot be rotated; issue a new one.")
    secret = _new_secret(credential)
    credential.save(update_fields=["prefix", "key_hash", "pepper_version", "updated_at"])
    record(tenant=_platform_trail(), action="product_credentials.rotate", entity_type="product_credential",
           entity_id=credential.pk, actor=actor, metadata={"tool": credential.tool.key, "prefix": credential.prefix})
    return IssuedCredential(credential, secret)


@transaction.atomic
def revoke_product_credential(*, credential: ProductCredential, reason: str = "",
                              actor: Actor = SYSTEM) -> ProductCredential:
    """For good, at once. Revoking a revoked credential changes (and records) nothing."""
    credential = ProductCredential.objects.select_for_update().select_related("tool").get(pk=credential.pk)
    if credential.status == ProductCredentialStatus.REVOKED:
        return credential
    credential.status, credential.revoked_at = ProductCredentialStatus.REVOKED, timezone.now()
    credential.save(update_fields=["status", "revoked_at", "updated_at"])
    record(tenant=_platform_trail(), action="product_credentials.revoke", entity_type="product_credential",
           entity_id=credential.pk, actor=actor,
           metadata={"tool": credential.tool.key, "prefix": credential.prefix, "reason": reason})
    return credential


def entitlement_cache_keys(tenant_id, tool_id) -> list[str]:
    """The catalog version, the tenant version and the entry `is_entitled` reads (the catalog's
    alone while the tenant is unknown): read at authentication in the request's one round trip."""
    if tenant_id is None:
        return [CATALOG_VERSION_KEY]
    return [CATALOG_VERSION_KEY, tenant_version_key(tenant_id), f"entitled-tool:{tenant_id}:{tool_id}"]


def is_entitled(tenant, tool: Tool, cache_reads=None) -> bool:
    """Whether `tenant` may use `tool` now: it holds at least one of the tool's actions (an active,
    unexpired package, no override disabling it; tenancy.selectors.entitled_actions). Cached under the
    catalog's and the tenant's permission versions, which every change to packages, overrides and
    statuses bumps, and for at most PERMISSION_CACHE_SECONDS, which bounds a package's quiet expiry."""
    *version_keys, key = entitlement_cache_keys(tenant.pk, tool.pk)
    found = (cache_reads or cache).get_many([*version_keys, key])
    versions = tuple(found.get(version_key, 0) for version_key in version_keys)
    entry = found.get(key)
    if entry is not None and entry[0] == versions:
        return entry[1]
    entitled = entitled_actions(tenant).filter(tool_id=tool.pk).exists()
    cache.set(key, (versions, entitled), timeout=settings.PERMISSION_CACHE_SECONDS)
    return entitled
