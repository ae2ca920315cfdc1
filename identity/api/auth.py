"""/v1/auth/* and the JWKS document. Thin: parse, call identity.sessions, answer."""

from drf_spectacular.utils import extend_schema
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.access import AUTHENTICATED, PUBLIC
from core.api.exceptions import CredentialNotAllowed
from core.api.views import validated
from core.middleware import client_ip
from identity import sessions
from identity.api import serializers
from identity.tokens import jwks

AUTH_TAG = ["auth"]


class PublicAuthView(APIView):
    authentication_classes = []
    tool_action = PUBLIC


class LoginView(PublicAuthView):
    @extend_schema(tags=AUTH_TAG, request=serializers.LoginSerializer, responses=serializers.SessionTokensSerializer,
                   auth=[], summary="Log in with tenant slug, email and password")
    def post(self, request):
        data = validated(serializers.LoginSerializer, request)
        tokens = sessions.login(
            tenant_slug=data["tenant"], email=data["email"], password=data["password"], ip=client_ip(request)
        )
        return Response(tokens.as_response())


class RefreshView(PublicAuthView):
    @extend_schema(tags=AUTH_TAG, request=serializers.RefreshSerializer, responses=serializers.SessionTokensSerializer,
                   auth=[], summary="Rotate a refresh token into a new token pair")
    def post(self, request):
        data = validated(serializers.RefreshSerializer, request)
        return Response(sessions.refresh(refresh_token=data["refresh_token"]).as_response())


class AcceptInvitationView(PublicAuthView):
    schema_errors = {"post": {"422": "UNPROCESSABLE: the password fails the password policy (details.password)."}}

    @extend_schema(tags=AUTH_TAG, request=serializers.AcceptInvitationSerializer,
                   responses=serializers.AcceptedUserSerializer, auth=[],
                   summary="Set a password with a single-use invitation token")
    def post(self, request):
        data = validated(serializers.AcceptInvitationSerializer, request)
        user = sessions.accept_invitation(token=data["token"], password=data["password"])
        return Response(serializers.AcceptedUserSerializer(user).data)


class LogoutView(APIView):
    tool_action = AUTHENTICATED
    schema_errors = {"post": {"503": "SERVICE_UNAVAILABLE: the session could not be ended at once (see "
                                     "Retry-After); nothing was revoked."}}

    @extend_schema(tags=AUTH_TAG, request=serializers.LogoutSerializer, responses={204: None},
                   summary="End the session: its refresh tokens and every access token issued with them")
    def post(self, request):
        if request.user.user is None:
            raise CredentialNotAllowed("Only user sessions log out; revoke API keys instead.")
        data = validated(serializers.LogoutSerializer, request)
        sessions.logout(principal=request.user, refresh_token=data.get("refresh_token"))
        return Response(status=204)


class ServiceTokenView(APIView):
    tool_action = AUTHENTICATED

    @extend_schema(tags=AUTH_TAG, request=None, responses=serializers.AccessTokenSerializer,
                   summary="Exchange an API key for a short-lived service JWT")
    def post(self, request):
        if request.user.api_key is None or request.user.claims:
            raise CredentialNotAllowed("Only an API key (aza8_…) is exchanged for a service token.")
        issued = sessions.service_token(principal=request.user)
        return Response({"access_token": issued.token, "token_type": "Bearer", "expires_in": issued.expires_in})


class JwksView(APIView):
    """GET /.well-known/jwks.json: a bare JWK Set (RFC 7517), as JWT libraries expect, not enveloped.
    Not rate limited: every product fetches it, and a limit per address would be shared by them all."""

    authentication_classes = []
    throttle_classes = []
    renderer_classes = [JSONRenderer]
    tool_action = PUBLIC

    @extend_schema(tags=["auth"], operation_id="jwks", summary="The public keys that verify the hub's tokens",
                   responses=serializers.JwksSerializer,
                   extensions={"x-bare-body": True})
    def get(self, request):
        return Response(jwks(), headers={"Cache-Control": "public, max-age=300"})
