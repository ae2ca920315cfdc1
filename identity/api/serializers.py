from rest_framework import serializers


class LoginSerializer(serializers.Serializer):
    tenant = serializers.SlugField(max_length=63, help_text="The tenant's slug.")
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=1024, trim_whitespace=False, style={"input_type": "password"})


class RefreshSerializer(serializers.Serializer):
    refresh_token = serializers.CharField(max_length=200)


class LogoutSerializer(serializers.Serializer):
    refresh_token = serializers.CharField(max_length=200, required=False, allow_blank=True)


class AcceptInvitationSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=200)
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
