"""People, groups, grants and the credentials that authenticate them. All tenant-scoped but the
product credentials, which belong to a catalog tool and act in every tenant entitled to it."""

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import Group as AuthGroup
from django.contrib.auth.models import PermissionsMixin
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models.functions import Lower

from catalog.models import Tool, ToolAction
from core.db.models import BaseModel, Status, StatusModel, VersionedRowsQuerySet, choices_check, status_check
from core.db.naming import index, unique
from tenancy.models import TenantScopedModel, TenantScopedQuerySet

__all__ = [
    "ApiKey",
    "ApiKeyProfile",
    "ApiKeyStatus",
    "AuthProvider",
    "Group",
    "GroupPermission",
    "Invitation",
    "PrincipalQuerySet",
    "ProductCredential",
    "ProductCredentialStatus",
    "RefreshToken",
    "StaffRole",
    "User",
    "UserGroup",
]


class AuthProvider(models.TextChoices):
    INTERNAL = "internal", "Internal"
    IDP = "idp", "Identity provider"


class PrincipalQuerySet(VersionedRowsQuerySet, TenantScopedQuerySet):
    """Users and API keys: the rows authentication caches (identity/principal_rows.py)."""


class UserManager(BaseUserManager.from_queryset(PrincipalQuerySet)):
    """Reads only: people are created by identity/services.py (audited, announced, in their groups),
    and `manage.py createsuperuser` calls that service too (operations/management/commands)."""

    use_in_migrations = True

    def get_by_natural_key(self, email):
        # Natural keys serve the admin's login, which is for platform staff.
        return self.get(tenant__is_platform=True, email__iexact=email)


class User(TenantScopedModel, StatusModel, AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(max_length=254)
    name = models.CharField(max_length=200, blank=True, default="")
    auth_provider = models.CharField(max_length=16, choices=AuthProvider.choices, default=AuthProvider.INTERNAL)
    deleted_at = models.DateTimeField(null=True, blank=True)
    # Meaningful only in the platform tenant: staff may enter the admin back office.
    is_staff = models.BooleanField(default=False)
    # Django's auth groups are the staff's back-office roles; tenant groups are identity.Group.
    groups = models.ManyToManyField(
        "auth.Group",
        blank=True,
        related_name="staff_members",
        related_query_name="staff_member",
        db_table="staff_role_member",
        verbose_name="staff roles",
    )
    user_permissions = models.ManyToManyField(
        "auth.Permission",
        blank=True,
        related_name="staff_members",
        related_query_name="staff_member",
        db_table="staff_permission_grant",
        verbose_name="staff permissions",
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        db_table = "user"
        ordering = ["created_at", "id"]
        constraints = [
            unique("user", "tenant_id", Lower("email")),
            status_check("user"),
            choices_check("user", "auth_provider", AuthProvider),
        ]
        indexes = [index("user", "tenant_id", "created_at", "id")]

    def __str__(self):
        return self.email

    @property
    def is_active(self) -> bool:
        return self.status == Status.ACTIVE and self.deleted_at is None


class StaffRole(AuthGroup):
    """A role of Aza8's staff in the back office (django.contrib.auth's Group, kept by identity/staff_roles.py),
    named apart from the tenants' groups below."""

    class Meta:
        proxy = True
        ordering = ["name"]


class Group(TenantScopedModel, StatusModel):
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True, default="")
    deleted_at = models.DateTimeField(null=True, blank=True)
    members = models.ManyToManyField(User, through="UserGroup", related_name="tenant_groups")
    permissions = models.ManyToManyField(ToolAction, through="GroupPermission", related_name="+")

    class Meta:
        db_table = "group"
        ordering = ["created_at", "id"]
        constraints = [unique("group", "tenant_id", Lower("name")), status_check("group")]
        indexes = [index("group", "tenant_id", "created_at", "id")]

    def __str__(self):
        return self.name


class UserGroup(TenantScopedModel):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships", db_index=False)
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="memberships", db_index=False)

    class Meta:
        db_table = "user_group"
        constraints = [unique("user_group", "tenant_id", "user_id", "group_id")]
        indexes = [index("user_group", "tenant_id", "group_id")]

    def __str__(self):
        return f"{self.user_id}:{self.group_id}"


class GroupPermission(TenantScopedModel):
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="grants", db_index=False)
    tool_action = models.ForeignKey(ToolAction, on_delete=models.PROTECT, related_name="+", db_index=False)
    # Optional narrowing of the grant (e.g. {"ownOnly": true}), interpreted by the product.
    constraints = models.JSONField(default=dict, blank=True)

    class Meta:
        db_table = "group_permission"
        constraints = [unique("group_permission", "tenant_id", "group_id", "tool_action_id")]
        indexes = [index("group_permission", "tenant_id", "tool_action_id")]

    def __str__(self):
        return f"{self.group_id}:{self.tool_action_id}"


