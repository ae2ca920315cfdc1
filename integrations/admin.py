from django.contrib import admin

from core.admin import ReadOnlyAdmin
from integrations.models import IntegrationCredential


@admin.register(IntegrationCredential)
class IntegrationCredentialAdmin(ReadOnlyAdmin):
    list_display = ["name", "provider", "tenant", "key_version", "expires_at", "created_at"]
    list_select_related = ["tenant"]
    exclude = ["data_encrypted"]
