"""The hub's deliveries: verified with Standard Webhooks, and `access.changed` applied to the cache."""

import logging
from dataclasses import dataclass
from typing import Literal, TypedDict

from standardwebhooks import Webhook, WebhookVerificationError

from .errors import HubError, InvalidWebhook

__all__ = ["Event", "Webhooks"]

log = logging.getLogger("aza8_hub")

ACCESS_CHANGED = "access.changed"


class AccessChangedData(TypedDict):
    """`data` of an access.changed event (docs/products.md); events are not in the OpenAPI schema."""

    tenantId: str
    userId: str | None  # None: every user of the tenant
    sessionId: str | None
    apiKeyId: str | None
    reason: Literal["grant", "membership", "user_status", "tenant_status", "package", "session", "api_key"]
    tools: list[str]


@dataclass(frozen=True, slots=True)
class Event:
    id: str
    type: str
    version: int
    created_at: str
    tenant_id: str | None
    data: dict


class Webhooks:
    def __init__(self, secret: str | None, *, decisions, sessions):
        self._verifier = Webhook(secret) if secret else None
        self._decisions, self._sessions = decisions, sessions

    def handle(self, body: bytes, headers) -> Event:
        """Verify one delivery (raises InvalidWebhook) and apply it; returns the event so the product
        can act on other types too. Deliveries are at least once: applying one twice is harmless."""
        if self._verifier is None:
            raise HubError("Hub(webhook_secret=…) is needed to receive the hub's events")
        try:
            payload = self._verifier.verify(body, dict(headers))
            event = Event(id=payload["id"], type=payload["type"], version=payload.get("version", 1),
                          created_at=payload.get("createdAt", ""), tenant_id=payload.get("tenantId"),
                          data=payload.get("data") or {})
        except (WebhookVerificationError, ValueError, KeyError, TypeError) as exc:
            raise InvalidWebhook(f"The delivery does not verify: {exc}") from exc
        if event.type == ACCESS_CHANGED:
            self.apply_access_changed(event.data)
        return event

    def apply_access_changed(self, data: AccessChangedData) -> int:
        """Drop the snapshots the change concerns; a session's end also refuses its tokens from now on."""
        tenant_id, user_id, session_id = data["tenantId"], data.get("userId"), data.get("sessionId")
        if session_id and data.get("reason") == "session":
            self._sessions.end(session_id)
        dropped = self._decisions.drop(tenant_id, user_id, session_id)
        log.info("aza8_hub: access.changed (%s) in tenant %s dropped %d snapshot(s)", data.get("reason"),
                 tenant_id, dropped)
        return dropped

    def fastapi_router(self, path: str = "/hub/events"):
        """A FastAPI router with one POST route that answers 204 to a verified delivery and 400 to any
        other, so the hub retries only what it should."""
        from fastapi import APIRouter, HTTPException, Request, Response

        router = APIRouter()

        @router.post(path, status_code=204, include_in_schema=False)
        async def receive(request: Request) -> Response:
            body = await request.body()
            try:
                self.handle(body, request.headers)
            except InvalidWebhook as exc:
                raise HTTPException(400, detail={"code": exc.code, "message": str(exc)}) from exc
            return Response(status_code=204)

        return router