class ApiKeyProfile(models.TextChoices):
    READ_ONLY = "read-only", "Read only"
    WRITE = "write", "Read and write"
    ADMIN = "admin", "Admin"


class ApiKeyStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"
    REVOKED = "revoked", "Revoked"


class ApiKey(TenantScopedModel):
    """A service credential `aza8_<prefix>_<secret>`; only the prefix and an HMAC of the secret are kept.

    `prefix` is unique across tenants: the key is how its tenant is found, so it is looked up before
    any tenant is known (the one kind of index on a tenant table that does not start with tenant_id).
    """

    name = models.CharField(max_length=100)
    profile = models.CharField(max_length=16, choices=ApiKeyProfile.choices, null=True, blank=True)
    scopes = ArrayField(models.CharField(max_length=150), default=list, blank=True)
    prefix = models.CharField(max_length=16)
    digest = models.CharField(max_length=64)
    pepper_version = models.PositiveSmallIntegerField()
    allowed_networks = ArrayField(models.CharField(max_length=43), default=list, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=ApiKeyStatus.choices, default=ApiKeyStatus.ACTIVE)
    suspended_reason = models.CharField(max_length=500, blank=True, default="")
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )

    objects = PrincipalQuerySet.as_manager()

    class Meta:
        db_table = "api_key"
        verbose_name = "API key"
        ordering = ["created_at", "id"]
        constraints = [
            unique("api_key", "tenant_id", "name"),
            unique("api_key", "prefix"),
            status_check("api_key", ApiKeyStatus),
            choices_check("api_key", "profile", ApiKeyProfile),
        ]
        indexes = [index("api_key", "tenant_id", "created_at", "id")]

    def __str__(self):
        return f"{self.name} ({self.prefix})"


class RefreshToken(TenantScopedModel):
    """One refresh token of a login session; rotation chains tokens of one `family`."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="refresh_tokens", db_index=False)
    # Looked up by jti before the tenant is known, hence unique across tenants.
    jti = models.UUIDField()
    family = models.UUIDField()
    token_hash = models.CharField(max_length=64)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    replaced_by = models.UUIDField(null=True, blank=True)
    # The pair this token was rotated into, sealed under a key only this token's secret derives
    # (identity/successor_seal.py): what a retry inside the reuse grace window gets back.
    sealed_successor = models.BinaryField(null=True, blank=True, editable=False)

    class Meta:
        db_table = "refresh_token"
        constraints = [unique("refresh_token", "jti")]
        indexes = [
            index("refresh_token", "tenant_id", "family"),
            index("refresh_token", "tenant_id", "user_id"),
            index("refresh_token", "tenant_id", "expires_at"),
        ]


class Invitation(TenantScopedModel):
    """A single-use, expiring token that lets a user created without a password set one."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="invitations", db_index=False)
    # Looked up by the hash of the presented token before the tenant is known.
    token_hash = models.CharField(max_length=64)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )

    objects = PrincipalQuerySet.as_manager()

    class Meta:
        db_table = "invitation"
        constraints = [unique("invitation", "token_hash")]
        indexes = [index("invitation", "tenant_id", "user_id"), index("invitation", "tenant_id", "expires_at")]


class ProductCredentialStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    REVOKED = "revoked", "Revoked"


class ProductCredential(BaseModel):
    """A product backend's credential `aza8p_<prefix>_<secret>` (identity/product_credentials.py):
    platform-level, issued to one catalog tool by staff. Only the prefix and an HMAC of the secret
    are kept, as for API keys. At most one active credential per (tool, name)."""

    tool = models.ForeignKey(Tool, on_delete=models.PROTECT, related_name="+", db_index=False)
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16)
    key_hash = models.CharField(max_length=64)
    pepper_version = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=16, choices=ProductCredentialStatus.choices,
                              default=ProductCredentialStatus.ACTIVE)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "product_credential"
        ordering = ["created_at", "id"]
        constraints = [
            unique("product_credential", "prefix"),
            unique("product_credential", "tool_id", "name", condition=models.Q(status="active")),
            status_check("product_credential", ProductCredentialStatus),
        ]
        indexes = [index("product_credential", "tool_id", "created_at", "id")]

    def __str__(self):
        return f"{self.name} ({self.prefix})"
