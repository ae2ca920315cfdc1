"""The car-dealer ERP's FastAPI service, written as a product team writes it with the aza8-hub SDK:
tokens verified offline, decisions in-process, usage reported in batches, the hub's events received.

    HUB_URL=http://127.0.0.1:8000 HUB_CREDENTIAL=aza8p_… HUB_WEBHOOK_SECRET=whsec_… \\
        uvicorn app:app --app-dir examples/erp --port 8100

Configuration (environment): HUB_URL, HUB_CREDENTIAL (the erp tool's product credential),
HUB_WEBHOOK_SECRET (of its product webhook subscription to access.changed, pointing at
/hub/events; without it the service relies on the cache TTL alone), HUB_CACHE_TTL (seconds, 60),
HUB_USAGE_FLUSH_SECONDS (5)."""

import os
from contextlib import asynccontextmanager

from aza8_hub import Hub, Principal
from fastapi import Depends, FastAPI

hub = Hub(
    base_url=os.environ["HUB_URL"],
    tool="erp",
    credential=os.environ["HUB_CREDENTIAL"],
    webhook_secret=os.environ.get("HUB_WEBHOOK_SECRET") or None,
    cache_ttl=float(os.environ.get("HUB_CACHE_TTL", "60")),
    usage_flush_seconds=float(os.environ.get("HUB_USAGE_FLUSH_SECONDS", "5")),
)


@asynccontextmanager
async def lifespan(app: FastAPI):
    yield
    hub.close()  # the last usage reports go out before the process ends


app = FastAPI(title="Dealer ERP", lifespan=lifespan)
if os.environ.get("HUB_WEBHOOK_SECRET"):
    app.include_router(hub.webhooks.fastapi_router("/hub/events"))

# Stock of a demonstration dealer: the point is who may read it.
VEHICLES = [
    {"id": "v-001", "make": "Fiat", "model": "Argo", "year": 2024, "priceCents": 8_990_000},
    {"id": "v-002", "make": "Volkswagen", "model": "Polo", "year": 2023, "priceCents": 9_450_000},
    {"id": "v-003", "make": "Chevrolet", "model": "Onix", "year": 2025, "priceCents": 10_290_000},
]


@app.get("/health")
def health() -> dict:
    return {"status": "ok"}


@app.get("/vehicles")
def list_vehicles(principal: Principal = Depends(hub.require("erp.vehicles.read"))) -> dict:
    hub.usage.report(principal, "erp.vehicles.read")
    return {"data": VEHICLES, "tenantId": principal.tenant_id}
