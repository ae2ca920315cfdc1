"""The back office's site and the base class every model admin starts from."""

from django.contrib import admin

__all__ = ["HubAdminSite", "ReadOnlyAdmin"]


class HubAdminSite(admin.AdminSite):
    site_header = "Aza8 Hub back office"
    site_title = "Aza8 Hub"
    index_title = "Platform administration"

    def has_permission(self, request):
        # A second lock behind PlatformStaffBackend: a session of anyone but platform staff is refused.
        user = request.user
        return bool(
            user.is_active and user.is_staff and getattr(getattr(user, "tenant", None), "is_platform", False)
        )


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shows rows without offering writes: writes go through the services, which audit them.

    Secret-bearing columns are left out with `exclude`, so they are never rendered.
    """

    list_per_page = 50
    show_full_result_count = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
