from rest_framework import serializers

from catalog.api.serializers import ActionKeyField
from core.api.serializers import EmailAddressField, PatternField, StatusChangeSerializer
from identity.models import ApiKey, ApiKeyProfile, ApiKeyStatus, Group, GroupPermission, User


class LoginSerializer(serializers.Serializer):
    tenant = serializers.SlugField(max_length=63, help_text="The tenant's slug.")
    email = EmailAddressField()
    password = serializers.CharField(max_length=1024, trim_whitespace=False, style={"input_type": "password"})


class RefreshSerializer(serializers.Serializer):
    refresh_token = serializers.CharField(max_length=200)


class LogoutSerializer(serializers.Serializer):
    refresh_token = serializers.CharField(max_length=200, required=False, allow_blank=True)


class AcceptInvitationSerializer(serializers.Serializer):
    # As the hub mints them (secrets.token_urlsafe): anything else can be no invitation.
    token = PatternField(r"\A[A-Za-z0-9_-]{1,200}\Z", max_length=200)
    password = serializers.CharField(max_length=1024, trim_whitespace=False, style={"input_type": "password"})


class SessionTokensSerializer(serializers.Serializer):
    access_token = serializers.CharField()
    refresh_token = serializers.CharField()
    token_type = serializers.CharField()
    expires_in = serializers.IntegerField(help_text="Seconds until the access token expires.")


class AccessTokenSerializer(serializers.Serializer):
    access_token = serializers.CharField()
    token_type = serializers.CharField()
    expires_in = serializers.IntegerField()


class AcceptedUserSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    email = serializers.EmailField()
    name = serializers.CharField()


# --- Tenant administration -------------------------------------------------------------------


class InvitationSerializer(serializers.Serializer):
    token = serializers.CharField()
    expires_at = serializers.DateTimeField()


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "name", "status", "suspended_reason", "auth_provider", "created_at", "updated_at"]
        read_only_fields = fields


class GroupRefSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()


class UserDetailSerializer(UserSerializer):
    groups = GroupRefSerializer(many=True, help_text="The groups the user belongs to, by name.")

    class Meta(UserSerializer.Meta):
        fields = [*UserSerializer.Meta.fields, "groups"]
        read_only_fields = fields


class UserCreateSerializer(serializers.Serializer):
    email = EmailAddressField()
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    password = serializers.CharField(
        max_length=1024, required=False, trim_whitespace=False, write_only=True, style={"input_type": "password"}
    )


class UserCreatedSerializer(UserSerializer):
    invitation = InvitationSerializer(required=False, allow_null=True)

    class Meta(UserSerializer.Meta):
        fields = [*UserSerializer.Meta.fields, "invitation"]
        read_only_fields = fields


def user_created(new_user) -> dict:
    """A new user as UserCreatedSerializer documents it: its invitation, shown once, when it has one."""
    body = UserSerializer(new_user.user).data
    if new_user.invitation is not None:
        body["invitation"] = InvitationSerializer(new_user.invitation).data
    return body


class UserUpdateSerializer(serializers.Serializer):
    email = EmailAddressField(required=False)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    password = serializers.CharField(
        max_length=1024, required=False, trim_whitespace=False, write_only=True, style={"input_type": "password"},
        help_text="Your own new password (nobody sets another user's: reissue an invitation instead).",
    )
    current_password = serializers.CharField(
        max_length=1024, required=False, trim_whitespace=False, write_only=True, style={"input_type": "password"},
        help_text="Your current password: required when you change your own email or password, which also "
                  "ends your other sessions.",
    )


class GroupSerializer(serializers.ModelSerializer):
    class Meta:
        model = Group
        fields = ["id", "name", "description", "status", "suspended_reason", "created_at", "updated_at"]
        read_only_fields = fields


class GroupWriteSerializer(serializers.Serializer):
    name = PatternField(r"\A[\w .-]{1,100}\Z", max_length=100)
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class GroupPermissionSerializer(serializers.ModelSerializer):
    tool_action = serializers.CharField(source="tool_action.key")

    class Meta:
        model = GroupPermission
        fields = ["id", "tool_action", "constraints", "created_at"]
        read_only_fields = fields


class GrantSerializer(serializers.Serializer):
    tool_actions = serializers.ListField(child=ActionKeyField(), min_length=1, max_length=500)


class ApiKeySerializer(serializers.ModelSerializer):
    allowed_ips = serializers.ListField(source="allowed_networks", child=serializers.CharField(), read_only=True)

    class Meta:
        model = ApiKey
        fields = ["id", "name", "prefix", "profile", "scopes", "allowed_ips", "status", "suspended_reason",
                  "expires_at", "last_used_at", "created_at", "updated_at"]
        read_only_fields = fields


class ApiKeyCreateSerializer(serializers.Serializer):
    name = PatternField(r"\A[\w .:-]{1,100}\Z", max_length=100)
    profile = serializers.ChoiceField(choices=ApiKeyProfile.choices, required=False, allow_null=True)
    scopes = serializers.ListField(child=ActionKeyField(), required=False, max_length=500)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)
    allowed_ips = serializers.ListField(child=serializers.CharField(max_length=43), required=False, max_length=50)


class ApiKeyWithSecretSerializer(ApiKeySerializer):
    key = serializers.CharField(read_only=True, help_text="The full key. Shown once, never again.")

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "key"]
        read_only_fields = fields


class ApiKeyStatusSerializer(StatusChangeSerializer):
    status = serializers.ChoiceField(choices=ApiKeyStatus.choices)


class AuthzCheckSerializer(serializers.Serializer):
    tool_actions = serializers.ListField(child=ActionKeyField(), min_length=1, max_length=200)


class JwkSerializer(serializers.Serializer):
    """One RSA public key of the JWK Set (RFC 7517), as jose and PyJWT read it."""

    kty = serializers.CharField()
    kid = serializers.CharField()
    use = serializers.CharField()
    alg = serializers.CharField()
    n = serializers.CharField()
    e = serializers.CharField()


class JwksSerializer(serializers.Serializer):
    keys = JwkSerializer(many=True)

