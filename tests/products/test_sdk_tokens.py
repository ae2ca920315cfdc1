"""hub.verify against a live hub's JWKS: good, expired, another product's, tampered, foreign key,
and a session ended by logout refused (TokenRevoked) once the hub's event arrives."""

import base64
import json
import time

import jwt
import pytest
from aza8_hub import HubError, InvalidToken, TokenExpired, TokenRevoked, WrongAudience
from cryptography.hazmat.primitives.asymmetric import rsa

from identity.tokens import TokenType, issue_access_token
from tests.products.sdk import GOAL_WITH_WEBHOOKS, product, until

pytestmark = pytest.mark.slow


def _segment(claims: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()


def _refused(sdk, token) -> HubError | None:
    try:
        sdk.verify(token)
    except HubError as exc:
        return exc
    return None


def test_verify_offline_and_each_refusal_typed(world, sink):
    with product(world, sink) as sdk:
        tokens = world.login("reader@acme.com")
        principal = sdk.verify(tokens["accessToken"])
        assert (principal.tenant_id, principal.user_id, principal.type) == (world.tenant_id, world.reader_id, "user")
        assert principal.session_id and "erp" in principal.claims["aud"]

        now = int(time.time())
        minted = {"subject": world.reader_id, "tenant_id": world.tenant_id, "token_type": TokenType.USER,
                  "session": principal.session_id}
        expired = issue_access_token(**minted, tools=["erp"], extra_claims={"iat": now - 3600, "exp": now - 60})
        assert type(_refused(sdk, expired.token)) is TokenExpired
        gestor_only = issue_access_token(**minted, tools=["gestor"])
        assert type(_refused(sdk, gestor_only.token)) is WrongAudience
        header, payload, signature = tokens["accessToken"].split(".")
        claims = jwt.decode(tokens["accessToken"], options={"verify_signature": False})
        tampered = f"{header}.{_segment({**claims, 'sub': world.group_id})}.{signature}"
        assert type(_refused(sdk, tampered)) is InvalidToken
        assert type(_refused(sdk, "not.a.token")) is InvalidToken
        stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        foreign_key = jwt.encode(claims, stranger, algorithm="RS256", headers={"kid": "not-the-hubs"})
        assert type(_refused(sdk, foreign_key)) is InvalidToken

        world.ok("POST", "/v1/auth/logout", {"refreshToken": tokens["refreshToken"]}, token=tokens["accessToken"],
                 expect=204)
        elapsed = until(lambda: isinstance(_refused(sdk, tokens["accessToken"]), TokenRevoked), GOAL_WITH_WEBHOOKS)
        print(f"\nlogout refused by the SDK's verify {elapsed and f'{elapsed:.2f} s'} after the hub answered")
        assert elapsed is not None, f"the logout's access.changed did not arrive: {world.hub.base}"
        assert sdk.verify(world.login("reader@acme.com")["accessToken"]).user_id == world.reader_id


def test_verify_keeps_working_while_the_hub_is_unreachable(world):
    with product(world, jwks_lifespan=1) as sdk:
        token = world.login("reader@acme.com")["accessToken"]
        principal = sdk.verify(token)
        sdk._tokens.keys.uri = "http://127.0.0.1:9/.well-known/jwks.json"  # discard port: nothing answers
        time.sleep(1.1)  # the key set's lifespan is over: the next verify tries to refetch it and fails
        assert sdk.verify(token) == principal
        assert isinstance(_refused(sdk, token[:-4] + "AAAA"), InvalidToken)
