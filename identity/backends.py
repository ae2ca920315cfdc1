"""Who may enter the Django admin: active `is_staff` users of the platform tenant, nobody else."""

from django.contrib.auth.backends import ModelBackend

from identity.models import User

__all__ = ["PlatformStaffBackend"]


class PlatformStaffBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        email = username or kwargs.get(User.USERNAME_FIELD)
        if not email or password is None:
            return None
        user = (
            User.objects.select_related("tenant")
            .filter(tenant__is_platform=True, email__iexact=email, is_staff=True)
            .first()
        )
        if user is None:
            # Hash anyway so that response time does not reveal which staff emails exist.
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None

    def user_can_authenticate(self, user):
        return bool(user.is_active and user.is_staff and user.tenant.is_platform and user.tenant.is_active_status)

    def get_user(self, user_id):
        user = User.objects.select_related("tenant").filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None
