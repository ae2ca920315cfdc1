"""Integration credentials: secrets a tenant lends the hub, encrypted in the application (AES-GCM)."""

import json

from django.db import transaction

from audit.services import Actor, record
from core.api.exceptions import DuplicateResource
from core.security.crypto import encrypt
from integrations.models import IntegrationCredential, associated_data

__all__ = ["create_credential", "delete_credential"]


@transaction.atomic
def create_credential(*, tenant, provider: str, name: str, data: dict, expires_at=None, actor: Actor) -> IntegrationCredential:
    if IntegrationCredential.objects.for_tenant(tenant).filter(provider=provider, name=name).exists():
        raise DuplicateResource("A credential with this provider and name already exists in the tenant.")
    credential = IntegrationCredential(tenant=tenant, provider=provider, name=name, expires_at=expires_at)
    credential.data_encrypted, credential.key_version = encrypt(
        json.dumps(data, separators=(",", ":")).encode(), associated_data=associated_data(credential.pk)
    )
    credential.save(force_insert=True)
    record(tenant=tenant, action="integrations.create", entity_type="integration_credential", entity_id=credential.pk,
           actor=actor, metadata={"provider": provider, "keyVersion": credential.key_version})
    return credential


@transaction.atomic
def delete_credential(*, credential: IntegrationCredential, actor: Actor) -> None:
    record(tenant=credential.tenant, action="integrations.delete", entity_type="integration_credential",
           entity_id=credential.pk, actor=actor, metadata={"provider": credential.provider})
    credential.delete()
