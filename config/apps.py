from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class HubConfig(AppConfig):
    """The composition root: shared API plumbing and the commands that span apps."""

    name = "config"
    label = "hub"
    verbose_name = "Aza8 Hub"


class HubAdminConfig(AdminConfig):
    default_site = "config.admin.HubAdminSite"
