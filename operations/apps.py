from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class OperationsConfig(AppConfig):
    """Work that spans the domain apps: seeding, the retention sweep, key rotation, the back office's
    site and dashboard, and the commands ops run."""

    name = "operations"
    verbose_name = "Operations"


class BackOfficeAdminConfig(AdminConfig):
    default_site = "operations.admin.HubAdminSite"
